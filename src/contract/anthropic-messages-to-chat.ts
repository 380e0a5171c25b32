/**
 * An Anthropic Messages request → Zumik's chat request (OpenAI's body), so that an alias can route it
 * to any provider. What the chat vocabulary carries is kept exactly, Anthropic-only markers included
 * (`cache_control` on text and image blocks, `thinking`), so an Anthropic target gets them back
 * natively; what it cannot carry is refused with the field named (MessagesTranslationError), never
 * silently dropped: server tools, documents by URL or as plain text, `top_k`, containers, MCP servers.
 */
import type { AnthropicMessagesRequestBody } from './anthropic-messages';
import type { ChatContentPart, ChatMessage, ChatRequest, ChatTool, ChatToolCall, ChatToolChoice, ThinkingBlock } from './chat';

/** The request holds something the chat vocabulary cannot express: a 400 naming `param`. */
export class MessagesTranslationError extends Error {
  constructor(readonly param: string, message: string) {
    super(`${param}: ${message}`);
    this.name = 'MessagesTranslationError';
  }
}

/** Request fields with no translation (Anthropic-only features a non-Anthropic target could not honour). */
const UNTRANSLATABLE_FIELDS: Record<string, string> = {
  top_k: 'top_k has no equivalent on the targets an alias may route to; remove it',
  container: 'containers (code execution, skills) are an Anthropic-hosted feature and cannot be routed through an alias',
  mcp_servers: 'the MCP connector is an Anthropic-hosted feature and cannot be routed through an alias',
  context_management: 'context management is an Anthropic-hosted feature and cannot be routed through an alias',
};

type Block = Record<string, unknown> & { type: string };

export function anthropicMessagesToChat(body: AnthropicMessagesRequestBody): ChatRequest {
  for (const [field, message] of Object.entries(UNTRANSLATABLE_FIELDS)) {
    if ((body as Record<string, unknown>)[field] !== undefined) throw new MessagesTranslationError(field, message);
  }
  const messages: ChatMessage[] = [];
  if (typeof body.system === 'string') {
    if (body.system.length > 0) messages.push({ role: 'system', content: body.system });
  } else if (body.system && body.system.length > 0) {
    messages.push({ role: 'system', content: body.system.map((block) => textPart(block as Block)) });
  }
  body.messages.forEach((message, index) => {
    const blocks: Block[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content as Block[];
    if (message.role === 'user') messages.push(...userMessages(blocks, `messages[${index}].content`));
    else messages.push(assistantMessage(blocks, `messages[${index}].content`));
  });

  const request: ChatRequest = { model: body.model, messages, max_tokens: body.max_tokens };
  if (body.stop_sequences && body.stop_sequences.length > 0) request.stop = body.stop_sequences;
  if (body.temperature !== undefined) request.temperature = body.temperature;
  if (body.top_p !== undefined) request.top_p = body.top_p;
  if (body.tools && body.tools.length > 0) request.tools = body.tools.map((tool, index) => chatTool(tool, `tools[${index}]`));
  if (body.tool_choice) Object.assign(request, toolChoice(body.tool_choice as Block));
  if (body.metadata?.user_id) request.user = body.metadata.user_id;
  if (body.thinking) request.thinking = body.thinking as ChatRequest['thinking'];
  if (body.service_tier) request.service_tier = body.service_tier === 'standard_only' ? 'default' : 'auto';
  if (body.stream === true) {
    request.stream = true;
    // Usage ends every Anthropic stream (message_delta): always asked for.
    request.stream_options = { include_usage: true };
  }
  return request;
}

/** A user turn: its tool results become `tool` messages (first, as Anthropic orders them), the rest one user message. */
function userMessages(blocks: Block[], path: string): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  blocks.forEach((block, index) => {
    const at = `${path}[${index}]`;
    if (block.type === 'tool_result') tools.push(toolResult(block, at));
    else parts.push(contentPart(block, at));
  });
  return parts.length > 0 ? [...tools, { role: 'user', content: parts }] : tools;
}

function assistantMessage(blocks: Block[], path: string): ChatMessage {
  const parts: ChatContentPart[] = [];
  const calls: ChatToolCall[] = [];
  const thinking: ThinkingBlock[] = [];
  blocks.forEach((block, index) => {
    const at = `${path}[${index}]`;
    if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') throw new MessagesTranslationError(at, 'a tool_use block needs id and name');
      calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    } else if (block.type === 'thinking') {
      // Kept verbatim for an Anthropic target (it verifies the signature); other targets drop it (README: thinking across targets).
      if (typeof block.thinking !== 'string') throw new MessagesTranslationError(`${at}.thinking`, 'a thinking block needs thinking text');
      if (typeof block.signature !== 'string') throw new MessagesTranslationError(`${at}.signature`, 'a thinking block needs its signature, given back as it was received');
      thinking.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    } else if (block.type === 'redacted_thinking') {
      if (typeof block.data !== 'string') throw new MessagesTranslationError(`${at}.data`, 'a redacted_thinking block needs its data, given back as it was received');
      thinking.push({ type: 'redacted_thinking', data: block.data });
    } else if (block.type === 'text') {
      parts.push(textPart(block, at));
    } else {
      throw new MessagesTranslationError(`${at}.type`, `an assistant turn cannot hold a '${block.type}' block here`);
    }
  });
  const content = parts.length === 0 ? null : parts.every((part) => !('cache_control' in part)) ? parts.map((part) => (part as { text: string }).text).join('') : parts;
  return { role: 'assistant', content, ...(calls.length > 0 ? { tool_calls: calls } : {}), ...(thinking.length > 0 ? { thinking_blocks: thinking } : {}) };
}

function textPart(block: Block, path = 'system'): ChatContentPart {
  if (typeof block.text !== 'string') throw new MessagesTranslationError(`${path}.text`, 'a text block needs text');
  if (Array.isArray(block.citations) && block.citations.length > 0) throw new MessagesTranslationError(`${path}.citations`, 'citations cannot be translated');
  const cache = cacheControlOf(block);
  return cache ? { type: 'text', text: block.text, cache_control: cache } : { type: 'text', text: block.text };
}

function contentPart(block: Block, path: string): ChatContentPart {
  switch (block.type) {
    case 'text': return textPart(block, path);
    case 'image': return withCache({ type: 'image_url', image_url: { url: sourceUrl(block, path, 'image') } }, block);
    case 'document': {
      const source = block.source as { type?: string; media_type?: string } | undefined;
      if (source?.type !== 'base64' || source.media_type !== 'application/pdf') {
        throw new MessagesTranslationError(`${path}.source`, 'only base64 PDF documents can be translated (not documents by URL, plain text or content blocks)');
      }
      return withCache({ type: 'file', file: { file_data: sourceUrl(block, path, 'document'), ...(typeof block.title === 'string' ? { filename: block.title } : {}) } }, block);
    }
    default:
      throw new MessagesTranslationError(`${path}.type`, `a '${block.type}' block cannot be translated`);
  }
}

/** An image or document source as a URL: base64 as a `data:` URL, a URL image as is. */
function sourceUrl(block: Block, path: string, kind: 'image' | 'document'): string {
  const source = block.source as { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown } | undefined;
  if (source?.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') return `data:${source.media_type};base64,${source.data}`;
  if (kind === 'image' && source?.type === 'url' && typeof source.url === 'string') return source.url;
  throw new MessagesTranslationError(`${path}.source`, `an ${kind} source must be base64 (media_type and data)${kind === 'image' ? ' or a url' : ''}`);
}

function withCache(part: ChatContentPart, block: Block): ChatContentPart {
  const cache = cacheControlOf(block);
  return cache ? { ...part, cache_control: cache } : part;
}

function cacheControlOf(block: Block): { type: 'ephemeral'; ttl?: string } | undefined {
  const cache = block.cache_control as { type?: unknown; ttl?: unknown } | null | undefined;
  if (!cache) return undefined;
  return typeof cache.ttl === 'string' ? { type: 'ephemeral', ttl: cache.ttl } : { type: 'ephemeral' };
}

function toolResult(block: Block, path: string): ChatMessage {
  if (typeof block.tool_use_id !== 'string') throw new MessagesTranslationError(`${path}.tool_use_id`, 'a tool_result block needs tool_use_id');
  const raw = block.content;
  let content: string | ChatContentPart[];
  if (raw === undefined || typeof raw === 'string') content = raw ?? '';
  else if (Array.isArray(raw)) content = (raw as Block[]).map((inner, index) => contentPart(inner, `${path}.content[${index}]`));
  else throw new MessagesTranslationError(`${path}.content`, 'tool_result content must be a string or an array of blocks');
  // No chat target has an error flag on tool results: the text says it (an Anthropic target reads it the same).
  if (block.is_error === true) content = typeof content === 'string' ? `Error: ${content}` : [{ type: 'text', text: 'Error:' }, ...content];
  return { role: 'tool', tool_call_id: block.tool_use_id, content };
}

function chatTool(tool: Record<string, unknown>, path: string): ChatTool {
  if (tool.type !== undefined && tool.type !== 'custom') {
    throw new MessagesTranslationError(`${path}.type`, `the server tool '${String(tool.type)}' runs on Anthropic's side and cannot be routed through an alias`);
  }
  if (typeof tool.input_schema !== 'object' || tool.input_schema === null) throw new MessagesTranslationError(`${path}.input_schema`, 'a tool needs an input_schema object');
  return {
    type: 'function',
    function: {
      name: tool.name as string, ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      parameters: tool.input_schema as Record<string, unknown>,
    },
  };
}

function toolChoice(choice: Block): Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls'> {
  const parallel = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case 'any': return { tool_choice: 'required', ...parallel };
    case 'none': return { tool_choice: 'none' };
    case 'tool': {
      if (typeof choice.name !== 'string') throw new MessagesTranslationError('tool_choice.name', "tool_choice of type 'tool' needs a name");
      return { tool_choice: { type: 'function', function: { name: choice.name } } satisfies ChatToolChoice, ...parallel };
    }
    default: return { tool_choice: 'auto', ...parallel };
  }
}

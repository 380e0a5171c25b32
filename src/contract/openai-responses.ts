/**
 * OpenAI's Responses API as a front door (`POST /v1/responses`): the request body, validated at the
 * edge (strict on the fields Zumik translates, lenient on the rest), and its translation to Zumik's
 * chat request, so an alias routes it to any provider through the same durable path as chat. What
 * cannot be served honestly is refused with the field named (ResponsesTranslationError), never
 * silently dropped: anything that needs a stored response (`previous_response_id`, `conversation`,
 * `store: true`, item references), background mode, built-in tools, prompt templates, `include`.
 */
import { z } from 'zod';
import type { ChatContentPart, ChatMessage, ChatRequest, ChatTool, ChatToolChoice, ChatResponseFormat } from './chat';
import { MODEL_MAX_LENGTH } from './limits';

const item = z.looseObject({ type: z.string().optional(), role: z.string().optional() });

export const responsesRequestSchema = z.looseObject({
  model: z.string({ error: (issue) => (issue.input === undefined ? 'you must provide a model parameter' : 'model must be a string') })
    .min(1, 'model must not be empty').max(MODEL_MAX_LENGTH, `model must be at most ${MODEL_MAX_LENGTH} characters`),
  input: z.union([z.string(), z.array(item)], { error: 'input must be a string or an array of input items' }),
  instructions: z.string().nullish(),
  tools: z.array(z.looseObject({ type: z.string({ error: 'each tool needs a type' }) })).optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })],
    { error: "tool_choice must be 'none', 'auto', 'required' or {type: 'function', name}" }).optional(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int('max_output_tokens must be an integer').min(16, 'max_output_tokens must be at least 16').nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  text: z.looseObject({
    format: z.discriminatedUnion('type', [
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('json_object') }),
      z.looseObject({ type: z.literal('json_schema'), name: z.string({ error: 'text.format.name is required for json_schema' }),
        schema: z.record(z.string(), z.unknown(), { error: 'text.format.schema must be an object' }), strict: z.boolean().nullish(),
        description: z.string().optional() }),
    ], { error: "text.format.type must be 'text', 'json_object' or 'json_schema'" }).optional(),
    verbosity: z.enum(['low', 'medium', 'high']).nullish(),
  }).nullish(),
  reasoning: z.looseObject({ effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(), summary: z.string().nullish() }).nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  background: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority'], { error: "service_tier must be 'auto', 'default', 'flex', 'scale' or 'priority'" }).nullish(),
  user: z.string().optional(),
  safety_identifier: z.string().optional(),
  prompt_cache_key: z.string().optional(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
});

export type ResponsesRequestBody = z.infer<typeof responsesRequestSchema>;

/** The request holds something Zumik cannot serve honestly through an alias: a 400 naming `param`. */
export class ResponsesTranslationError extends Error {
  constructor(readonly param: string, message: string) {
    super(`${param}: ${message}`);
    this.name = 'ResponsesTranslationError';
  }
}

const STATEFUL = 'Zumik keeps no responses for later reference (nothing is stored for GET /v1/responses/{id})';

/** Fields that are refused whenever they are set to something that asks for a feature. */
function refuseUnservable(body: ResponsesRequestBody): void {
  const fields = body as Record<string, unknown>;
  if (body.previous_response_id) throw new ResponsesTranslationError('previous_response_id', `${STATEFUL}: send the whole conversation in input instead`);
  if (fields.conversation != null) throw new ResponsesTranslationError('conversation', `${STATEFUL}: send the whole conversation in input instead`);
  if (body.store === true) throw new ResponsesTranslationError('store', `${STATEFUL}: send store: false (or leave it out)`);
  if (body.background === true) {
    throw new ResponsesTranslationError('background', 'background responses are not served here: use POST /v2/chat/completions with background: true and poll GET /v2/requests/{id}');
  }
  if (fields.prompt != null) throw new ResponsesTranslationError('prompt', 'prompt templates are stored at OpenAI and cannot be routed through an alias');
  if (Array.isArray(fields.include) && fields.include.length > 0) {
    throw new ResponsesTranslationError('include', `'${String(fields.include[0])}' cannot be served: no target returns it through an alias`);
  }
  if (body.truncation === 'auto') throw new ResponsesTranslationError('truncation', "truncation 'auto' is not served: the targets an alias routes to fail on a prompt that is too long");
  if (typeof fields.top_logprobs === 'number' && fields.top_logprobs > 0) throw new ResponsesTranslationError('top_logprobs', 'log probabilities cannot be returned in a Responses answer here');
}

type Json = Record<string, unknown>;

export function responsesToChat(body: ResponsesRequestBody): ChatRequest {
  refuseUnservable(body);
  const messages: ChatMessage[] = [];
  if (body.instructions) messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
  else body.input.forEach((entry, index) => addItem(messages, entry as Json, `input[${index}]`));
  if (!messages.some((message) => message.role !== 'system')) throw new ResponsesTranslationError('input', 'input must hold at least one message');

  const request: ChatRequest = { model: body.model, messages };
  if (body.tools && body.tools.length > 0) request.tools = body.tools.map((tool, index) => chatTool(tool, `tools[${index}]`));
  if (body.tool_choice !== undefined) request.tool_choice = toolChoice(body.tool_choice);
  if (body.parallel_tool_calls != null) request.parallel_tool_calls = body.parallel_tool_calls;
  if (body.max_output_tokens != null) request.max_completion_tokens = body.max_output_tokens;
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.top_p = body.top_p;
  const format = responseFormat(body.text?.format);
  if (format) request.response_format = format;
  if (body.text?.verbosity) request.verbosity = body.text.verbosity;
  if (body.reasoning?.effort) request.reasoning_effort = body.reasoning.effort;
  if (body.service_tier) request.service_tier = body.service_tier;
  if (body.user !== undefined) request.user = body.user;
  if (body.safety_identifier !== undefined) request.safety_identifier = body.safety_identifier;
  if (body.prompt_cache_key !== undefined) request.prompt_cache_key = body.prompt_cache_key;
  if (body.stream === true) {
    request.stream = true;
    // The usage ends every Responses stream (response.completed): always asked for.
    request.stream_options = { include_usage: true };
  }
  return request;
}

/** One input item onto the chat messages: function calls join the assistant turn before them. */
function addItem(messages: ChatMessage[], entry: Json, path: string): void {
  const type = entry.type ?? (entry.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      const role = entry.role;
      if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
        throw new ResponsesTranslationError(`${path}.role`, "role must be 'user', 'assistant', 'system' or 'developer'");
      }
      const content = messageContent(entry.content, `${path}.content`, role === 'assistant');
      if (role === 'assistant') {
        const text = typeof content === 'string' ? content : content.map((part) => String((part as { text?: unknown }).text ?? '')).join('');
        messages.push({ role: 'assistant', content: text });
      } else {
        messages.push({ role, content } as ChatMessage);
      }
      return;
    }
    case 'function_call': {
      if (typeof entry.call_id !== 'string') throw new ResponsesTranslationError(`${path}.call_id`, 'a function_call item needs call_id');
      if (typeof entry.name !== 'string') throw new ResponsesTranslationError(`${path}.name`, 'a function_call item needs name');
      if (typeof entry.arguments !== 'string') throw new ResponsesTranslationError(`${path}.arguments`, 'a function_call item needs arguments (a JSON string)');
      const call = { id: entry.call_id, type: 'function' as const, function: { name: entry.name, arguments: entry.arguments } };
      const last = messages.at(-1);
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    case 'function_call_output': {
      if (typeof entry.call_id !== 'string') throw new ResponsesTranslationError(`${path}.call_id`, 'a function_call_output item needs call_id');
      const output = entry.output;
      let content: string | ChatContentPart[];
      if (typeof output === 'string') content = output;
      else if (Array.isArray(output)) content = messageContent(output, `${path}.output`, false) as ChatContentPart[];
      else throw new ResponsesTranslationError(`${path}.output`, 'output must be a string or an array of content parts');
      messages.push({ role: 'tool', tool_call_id: entry.call_id, content });
      return;
    }
    case 'item_reference':
      throw new ResponsesTranslationError(`${path}.type`, `${STATEFUL}: item references cannot be resolved`);
    default:
      throw new ResponsesTranslationError(`${path}.type`, `'${String(type)}' items cannot be translated (messages, function_call and function_call_output can)`);
  }
}

function messageContent(content: unknown, path: string, assistant: boolean): string | ChatContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new ResponsesTranslationError(path, 'content must be a string or an array of content parts');
  return content.map((raw, index) => {
    const part = (raw ?? {}) as Json;
    const at = `${path}[${index}]`;
    switch (part.type) {
      case 'input_text': case 'output_text': case 'text':
        if (typeof part.text !== 'string') throw new ResponsesTranslationError(`${at}.text`, 'a text part needs text');
        return { type: 'text', text: part.text };
      case 'refusal':
        if (!assistant) throw new ResponsesTranslationError(`${at}.type`, 'a refusal part belongs to an assistant message');
        return { type: 'text', text: String(part.refusal ?? '') };
      case 'input_image': {
        if (assistant) throw new ResponsesTranslationError(`${at}.type`, 'an assistant message cannot hold an image');
        if (typeof part.image_url !== 'string') throw new ResponsesTranslationError(`${at}.image_url`, 'an input_image needs image_url (a URL or a data: URL); file ids are not served');
        const detail = part.detail === 'low' || part.detail === 'high' || part.detail === 'auto' ? { detail: part.detail } : {};
        return { type: 'image_url', image_url: { url: part.image_url, ...detail } };
      }
      case 'input_file': {
        if (assistant || typeof part.file_data !== 'string') {
          throw new ResponsesTranslationError(`${at}.file_data`, 'an input_file must carry file_data (file ids and URLs are not served)');
        }
        return { type: 'file', file: { file_data: part.file_data, ...(typeof part.filename === 'string' ? { filename: part.filename } : {}) } };
      }
      default:
        throw new ResponsesTranslationError(`${at}.type`, `a '${String(part.type)}' content part cannot be translated`);
    }
  });
}

function chatTool(tool: Json, path: string): ChatTool {
  if (tool.type !== 'function') {
    throw new ResponsesTranslationError(`${path}.type`, `the built-in tool '${String(tool.type)}' runs on OpenAI's side and cannot be routed through an alias; only function tools can`);
  }
  if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) {
    throw new ResponsesTranslationError(`${path}.name`, 'function names are 1-64 characters of a-z, A-Z, 0-9, _ and -');
  }
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      ...(tool.parameters && typeof tool.parameters === 'object' ? { parameters: tool.parameters as Record<string, unknown> } : {}),
      ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
    },
  };
}

function toolChoice(choice: NonNullable<ResponsesRequestBody['tool_choice']>): ChatToolChoice {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  throw new ResponsesTranslationError('tool_choice', `tool_choice of type '${choice.type}' cannot be translated (only 'none', 'auto', 'required' and function)`);
}

function responseFormat(format: NonNullable<ResponsesRequestBody['text']>['format']): ChatResponseFormat | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  return { type: 'json_schema', json_schema: {
    name: format.name, schema: format.schema,
    ...(format.strict != null ? { strict: format.strict } : {}), ...(format.description !== undefined ? { description: format.description } : {}),
  } };
}

/**
 * OpenAI chat messages → Anthropic `system` + `messages`. System and developer messages become
 * top-level system blocks; assistant tool calls become `tool_use` blocks and `tool` messages
 * `tool_result` blocks in a user turn; consecutive same-role turns are merged, as Anthropic requires
 * strictly alternating roles.
 */
import type { ChatContentPart, ChatMessage, ChatToolCall, ProviderWarning } from '../../contract/chat';
import type { AnthropicContentBlock, AnthropicMessage, AnthropicTextBlock, AnthropicToolResultBlock, AnthropicToolUseBlock } from './anthropic-api';
import { convertContentParts } from './convert-to-anthropic-content';

export interface AnthropicPrompt {
  system: AnthropicTextBlock[];
  messages: AnthropicMessage[];
  warnings: ProviderWarning[];
}

/**
 * Convert a whole conversation. A system/developer message that appears after the conversation
 * started is hoisted into the top-level system prompt with a warning: only some Claude models accept
 * mid-conversation system messages (PROVIDERS.md §2.1), and the gateway cannot know which.
 */
export function convertToAnthropicMessages(chatMessages: ChatMessage[]): AnthropicPrompt {
  const warnings: ProviderWarning[] = [];
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  for (const message of chatMessages) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        if (messages.length > 0) {
          warnings.push({ type: 'approximated-setting', setting: 'messages[].role',
            message: `A ${message.role} message in the middle of the conversation was moved to Anthropic's top-level system prompt.` });
        }
        system.push(...(convertContentParts(message.content, message.role, false, warnings) as AnthropicTextBlock[]));
        break;
      }
      case 'user':
        append(messages, 'user', convertContentParts(message.content, 'user', true, warnings));
        break;
      case 'assistant':
        append(messages, 'assistant', [
          // Thinking comes first in the turn, verbatim (signatures and redacted data untouched), as Anthropic wrote it.
          ...(message.thinking_blocks ?? []).map((block) => ({ ...block })),
          ...(message.content ? convertContentParts(message.content, 'assistant', false, warnings) : []),
          ...(message.tool_calls ?? []).map((call) => toToolUse(call, warnings)),
        ]);
        break;
      case 'tool':
        append(messages, 'user', [toToolResult(message.tool_call_id, message.content, warnings)]);
        break;
      default:
        warnings.push({ type: 'unsupported-setting', setting: 'messages[].role',
          message: `A message with role '${String((message as { role?: unknown }).role)}' was dropped.` });
    }
  }
  for (const message of messages) {
    if (message.role === 'user') message.content = toolResultsFirst(message.content);
  }
  return { system, messages, warnings };
}

/** Append blocks as a turn, merging into the previous turn when it has the same role. Empty turns are skipped. */
function append(messages: AnthropicMessage[], role: 'user' | 'assistant', blocks: AnthropicContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  if (last?.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

/** Anthropic wants the tool results answering the previous assistant turn before any other user content. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  return [...blocks.filter((block) => block.type === 'tool_result'), ...blocks.filter((block) => block.type !== 'tool_result')];
}

function toToolUse(call: ChatToolCall, warnings: ProviderWarning[]): AnthropicToolUseBlock {
  return { type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call, warnings) };
}

/** Tool-call arguments are a JSON string in OpenAI and an object in Anthropic; anything else becomes `{}` with a warning. */
function parseArguments(call: ChatToolCall, warnings: ProviderWarning[]): Record<string, unknown> {
  const text = call.function.arguments;
  if (!text || text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the warning
  }
  warnings.push({ type: 'approximated-setting', setting: 'messages[].tool_calls[].function.arguments',
    message: `The arguments of tool call '${call.id}' are not a JSON object; Anthropic was sent {} instead.` });
  return {};
}

function toToolResult(toolUseId: string, content: string | ChatContentPart[], warnings: ProviderWarning[]): AnthropicToolResultBlock {
  if (typeof content === 'string') return { type: 'tool_result', tool_use_id: toolUseId, content };
  // convertContentParts yields only text, image and document blocks, all of which a tool result may hold.
  const blocks = convertContentParts(content, 'tool', true, warnings) as Exclude<AnthropicToolResultBlock['content'], string>;
  return { type: 'tool_result', tool_use_id: toolUseId, content: blocks.length > 0 ? blocks : '' };
}

/**
 * A non-streamed Anthropic Message → Zumik's OpenAI-shaped ChatResult: text blocks joined into
 * `content`, `tool_use` blocks as `tool_calls` (arguments as a JSON string), thinking as
 * `reasoning_content`, the stop reason unified with the raw one kept, usage with cache counts.
 */
import type { ChatResult, ChatToolCall, ProviderWarning, ThinkingBlock } from '../../contract/chat';
import type { AnthropicResponseMessage } from './anthropic-api';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason';
import { mapAnthropicServiceTier, mapAnthropicUsage } from './map-anthropic-usage';

export interface AnthropicResponseContext {
  warnings: ProviderWarning[];
  providerRequestId?: string;
  /** Unix seconds; Anthropic's Message has no creation time. */
  created?: number;
}

/**
 * Map one Message. Thinking blocks are also kept whole with their signatures (and redacted thinking
 * as is) in `thinking_blocks`, for an Anthropic Messages client to give back. Block types Zumik does
 * not expose (server tools, fallback markers) are skipped.
 */
export function mapAnthropicResponse(message: AnthropicResponseMessage, context: AnthropicResponseContext): ChatResult {
  let text = '';
  let reasoning = '';
  const toolCalls: ChatToolCall[] = [];
  const thinkingBlocks: ThinkingBlock[] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text ?? '';
    else if (block.type === 'thinking') {
      reasoning += block.thinking ?? '';
      thinkingBlocks.push({ type: 'thinking', thinking: block.thinking ?? '', signature: block.signature ?? '' });
    } else if (block.type === 'redacted_thinking' && block.data !== undefined) thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
    else if (block.type === 'tool_use' && block.id && block.name) {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  const refused = message.stop_reason === 'refusal';
  const serviceTier = mapAnthropicServiceTier(message.usage.service_tier);
  return {
    providerResponseId: message.id,
    model: message.model,
    created: context.created ?? Math.floor(Date.now() / 1000),
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: text.length > 0 ? text : null,
        ...(refused ? { refusal: message.stop_details?.explanation ?? null } : {}),
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        ...(reasoning.length > 0 ? { reasoning_content: reasoning } : {}),
        ...(thinkingBlocks.length > 0 ? { thinking_blocks: thinkingBlocks } : {}),
      },
      finish_reason: mapAnthropicStopReason(message.stop_reason),
      ...(message.stop_reason ? { raw_finish_reason: message.stop_reason } : {}),
    }],
    usage: mapAnthropicUsage(message.usage),
    ...(serviceTier ? { serviceTier } : {}),
    ...(context.providerRequestId ? { providerRequestId: context.providerRequestId } : {}),
    warnings: context.warnings,
  };
}

/**
 * Gemini finish reasons → OpenAI `finish_reason` (PROVIDERS.md §0.2). Gemini has no tool-call finish
 * reason, so `STOP` becomes `tool_calls` when the candidate carried a function call. The raw value is
 * always kept next to the unified one by the callers.
 */
import type { FinishReason } from '../../contract/chat';

/** Every safety-family reason: the provider refused or withheld content. */
const CONTENT_FILTER_REASONS = new Set([
  'SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION',
]);

/**
 * Map a candidate's `finishReason`. Gateway policy for the remaining values (`MALFORMED_FUNCTION_CALL`,
 * `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `LANGUAGE`, `OTHER`, `NO_IMAGE`, `IMAGE_OTHER`,
 * `FINISH_REASON_UNSPECIFIED`, and anything new): `stop`, with the raw value reported alongside.
 */
export function mapGeminiFinishReason(rawFinishReason: string | undefined, hasToolCalls: boolean): FinishReason {
  if (rawFinishReason === 'MAX_TOKENS') return 'length';
  if (rawFinishReason !== undefined && CONTENT_FILTER_REASONS.has(rawFinishReason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/** A prompt blocked before generation (`promptFeedback.blockReason`, no candidates) is always a content filter. */
export function mapGeminiBlockReason(_blockReason: string): FinishReason {
  return 'content_filter';
}

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason` (PROVIDERS.md §0.2). The raw value is kept next
 * to the unified one by the callers, so nothing is lost when the mapping is lossy.
 */
import type { FinishReason } from '../../contract/chat';

/**
 * Map one Anthropic stop reason. `pause_turn` (a long server-tool turn the caller must resend to
 * continue) is reported as `stop` by gateway choice; an absent or unknown value is `stop` too, so a
 * newly introduced reason never fails an otherwise complete answer.
 */
export function mapAnthropicStopReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
    default:
      return 'stop';
  }
}

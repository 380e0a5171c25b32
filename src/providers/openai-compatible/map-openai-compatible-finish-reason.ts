/**
 * Maps a provider's finish reason to OpenAI's vocabulary (PROVIDERS.md §0.2). OpenAI-compatible
 * providers mostly send OpenAI's values already; xAI also uses `end_turn`, bridges may leak a native
 * value (`max_tokens`, `tool_use`), and self-hosted servers send `eos`/`abort`. The raw value is kept
 * next to the unified one by the caller.
 */
import type { FinishReason } from '../../contract/chat';

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop', end_turn: 'stop', stop_sequence: 'stop', eos: 'stop',
  length: 'length', max_tokens: 'length', model_context_window_exceeded: 'length',
  tool_calls: 'tool_calls', tool_use: 'tool_calls',
  content_filter: 'content_filter', refusal: 'content_filter', safety: 'content_filter',
  function_call: 'function_call',
};

/** Unknown or missing values become `stop`: the answer ended, and the raw value says how. */
export function mapOpenAICompatibleFinishReason(raw: string | null | undefined): FinishReason {
  return (raw ? FINISH_REASONS[raw.toLowerCase()] : undefined) ?? 'stop';
}

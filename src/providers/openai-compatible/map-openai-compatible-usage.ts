/**
 * Maps a provider's usage block to OpenAI's contract (PROVIDERS.md §0.3): `completion_tokens`
 * includes reasoning and `total_tokens = prompt_tokens + completion_tokens`. xAI reports reasoning
 * outside `completion_tokens`, so it is added back and the total recomputed, keeping usage and cost
 * comparable across providers.
 */
import type { ChatUsage } from '../../contract/chat';
import type { OpenAICompatibleUsage } from './openai-compatible-api';

export function mapOpenAICompatibleUsage(usage: OpenAICompatibleUsage | null | undefined,
  options: { completionExcludesReasoning: boolean }): ChatUsage {
  const promptTokens = usage?.prompt_tokens ?? 0;
  const reasoningTokens = usage?.completion_tokens_details?.reasoning_tokens ?? undefined;
  const reported = usage?.completion_tokens ?? 0;
  const completionTokens = options.completionExcludesReasoning ? reported + (reasoningTokens ?? 0) : reported;
  const totalTokens = options.completionExcludesReasoning || usage?.total_tokens == null ? promptTokens + completionTokens : usage.total_tokens;

  const mapped: ChatUsage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: totalTokens };
  const prompt = usage?.prompt_tokens_details;
  if (prompt) {
    mapped.prompt_tokens_details = definedOnly({
      cached_tokens: prompt.cached_tokens, cache_write_tokens: prompt.cache_write_tokens, audio_tokens: prompt.audio_tokens,
    });
  }
  const completion = usage?.completion_tokens_details;
  if (completion) {
    mapped.completion_tokens_details = definedOnly({
      reasoning_tokens: completion.reasoning_tokens, audio_tokens: completion.audio_tokens,
      accepted_prediction_tokens: completion.accepted_prediction_tokens, rejected_prediction_tokens: completion.rejected_prediction_tokens,
    });
  }
  return mapped;
}

function definedOnly<T extends Record<string, number | null | undefined>>(values: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => typeof value === 'number')) as { [K in keyof T]?: number };
}

/**
 * Anthropic usage → OpenAI usage (PROVIDERS.md §0.3). Anthropic's `input_tokens` counts only the
 * tokens after the last cache breakpoint, so the OpenAI `prompt_tokens` is the sum of uncached,
 * cache-written and cache-read input; `output_tokens` already includes thinking.
 */
import type { ChatUsage } from '../../contract/chat';
import type { AnthropicUsage } from './anthropic-api';

/**
 * Map a (final) Anthropic usage object. Cache read and write counts are always present in
 * `prompt_tokens_details`, zero when Anthropic omits them, so cost accounting never has to guess.
 */
export function mapAnthropicUsage(usage: AnthropicUsage): ChatUsage {
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const promptTokens = (usage.input_tokens ?? 0) + cacheWrite + cacheRead;
  const completionTokens = usage.output_tokens ?? 0;
  const thinkingTokens = usage.output_tokens_details?.thinking_tokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_write_tokens: cacheWrite },
    ...(typeof thinkingTokens === 'number' ? { completion_tokens_details: { reasoning_tokens: thinkingTokens } } : {}),
  };
}

/**
 * Merge the usage of `message_start` with a later `message_delta` usage. The delta is cumulative and
 * wins for every field it carries; older streams send only `output_tokens` there, newer ones repeat
 * (and may correct) the input counts (fixture anthropic-message-delta-input-tokens).
 */
export function mergeAnthropicUsage(start: AnthropicUsage, delta: AnthropicUsage): AnthropicUsage {
  const merged: AnthropicUsage = { ...start };
  for (const [key, value] of Object.entries(delta)) {
    if (value !== null && value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** Anthropic's served tier in OpenAI's vocabulary: `standard` is OpenAI's `default`; `priority` and `batch` keep their names. */
export function mapAnthropicServiceTier(tier: string | null | undefined): string | undefined {
  if (!tier) return undefined;
  return tier === 'standard' ? 'default' : tier;
}

/**
 * Gemini `usageMetadata` → OpenAI usage (PROVIDERS.md §0.3). Caching is implicit on Gemini 2.5+, so
 * cache hits are reported on every answer as `cached_tokens` (already inside `promptTokenCount`).
 */
import type { ChatUsage } from '../../contract/chat';
import type { GeminiUsageMetadata } from './gemini-response-schema';

/**
 * `prompt_tokens` = promptTokenCount + toolUsePromptTokenCount (cached included);
 * `completion_tokens` = candidatesTokenCount + thoughtsTokenCount (reasoning included, as OpenAI counts it).
 */
export function mapGeminiUsage(usage: GeminiUsageMetadata | null | undefined): ChatUsage {
  const promptTokens = (usage?.promptTokenCount ?? 0) + (usage?.toolUsePromptTokenCount ?? 0);
  const reasoningTokens = usage?.thoughtsTokenCount ?? 0;
  const completionTokens = (usage?.candidatesTokenCount ?? 0) + reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: usage?.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}

/**
 * The tier Gemini says it served, in OpenAI's vocabulary (`standard` → `default`). The
 * `x-gemini-service-tier` response header wins over the (unconfirmed) `usageMetadata.serviceTier` echo.
 */
export function mapGeminiServedTier(headerValue: string | undefined, usage?: GeminiUsageMetadata | null): string | undefined {
  const raw = (headerValue ?? usage?.serviceTier)?.trim().toLowerCase().replace(/^service_tier_/, '');
  if (!raw) return undefined;
  return raw === 'standard' ? 'default' : raw;
}

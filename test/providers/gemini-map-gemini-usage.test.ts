import { mapGeminiServedTier, mapGeminiUsage } from '../../src/providers/gemini/map-gemini-usage';

describe('mapGeminiUsage', () => {
  it('counts thoughts as completion (reasoning) tokens, as the recorded reasoning answer reports them', () => {
    expect(mapGeminiUsage({ promptTokenCount: 9, candidatesTokenCount: 29, totalTokenCount: 296, thoughtsTokenCount: 258 })).toEqual({
      prompt_tokens: 9, completion_tokens: 287, total_tokens: 296,
      prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 258 },
    });
  });

  it('reports implicit cache hits as cached_tokens inside prompt_tokens, and adds tool-use prompt tokens', () => {
    const usage = mapGeminiUsage({ promptTokenCount: 5000, cachedContentTokenCount: 4096, toolUsePromptTokenCount: 20, candidatesTokenCount: 10 });
    expect(usage.prompt_tokens).toBe(5020);
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 4096 });
    expect(usage.total_tokens).toBe(5030);
  });

  it('answers zeros when Gemini sent no usage', () => {
    expect(mapGeminiUsage(undefined)).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});

describe('mapGeminiServedTier', () => {
  it('reads the x-gemini-service-tier header first, in OpenAI vocabulary', () => {
    expect(mapGeminiServedTier('standard', { serviceTier: 'priority' })).toBe('default');
    expect(mapGeminiServedTier('flex')).toBe('flex');
  });

  it('falls back to the usageMetadata echo, and to nothing', () => {
    expect(mapGeminiServedTier(undefined, { serviceTier: 'SERVICE_TIER_PRIORITY' })).toBe('priority');
    expect(mapGeminiServedTier(undefined, {})).toBeUndefined();
  });
});

import { mapAnthropicServiceTier, mapAnthropicUsage, mergeAnthropicUsage } from '../../src/providers/anthropic/map-anthropic-usage';

describe('mapAnthropicUsage', () => {
  it('counts uncached, cache-written and cache-read input as prompt tokens', () => {
    expect(mapAnthropicUsage({ input_tokens: 20, cache_creation_input_tokens: 1500, cache_read_input_tokens: 3000, output_tokens: 80 })).toEqual({
      prompt_tokens: 4520, completion_tokens: 80, total_tokens: 4600,
      prompt_tokens_details: { cached_tokens: 3000, cache_write_tokens: 1500 },
    });
  });

  it('always reports cache counts, as zero when Anthropic omits them', () => {
    expect(mapAnthropicUsage({ input_tokens: 11, output_tokens: 6 }).prompt_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 0 });
  });

  it('reports thinking tokens as reasoning tokens, already inside completion tokens', () => {
    const usage = mapAnthropicUsage({ input_tokens: 28, output_tokens: 106, output_tokens_details: { thinking_tokens: 67 } });
    expect(usage.completion_tokens).toBe(106);
    expect(usage.completion_tokens_details).toEqual({ reasoning_tokens: 67 });
  });
});

describe('mergeAnthropicUsage', () => {
  it('lets the cumulative message_delta usage win for the fields it carries', () => {
    const merged = mergeAnthropicUsage({ input_tokens: 43, output_tokens: 1, service_tier: 'standard' }, { input_tokens: 61, output_tokens: 2, cache_read_input_tokens: null });
    expect(merged).toEqual({ input_tokens: 61, output_tokens: 2, service_tier: 'standard' });
  });

  it('keeps the input counts of message_start when the delta has only output_tokens', () => {
    expect(mergeAnthropicUsage({ input_tokens: 377, cache_read_input_tokens: 5, output_tokens: 1 }, { output_tokens: 65 }))
      .toEqual({ input_tokens: 377, cache_read_input_tokens: 5, output_tokens: 65 });
  });
});

describe('mapAnthropicServiceTier', () => {
  it("speaks OpenAI's vocabulary: standard is default", () => {
    expect(mapAnthropicServiceTier('standard')).toBe('default');
    expect(mapAnthropicServiceTier('priority')).toBe('priority');
    expect(mapAnthropicServiceTier(null)).toBeUndefined();
  });
});

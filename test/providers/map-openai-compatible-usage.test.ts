import { mapOpenAICompatibleUsage } from '../../src/providers/openai-compatible/map-openai-compatible-usage';
import { openAICompatibleResponseSchema } from '../../src/providers/openai-compatible/openai-compatible-api';
import { loadOpenAICompatibleJson } from '../emulators/openai-compatible-fixtures';

const fixture = (name: string) => openAICompatibleResponseSchema.parse(loadOpenAICompatibleJson(name));

describe('mapOpenAICompatibleUsage', () => {
  it('keeps OpenAI usage as reported', () => {
    const usage = fixture('openai/openai-text.json').usage;

    expect(mapOpenAICompatibleUsage(usage, { completionExcludesReasoning: false })).toEqual({
      prompt_tokens: 16, completion_tokens: 363, total_tokens: 379,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
  });

  it('adds xAI reasoning tokens into completion_tokens so that the total is prompt + completion (recorded xai-text.json)', () => {
    const usage = fixture('xai/xai-text.json').usage;

    expect(mapOpenAICompatibleUsage(usage, { completionExcludesReasoning: true })).toMatchObject({
      prompt_tokens: 12, completion_tokens: 229, total_tokens: 241,
      prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 228 },
    });
  });

  it('keeps cache_write_tokens and recomputes a missing total', () => {
    expect(mapOpenAICompatibleUsage({ prompt_tokens: 2000, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 1024, cache_write_tokens: 900 } },
      { completionExcludesReasoning: false })).toEqual({
      prompt_tokens: 2000, completion_tokens: 5, total_tokens: 2005, prompt_tokens_details: { cached_tokens: 1024, cache_write_tokens: 900 },
    });
  });

  it('reports zeros when a provider sent no usage', () => {
    expect(mapOpenAICompatibleUsage(undefined, { completionExcludesReasoning: true })).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});

import { mapGeminiReasoningEffort, usesThinkingBudget } from '../../src/providers/gemini/map-gemini-reasoning-effort';

describe('mapGeminiReasoningEffort', () => {
  it('uses thinkingLevel on Gemini 3 models and asks for thought summaries', () => {
    expect(mapGeminiReasoningEffort('low', 'gemini-3-pro-preview')).toEqual({ thinkingConfig: { thinkingLevel: 'LOW', includeThoughts: true }, warnings: [] });
    expect(mapGeminiReasoningEffort('high', 'gemini-3.5-flash').thinkingConfig).toEqual({ thinkingLevel: 'HIGH', includeThoughts: true });
  });

  it('uses thinkingBudget on Gemini 2.x models; none turns thinking off there', () => {
    expect(mapGeminiReasoningEffort('medium', 'gemini-2.5-flash').thinkingConfig).toEqual({ thinkingBudget: 8192, includeThoughts: true });
    expect(mapGeminiReasoningEffort('none', 'models/gemini-2.5-flash').thinkingConfig).toEqual({ thinkingBudget: 0, includeThoughts: false });
  });

  it('approximates none and xhigh on Gemini 3 with a warning', () => {
    const none = mapGeminiReasoningEffort('none', 'gemini-3-pro-preview');
    expect(none.thinkingConfig).toEqual({ thinkingLevel: 'MINIMAL', includeThoughts: false });
    expect(none.warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'reasoning_effort' })]);
    expect(mapGeminiReasoningEffort('xhigh', 'gemini-3-pro-preview').thinkingConfig?.thinkingLevel).toBe('HIGH');
  });

  it('ignores unknown efforts with a warning and sends nothing when absent', () => {
    expect(mapGeminiReasoningEffort('turbo', 'gemini-3-pro-preview')).toEqual({ warnings: [expect.objectContaining({ type: 'unsupported-setting' })] });
    expect(mapGeminiReasoningEffort(undefined, 'gemini-3-pro-preview')).toEqual({ warnings: [] });
  });
});

describe('usesThinkingBudget', () => {
  it('tells model generations apart', () => {
    expect(usesThinkingBudget('gemini-2.5-pro')).toBe(true);
    expect(usesThinkingBudget('gemini-3-pro-preview')).toBe(false);
  });
});

import { hasFixedSampling, prepareAnthropicSampling } from '../../src/providers/anthropic/anthropic-sampling';
import type { ProviderWarning } from '../../src/contract/chat';

describe('hasFixedSampling', () => {
  it.each([
    ['claude-opus-4-8', true], ['claude-opus-4-7', true], ['claude-sonnet-5', true], ['claude-fable-5-2', true],
    ['claude-opus-4-6', false], ['claude-haiku-4-5-20251001', false], ['claude-opus-4-20250514', false],
    ['claude-3-5-sonnet-20241022', false], ['my-custom-model', false],
  ])('%s → %s', (model, expected) => {
    expect(hasFixedSampling(model)).toBe(expected);
  });
});

describe('prepareAnthropicSampling', () => {
  it('drops non-default values for models after Opus 4.6, warning once per setting', () => {
    const warnings: ProviderWarning[] = [];
    expect(prepareAnthropicSampling({ temperature: 0.2, top_p: 0.5 }, 'claude-opus-4-8', warnings)).toEqual({});
    expect(warnings.map((warning) => warning.setting)).toEqual(['temperature', 'top_p']);
  });

  it('drops the accepted defaults for those models silently', () => {
    const warnings: ProviderWarning[] = [];
    expect(prepareAnthropicSampling({ temperature: 1, top_p: 0.995 }, 'claude-sonnet-5', warnings)).toEqual({});
    expect(warnings).toEqual([]);
  });

  it('sends temperature alone when both are given, since recent models reject the pair', () => {
    const warnings: ProviderWarning[] = [];
    expect(prepareAnthropicSampling({ temperature: 0.3, top_p: 0.9 }, 'claude-haiku-4-5-20251001', warnings)).toEqual({ temperature: 0.3 });
    expect(warnings).toEqual([expect.objectContaining({ setting: 'top_p' })]);
  });

  it("clamps OpenAI's 0–2 temperature to Anthropic's 0–1", () => {
    const warnings: ProviderWarning[] = [];
    expect(prepareAnthropicSampling({ temperature: 1.6 }, 'claude-haiku-4-5-20251001', warnings)).toEqual({ temperature: 1 });
    expect(warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'temperature' })]);
  });

  it('passes top_p alone through', () => {
    expect(prepareAnthropicSampling({ top_p: 0.8 }, 'claude-haiku-4-5-20251001', [])).toEqual({ top_p: 0.8 });
  });
});

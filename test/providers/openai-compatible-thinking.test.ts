import { convertToOpenAICompatibleRequest } from '../../src/providers/openai-compatible/convert-to-openai-compatible-request';
import { FLAVOUR_PRESETS } from '../../src/providers/openai-compatible/openai-compatible-flavours';
import type { ChatRequest } from '../../src/contract/chat';

const REQUEST: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'hi' }] };

describe('convertToOpenAICompatibleRequest', () => {
  describe('Anthropic thinking (from a Messages client)', () => {
    it('becomes the nearest reasoning_effort on a reasoning model, never a thinking field', () => {
      const low = convertToOpenAICompatibleRequest({ ...REQUEST, thinking: { type: 'enabled', budget_tokens: 2048 } }, { model: 'o4-mini' }, FLAVOUR_PRESETS.openai, false);
      const high = convertToOpenAICompatibleRequest({ ...REQUEST, thinking: { type: 'enabled', budget_tokens: 32_000 } }, { model: 'gpt-5' }, FLAVOUR_PRESETS.openai, false);
      expect(low.body).not.toHaveProperty('thinking');
      expect(low.body.reasoning_effort).toBe('low');
      expect(high.body.reasoning_effort).toBe('high');
      expect(low.warnings).toEqual([expect.objectContaining({ type: 'approximated-setting', setting: 'thinking' })]);
    });

    it('is dropped with a warning on a model without reasoning, and silently when disabled', () => {
      const dropped = convertToOpenAICompatibleRequest({ ...REQUEST, thinking: { type: 'enabled', budget_tokens: 2048 } }, { model: 'gpt-4o-mini' }, FLAVOUR_PRESETS.openai, false);
      expect(dropped.body).toEqual({ model: 'gpt-4o-mini', messages: REQUEST.messages });
      expect(dropped.warnings).toEqual([expect.objectContaining({ type: 'unsupported-setting', setting: 'thinking' })]);
      const disabled = convertToOpenAICompatibleRequest({ ...REQUEST, thinking: { type: 'disabled' } }, { model: 'o4-mini' }, FLAVOUR_PRESETS.openai, false);
      expect(disabled.body).toEqual({ model: 'o4-mini', messages: REQUEST.messages });
      expect(disabled.warnings).toEqual([]);
    });
  });
});

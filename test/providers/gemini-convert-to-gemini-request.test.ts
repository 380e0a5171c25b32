import { convertToGeminiRequest } from '../../src/providers/gemini/convert-to-gemini-request';
import type { ChatRequest } from '../../src/contract/chat';

const base: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'Hi' }] };

describe('convertToGeminiRequest', () => {
  it('sends only contents for a bare request', () => {
    expect(convertToGeminiRequest(base, 'gemini-3.5-flash')).toEqual({ body: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }, warnings: [] });
  });

  it('maps sampling settings into generationConfig', () => {
    const { body } = convertToGeminiRequest({
      ...base, temperature: 0.2, top_p: 0.9, n: 2, max_completion_tokens: 100, max_tokens: 50, seed: 7, presence_penalty: 0.5,
      frequency_penalty: -0.5, stop: 'END',
    }, 'gemini-3.5-flash');
    expect(body.generationConfig).toEqual({
      temperature: 0.2, topP: 0.9, candidateCount: 2, maxOutputTokens: 100, seed: 7, presencePenalty: 0.5, frequencyPenalty: -0.5, stopSequences: ['END'],
    });
    expect(convertToGeminiRequest({ ...base, max_tokens: 50, stop: ['a', 'b'] }, 'm').body.generationConfig).toEqual({ maxOutputTokens: 50, stopSequences: ['a', 'b'] });
  });

  it('maps JSON mode and JSON schema output', () => {
    expect(convertToGeminiRequest({ ...base, response_format: { type: 'json_object' } }, 'm').body.generationConfig).toEqual({ responseMimeType: 'application/json' });
    const { body } = convertToGeminiRequest({ ...base, response_format: { type: 'json_schema', json_schema: { name: 'r', strict: true,
      schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false } } } }, 'm');
    expect(body.generationConfig).toEqual({
      responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { answer: { type: 'STRING' } }, required: ['answer'] },
    });
  });

  it.each([['flex', 'flex'], ['priority', 'priority'], ['fast', 'priority'], ['auto', undefined], ['default', undefined]] as const)(
    'maps service_tier %s to the top-level serviceTier %s', (tier, expected) => {
      const { body } = convertToGeminiRequest({ ...base, service_tier: tier }, 'm');
      expect(body.serviceTier).toBe(expected);
      expect(body.generationConfig).toBeUndefined();
    });

  it('warns for settings Gemini cannot honour', () => {
    const { warnings } = convertToGeminiRequest({ ...base, service_tier: 'scale', logit_bias: { '50256': -100 }, logprobs: true }, 'm');
    expect(warnings.map((warning) => warning.setting).sort()).toEqual(['logit_bias', 'logprobs', 'service_tier']);
  });

  it('puts thinking, tools and system instruction in their places', () => {
    const { body } = convertToGeminiRequest({
      ...base, messages: [{ role: 'system', content: 'S' }, ...base.messages], reasoning_effort: 'low',
      tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'auto',
    }, 'gemini-3-pro-preview');
    expect(body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'S' }] },
      tools: [{ functionDeclarations: [{ name: 'f' }] }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      generationConfig: { thinkingConfig: { thinkingLevel: 'LOW', includeThoughts: true } },
    });
  });
});

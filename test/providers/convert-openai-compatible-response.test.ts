import { convertOpenAICompatibleResponse } from '../../src/providers/openai-compatible/convert-openai-compatible-response';
import { openAICompatibleResponseSchema } from '../../src/providers/openai-compatible/openai-compatible-api';
import { FLAVOUR_PRESETS } from '../../src/providers/openai-compatible/openai-compatible-flavours';
import { loadOpenAICompatibleJson } from '../emulators/openai-compatible-fixtures';

const fixture = (name: string) => openAICompatibleResponseSchema.parse(loadOpenAICompatibleJson(name));

describe('convertOpenAICompatibleResponse', () => {
  it('converts the recorded OpenAI answer, keeping tier, fingerprint and ids', () => {
    const result = convertOpenAICompatibleResponse(fixture('openai/openai-text.json'), { flavour: FLAVOUR_PRESETS.openai, model: 'gpt-4.1-nano', providerRequestId: 'req_9', warnings: [] });

    expect(result).toMatchObject({
      providerResponseId: 'chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU', model: 'gpt-4.1-nano-2025-04-14', created: 1770933883,
      serviceTier: 'default', systemFingerprint: 'fp_de604bd877', providerRequestId: 'req_9',
      usage: { prompt_tokens: 16, completion_tokens: 363, total_tokens: 379 },
    });
    expect(result.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', raw_finish_reason: 'stop', message: { role: 'assistant', refusal: null } });
    expect(result.choices[0]?.message.content).toMatch(/^\*\*Holiday Name:\*\* Galaxy Day/);
  });

  it('converts the recorded xAI tool call: empty content becomes null, reasoning kept, type defaulted, usage fixed', () => {
    const result = convertOpenAICompatibleResponse(fixture('compatible/xai-tool-call.json'), { flavour: FLAVOUR_PRESETS.xai, model: 'grok-3-mini', warnings: [] });

    expect(result.choices[0]?.message).toMatchObject({
      content: null, tool_calls: [{ id: 'call_46427107', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }],
    });
    expect(result.choices[0]?.message.reasoning_content).toMatch(/^First, the user/);
    expect(result.choices[0]?.finish_reason).toBe('tool_calls');
    expect(result.usage).toMatchObject({ prompt_tokens: 307, completion_tokens: 281, total_tokens: 588 });
    expect(result.serviceTier).toBeUndefined();
  });

  it('fills what a sparse self-hosted answer leaves out', () => {
    const result = convertOpenAICompatibleResponse({ choices: [{ message: { content: 'ok' } }] }, {
      flavour: FLAVOUR_PRESETS.byoc_dynamo, model: 'llama', warnings: [{ type: 'other', message: 'kept' }], now: () => 1_700_000_000_000,
    });

    expect(result).toEqual({
      providerResponseId: '', model: 'llama', created: 1_700_000_000,
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, warnings: [{ type: 'other', message: 'kept' }],
    });
  });
});

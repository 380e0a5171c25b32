import { convertGeminiResponse, geminiToolCallId } from '../../src/providers/gemini/convert-gemini-response';
import { geminiResponseSchema } from '../../src/providers/gemini/gemini-response-schema';
import { ProviderError } from '../../src/providers/provider-error';
import { loadGeminiJson } from './gemini-fixtures';

const context = { model: 'gemini-asked', created: 1_700_000_000, warnings: [] };
const convert = (body: unknown, extra: Partial<typeof context & { servedTierHeader: string }> = {}) =>
  convertGeminiResponse(geminiResponseSchema.parse(body), { ...context, ...extra });

describe('convertGeminiResponse', () => {
  it('converts the recorded text answer with its model version, response id and usage', () => {
    const result = convert(loadGeminiJson('google-text'));
    expect(result).toMatchObject({
      providerResponseId: 'Un6LacrVMcjUxs0PmJfWoQc', model: 'gemini-3-pro-preview', created: 1_700_000_000,
      choices: [{ index: 0, message: { role: 'assistant', content: expect.stringContaining('3** r\'s') }, finish_reason: 'stop', raw_finish_reason: 'STOP' }],
      usage: { prompt_tokens: 9, completion_tokens: 272, total_tokens: 281, completion_tokens_details: { reasoning_tokens: 244 } },
    });
    expect(result.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it('turns the recorded function call into a tool call with a stable id and finish reason tool_calls', () => {
    const body = loadGeminiJson('google-tool-call');
    const first = convert(body);
    expect(first.choices[0]).toMatchObject({
      message: { content: null, tool_calls: [{ id: geminiToolCallId('m36LaZGyCLz1xs0PtNSB-QU', 0, 0), type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }] },
      finish_reason: 'tool_calls', raw_finish_reason: 'STOP',
    });
    expect(first.choices[0]!.message.tool_calls![0]).toHaveProperty('extra_content.google.thought_signature', expect.stringMatching(/^EskgCsYg/));
    expect(convert(body).choices[0]!.message.tool_calls![0]!.id).toBe(first.choices[0]!.message.tool_calls![0]!.id);
  });

  it('keeps ids Gemini sends, and separates thought parts into reasoning_content', () => {
    const result = convert({ candidates: [{ content: { parts: [
      { text: 'Let me think.', thought: true }, { text: 'Answer.' }, { functionCall: { id: 'fc-1', name: 'f', args: { a: 1 } } },
    ] }, finishReason: 'STOP' }] });
    expect(result.choices[0]!.message).toEqual({
      role: 'assistant', content: 'Answer.', reasoning_content: 'Let me think.',
      tool_calls: [{ id: 'fc-1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    });
    expect(result.model).toBe('gemini-asked');
  });

  it('maps a blocked prompt with no candidates to content_filter', () => {
    const result = convert({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 7 } });
    expect(result.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter', raw_finish_reason: 'PROHIBITED_CONTENT' }]);
    expect(result.usage.prompt_tokens).toBe(7);
  });

  it('maps a safety stop to content_filter and reports the served tier and cached tokens', () => {
    const result = convert({ candidates: [{ content: { parts: [] }, finishReason: 'SAFETY' }], usageMetadata: { promptTokenCount: 10, cachedContentTokenCount: 6 } },
      { servedTierHeader: 'priority' });
    expect(result.choices[0]!.finish_reason).toBe('content_filter');
    expect(result.serviceTier).toBe('priority');
    expect(result.usage.prompt_tokens_details?.cached_tokens).toBe(6);
  });

  it('rejects an answer with neither candidates nor a block as bad_response', () => {
    expect(() => convert({ usageMetadata: {} })).toThrow(expect.objectContaining({ kind: 'bad_response' }) as unknown as ProviderError);
  });
});

import { mapOpenAICompatibleFinishReason } from '../../src/providers/openai-compatible/map-openai-compatible-finish-reason';

describe('mapOpenAICompatibleFinishReason', () => {
  it.each([
    ['stop', 'stop'], ['end_turn', 'stop'], ['eos', 'stop'], ['length', 'length'], ['max_tokens', 'length'],
    ['tool_calls', 'tool_calls'], ['tool_use', 'tool_calls'], ['content_filter', 'content_filter'], ['function_call', 'function_call'],
    ['something_new', 'stop'], [null, 'stop'],
  ] as const)('maps %s to %s', (raw, unified) => {
    expect(mapOpenAICompatibleFinishReason(raw)).toBe(unified);
  });
});

import { mapAnthropicStopReason } from '../../src/providers/anthropic/map-anthropic-stop-reason';

describe('mapAnthropicStopReason', () => {
  it.each([
    ['end_turn', 'stop'], ['stop_sequence', 'stop'], ['pause_turn', 'stop'], ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'], ['tool_use', 'tool_calls'], ['refusal', 'content_filter'],
    [null, 'stop'], ['some_future_reason', 'stop'],
  ])('%s → %s', (raw, expected) => {
    expect(mapAnthropicStopReason(raw)).toBe(expected);
  });
});

import { mapAnthropicStream } from '../../src/providers/anthropic/anthropic-stream';
import type { ProviderError } from '../../src/providers/provider-error';
import type { StreamPart } from '../../src/contract/chat';
import type { SseEvent } from '../emulators/emulator-kit';
import { loadAnthropicChunks, loadAnthropicSse } from '../emulators/anthropic-fixtures';

async function* replay(events: SseEvent[]): AsyncGenerator<SseEvent> {
  for (const event of events) yield event;
}

async function run(events: SseEvent[]): Promise<{ parts: StreamPart[]; error?: ProviderError }> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of mapAnthropicStream(replay(events), { warnings: [], providerRequestId: 'req_1' })) parts.push(part);
    return { parts };
  } catch (error) {
    return { parts, error: error as ProviderError };
  }
}

const text = (parts: StreamPart[]) => parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
const ofType = <T extends StreamPart['type']>(parts: StreamPart[], type: T) => parts.filter((part): part is Extract<StreamPart, { type: T }> => part.type === type);

describe('mapAnthropicStream', () => {
  it('maps the recorded basic stream: start, text, finish, usage, end', async () => {
    const { parts, error } = await run(loadAnthropicSse('sdk-basic_response.sse'));
    expect(error).toBeUndefined();
    expect(parts[0]).toMatchObject({ type: 'stream-start', providerResponseId: 'msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK', model: 'claude-opus-4-8', providerRequestId: 'req_1' });
    expect(text(parts)).toBe('Hello there!');
    expect(parts.slice(-3)).toEqual([
      { type: 'finish', choiceIndex: 0, finishReason: 'stop', rawFinishReason: 'end_turn' },
      { type: 'usage', model: 'claude-opus-4-8', usage: { prompt_tokens: 11, completion_tokens: 6, total_tokens: 17, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } } },
      { type: 'stream-end' },
    ]);
  });

  it('numbers tool calls by tool_use block, not by content-block index', async () => {
    const { parts } = await run(loadAnthropicSse('sdk-tool_use_response.sse'));
    const calls = ofType(parts, 'tool-call-delta');
    expect(calls[0]).toEqual({ type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', name: 'get_weather', argumentsDelta: '' });
    expect(calls.every((call) => call.toolCallIndex === 0)).toBe(true);
    expect(calls.map((call) => call.argumentsDelta).join('')).toBe('{"location": "Paris"}');
    expect(ofType(parts, 'finish')[0]!.finishReason).toBe('tool_calls');
    expect(text(parts)).toBe("I'll check the current weather in Paris for you.");
  });

  it('maps thinking to reasoning deltas and a refusal to content_filter with thinking tokens', async () => {
    const { parts } = await run(loadAnthropicSse('sdk-stream-refusal.sse'));
    expect(ofType(parts, 'reasoning-delta').map((part) => part.text).join('')).toMatch(/^Simple educational question/);
    // The recorded signature_delta comes through whole, after the thinking it signs.
    const signature = ofType(parts, 'reasoning-signature');
    expect(signature).toHaveLength(1);
    expect(signature[0]!.signature.length).toBeGreaterThan(20);
    expect(parts.findIndex((part) => part.type === 'reasoning-signature')).toBeGreaterThan(parts.findLastIndex((part) => part.type === 'reasoning-delta'));
    expect(ofType(parts, 'finish')[0]).toMatchObject({ finishReason: 'content_filter', rawFinishReason: 'refusal' });
    expect(ofType(parts, 'usage')[0]!.usage).toMatchObject({ prompt_tokens: 28, completion_tokens: 106, completion_tokens_details: { reasoning_tokens: 67 } });
    expect(ofType(parts, 'usage')[0]!.serviceTier).toBe('default');
  });

  it('passes a redacted_thinking block through whole', async () => {
    const event = (payload: Record<string, unknown>): SseEvent => ({ event: String(payload.type), data: JSON.stringify(payload) });
    const { parts } = await run([
      event({ type: 'message_start', message: { id: 'msg_1', model: 'claude-opus-4-8', usage: { input_tokens: 3 } } }),
      event({ type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'EncRypted' } }),
      event({ type: 'content_block_stop', index: 0 }),
      event({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
      event({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'ok' } }),
      event({ type: 'content_block_stop', index: 1 }),
      event({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }),
      event({ type: 'message_stop' }),
    ]);
    expect(ofType(parts, 'redacted-reasoning')).toEqual([{ type: 'redacted-reasoning', choiceIndex: 0, data: 'EncRypted' }]);
    expect(text(parts)).toBe('ok');
  });

  it('emits the refusal explanation when Anthropic gives one', async () => {
    const { parts } = await run(loadAnthropicChunks('anthropic-refusal.chunks.txt'));
    expect(ofType(parts, 'refusal-delta')[0]!.text).toContain('Usage Policy');
    expect(parts.at(-1)).toEqual({ type: 'stream-end' });
  });

  it('merges message_start input usage with the final message_delta usage', async () => {
    const { parts } = await run(loadAnthropicChunks('anthropic-message-delta-input-tokens.chunks.txt'));
    expect(ofType(parts, 'usage')[0]!.usage).toMatchObject({ prompt_tokens: 61, completion_tokens: 2, total_tokens: 63 });
    expect(text(parts)).toBe('pong');
  });

  it('ignores fallback blocks and pings', async () => {
    const { parts } = await run(loadAnthropicChunks('anthropic-fallback.chunks.txt'));
    expect(text(parts)).toBe('The printing press was invented by Johannes Gutenberg around 1440.');
    expect(ofType(parts, 'usage')[0]!.usage.prompt_tokens).toBe(412);
  });

  it('completes when the body ends after message_delta carried the stop reason, without message_stop', async () => {
    const events = loadAnthropicSse('sdk-basic_response.sse');
    expect(events.at(-1)!.event).toBe('message_stop');
    const { parts, error } = await run(events.slice(0, -1));
    expect(error).toBeUndefined();
    expect(parts.slice(-3)).toEqual((await run(events)).parts.slice(-3)); // finish, usage, stream-end as with message_stop
  });

  it('throws stream_truncated when the body ends before message_delta carried a stop reason', async () => {
    const events = loadAnthropicSse('sdk-basic_response.sse');
    const beforeDelta = events.slice(0, events.findIndex((event) => event.event === 'message_delta'));
    const { parts, error } = await run(beforeDelta);
    expect(error).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true, providerRequestId: 'req_1' });
    expect(parts.some((part) => part.type === 'stream-end' || part.type === 'finish')).toBe(false);
  });

  it('skips an event that is not JSON amid valid ones (a skipped-event part), and the answer stays whole', async () => {
    const events = loadAnthropicSse('sdk-basic_response.sse');
    const { parts, error } = await run([...events.slice(0, 3), { data: '{"type":"content_block_delta",' }, ...events.slice(3)]);
    expect(error).toBeUndefined();
    expect(parts.filter((part) => part.type === 'skipped-event')).toHaveLength(1);
    expect(parts.filter((part) => part.type !== 'skipped-event')).toEqual((await run(events)).parts.map((part) =>
      part.type === 'stream-start' ? { ...part, created: expect.any(Number) } : part));
  });

  it('throws bad_response after more than three events that are not JSON', async () => {
    const events = loadAnthropicSse('sdk-basic_response.sse');
    const garbage = Array.from({ length: 4 }, () => ({ data: '{"type":' }));
    const { error } = await run([...events.slice(0, 3), ...garbage, ...events.slice(3)]);
    expect(error).toMatchObject({ kind: 'bad_response' });
  });

  it('throws bad_response on an event that breaks the protocol', async () => {
    expect((await run([{ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}' }])).error)
      .toMatchObject({ kind: 'bad_response' });
    const events = loadAnthropicSse('sdk-basic_response.sse');
    expect((await run([events[0]!, { event: 'content_block_start', data: '{"type":"content_block_start","index":"zero"}' }])).error)
      .toMatchObject({ kind: 'bad_response' });
  });

  it('maps a mid-stream overloaded_error to a retryable overloaded failure after the first token', async () => {
    const events = loadAnthropicSse('sdk-basic_response.sse').slice(0, 4);
    const { parts, error } = await run([...events, { event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' }]);
    expect(text(parts)).toBe('Hello');
    expect(error).toMatchObject({ kind: 'overloaded', providerCode: 'overloaded_error', afterFirstToken: true });
    expect(error!.retryable).toBe(true);
  });
});

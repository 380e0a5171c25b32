import { convertGeminiStream } from '../../src/providers/gemini/gemini-stream';
import type { StreamPart } from '../../src/contract/chat';
import { loadGeminiChunks } from './gemini-fixtures';

async function* events(payloads: Array<unknown | string>): AsyncGenerator<{ data: string }> {
  for (const payload of payloads) yield { data: typeof payload === 'string' ? payload : JSON.stringify(payload) };
}

async function collect(payloads: Array<unknown | string>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of convertGeminiStream(events(payloads), { model: 'gemini-asked', created: 1, warnings: [] })) parts.push(part);
  return parts;
}

async function failure(payloads: Array<unknown | string>): Promise<unknown> {
  return collect(payloads).then(() => { throw new Error('expected the stream to fail'); }, (error: unknown) => error);
}

describe('convertGeminiStream', () => {
  it('converts the recorded text stream: start, deltas, finish, last usage, end', async () => {
    const parts = await collect(loadGeminiChunks('google-text'));
    expect(parts[0]).toEqual({ type: 'stream-start', providerResponseId: 'bH6LaZW8Fp_3nsEPqtaSwQ4', model: 'gemini-3-pro-preview', created: 1, warnings: [] });
    expect(parts.filter((part) => part.type === 'text-delta').map((part) => part.text).join('')).toBe('There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y');
    expect(parts.slice(-3)).toEqual([
      { type: 'finish', choiceIndex: 0, finishReason: 'stop', rawFinishReason: 'STOP' },
      { type: 'usage', model: 'gemini-3-pro-preview', usage: expect.objectContaining({ prompt_tokens: 9, completion_tokens: 208, total_tokens: 217 }) },
      { type: 'stream-end' },
    ]);
  });

  it('emits the recorded function call once with id, name and full arguments, and finishes with tool_calls', async () => {
    const parts = await collect(loadGeminiChunks('google-tool-call-gemini3'));
    expect(parts.filter((part) => part.type === 'tool-call-delta')).toEqual([
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, id: 'call_QHiLaa6LBrb8vdIPoNztsAg_0_0', name: 'weather', argumentsDelta: '{"location":"San Francisco"}' },
    ]);
    expect(parts.find((part) => part.type === 'finish')).toMatchObject({ finishReason: 'tool_calls', rawFinishReason: 'STOP' });
  });

  it('assembles streamed function-call arguments (recorded) into whole calls', async () => {
    const parts = await collect(loadGeminiChunks('google-stream-tool-call-arguments'));
    const calls = parts.filter((part) => part.type === 'tool-call-delta');
    expect(calls.map((part) => part.type === 'tool-call-delta' && [part.toolCallIndex, part.name, part.argumentsDelta])).toEqual([
      [0, 'getWeather', '{"location":"Boston"}'], [1, 'getWeather', '{"location":"San Francisco"}'],
    ]);
    expect(parts.at(-3)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' });
  });

  it('emits thought parts as reasoning deltas', async () => {
    const parts = await collect([
      { candidates: [{ content: { parts: [{ text: 'Thinking…', thought: true }] } }] },
      { candidates: [{ content: { parts: [{ text: 'Done' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, thoughtsTokenCount: 4, cachedContentTokenCount: 2 } },
    ]);
    expect(parts.filter((part) => part.type === 'reasoning-delta' || part.type === 'text-delta')).toEqual([
      { type: 'reasoning-delta', choiceIndex: 0, text: 'Thinking…' }, { type: 'text-delta', choiceIndex: 0, text: 'Done' },
    ]);
    expect(parts.find((part) => part.type === 'usage')).toMatchObject({ usage: { completion_tokens: 5, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 4 } } });
  });

  it('finishes with content_filter when the prompt is blocked', async () => {
    const parts = await collect([{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 } }]);
    expect(parts.map((part) => part.type)).toEqual(['stream-start', 'finish', 'usage', 'stream-end']);
    expect(parts[1]).toEqual({ type: 'finish', choiceIndex: 0, finishReason: 'content_filter', rawFinishReason: 'SAFETY' });
  });

  it('fails as stream_truncated when the body ends without a finishReason', async () => {
    const chunks = loadGeminiChunks('google-text').slice(0, 2);
    expect(await failure(chunks)).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
    expect(await failure([])).toMatchObject({ kind: 'stream_truncated', afterFirstToken: false });
  });

  it('skips an event that is not JSON amid valid ones, and the answer stays whole', async () => {
    const [first, ...rest] = loadGeminiChunks('google-text');
    const parts = await collect([first, '{"candidates": [', ...rest]);
    expect(parts.filter((part) => part.type === 'skipped-event')).toHaveLength(1);
    expect(parts.filter((part) => part.type !== 'skipped-event')).toEqual(await collect([first, ...rest]));
  });

  it('fails as bad_response after more than three events that are not JSON, or on one that is not a response, marking content already sent', async () => {
    const chunks = loadGeminiChunks('google-text');
    expect(await failure([chunks[0], '{', '{', '{', '{', ...chunks.slice(1)])).toMatchObject({ kind: 'bad_response', afterFirstToken: true });
    expect(await failure(['[1,2]'])).toMatchObject({ kind: 'bad_response' });
  });

  it('classifies an error event on the stream like an HTTP error', async () => {
    const error = await failure([{ error: { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' } }]);
    expect(error).toMatchObject({ kind: 'upstream_unavailable', status: 503, providerCode: 'UNAVAILABLE' });
  });
});

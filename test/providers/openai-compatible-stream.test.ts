import { Readable } from 'node:stream';
import type { EventSourceMessage } from 'eventsource-parser';
import { AnswerCompletion, readSseEvents } from '../../src/providers/sse-reader';
import type { UpstreamResponse } from '../../src/providers/upstream-http';
import { FLAVOUR_PRESETS } from '../../src/providers/openai-compatible/openai-compatible-flavours';
import { parseOpenAICompatibleStream } from '../../src/providers/openai-compatible/openai-compatible-stream';
import type { StreamPart } from '../../src/contract/chat';
import { loadOpenAICompatibleData } from '../emulators/openai-compatible-fixtures';
import { collectParts, collectUntilFailure, textOf } from '../support/provider-test-helpers';

async function* events(...data: Array<string | EventSourceMessage>): AsyncGenerator<EventSourceMessage> {
  for (const item of data) yield typeof item === 'string' ? { data: item, event: undefined, id: undefined } : item;
}
const context = (flavour: keyof typeof FLAVOUR_PRESETS = 'openai') => ({ provider: flavour, flavour: FLAVOUR_PRESETS[flavour] });

describe('parseOpenAICompatibleStream', () => {
  it('parses the recorded OpenAI stream: text, finish, usage with the served tier, then stream-end', async () => {
    const parts = await collectParts(parseOpenAICompatibleStream(events(...loadOpenAICompatibleData('openai/openai-text.chunks.txt'), '[DONE]'), context()));

    expect(textOf(parts)).toMatch(/^\*\*Holiday Name:\*\* Harmony Day/);
    expect(parts.filter((part) => part.type === 'finish')).toEqual([{ type: 'finish', choiceIndex: 0, finishReason: 'stop', rawFinishReason: 'stop' }]);
    expect(parts.at(-2)).toEqual({ type: 'usage', serviceTier: 'default', model: 'gpt-4.1-nano-2025-04-14', usage: expect.objectContaining({ prompt_tokens: 16, completion_tokens: 300, total_tokens: 316 }) });
    expect(parts.at(-1)).toEqual({ type: 'stream-end' });
  });

  it('parses the recorded xAI tool-call stream: reasoning deltas, one whole tool call, usage with reasoning added', async () => {
    const parts = await collectParts(parseOpenAICompatibleStream(events(...loadOpenAICompatibleData('xai/xai-tool-call.chunks.txt'), '[DONE]'), context('xai')));

    expect(textOf(parts, 'reasoning-delta')).toBe('First, the user is');
    expect(parts.filter((part) => part.type === 'tool-call-delta')).toEqual([
      { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: 0, id: 'call_55117580', name: 'weather', argumentsDelta: '{"location":"San Francisco"}' },
    ]);
    expect(parts.find((part) => part.type === 'usage')).toMatchObject({ usage: { prompt_tokens: 291, completion_tokens: 222, total_tokens: 513 } });
  });

  it('renumbers tool calls densely when a bridge starts at index 1 (recorded anthropic-fallback-tool-call.sse)', async () => {
    const parts = await collectParts(parseOpenAICompatibleStream(events(...loadOpenAICompatibleData('compatible/anthropic-fallback-tool-call.sse')), context('openrouter')));

    const deltas = parts.filter((part): part is Extract<StreamPart, { type: 'tool-call-delta' }> => part.type === 'tool-call-delta');
    expect(new Set(deltas.map((delta) => delta.toolCallIndex))).toEqual(new Set([0]));
    expect(deltas[0]).toMatchObject({ id: 'toolu_sanitized', name: 'read_file' });
    expect(deltas.map((delta) => delta.argumentsDelta).join('')).toBe('{"path": "a.txt"}');
    expect(textOf(parts)).toBe('Reading it.');
    expect(parts.some((part) => part.type === 'usage')).toBe(false);
  });

  it('emits refusal deltas', async () => {
    const parts = await collectParts(parseOpenAICompatibleStream(events(
      JSON.stringify({ choices: [{ index: 0, delta: { refusal: 'I can’t help with that.' } }] }), '[DONE]'), context()));

    expect(textOf(parts, 'refusal-delta')).toBe('I can’t help with that.');
  });

  it('fails with stream_truncated when the body ends before a finish_reason', async () => {
    const { parts, error } = await collectUntilFailure(parseOpenAICompatibleStream(events(JSON.stringify({ choices: [{ index: 0, delta: { content: 'Hi' } }] })), context()));

    expect(textOf(parts)).toBe('Hi');
    expect(error).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
  });

  it('completes, with the usage, when the body ends after the finish and usage chunks but without [DONE]', async () => {
    const parts = await collectParts(parseOpenAICompatibleStream(events(...loadOpenAICompatibleData('openai/openai-text.chunks.txt')), context()));

    expect(parts.filter((part) => part.type === 'finish')).toHaveLength(1);
    expect(parts.slice(-2)).toEqual([expect.objectContaining({ type: 'usage', usage: expect.objectContaining({ total_tokens: 316 }) }), { type: 'stream-end' }]);
  });

  it('is not complete while one of several choices has no finish_reason yet', async () => {
    const chunk = (index: number, delta: Record<string, unknown>, finish: string | null = null) => JSON.stringify({ choices: [{ index, delta, finish_reason: finish }] });
    const unfinished = [chunk(0, { content: 'A' }), chunk(1, { content: 'B' }), chunk(0, {}, 'stop')];

    expect((await collectUntilFailure(parseOpenAICompatibleStream(events(...unfinished), context()))).error).toMatchObject({ kind: 'stream_truncated' });
    const parts = await collectParts(parseOpenAICompatibleStream(events(...unfinished, chunk(1, {}, 'length')), context()));
    expect(parts.filter((part) => part.type === 'finish').map((part) => part.type === 'finish' && part.finishReason)).toEqual(['stop', 'length']);
    expect(parts.at(-1)).toEqual({ type: 'stream-end' });
  });

  it('tells the reader when the answer is complete, so it stops waiting for [DONE] after the grace', async () => {
    const completion = new AnswerCompletion(1_000);
    const seen: boolean[] = [];
    const stream = parseOpenAICompatibleStream(events(
      JSON.stringify({ choices: [{ index: 0, delta: { content: 'Hi' } }] }),
      JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    ), { ...context(), completion });
    for await (const _part of stream) seen.push(completion.complete);

    // text-delta, finish, then (the body having ended) stream-end: complete from the finish chunk on.
    expect(seen).toEqual([false, false, true]);
  });

  it('skips a data line that is not JSON; fails with bad_response after more than three, or on one that is not a chunk', async () => {
    const skipped = await collectParts(parseOpenAICompatibleStream(events('{"choices": [',
      JSON.stringify({ choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] }), '[DONE]'), context()));
    expect(skipped.map((part) => part.type)).toEqual(['skipped-event', 'text-delta', 'finish', 'stream-end']);
    expect((await collectUntilFailure(parseOpenAICompatibleStream(events('{', '{', '{', '{'), context()))).error).toMatchObject({ kind: 'bad_response' });
    expect((await collectUntilFailure(parseOpenAICompatibleStream(events('{"choices": 5}'), context()))).error).toMatchObject({ kind: 'bad_response' });
  });

  it('classifies an error object sent after the 200 by its code', async () => {
    const { error } = await collectUntilFailure(parseOpenAICompatibleStream(events(
      JSON.stringify({ choices: [{ index: 0, delta: { content: 'Hel' } }] }),
      JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', param: null, code: 'rate_limit_exceeded' } }),
    ), context()));

    expect(error).toMatchObject({ kind: 'rate_limit', status: undefined, afterFirstToken: true });
  });

  it('classifies OpenRouter’s mid-stream error by its numeric code and an `event: error` frame as a failure', async () => {
    const openrouter = await collectUntilFailure(parseOpenAICompatibleStream(events(JSON.stringify({ error: { code: 502, message: 'Provider returned error' } })), context('openrouter')));
    const framed = await collectUntilFailure(parseOpenAICompatibleStream(events({ event: 'error', data: '{"message":"overloaded","code":"overloaded"}', id: undefined }), context()));

    expect(openrouter.error).toMatchObject({ kind: 'upstream_unavailable', afterFirstToken: false });
    expect(framed.error).toMatchObject({ kind: 'overloaded' });
  });

  it('skips OpenRouter keep-alive comments on the wire', async () => {
    const wire = [': OPENROUTER PROCESSING\n\n', 'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n', ': OPENROUTER PROCESSING\n\n', 'data: [DONE]\n\n'];
    const response = { status: 200, headers: {}, body: Readable.from(wire.map((text) => Buffer.from(text))) as unknown as UpstreamResponse['body'] };

    const parts = await collectParts(parseOpenAICompatibleStream(readSseEvents(response, 'openrouter', {}), context('openrouter')));

    expect(parts).toEqual([{ type: 'text-delta', choiceIndex: 0, text: 'Hi' }, { type: 'stream-end' }]);
  });
});

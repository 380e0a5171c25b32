/**
 * Streams that survive their provider (issue 15), against the OpenAI and Anthropic emulators: a stream
 * that breaks after content (cut, stall, upstream error event) is continued from the text the client
 * has — by assistant prefill where the target takes one (Anthropic), else by regenerating and sending
 * on only what follows the delivered prefix — and the client sees one response; a malformed event is
 * skipped; a continuation that cannot be honest ends with a clean error naming the cut; a slow first
 * token is hedged on the next target. Class timeouts are shortened through the tenant policy; time
 * bounds are behaviour bounds (well before the slow side would have answered), not benchmarks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import {
  attemptSummary, chat, eventually, outcomeCommentOf, requestIdOf, resetCircuits, setPolicy, sseData, waitForRecorded, type TimedResponse,
} from './request-path-helpers';

/** Continuation cases run as `interactive` (no hedge: its TTFT target is above its first-token timeout). */
const INTERACTIVE = { 'x-zumik-qos-class': 'interactive' };
/** Hedge cases run as `standard`: TTFT target 300 ms, first-token timeout 5 s. */
const STANDARD = { 'x-zumik-qos-class': 'standard' };
const POLICY = {
  qos: {
    interactive: { first_token_timeout_ms: 1_500, ttft_target_ms: 2_000, stall_timeout_ms: 500, deadline_ms: 15_000 },
    standard: { first_token_timeout_ms: 5_000, ttft_target_ms: 300, stall_timeout_ms: 2_000, deadline_ms: 15_000, max_queue_wait_ms: 2_000 },
  },
  max_attempts: 3,
  aliases: { 'resume.opted-out': { stream_resume: false } },
};
/** Sixty words: the emulators stream one per OpenAI chunk. */
const SIXTY = Array.from({ length: 60 }, (_unused, index) => `word${index + 1}`).join(' ');
const OTHER_ANSWER = 'A different answer altogether, which does not start with the delivered text.';
const ANTHROPIC_TEXT = 'Hello from the Anthropic emulator.';
/** Where the replay test finds histories of the new workflow paths (written when ZUMIK_RECORD_HISTORIES=1). */
const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

interface StreamRead {
  response: TimedResponse;
  data: any[];
  chunks: any[];
  content: string;
}

function read(response: TimedResponse): StreamRead {
  const data = sseData(response.text);
  const chunks = data.filter((item) => typeof item === 'object');
  const content = chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('');
  return { response, data, chunks, content };
}

describe('streams that survive their provider', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('resume.openai', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('resume.opted-out', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('resume.pair', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await harness.installAlias('resume.anthropic', [target('anthropic', 'claude-haiku-4-5')]);
    await harness.installAlias('hedge.openai-first', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await harness.installAlias('hedge.anthropic-first', [target('anthropic', 'claude-haiku-4-5', 1), target('openai', 'gpt-4o-mini', 0)]);
    await setPolicy(harness, POLICY);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    for (const emulator of [harness.openai, harness.anthropic]) {
      emulator.reset();
      emulator.options.eventIntervalMs = 5;
    }
    harness.openai.resetReply();
    await resetCircuits(harness);
  });

  const calls = (emulator: { requests: Array<{ path: string; body: unknown; abortedAt?: number }> }) =>
    emulator.requests.filter((request) => request.path.endsWith('/chat/completions') || request.path === '/v1/messages');

  /** One response: one id, one created, one model, one role chunk, one finish, no error, [DONE] last. */
  function expectOneWholeResponse(stream: StreamRead, text: string): void {
    const id = stream.response.headers.get('x-zumik-request-id');
    expect(stream.response.status).toBe(200);
    expect(stream.chunks.some((chunk) => chunk.error)).toBe(false);
    expect(stream.content).toBe(text);
    expect(new Set(stream.chunks.map((chunk) => chunk.id))).toEqual(new Set([id]));
    expect(new Set(stream.chunks.map((chunk) => chunk.created)).size).toBe(1);
    expect(new Set(stream.chunks.map((chunk) => chunk.model)).size).toBe(1);
    expect(stream.chunks.filter((chunk) => chunk.choices?.[0]?.delta?.role)).toHaveLength(1);
    expect(stream.chunks.filter((chunk) => chunk.choices?.[0]?.finish_reason)).toHaveLength(1);
    expect(stream.data.at(-1)).toBe('[DONE]');
  }

  async function recordHistory(requestId: string, file: string): Promise<void> {
    if (process.env.ZUMIK_RECORD_HISTORIES !== '1') return;
    const outcome = await waitForRecorded(harness, requestId);
    const handle = harness.zumik.client.workflow.getHandle(outcome.workflow.id);
    await handle.result();
    const history = await handle.fetchHistory();
    const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, enums: String, bytes: String });
    fs.writeFileSync(path.join(HISTORIES, file), JSON.stringify(json));
  }

  describe('continuation (OpenAI-compatible primary)', () => {
    it('a stream cut after 40 of 60 tokens, with no finish chunk, reaches the client whole: regenerated, only the rest sent on', async () => {
      harness.openai.setReply({ text: SIXTY });
      harness.openai.inject({ kind: 'cut', afterEvents: 41 });
      const stream = read(await chat(harness, { model: 'resume.openai', stream: true, stream_options: { include_usage: true } }, { headers: INTERACTIVE }));
      expectOneWholeResponse(stream, SIXTY);
      expect(stream.chunks.filter((chunk) => chunk.usage)).toHaveLength(1);
      expect(stream.chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);
      expect(outcomeCommentOf(stream.response.text)).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume', attempts: 2 });
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume' });
      expect(attemptSummary(outcome)).toEqual([['openai', 'failed', 'stream_truncated'], ['openai', 'succeeded', null]]);
      const delivered = SIXTY.split(' ').slice(0, 40).join(' ') + ' ';
      expect(outcome.attempts[0]).toMatchObject({ after_first_token: true });
      expect(outcome.attempts[1]).toMatchObject({
        retry_cause: 'resume:stream_truncated',
        continuation: { from_attempt: 1, offset_chars: delivered.length, offset_chunks: 41, mode: 'regenerate' },
      });
      expect(calls(harness.openai)).toHaveLength(2);
      await recordHistory(outcome.id, 'v2-stream-resume.json');
    });

    it('a stream that stalls after 20 tokens is continued on the next target by assistant prefill within the stall timeout', async () => {
      harness.openai.setReply({ text: SIXTY });
      harness.anthropic.setReply({ text: SIXTY, chunkSize: 12 });
      harness.openai.inject({ kind: 'stall', afterEvents: 21 });
      const stream = read(await chat(harness, { model: 'resume.pair', stream: true }, { headers: INTERACTIVE }));
      expectOneWholeResponse(stream, SIXTY);
      expect(stream.response.ms).toBeLessThan(10_000); // the stall (held open for good) did not hold the answer to the deadline
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume', fallback_used: true });
      expect(attemptSummary(outcome)).toEqual([['openai', 'failed', 'stream_stalled'], ['anthropic', 'succeeded', null]]);
      const delivered = SIXTY.split(' ').slice(0, 20).join(' ') + ' ';
      expect(outcome.attempts[1].continuation).toEqual({ from_attempt: 1, offset_chars: delivered.length, offset_chunks: 21, mode: 'prefill' });
      // The prefill: the delivered text as the trailing assistant turn, without the trailing space Anthropic refuses.
      const sent = harness.anthropic.messageBodies.at(-1)!.messages as Array<{ role: string; content: unknown }>;
      expect(sent.at(-1)!.role).toBe('assistant');
      expect(JSON.stringify(sent.at(-1)!.content)).toContain(JSON.stringify(delivered.trimEnd()).slice(1, -1));
    });

    it('one malformed SSE event mid-stream is skipped and counted: the rest of the answer goes out, no garbage', async () => {
      harness.openai.setReply({ text: SIXTY });
      harness.openai.inject({ kind: 'malformed', afterEvents: 10 });
      const response = await chat(harness, { model: 'resume.openai', stream: true }, { headers: INTERACTIVE });
      const stream = read(response);
      expectOneWholeResponse(stream, SIXTY);
      expect(response.text).not.toContain('this is not json');
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok' });
      expect(outcome.attempts).toHaveLength(1);
      expect(outcome.attempts[0]).toMatchObject({ status: 'succeeded', malformed_events: 1 });
      expect(calls(harness.openai)).toHaveLength(1);
    });

    it('cut, and the fallback rejects the assistant prefill: the fallback regenerates and only what follows the delivered prefix is sent', async () => {
      harness.openai.setReply({ text: SIXTY });
      harness.anthropic.setReply({ text: SIXTY });
      harness.anthropic.prefill = 'reject';
      harness.openai.inject({ kind: 'cut', afterEvents: 31 });
      const stream = read(await chat(harness, { model: 'resume.pair', stream: true }, { headers: INTERACTIVE }));
      expectOneWholeResponse(stream, SIXTY);
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume' });
      expect(attemptSummary(outcome)).toEqual([['openai', 'failed', 'stream_truncated'], ['anthropic', 'succeeded', null]]);
      expect(outcome.attempts[1].continuation).toMatchObject({ from_attempt: 1, offset_chunks: 31, mode: 'regenerate' });
      // First with the prefill (refused with a 400), then the plain request.
      const bodies = harness.anthropic.messageBodies.map((body) => (body.messages as Array<{ role: string }>).at(-1)!.role);
      expect(bodies).toEqual(['assistant', 'user']);
    });

    it('cut, the fallback rejects the prefill and regenerates another answer: a clean error naming the cut, never its 400', async () => {
      harness.openai.setReply({ text: SIXTY });
      harness.anthropic.setReply({ text: OTHER_ANSWER });
      harness.anthropic.prefill = 'reject';
      harness.openai.inject({ kind: 'cut', afterEvents: 11 });
      const stream = read(await chat(harness, { model: 'resume.pair', stream: true }, { headers: INTERACTIVE }));
      expect(stream.response.status).toBe(200);
      expect(stream.data).not.toContain('[DONE]');
      // Only the first attempt's text reached the client: nothing of the other answer was spliced on.
      expect(stream.content).toBe(SIXTY.split(' ').slice(0, 10).join(' ') + ' ');
      const last = stream.data.at(-1);
      expect(last.error).toMatchObject({ type: 'server_error', code: 'stream_interrupted' });
      expect(last.error.message).toMatch(/cut after 11 chunks/);
      expect(last.error.message).not.toMatch(/Prefilling|invalid_request/);
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'stream_interrupted' });
      expect(attemptSummary(outcome)).toEqual([['openai', 'failed', 'stream_truncated'], ['anthropic', 'failed', 'resume_mismatch']]);
      expect(outcome.attempts[1]).toMatchObject({ after_first_token: true, continuation: { mode: 'regenerate', offset_chunks: 11 } });
    });

    it('is off for a request with x-zumik-stream-resume: off and for an alias whose policy opts out', async () => {
      for (const [alias, headers] of [['resume.openai', { ...INTERACTIVE, 'x-zumik-stream-resume': 'off' }], ['resume.opted-out', INTERACTIVE]] as const) {
        harness.openai.reset();
        harness.openai.setReply({ text: SIXTY });
        harness.openai.inject({ kind: 'cut', afterEvents: 11 });
        const stream = read(await chat(harness, { model: alias, stream: true }, { headers }));
        expect(stream.data).not.toContain('[DONE]');
        expect(stream.data.at(-1)).toEqual({ error: expect.objectContaining({ code: 'stream_truncated' }) });
        const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
        expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'stream_interrupted' });
        expect(calls(harness.openai)).toHaveLength(1);
      }
    });

    it('does not continue a request with tools (half a tool call cannot be continued as text): a clean error instead', async () => {
      harness.openai.setReply({ text: SIXTY });
      harness.openai.inject({ kind: 'cut', afterEvents: 11 });
      const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
      const stream = read(await chat(harness, { model: 'resume.openai', stream: true, tools }, { headers: INTERACTIVE }));
      expect(stream.data).not.toContain('[DONE]');
      expect(stream.data.at(-1)).toEqual({ error: expect.objectContaining({ code: 'stream_truncated' }) });
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'stream_interrupted' });
      expect(calls(harness.openai)).toHaveLength(1);
    });

    it('rejects an x-zumik-stream-resume value other than on/off with a 400 naming the header', async () => {
      const response = await chat(harness, { model: 'resume.openai', stream: true }, { headers: { 'x-zumik-stream-resume': 'sometimes' } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ param: 'x-zumik-stream-resume', type: 'invalid_request_error' });
    });
  });

  describe('continuation (Anthropic primary)', () => {
    it('a stream cut mid-answer is continued on the same target by assistant prefill', async () => {
      harness.anthropic.setReply({ text: SIXTY, chunkSize: 9 });
      harness.anthropic.inject({ kind: 'cut', afterEvents: 25 });
      const stream = read(await chat(harness, { model: 'resume.anthropic', stream: true, stream_options: { include_usage: true } }, { headers: INTERACTIVE }));
      expectOneWholeResponse(stream, SIXTY);
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume', fallback_used: false });
      expect(attemptSummary(outcome)).toEqual([['anthropic', 'failed', 'stream_truncated'], ['anthropic', 'succeeded', null]]);
      expect(outcome.attempts[1].continuation).toMatchObject({ from_attempt: 1, mode: 'prefill' });
      expect(outcome.attempts[1].continuation.offset_chars).toBeGreaterThan(0);
      expect((harness.anthropic.messageBodies.at(-1)!.messages as Array<{ role: string }>).at(-1)!.role).toBe('assistant');
    });

    it('a stream that stalls is continued within the stall timeout', async () => {
      harness.anthropic.setReply({ text: SIXTY, chunkSize: 9 });
      harness.anthropic.inject({ kind: 'stall', afterEvents: 12 });
      const stream = read(await chat(harness, { model: 'resume.anthropic', stream: true }, { headers: INTERACTIVE }));
      expectOneWholeResponse(stream, SIXTY);
      expect(stream.response.ms).toBeLessThan(10_000);
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(attemptSummary(outcome)).toEqual([['anthropic', 'failed', 'stream_stalled'], ['anthropic', 'succeeded', null]]);
    });

    it('an upstream error event mid-stream (overloaded_error) is continued', async () => {
      harness.anthropic.enqueueReplies({ text: SIXTY, chunkSize: 9, streamError: { afterEvents: 15, type: 'overloaded_error' } }, { text: SIXTY, chunkSize: 9 });
      const stream = read(await chat(harness, { model: 'resume.anthropic', stream: true }, { headers: INTERACTIVE }));
      expectOneWholeResponse(stream, SIXTY);
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ reason_code: 'ok_after_resume' });
      expect(attemptSummary(outcome)).toEqual([['anthropic', 'failed', 'overloaded'], ['anthropic', 'succeeded', null]]);
    });

    it('one malformed event mid-stream is skipped', async () => {
      harness.anthropic.setReply({ text: SIXTY, chunkSize: 9 });
      harness.anthropic.inject({ kind: 'malformed', afterEvents: 8 });
      const response = await chat(harness, { model: 'resume.anthropic', stream: true }, { headers: INTERACTIVE });
      expectOneWholeResponse(read(response), SIXTY);
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      expect(outcome).toMatchObject({ reason_code: 'ok' });
      expect(outcome.attempts[0]).toMatchObject({ status: 'succeeded', malformed_events: 1 });
    });
  });

  describe('hedged first token', () => {
    it('a first token late past the TTFT target (headers at once) is hedged on the next target, which wins; the loser is cancelled', async () => {
      harness.openai.inject({ kind: 'slow-first-token', delayMs: 4_000 });
      const stream = read(await chat(harness, { model: 'hedge.openai-first', stream: true }, { headers: STANDARD }));
      expectOneWholeResponse(stream, ANTHROPIC_TEXT);
      expect(stream.response.ms).toBeLessThan(3_000); // well before the primary's first token (4 s)
      expect(stream.response.headers.get('x-zumik-provider')).toBe('anthropic');
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_hedge', fallback_used: true });
      expect(attemptSummary(outcome)).toEqual([['openai', 'cancelled', 'hedge_lost'], ['anthropic', 'succeeded', null]]);
      expect(outcome.attempts[1]).toMatchObject({ n: 2, retry_cause: 'hedge:ttft' });
      expect(outcome.attempts[0].latency_ms).toBeGreaterThanOrEqual(250);
      const primary = calls(harness.openai)[0]!;
      await eventually(() => primary.abortedAt !== undefined, 5_000, 'the losing upstream call to be cancelled');
      await recordHistory(outcome.id, 'v2-hedge.json');
    });

    it('an Anthropic primary with a late first token is hedged on the OpenAI target', async () => {
      harness.anthropic.inject({ kind: 'slow-first-token', delayMs: 4_000 });
      const stream = read(await chat(harness, { model: 'hedge.anthropic-first', stream: true }, { headers: STANDARD }));
      expectOneWholeResponse(stream, 'Hello from the emulator.');
      expect(stream.response.ms).toBeLessThan(3_000);
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(attemptSummary(outcome)).toEqual([['anthropic', 'cancelled', 'hedge_lost'], ['openai', 'succeeded', null]]);
    });

    it('a plain completion is not hedged by default (no first token to watch), and is with hedge_non_streaming', async () => {
      harness.openai.inject({ kind: 'slow-first-token', delayMs: 1_500 });
      const waited = await chat(harness, { model: 'hedge.openai-first' }, { headers: STANDARD });
      expect(waited.status).toBe(200);
      expect(waited.ms).toBeGreaterThanOrEqual(1_400);
      expect(waited.headers.get('x-zumik-reason-code')).toBe('ok');
      expect(calls(harness.anthropic)).toHaveLength(0);

      await setPolicy(harness, { ...POLICY, hedge_non_streaming: true });
      try {
        harness.openai.inject({ kind: 'slow-first-token', delayMs: 4_000 });
        const response = await chat(harness, { model: 'hedge.openai-first' }, { headers: STANDARD });
        expect(response.status).toBe(200);
        expect(response.ms).toBeLessThan(3_000);
        expect(response.body.choices[0].message.content).toBe(ANTHROPIC_TEXT);
        expect(response.headers.get('x-zumik-reason-code')).toBe('ok_after_hedge');
        const outcome = await waitForRecorded(harness, requestIdOf(response));
        expect(attemptSummary(outcome)).toEqual([['openai', 'cancelled', 'hedge_lost'], ['anthropic', 'succeeded', null]]);
      } finally {
        await setPolicy(harness, POLICY);
      }
    });

    it('a hedge that fails before any content leaves the first target to answer; both attempts are recorded', async () => {
      harness.openai.inject({ kind: 'slow-first-token', delayMs: 1_200 });
      harness.anthropic.inject({ kind: 'status', status: 503 });
      const stream = read(await chat(harness, { model: 'hedge.openai-first', stream: true }, { headers: STANDARD }));
      expectOneWholeResponse(stream, 'Hello from the emulator.');
      expect(stream.response.headers.get('x-zumik-provider')).toBe('openai');
      const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok', fallback_used: false });
      expect(attemptSummary(outcome)).toEqual([['openai', 'succeeded', null], ['anthropic', 'failed', 'upstream_unavailable']]);
      expect(outcome.attempts[1]).toMatchObject({ n: 2, retry_cause: 'hedge:ttft' });
    });

    it('max_hedges: 0 in the tenant policy disables it: the request waits for the slow first token', async () => {
      await setPolicy(harness, { ...POLICY, max_hedges: 0 });
      try {
        harness.openai.inject({ kind: 'slow-first-token', delayMs: 1_500 });
        const stream = read(await chat(harness, { model: 'hedge.openai-first', stream: true }, { headers: STANDARD }));
        expectOneWholeResponse(stream, 'Hello from the emulator.');
        expect(stream.response.ms).toBeGreaterThanOrEqual(1_400);
        const outcome = await waitForRecorded(harness, requestIdOf(stream.response));
        expect(outcome).toMatchObject({ reason_code: 'ok' });
        expect(calls(harness.anthropic)).toHaveLength(0);
      } finally {
        await setPolicy(harness, POLICY);
      }
    });
  });
});

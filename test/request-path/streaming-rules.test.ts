/**
 * The streaming rules (DESIGN.md §4.7): failover is invisible before the first token; after it, when
 * the stream may not be continued (`x-zumik-stream-resume: off`), the stream ends with an explicit
 * error and `completion: failed`, never a truncated success; a client
 * that goes away cancels the workflow and the upstream call; the first-token timeout is per QoS class.
 */
import OpenAI from 'openai';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import {
  MESSAGES, attemptSummary, chat, eventually, outcomeCommentOf, requestIdOf, resetCircuits, setPolicy, sseData, waitForRecorded,
} from './request-path-helpers';

const INTERACTIVE = { 'x-zumik-qos-class': 'interactive' };
/** Continuation is on by default (stream-resilience.test.ts covers it); these cases pin the rules without it. */
const RESUME_OFF = { 'x-zumik-stream-resume': 'off' };
const LONG_TEXT = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';
const ANTHROPIC_TEXT = 'Hello from the Anthropic emulator.';

describe('streaming rules', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('stream.pair', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await setPolicy(harness, {
      qos: {
        interactive: { first_token_timeout_ms: 500, stall_timeout_ms: 500, deadline_ms: 8_000 },
        standard: { first_token_timeout_ms: 5_000, stall_timeout_ms: 5_000 },
      },
      max_attempts: 3,
    });
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0, defaultHeaders: INTERACTIVE });
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    for (const emulator of [harness.openai, harness.anthropic]) {
      emulator.reset();
      emulator.options.eventIntervalMs = 0;
    }
    harness.openai.resetReply();
    await resetCircuits(harness);
  });

  const contentOf = (data: any[]) => data.filter((item) => typeof item === 'object' && item.choices).map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');

  for (const fault of [{ kind: 'reset' as const }, { kind: 'status' as const, status: 503 }]) {
    it(`fails over transparently before the first token (primary ${fault.kind === 'reset' ? 'reset' : '503'})`, async () => {
      harness.openai.inject(fault);
      const response = await chat(harness, { model: 'stream.pair', stream: true, stream_options: { include_usage: true } }, { headers: INTERACTIVE });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
      expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
      expect(response.headers.get('x-zumik-attempts')).toBe('2');
      const data = sseData(response.text);
      const chunks = data.filter((item) => typeof item === 'object');
      const id = response.headers.get('x-zumik-request-id');
      expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set([id]));
      // One stream: one role chunk, the secondary's whole answer, one finish, usage, then [DONE].
      expect(chunks.filter((chunk) => chunk.choices?.[0]?.delta?.role)).toHaveLength(1);
      expect(chunks.filter((chunk) => chunk.choices?.[0]?.finish_reason)).toHaveLength(1);
      expect(chunks.some((chunk) => chunk.error)).toBe(false);
      expect(contentOf(data)).toBe(ANTHROPIC_TEXT);
      expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);
      expect(data.at(-1)).toBe('[DONE]');
      expect(outcomeCommentOf(response.text)).toMatchObject({ completion: 'completed', reason_code: 'ok_after_failover', fallback_used: true, attempts: 2 });
      const outcome = await waitForRecorded(harness, id!);
      expect(attemptSummary(outcome)).toEqual([
        ['openai', 'failed', fault.kind === 'reset' ? 'network' : 'upstream_unavailable'], ['anthropic', 'succeeded', null]]);
    });
  }

  for (const fault of [{ kind: 'cut' as const, afterEvents: 4 }, { kind: 'stall' as const, afterEvents: 4 }]) {
    it(`ends with an explicit error after the first token (${fault.kind}) when the request opts out of resume, without [DONE] and without failover`, async () => {
      harness.openai.setReply({ text: LONG_TEXT });
      harness.openai.options.eventIntervalMs = 30;
      harness.openai.inject(fault);
      const response = await chat(harness, { model: 'stream.pair', stream: true }, { headers: { ...INTERACTIVE, ...RESUME_OFF } });
      expect(response.ms).toBeLessThan(5_000);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-provider')).toBe('openai');
      const data = sseData(response.text);
      expect(data).not.toContain('[DONE]');
      // Some content went out (the failure came after the first token) …
      expect(contentOf(data)).toBe('one two three ');
      // … then an explicit error event, as the last data line.
      expect(data.at(-1)).toEqual({ error: expect.objectContaining({
        type: 'server_error', code: fault.kind === 'cut' ? 'stream_truncated' : 'stream_stalled', message: expect.any(String), param: null }) });
      expect(outcomeCommentOf(response.text)).toMatchObject({ completion: 'failed', reason_code: 'stream_interrupted', attempts: 1 });
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'stream_interrupted' });
      expect(outcome.attempts[0]).toMatchObject({ provider: 'openai', after_first_token: true });
      expect(harness.anthropic.requests).toHaveLength(0);
    });
  }

  it('the official openai SDK sees an error, not a truncated success', async () => {
    harness.openai.setReply({ text: LONG_TEXT });
    harness.openai.options.eventIntervalMs = 30;
    harness.openai.inject({ kind: 'cut', afterEvents: 4 });
    const stream = await client.chat.completions.create({ model: 'stream.pair', stream: true, messages: MESSAGES as OpenAI.ChatCompletionMessageParam[] },
      { headers: RESUME_OFF });
    let content = '';
    const consume = async () => {
      for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
    };
    await expect(consume()).rejects.toThrow(OpenAI.APIError);
    expect(content).toBe('one two three ');
  });

  it('a client that disconnects mid-stream cancels the workflow and the upstream call', async () => {
    harness.openai.setReply({ text: LONG_TEXT });
    harness.openai.options.eventIntervalMs = 200;
    const abort = new AbortController();
    const response = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST', signal: abort.signal,
      headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json', ...INTERACTIVE },
      body: JSON.stringify({ model: 'stream.pair', stream: true, messages: MESSAGES }),
    });
    expect(response.status).toBe(200);
    const id = response.headers.get('x-zumik-request-id')!;
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('data: ');
    const abortedAt = Date.now();
    abort.abort();

    const upstream = harness.openai.requests.find((request) => request.path.endsWith('/chat/completions'))!;
    await eventually(() => upstream.abortedAt !== undefined, 10_000, 'the upstream connection to close');
    expect(upstream.abortedAt! - abortedAt).toBeLessThan(1_000);
    const outcome = await waitForRecorded(harness, id);
    expect(outcome).toMatchObject({ completion: 'cancelled', reason_code: 'cancelled' });
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.attempts[0]).toMatchObject({ provider: 'openai', status: 'cancelled' });
    // The record is written inside the workflow's last task, just before the workflow closes.
    const handle = harness.zumik.client.workflow.getHandle(outcome.workflow.id);
    await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', 5_000, 'the workflow to close');
    expect(['CANCELLED', 'COMPLETED']).toContain((await handle.describe()).status.name);
    expect(harness.anthropic.requests).toHaveLength(0);
  });

  it('a client that gives up on a non-streamed request cancels it too', async () => {
    harness.openai.inject({ kind: 'slow-first-token', delayMs: 4_000 });
    const abort = new AbortController();
    const pending = chat(harness, { model: 'stream.pair' }, { signal: abort.signal, headers: { 'x-zumik-qos-class': 'standard' } })
      .catch((error: unknown) => error);
    await eventually(() => harness.openai.requests.length === 1, 5_000, 'the upstream call');
    const abortedAt = Date.now();
    abort.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    const upstream = harness.openai.requests[0]!;
    await eventually(() => upstream.abortedAt !== undefined, 10_000, 'the upstream connection to close');
    expect(upstream.abortedAt! - abortedAt).toBeLessThan(1_000);
    // The client never saw an id: find the request by the upstream call's time.
    let id: string | undefined;
    await eventually(async () => {
      const { rows } = await harness.database.pool.query<{ id: string }>(
        'SELECT id FROM requests WHERE received_at >= to_timestamp($1 / 1000.0) - interval \'1 second\' ORDER BY received_at DESC LIMIT 1',
        [upstream.receivedAt]);
      id = rows[0]?.id;
      return rows.length === 1;
    }, 10_000, 'the cancelled request to be recorded');
    const outcome = await waitForRecorded(harness, id!);
    expect(outcome).toMatchObject({ completion: 'cancelled', reason_code: 'cancelled' });
    expect(harness.anthropic.requests).toHaveLength(0);
  });

  it('the first-token timeout is per QoS class: interactive fails over, standard waits', async () => {
    harness.openai.inject({ kind: 'slow-first-token', delayMs: 1_500 }, { kind: 'slow-first-token', delayMs: 1_500 });
    const interactive = await chat(harness, { model: 'stream.pair', stream: true }, { headers: INTERACTIVE });
    expect(interactive.status).toBe(200);
    expect(interactive.headers.get('x-zumik-provider')).toBe('anthropic');
    expect(interactive.ms).toBeLessThan(1_500);
    expect(contentOf(sseData(interactive.text))).toBe(ANTHROPIC_TEXT);
    const failed = await waitForRecorded(harness, requestIdOf(interactive));
    expect(attemptSummary(failed)).toEqual([['openai', 'timed_out', 'timeout'], ['anthropic', 'succeeded', null]]);
    expect(failed.attempts[0].latency_ms).toBeGreaterThanOrEqual(450);

    const standard = await chat(harness, { model: 'stream.pair', stream: true }, { headers: { 'x-zumik-qos-class': 'standard' } });
    expect(standard.status).toBe(200);
    expect(standard.headers.get('x-zumik-provider')).toBe('openai');
    expect(standard.ms).toBeGreaterThanOrEqual(1_400);
    expect(outcomeCommentOf(standard.text)).toMatchObject({ completion: 'completed', reason_code: 'ok' });
  });
});

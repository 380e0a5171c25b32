/**
 * Every emulator fault ends in bounded time with the right admission, completion, reason code and
 * HTTP status — on a single-target alias (retries only) and on a two-target alias (failover) — and
 * nothing hangs. Short interactive timeouts keep each case around a second; the wall-time bounds are
 * behaviour bounds (well under the 8 s deadline), not performance assertions.
 */
import type { Fault } from '../emulators/emulator-kit';
import { CONTEXT_LENGTH_BODY } from '../emulators/openai-compatible-emulator';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import {
  attemptSummary, chat, outcomeCommentOf, requestIdOf, resetCircuits, setPolicy, sseData, waitForRecorded, type TimedResponse,
} from './request-path-helpers';

const INTERACTIVE = { 'x-zumik-qos-class': 'interactive' };
const POLICY = { qos: { interactive: { first_token_timeout_ms: 500, stall_timeout_ms: 500, deadline_ms: 8_000 } }, max_attempts: 3 };
/** Every case must end well before the 8 s deadline: a case that only ends at the deadline did hang somewhere. */
const BOUND_MS = 6_000;

const CONTENT_FILTER_BODY = { error: { message: 'Your request was rejected as a result of our safety system.', type: 'invalid_request_error',
  param: null, code: 'content_policy_violation' } };

interface Expectation {
  status: number;
  completion: string;
  reason: string;
  /** [provider, status, failure_kind] per attempt. */
  attempts: Array<[string, string, string | null]>;
}

interface FaultCase {
  name: string;
  stream: boolean;
  fault: Fault;
  /** Single target (openai only): the fault is injected on every call (3 = max_attempts). */
  single: Expectation;
  /** openai (weight 1) then anthropic (weight 0, standby): the fault is injected once on openai. */
  failover: Expectation;
}

const failed = (kind: string): [string, string, string] => ['openai', kind === 'timeout' ? 'timed_out' : 'failed', kind];
const thrice = (kind: string) => [failed(kind), failed(kind), failed(kind)];
const overToAnthropic = (kind: string): Expectation => ({
  status: 200, completion: 'completed', reason: 'ok_after_failover', attempts: [failed(kind), ['anthropic', 'succeeded', null]],
});

const CASES: FaultCase[] = [
  {
    name: '429 with a short Retry-After', stream: false, fault: { kind: 'status', status: 429, retryAfterSeconds: 0 },
    single: { status: 429, completion: 'failed', reason: 'provider_rate_limit', attempts: thrice('rate_limit') },
    // A short Retry-After is worth waiting for on the same target (retry-decision rule 6).
    failover: { status: 200, completion: 'completed', reason: 'ok_after_retry', attempts: [failed('rate_limit'), ['openai', 'succeeded', null]] },
  },
  {
    name: '429 with a long Retry-After', stream: false, fault: { kind: 'status', status: 429, retryAfterSeconds: 30 },
    // Waiting 30 s would overrun the 8 s deadline: stop at once instead of sleeping into it.
    single: { status: 504, completion: 'expired_during_execution', reason: 'expired_during_execution', attempts: [failed('rate_limit')] },
    failover: overToAnthropic('rate_limit'),
  },
  {
    name: '503', stream: false, fault: { kind: 'status', status: 503 },
    single: { status: 503, completion: 'failed', reason: 'provider_upstream_unavailable', attempts: thrice('upstream_unavailable') },
    failover: overToAnthropic('upstream_unavailable'),
  },
  {
    name: '500', stream: false, fault: { kind: 'status', status: 500 },
    single: { status: 503, completion: 'failed', reason: 'provider_upstream_unavailable', attempts: thrice('upstream_unavailable') },
    failover: overToAnthropic('upstream_unavailable'),
  },
  {
    name: '401 (auth)', stream: false, fault: { kind: 'status', status: 401 },
    single: { status: 502, completion: 'failed', reason: 'provider_auth', attempts: [failed('auth')] },
    failover: overToAnthropic('auth'),
  },
  {
    name: '400 invalid request', stream: false, fault: { kind: 'status', status: 400 },
    single: { status: 400, completion: 'failed', reason: 'provider_invalid_request', attempts: [failed('invalid_request')] },
    failover: { status: 400, completion: 'failed', reason: 'provider_invalid_request', attempts: [failed('invalid_request')] },
  },
  {
    name: '400 context_length_exceeded', stream: false, fault: { kind: 'status', status: 400, body: CONTEXT_LENGTH_BODY },
    single: { status: 400, completion: 'failed', reason: 'provider_context_length', attempts: [failed('context_length')] },
    failover: overToAnthropic('context_length'),
  },
  {
    name: '400 content policy (content filter)', stream: false, fault: { kind: 'status', status: 400, body: CONTENT_FILTER_BODY },
    single: { status: 400, completion: 'failed', reason: 'provider_content_filter', attempts: [failed('content_filter')] },
    failover: { status: 400, completion: 'failed', reason: 'provider_content_filter', attempts: [failed('content_filter')] },
  },
  {
    name: 'connection reset', stream: false, fault: { kind: 'reset' },
    single: { status: 503, completion: 'failed', reason: 'provider_network', attempts: thrice('network') },
    failover: overToAnthropic('network'),
  },
  {
    name: 'hang (no response headers)', stream: false, fault: { kind: 'hang' },
    single: { status: 504, completion: 'failed', reason: 'provider_timeout', attempts: thrice('timeout') },
    failover: overToAnthropic('timeout'),
  },
  {
    name: 'slow first token (JSON body late)', stream: false, fault: { kind: 'slow-first-token', delayMs: 4_000 },
    single: { status: 504, completion: 'failed', reason: 'provider_timeout', attempts: thrice('timeout') },
    failover: overToAnthropic('timeout'),
  },
  {
    name: 'slow first token (stream)', stream: true, fault: { kind: 'slow-first-token', delayMs: 4_000 },
    single: { status: 504, completion: 'failed', reason: 'provider_timeout', attempts: thrice('timeout') },
    failover: overToAnthropic('timeout'),
  },
  {
    name: 'cut before the first event (stream)', stream: true, fault: { kind: 'cut', afterEvents: 0 },
    single: { status: 503, completion: 'failed', reason: 'provider_network', attempts: thrice('network') },
    failover: overToAnthropic('network'),
  },
  {
    name: 'stall after the role event, before content (stream)', stream: true, fault: { kind: 'stall', afterEvents: 1 },
    single: { status: 503, completion: 'failed', reason: 'provider_stream_stalled', attempts: thrice('stream_stalled') },
    failover: overToAnthropic('stream_stalled'),
  },
  {
    // One event that is not JSON amid valid ones is skipped (counted in the attempt record), never a failure.
    name: 'malformed event before content (stream)', stream: true, fault: { kind: 'malformed', afterEvents: 1 },
    single: { status: 200, completion: 'completed', reason: 'ok', attempts: [['openai', 'succeeded', null]] },
    failover: { status: 200, completion: 'completed', reason: 'ok', attempts: [['openai', 'succeeded', null]] },
  },
  {
    // The whole answer streamed, finish and usage included, but no `[DONE]`: the answer is complete.
    name: 'missing terminal event after a complete answer (stream)', stream: true, fault: { kind: 'no-terminal' },
    single: { status: 200, completion: 'completed', reason: 'ok', attempts: [['openai', 'succeeded', null]] },
    failover: { status: 200, completion: 'completed', reason: 'ok', attempts: [['openai', 'succeeded', null]] },
  },
  {
    // The body ended cleanly before the finish chunk after content reached the client: the stream is continued
    // from the delivered text (stream-resilience.test.ts) — on the single target every call is cut again, so the
    // attempt budget runs out and the stream ends with an explicit error; with a standby, its prefill finishes it.
    name: 'clean end before the finish chunk (stream)', stream: true, fault: { kind: 'cut', afterEvents: 3, clean: true },
    single: { status: 200, completion: 'failed', reason: 'stream_interrupted', attempts: thrice('stream_truncated') },
    failover: { status: 200, completion: 'completed', reason: 'ok_after_resume', attempts: [failed('stream_truncated'), ['anthropic', 'succeeded', null]] },
  },
];

describe('emulator faults on the request path', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('faults.single', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('faults.pair', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await harness.installAlias('faults.refusing', [target('anthropic', 'claude-haiku-4-5', 1), target('openai', 'gpt-4o-mini', 0)]);
    await harness.installAlias('faults.pair-routed', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await setPolicy(harness, POLICY);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    harness.openai.reset();
    harness.anthropic.reset();
    harness.openrouter.reset();
    await resetCircuits(harness);
  });

  const chatCalls = (emulator: { requests: Array<{ path: string }> }) => emulator.requests.filter((request) => request.path.endsWith('/chat/completions') || request.path === '/v1/messages').length;

  async function expectOutcome(response: TimedResponse, expected: Expectation, stream: boolean): Promise<any> {
    expect(response.ms).toBeLessThan(BOUND_MS);
    expect({ status: response.status, reason: response.headers.get('x-zumik-reason-code') ?? outcomeCommentOf(response.text)?.reason_code })
      .toEqual({ status: expected.status, reason: expected.reason });
    if (expected.status >= 400) {
      expect(response.body.error).toMatchObject({ message: expect.stringContaining(expected.reason), type: expect.any(String) });
      expect(response.headers.get('x-zumik-admission')).toBe('admitted');
      expect(response.headers.get('x-zumik-completion')).toBe(expected.completion);
      expect(response.headers.get('x-zumik-attempts')).toBe(String(expected.attempts.length));
    } else if (stream) {
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(outcomeCommentOf(response.text)).toMatchObject({ completion: expected.completion, reason_code: expected.reason });
    } else {
      expect(response.headers.get('x-zumik-completion')).toBe(expected.completion);
    }
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(outcome).toMatchObject({ admission: 'admitted', completion: expected.completion, reason_code: expected.reason });
    expect(attemptSummary(outcome)).toEqual(expected.attempts);
    return outcome;
  }

  for (const fault of CASES) {
    it(`${fault.name}: single target`, async () => {
      harness.openai.inject(fault.fault, fault.fault, fault.fault);
      const response = await chat(harness, { model: 'faults.single', stream: fault.stream }, { headers: INTERACTIVE });
      await expectOutcome(response, fault.single, fault.stream);
      expect(chatCalls(harness.openai)).toBe(fault.single.attempts.length);
      expect(chatCalls(harness.openrouter)).toBe(0);
    });

    it(`${fault.name}: two targets (failover)`, async () => {
      harness.openai.inject(fault.fault);
      const response = await chat(harness, { model: 'faults.pair', stream: fault.stream }, { headers: INTERACTIVE });
      const outcome = await expectOutcome(response, fault.failover, fault.stream);
      expect(chatCalls(harness.anthropic)).toBe(outcome.attempts.filter((attempt: any) => attempt.provider === 'anthropic').length);
      if (fault.failover.reason === 'ok_after_failover') {
        expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
        expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
        expect(outcome.fallback_used).toBe(true);
        expect(outcome.attempts[1].retry_cause).toBe(`failover:${fault.failover.attempts[0]![2]}`);
        if (fault.stream) {
          const data = sseData(response.text);
          expect(data.at(-1)).toBe('[DONE]');
          expect(new Set(data.filter((item) => typeof item === 'object').map((chunk) => chunk.id))).toEqual(new Set([outcome.id]));
        } else {
          expect(response.body.id).toBe(outcome.id);
          expect(response.body.choices[0].message.content).toEqual(expect.any(String));
        }
      }
    });
  }

  it('a complete stream whose connection stays open without [DONE] is answered whole within about a second', async () => {
    harness.openai.inject({ kind: 'no-terminal', hold: true });
    const response = await chat(harness, { model: 'faults.single', stream: true }, { headers: INTERACTIVE });
    // Finished, then silence: the read ends at the finish grace (1 s) or the class's stall timeout (500 ms here), whichever
    // comes first, as a complete answer: no failure, no failover, no waiting for the deadline.
    expect(response.ms).toBeLessThan(3_000);
    const data = sseData(response.text);
    expect(data.at(-1)).toBe('[DONE]');
    expect(data.filter((item) => typeof item === 'object').map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('')).toBe('Hello from the emulator.');
    expect(outcomeCommentOf(response.text)).toMatchObject({ completion: 'completed', reason_code: 'ok' });
    expect(chatCalls(harness.openai)).toBe(1);
  });

  it('a content-filter 400 stops with provider_content_filter by default, and fails over only for an alias whose policy routes round it', async () => {
    const contentFilter: Fault = { kind: 'status', status: 400, body: CONTENT_FILTER_BODY };
    const refused = async (alias: string) => {
      harness.openai.reset();
      harness.anthropic.reset();
      harness.openai.inject(contentFilter);
      const response = await chat(harness, { model: alias }, { headers: INTERACTIVE });
      return { response, outcome: await waitForRecorded(harness, requestIdOf(response)) };
    };

    // Default policy: the refusal is the answer; the standby is never called.
    const strict = await refused('faults.pair-routed');
    expect(strict.response.status).toBe(400);
    expect(strict.response.body.error).toMatchObject({ code: 'content_filter', type: 'invalid_request_error' });
    expect(strict.outcome).toMatchObject({ completion: 'failed', reason_code: 'provider_content_filter' });
    expect(attemptSummary(strict.outcome)).toEqual([failed('content_filter')]);
    expect(chatCalls(harness.anthropic)).toBe(0);

    await setPolicy(harness, { ...POLICY, aliases: { 'faults.pair-routed': { content_filter_failover: true } } });
    try {
      const routed = await refused('faults.pair-routed');
      expect(routed.response.status).toBe(200);
      expect(routed.response.headers.get('x-zumik-provider')).toBe('anthropic');
      expect(routed.outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_failover', fallback_used: true });
      expect(attemptSummary(routed.outcome)).toEqual([failed('content_filter'), ['anthropic', 'succeeded', null]]);
      expect(routed.outcome.attempts[1].retry_cause).toBe('failover:content_filter');
      expect(chatCalls(harness.anthropic)).toBe(1);

      // The override is per alias: the same targets under another alias still stop at the refusal.
      const other = await refused('faults.pair');
      expect(other.response.status).toBe(400);
      expect(chatCalls(harness.anthropic)).toBe(0);
    } finally {
      await setPolicy(harness, POLICY);
    }
  });

  it('an Anthropic refusal is a completed answer with finish_reason content_filter, neither retried nor failed over', async () => {
    harness.anthropic.setReply({ refusal: { category: 'cyber', explanation: 'I cannot help with that.' } });
    const response = await chat(harness, { model: 'faults.refusing' }, { headers: INTERACTIVE });
    expect(response.status).toBe(200);
    expect(response.body.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { refusal: 'I cannot help with that.' } });
    expect(response.headers.get('x-zumik-reason-code')).toBe('ok');
    const outcome = await waitForRecorded(harness, response.body.id);
    expect(attemptSummary(outcome)).toEqual([['anthropic', 'succeeded', null]]);
    expect(chatCalls(harness.openai)).toBe(0);
  });

  it('honours Retry-After on the only target: the second attempt starts after the delay', async () => {
    harness.openai.inject({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    const response = await chat(harness, { model: 'faults.single' }, { headers: INTERACTIVE });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-zumik-reason-code')).toBe('ok_after_retry');
    const outcome = await waitForRecorded(harness, response.body.id);
    expect(attemptSummary(outcome)).toEqual([failed('rate_limit'), ['openai', 'succeeded', null]]);
    expect(outcome.attempts[0].http_status).toBe(429);
    expect(outcome.attempts[1].retry_cause).toBe('retry:rate_limit');
    const gap = Date.parse(outcome.attempts[1].started_at) - Date.parse(outcome.attempts[0].ended_at);
    expect(gap).toBeGreaterThanOrEqual(950);
    const [first, second] = harness.openai.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1_000);
    expect(response.ms).toBeLessThan(BOUND_MS);
  });

  it('a deadline that passes during execution ends expired_during_execution (504)', async () => {
    // standard class: its first-token timeout (60 s) is far beyond the 1.5 s deadline, so only the deadline can end the attempt.
    harness.openai.inject({ kind: 'hang' });
    const response = await chat(harness, { model: 'faults.single' }, { headers: { 'x-zumik-qos-class': 'standard', 'x-zumik-deadline-ms': '1500' } });
    expect(response.status).toBe(504);
    expect(response.body.error.code).toBe('deadline_exceeded');
    expect(response.headers.get('x-zumik-completion')).toBe('expired_during_execution');
    expect(response.headers.get('x-zumik-reason-code')).toBe('expired_during_execution');
    expect(response.ms).toBeGreaterThanOrEqual(1_400);
    expect(response.ms).toBeLessThan(BOUND_MS);
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(outcome).toMatchObject({ admission: 'admitted', completion: 'expired_during_execution', reason_code: 'expired_during_execution' });
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.attempts[0]).toMatchObject({ status: 'timed_out', failure_kind: 'timeout' });
  });

  it('a deadline that passes while streaming ends the stream with an error, not [DONE]', async () => {
    harness.openai.options.eventIntervalMs = 400;
    try {
      const response = await chat(harness, { model: 'faults.single', stream: true },
        { headers: { 'x-zumik-qos-class': 'standard', 'x-zumik-deadline-ms': '1500' } });
      expect(response.status).toBe(200);
      expect(response.ms).toBeLessThan(BOUND_MS);
      const data = sseData(response.text);
      expect(data).not.toContain('[DONE]');
      expect(data.at(-1)).toMatchObject({ error: { type: 'server_error' } });
      expect(outcomeCommentOf(response.text)).toMatchObject({ completion: 'expired_during_execution', reason_code: 'expired_during_execution' });
    } finally {
      harness.openai.options.eventIntervalMs = 0;
    }
  });
});

/**
 * Admission on the request path (DESIGN.md §4.1): the tenant policy's concurrency, queue, queue wait,
 * rate and QoS-class rules decide `admitted` / `queued` / `rejected` / `expired_before_start`, and
 * each refusal leaves with its HTTP status, headers and recorded outcome.
 */
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, requestIdOf, resetCircuits, setPolicy, sleep, waitForRecorded } from './request-path-helpers';

describe('admission', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('admit.basic', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    harness.openai.reset();
    harness.openai.options.latencyMs = 0;
    await resetCircuits(harness);
    await setPolicy(harness, {});
    // A request's lease is released after its answer went out: let the previous test's leases go.
    await eventually(async () => (await harness.database.pool.query('SELECT 1 FROM admission_leases')).rowCount === 0, 10_000, 'leases released');
  });

  const upstreamCalls = () => harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'));

  it('queues a request beyond the concurrency limit and admits it when the first one finishes', async () => {
    await setPolicy(harness, { limits: { concurrency: 1 } });
    harness.openai.options.latencyMs = 1_500;
    const first = chat(harness, { model: 'admit.basic' });
    await eventually(() => upstreamCalls().length === 1, 5_000, 'the first upstream call');
    // The second goes to the background so that its queued state can be watched while it waits.
    const accepted = await harness.call('POST', '/v2/chat/completions', { body: { model: 'admit.basic', background: true, messages: [{ role: 'user', content: 'hi' }] } });
    expect(accepted.status).toBe(202);
    const secondId: string = accepted.body.id;
    await eventually(async () => {
      const live = await harness.call('GET', `/v2/requests/${secondId}`);
      return live.status === 200 && /^queued/.test(String(live.body.state));
    }, 3_000, 'the second request to report its queued state');
    expect(upstreamCalls()).toHaveLength(1);

    const firstResponse = await first;
    expect(firstResponse.status).toBe(200);
    expect(firstResponse.headers.get('x-zumik-admission')).toBe('admitted');
    const second = await waitForRecorded(harness, secondId, 15_000);
    expect(second).toMatchObject({ admission: 'queued', completion: 'completed', reason_code: 'ok' });
    expect(second.response.choices[0].message.content).toEqual(expect.any(String));
    expect(second.timing.queued_ms).toBeGreaterThanOrEqual(1_000);
    const [call1, call2] = upstreamCalls();
    // The second upstream call began only after the first had its answer (1.5 s of latency).
    expect(call2!.receivedAt - call1!.receivedAt).toBeGreaterThanOrEqual(1_400);
  });

  it('reports x-zumik-admission: queued on a synchronous request that waited for capacity', async () => {
    await setPolicy(harness, { limits: { concurrency: 1 } });
    harness.openai.options.latencyMs = 1_000;
    const first = chat(harness, { model: 'admit.basic' });
    await eventually(() => upstreamCalls().length === 1, 5_000, 'the first upstream call');
    const second = await chat(harness, { model: 'admit.basic' });
    expect((await first).status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-zumik-admission')).toBe('queued');
    expect(second.headers.get('x-zumik-completion')).toBe('completed');
    expect(second.ms).toBeLessThan(10_000);
    expect(await waitForRecorded(harness, second.body.id)).toMatchObject({ admission: 'queued', completion: 'completed' });
  });

  it('rejects with 429 queue_full when the limit is reached and max_queue is 0', async () => {
    await setPolicy(harness, { limits: { concurrency: 1, max_queue: 0 } });
    harness.openai.options.latencyMs = 1_000;
    const first = chat(harness, { model: 'admit.basic' });
    await eventually(() => upstreamCalls().length === 1, 5_000, 'the first upstream call');
    const second = await chat(harness, { model: 'admit.basic' });
    expect(second.status).toBe(429);
    expect(second.body.error).toMatchObject({ code: 'queue_full', type: 'requests' });
    expect(second.headers.get('x-zumik-admission')).toBe('rejected');
    expect(second.headers.get('x-zumik-reason-code')).toBe('rejected_queue_full');
    expect(second.ms).toBeLessThan(900); // refused at once, not after the first finished
    expect((await first).status).toBe(200);
    expect(await waitForRecorded(harness, requestIdOf(second))).toMatchObject({
      admission: 'rejected', completion: null, reason_code: 'rejected_queue_full', attempts: [],
    });
    expect(upstreamCalls()).toHaveLength(1);
  });

  it('ends expired_before_start when the interactive queue wait runs out', async () => {
    await setPolicy(harness, { limits: { concurrency: 1 }, qos: { interactive: { max_queue_wait_ms: 300 } } });
    harness.openai.options.latencyMs = 2_000;
    const first = chat(harness, { model: 'admit.basic' });
    await eventually(() => upstreamCalls().length === 1, 5_000, 'the first upstream call');
    const second = await chat(harness, { model: 'admit.basic' }, { headers: { 'x-zumik-qos-class': 'interactive' } });
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('expired_before_start');
    expect(second.headers.get('x-zumik-admission')).toBe('expired_before_start');
    expect(second.headers.get('x-zumik-reason-code')).toBe('expired_before_start');
    expect(second.ms).toBeGreaterThanOrEqual(250);
    expect(second.ms).toBeLessThan(1_500); // gave up at its queue wait, not when capacity came back
    expect((await first).status).toBe(200);
    const outcome = await waitForRecorded(harness, requestIdOf(second));
    expect(outcome).toMatchObject({ admission: 'expired_before_start', completion: null, reason_code: 'expired_before_start', attempts: [] });
    expect(upstreamCalls()).toHaveLength(1);
    // The waiter left the queue: nothing is left behind to block later requests.
    await sleep(100);
    expect((await harness.database.pool.query('SELECT 1 FROM admission_tickets')).rowCount).toBe(0);
  });

  it('a queued request whose client goes away leaves the queue at once and blocks nobody', async () => {
    await setPolicy(harness, { limits: { concurrency: 1 } });
    // The first request holds the only slot long enough for the second to queue and leave, even on a loaded machine.
    harness.openai.options.latencyMs = 4_000;
    const first = chat(harness, { model: 'admit.basic' });
    await eventually(() => upstreamCalls().length === 1, 5_000, 'the first upstream call');
    const abort = new AbortController();
    const abandoned = chat(harness, { model: 'admit.basic' }, { signal: abort.signal }).catch((error: unknown) => error);
    await eventually(async () => (await harness.database.pool.query('SELECT 1 FROM admission_tickets')).rowCount === 1, 3_000, 'the queue ticket');
    abort.abort();
    expect(await abandoned).toMatchObject({ name: 'AbortError' });
    // At once: well before the first request frees its slot (it would then have been admitted, not left).
    await eventually(async () => (await harness.database.pool.query('SELECT 1 FROM admission_tickets')).rowCount === 0, 3_000, 'the ticket to go');
    expect((await first).status).toBe(200);
    await eventually(async () => (await harness.database.pool.query('SELECT 1 FROM admission_leases')).rowCount === 0, 5_000, 'the first lease to go');
    harness.openai.options.latencyMs = 0;
    const next = await chat(harness, { model: 'admit.basic' });
    expect(next.status).toBe(200);
    expect(next.headers.get('x-zumik-admission')).toBe('admitted');
    expect(upstreamCalls()).toHaveLength(2); // the abandoned request never reached the provider
  });

  it('rejects a QoS class the policy does not allow with 403 rejected_policy', async () => {
    await setPolicy(harness, { allowed_qos_classes: ['standard'] });
    const response = await chat(harness, { model: 'admit.basic' }, { headers: { 'x-zumik-qos-class': 'interactive' } });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'qos_class_not_allowed', param: 'x-zumik-qos-class' });
    expect(response.headers.get('x-zumik-reason-code')).toBe('rejected_policy');
    expect(response.headers.get('x-zumik-admission')).toBe('rejected');
    expect(await waitForRecorded(harness, requestIdOf(response))).toMatchObject({ admission: 'rejected', completion: null, reason_code: 'rejected_policy' });
    expect(upstreamCalls()).toHaveLength(0);
    // The allowed class still goes through.
    expect((await chat(harness, { model: 'admit.basic' }, { headers: { 'x-zumik-qos-class': 'standard' } })).status).toBe(200);
  });

  it('answers 404 model_not_found (reason unknown_alias) for an alias without a release', async () => {
    const response = await chat(harness, { model: 'no.such.alias' });
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    expect(response.headers.get('x-zumik-reason-code')).toBe('unknown_alias');
    expect(await waitForRecorded(harness, requestIdOf(response))).toMatchObject({ alias: 'no.such.alias', completion: null, reason_code: 'unknown_alias' });
    expect(upstreamCalls()).toHaveLength(0);
  });

  // Last: the tenant's rate window stays charged for a minute.
  it('rejects the second request within a minute with 429 rejected_rate_limit when requests_per_minute is 1', async () => {
    await setPolicy(harness, { limits: { requests_per_minute: 1 } });
    const first = await chat(harness, { model: 'admit.basic' });
    expect(first.status).toBe(200);
    const second = await chat(harness, { model: 'admit.basic' });
    expect(second.status).toBe(429);
    expect(second.body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
    expect(second.headers.get('x-zumik-reason-code')).toBe('rejected_rate_limit');
    expect(second.headers.get('x-zumik-admission')).toBe('rejected');
    expect(await waitForRecorded(harness, requestIdOf(second))).toMatchObject({ admission: 'rejected', completion: null, reason_code: 'rejected_rate_limit' });
    expect(upstreamCalls()).toHaveLength(1);
  });
});

import { target } from '../support/zumik-harness';
import { sleep, startCluster, waitForOutcome, type CallResult, type Cluster, type RoleProcess } from '../support/zumik-cluster';

// Two full Zumik processes (`--role all`) on one Postgres and one Temporal task queue: admission
// counters and circuit state are shared, so the limits hold for the deployment, not per process
// (DESIGN.md §1). Each process starts its own requests' workflows eagerly on its own worker.

/** TenantPolicyRepository caches a policy per process for 5 s: a change made through one process reaches the other within it. */
const POLICY_CACHE_TTL_MS = 5_000;

describe('two Zumik processes share admission and circuit state', () => {
  let cluster: Cluster;
  let first: RoleProcess;
  let second: RoleProcess;

  beforeAll(async () => {
    cluster = await startCluster();
    [first, second] = await Promise.all([cluster.spawn('all'), cluster.spawn('all')]);
    await cluster.installAlias(first, 'mp.limited', [target('openai', 'gpt-4o')]);
    await cluster.installAlias(first, 'mp.failover', [target('openai', 'gpt-4o-mini', 1), target('xai', 'grok-3-mini', 0)]);
    // warm both request paths (first workflow start, first policy read) before anything is timed
    for (const zumik of [first, second]) expect((await chat(zumik, 'mp.limited')).status).toBe(200);
  }, 120_000);
  afterAll(async () => { await cluster?.stop(); });
  beforeEach(() => {
    cluster.openai.reset();
    cluster.xai.reset();
    cluster.openai.options.latencyMs = 0;
  });

  const chat = (zumik: RoleProcess, model: string) =>
    zumik.call('POST', '/v1/chat/completions', { body: { model, messages: [{ role: 'user', content: 'Say hi' }] } });
  /** 8 requests at once, alternating between the two processes. */
  const burst = () => Promise.all(Array.from({ length: 8 }, (_, index) => chat(index % 2 === 0 ? first : second, 'mp.limited')));
  const setPolicy = async (policy: Record<string, unknown>) => {
    const response = await first.call('PUT', '/v2/tenants/default/policy', { body: policy });
    expect(response.status).toBe(200);
    await sleep(POLICY_CACHE_TTL_MS + 500);
  };
  const statuses = (results: CallResult[]) => results.map((result) => result.status).sort();

  describe('one tenant concurrency limit across both processes', () => {
    it('with no queue: exactly the limit is admitted, the rest is refused with 429', async () => {
      await setPolicy({ limits: { concurrency: 2, max_queue: 0 } });
      cluster.openai.options.latencyMs = 3_000; // every admitted request holds its slot while the burst arrives
      const results = await burst();
      expect(statuses(results)).toEqual([200, 200, 429, 429, 429, 429, 429, 429]);
      for (const refused of results.filter((result) => result.status === 429)) {
        expect(['rejected_queue_full', 'rejected_concurrency_limit']).toContain(refused.headers.get('x-zumik-reason-code'));
        expect(['queue_full', 'concurrency_limit_exceeded']).toContain(refused.body.error.code);
        expect(refused.headers.get('x-zumik-admission')).toBe('rejected');
      }
      // each process got 4 requests: a per-process limit would have let 4 through; the provider never saw more than 2 at once
      expect(cluster.openai.requests).toHaveLength(2);
      expect(cluster.openai.maxInFlight).toBe(2);
    }, 60_000);

    it('with a queue: the extra requests wait their turn and all complete, never more than the limit in flight', async () => {
      await setPolicy({ limits: { concurrency: 2, max_queue: 20 } });
      cluster.openai.options.latencyMs = 1_500;
      const results = await burst();
      expect(statuses(results)).toEqual(Array(8).fill(200));
      const admissions = results.map((result) => result.headers.get('x-zumik-admission')).sort();
      expect(admissions).toEqual(['admitted', 'admitted', ...Array(6).fill('queued')]);
      expect(cluster.openai.requests).toHaveLength(8);
      expect(cluster.openai.maxInFlight).toBe(2);
      const queued = await waitForOutcome(first, results.find((result) => result.headers.get('x-zumik-admission') === 'queued')!.body.id);
      expect(queued).toMatchObject({ admission: 'queued', completion: 'completed' });
      expect(queued.timing.queued_ms).toBeGreaterThan(0);
    }, 60_000);
  });

  it('a circuit opened by outage failures through one process is skipped by the other', async () => {
    // the circuit defaults: 5 consecutive outage failures within 60 s open it (CircuitBreakerStore)
    cluster.openai.inject(...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 503 })));
    for (let index = 0; index < 5; index++) {
      const response = await chat(first, 'mp.failover');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-provider')).toBe('xai');
      expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
    }
    expect(cluster.openai.requests).toHaveLength(5);

    const response = await chat(second, 'mp.failover');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-zumik-provider')).toBe('xai');
    expect(cluster.openai.requests).toHaveLength(5); // the primary got no call
    expect(cluster.xai.requests).toHaveLength(6);
    const outcome = await waitForOutcome(second, response.body.id);
    expect(outcome.completion).toBe('completed');
    expect(outcome.attempts.map((attempt: any) => [attempt.provider, attempt.status])).toEqual([['xai', 'succeeded']]);
  }, 60_000);
});

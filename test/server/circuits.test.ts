import { circuitRoutes } from '../../src/server/routes/circuits';
import { CircuitBreakerStore } from '../../src/store/circuit-breaker-store';
import { INFERENCE_PRINCIPAL, startRouterTestApp, type RouterTestApp } from '../support/router-test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('circuitRoutes (GET /v2/circuits)', () => {
  let database: TestDatabase;
  let store: CircuitBreakerStore;
  let app: RouterTestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new CircuitBreakerStore(database.pool, { failureThreshold: 2, openMs: 100, maxOpenMs: 1_000, maxProbes: 1 });
    app = await startRouterTestApp(circuitRoutes(store));
  });
  afterAll(async () => { await app.close(); await database.drop(); });

  it('lists every circuit that has seen a counted failure: state, failures, opening, last failure, probes in flight', async () => {
    expect((await app.call('GET', '/v2/circuits')).body).toEqual({ object: 'list', data: [] });
    await store.recordFailure('anthropic|default|claude-haiku-4-5', 'overloaded');
    await store.recordFailure('openai|us-east|ft:gpt-4o-mini|acme', 'timeout');
    await store.recordFailure('openai|us-east|ft:gpt-4o-mini|acme', 'timeout');

    const open = await app.call('GET', '/v2/circuits');
    expect(open.status).toBe(200);
    expect(open.body.data).toEqual([
      { object: 'circuit', key: 'anthropic|default|claude-haiku-4-5', tenant: null, provider: 'anthropic', region: 'default', model: 'claude-haiku-4-5',
        state: 'closed', failures: 1, opened_at: null, open_until: null, last_failure_at: expect.any(String), last_failure_kind: 'overloaded',
        probes_in_flight: 0, max_probes: 1 },
      { object: 'circuit', key: 'openai|us-east|ft:gpt-4o-mini|acme', tenant: null, provider: 'openai', region: 'us-east', model: 'ft:gpt-4o-mini|acme',
        state: 'open', failures: 2, opened_at: expect.any(String), open_until: expect.any(String), last_failure_at: expect.any(String),
        last_failure_kind: 'timeout', probes_in_flight: 0, max_probes: 1 },
    ]);
    expect(Date.parse(open.body.data[1].open_until) - Date.parse(open.body.data[1].opened_at)).toBe(100);

    await new Promise((resolve) => setTimeout(resolve, 150));
    await store.tryAcquireProbe('openai|us-east|ft:gpt-4o-mini|acme');
    expect((await app.call('GET', '/v2/circuits')).body.data[1]).toMatchObject({ state: 'half_open', probes_in_flight: 1 });
  });

  it('needs the admin scope', async () => {
    app.principal = INFERENCE_PRINCIPAL;
    const response = await app.call('GET', '/v2/circuits');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('insufficient_scope');
  });
});

/**
 * LaneLeaseStore on a real Postgres: a BYOC lane's concurrency cap holds under racing front doors
 * (each take is its own connection, as separate processes would be), a recorded outcome frees the
 * slot, and a lease past its expiry no longer counts.
 */
import { LaneLeaseStore } from '../../src/store/lane-lease-store';
import { RequestRepository } from '../../src/store/request-repository';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('LaneLeaseStore', () => {
  let database: TestDatabase;
  let lanes: LaneLeaseStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    lanes = new LaneLeaseStore(database.pool);
    await database.pool.query("INSERT INTO tenants (id, name) VALUES ('acme', 'acme') ON CONFLICT DO NOTHING");
    await database.pool.query(`INSERT INTO byoc_endpoints (tenant_id, id, profile, base_url, max_concurrency) VALUES
      ('acme', 'lane-a', 'byoc_dynamo', 'https://a.example/v1', 3), ('acme', 'lane-b', 'byoc_dynamo', 'https://b.example/v1', NULL)`);
  });
  afterAll(async () => { await database.drop(); });

  it('reads the caps of the endpoints that have one', async () => {
    expect([...(await lanes.caps('acme', ['lane-a', 'lane-b', 'nope']))]).toEqual([['lane-a', 3]]);
    expect((await lanes.caps('globex', ['lane-a'])).size).toBe(0);
  });

  it('lets exactly the cap of 20 racing requests in, and a recorded outcome frees its slot', async () => {
    const until = Date.now() + 60_000;
    const taken = await Promise.all(Array.from({ length: 20 }, (_, index) => lanes.tryTake('acme', 'lane-a', `chatcmpl-race-${index}`, 3, until)));
    expect(taken.filter(Boolean)).toHaveLength(3);
    const holder = `chatcmpl-race-${taken.indexOf(true)}`;
    expect(await lanes.tryTake('acme', 'lane-a', 'chatcmpl-late', 3, until)).toBe(false);

    const now = Date.now();
    await new RequestRepository(database.pool).record({
      outcome: {
        id: holder, object: 'request_outcome', tenant: 'acme', alias: 'hot', release_id: null, qos_class: 'standard', admission: 'admitted',
        completion: 'completed', target_met: true, degraded: false, fallback_used: false, reason_code: 'ok',
        timing: { queued_ms: 0, ttft_ms: null, total_ms: 1 }, attempts: [], usage: null, cost_usd: null, workflow: null,
      },
      receivedAt: now, endedAt: now,
    });
    expect(await lanes.tryTake('acme', 'lane-a', 'chatcmpl-late', 3, until)).toBe(true);
    await lanes.release('chatcmpl-late');
    for (let index = 0; index < 20; index += 1) await lanes.release(`chatcmpl-race-${index}`);
  });

  it('no longer counts a lease past its expiry (a request whose record never came)', async () => {
    for (let index = 0; index < 3; index += 1) expect(await lanes.tryTake('acme', 'lane-a', `chatcmpl-lost-${index}`, 3, Date.now() - 1)).toBe(true);
    expect(await lanes.tryTake('acme', 'lane-a', 'chatcmpl-after', 3, Date.now() + 60_000)).toBe(true);
  });
});

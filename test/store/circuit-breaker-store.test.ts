import { Pool } from 'pg';
import { CIRCUIT_FAILURE_KINDS, FAILURE_KINDS, type FailureKind } from '../../src/domain/failure-kinds';
import {
  CircuitBreakerStore, DEFAULT_CIRCUIT_OPTIONS, type CircuitBreakerOptions,
} from '../../src/store/circuit-breaker-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

let database: TestDatabase;
let keyCounter = 0;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh circuit key per test, so tests share the database but never each other's circuits. */
const newKey = () => `openai|us-east|model-${++keyCounter}`;

const fast: CircuitBreakerOptions = { failureThreshold: 3, windowMs: 60_000, openMs: 300, maxOpenMs: 5_000 };

async function circuit(store: CircuitBreakerStore, key: string) {
  return (await store.list()).find((record) => record.key === key);
}

async function failTimes(store: CircuitBreakerStore, key: string, times: number, kind: FailureKind = 'upstream_unavailable') {
  for (let index = 0; index < times; index++) await store.recordFailure(key, kind);
}

const openLengthMs = (record: { openUntil: Date | null; openedAt: Date | null } | undefined) =>
  record!.openUntil!.getTime() - record!.openedAt!.getTime();

describe('CircuitBreakerStore', () => {
  describe('recordFailure', () => {
    it('opens the circuit at the failure threshold, not before', async () => {
      const store = new CircuitBreakerStore(database.pool, fast);
      const key = newKey();
      await failTimes(store, key, 2);
      expect(await store.openCircuits([key])).toEqual(new Set());
      expect(await circuit(store, key)).toMatchObject({ state: 'closed', failures: 2 });

      expect(await store.recordFailure(key, 'timeout')).toMatchObject({ state: 'open', failures: 3 });
      expect(await store.openCircuits([key])).toEqual(new Set([key]));
      const record = await circuit(store, key);
      expect(record).toMatchObject({ state: 'open', failures: 3, lastFailureKind: 'timeout' });
      expect(openLengthMs(record)).toBe(300);
    });

    it('uses the documented defaults: five failures open it for 5 s; one probe at a time; openings up to 20 s', async () => {
      const store = new CircuitBreakerStore(database.pool);
      expect(store.settings).toEqual(DEFAULT_CIRCUIT_OPTIONS);
      expect(DEFAULT_CIRCUIT_OPTIONS).toMatchObject({ failureThreshold: 5, openMs: 5_000, maxOpenMs: 20_000, maxProbes: 1 });
      const key = newKey();
      await failTimes(store, key, 4);
      expect(await store.openCircuits([key])).toEqual(new Set());
      await failTimes(store, key, 1);
      expect(await store.openCircuits([key])).toEqual(new Set([key]));
      expect(openLengthMs(await circuit(store, key))).toBe(5_000);
    });

    it('refuses settings that are not positive integers, or openings capped below the first one', () => {
      expect(() => new CircuitBreakerStore(database.pool, { maxProbes: 0 })).toThrow(/maxProbes must be a positive integer/);
      expect(() => new CircuitBreakerStore(database.pool, { openMs: 10_000, maxOpenMs: 5_000 })).toThrow(/maxOpenMs \(5000\) must not be below openMs/);
      expect(new CircuitBreakerStore(database.pool, { openMs: undefined }).settings.openMs).toBe(DEFAULT_CIRCUIT_OPTIONS.openMs);
    });

    it('stays open until openMs has passed, then goes half-open and lets probes through', async () => {
      const store = new CircuitBreakerStore(database.pool, { ...fast, openMs: 1_000 });
      const key = newKey();
      await failTimes(store, key, 3);
      await sleep(100);
      expect(await store.openCircuits([key])).toEqual(new Set([key]));
      await sleep(1_100);
      expect(await store.openCircuits([key])).toEqual(new Set());
      expect(await circuit(store, key)).toMatchObject({ state: 'half_open' });
    });

    it('ignores late failures while open: they neither extend nor reopen it', async () => {
      const store = new CircuitBreakerStore(database.pool, fast);
      const key = newKey();
      await failTimes(store, key, 3);
      const opened = await circuit(store, key);
      await failTimes(store, key, 5);
      const after = await circuit(store, key);
      expect(after!.openUntil).toEqual(opened!.openUntil);
      expect(after!.failures).toBe(8);
    });

    it('reopens for twice as long when a half-open probe fails, capped at maxOpenMs', async () => {
      const store = new CircuitBreakerStore(database.pool, { failureThreshold: 2, openMs: 150, maxOpenMs: 500 });
      const key = newKey();
      await failTimes(store, key, 2);
      expect(openLengthMs(await circuit(store, key))).toBe(150);

      for (const expected of [300, 500, 500]) {
        await sleep(openLengthMs(await circuit(store, key)) + 100);
        expect(await circuit(store, key)).toMatchObject({ state: 'half_open' });
        expect(await store.recordFailure(key, 'network')).toMatchObject({ state: 'open' });
        expect(await store.openCircuits([key])).toEqual(new Set([key]));
        expect(openLengthMs(await circuit(store, key))).toBe(expected);
      }
    });

    it('needs the threshold within windowMs: failures spread wider apart do not open it', async () => {
      // A window wide enough that three round trips fit in it on a loaded machine, and a pause well past it.
      const store = new CircuitBreakerStore(database.pool, { ...fast, windowMs: 1_500 });
      const key = newKey();
      await failTimes(store, key, 2);
      await sleep(1_700);
      await failTimes(store, key, 1);
      expect(await circuit(store, key)).toMatchObject({ state: 'closed' });
      await failTimes(store, key, 1);
      expect(await circuit(store, key)).toMatchObject({ state: 'closed' });
      await failTimes(store, key, 1);
      expect(await circuit(store, key)).toMatchObject({ state: 'open' });
    });
  });

  describe('half-open probes', () => {
    const probing: CircuitBreakerOptions = { ...fast, openMs: 150, maxProbes: 2, probeTtlMs: 60_000 };
    async function halfOpen(store: CircuitBreakerStore, key: string) {
      await failTimes(store, key, 3);
      await sleep(250);
      expect(await circuit(store, key)).toMatchObject({ state: 'half_open', probesInFlight: 0 });
    }

    it('lets every call through without a slot while closed, and none while open', async () => {
      const store = new CircuitBreakerStore(database.pool, probing);
      const key = newKey();
      expect(await store.tryAcquireProbe(key)).toEqual({ allowed: true });
      await failTimes(store, key, 2);
      expect(await store.tryAcquireProbe(key)).toEqual({ allowed: true });
      await failTimes(store, key, 1);
      expect(await store.tryAcquireProbe(key)).toEqual({ allowed: false, state: 'open' });
    });

    it('lets at most maxProbes calls through while half-open; the plan skips the target while every slot is taken', async () => {
      const store = new CircuitBreakerStore(database.pool, probing);
      const key = newKey();
      await halfOpen(store, key);
      const first = await store.tryAcquireProbe(key);
      expect(first).toEqual({ allowed: true, probeId: expect.any(String) });
      expect(await store.openCircuits([key])).toEqual(new Set()); // a slot is still free
      const second = await store.tryAcquireProbe(key);
      expect(second).toEqual({ allowed: true, probeId: expect.any(String) });
      expect(await store.tryAcquireProbe(key)).toEqual({ allowed: false, state: 'half_open' });
      expect(await store.openCircuits([key])).toEqual(new Set([key]));
      expect(await store.openCircuits()).toContain(key);
      expect(await circuit(store, key)).toMatchObject({ state: 'half_open', probesInFlight: 2 });

      // A probe that ended without settling the circuit gives its slot back.
      await store.releaseProbe(key, (second as { probeId: string }).probeId);
      expect(await store.openCircuits([key])).toEqual(new Set());
      expect(await store.tryAcquireProbe(key)).toMatchObject({ allowed: true, probeId: expect.any(String) });
    });

    it('expires a slot whose holder never came back', async () => {
      const store = new CircuitBreakerStore(database.pool, { ...probing, maxProbes: 1, probeTtlMs: 200 });
      const key = newKey();
      await halfOpen(store, key);
      expect(await store.tryAcquireProbe(key)).toMatchObject({ allowed: true, probeId: expect.any(String) });
      expect(await store.tryAcquireProbe(key)).toEqual({ allowed: false, state: 'half_open' });
      await sleep(300);
      expect(await circuit(store, key)).toMatchObject({ probesInFlight: 0 });
      expect(await store.openCircuits([key])).toEqual(new Set());
      expect(await store.tryAcquireProbe(key)).toMatchObject({ allowed: true, probeId: expect.any(String) });
    });

    it('closes on a probe\'s success and frees every slot', async () => {
      const store = new CircuitBreakerStore(database.pool, probing);
      const key = newKey();
      await halfOpen(store, key);
      await store.tryAcquireProbe(key);
      await store.tryAcquireProbe(key);
      await store.recordSuccess(key);
      expect(await circuit(store, key)).toMatchObject({ state: 'closed', failures: 0, probesInFlight: 0 });
      expect((await database.pool.query('SELECT count(*)::int AS n FROM circuit_probes WHERE key = $1', [key])).rows[0].n).toBe(0);
      expect(await store.tryAcquireProbe(key)).toEqual({ allowed: true });
    });

    it('reopens with backoff on a probe\'s outage failure; that probe\'s slot does not count in the next half-open phase', async () => {
      const store = new CircuitBreakerStore(database.pool, { ...probing, maxProbes: 1 });
      const key = newKey();
      await halfOpen(store, key);
      expect(await store.tryAcquireProbe(key)).toMatchObject({ allowed: true });
      expect(await store.recordFailure(key, 'upstream_unavailable')).toMatchObject({ state: 'open' });
      expect(openLengthMs(await circuit(store, key))).toBe(300);
      expect(await store.tryAcquireProbe(key)).toEqual({ allowed: false, state: 'open' });
      await sleep(400);
      // The failed probe never released its slot (its worker died, say): the new phase still gets its probe.
      expect(await store.tryAcquireProbe(key)).toMatchObject({ allowed: true, probeId: expect.any(String) });
    });

    it('gives out exactly maxProbes slots to concurrent callers in two processes', async () => {
      const otherPool = new Pool({ connectionString: database.url, max: 10 });
      try {
        const stores = [new CircuitBreakerStore(database.pool, probing), new CircuitBreakerStore(otherPool, probing)];
        const key = newKey();
        await halfOpen(stores[0]!, key);
        const permits = await Promise.all(Array.from({ length: 20 }, (_, index) => stores[index % 2]!.tryAcquireProbe(key)));
        expect(permits.filter((permit) => permit.allowed)).toHaveLength(2);
        expect(permits.filter((permit) => !permit.allowed)).toEqual(Array(18).fill({ allowed: false, state: 'half_open' }));
      } finally {
        await otherPool.end();
      }
    });
  });

  describe('failure kinds', () => {
    it('never opens a circuit for kinds that are not outages', async () => {
      const store = new CircuitBreakerStore(database.pool, fast);
      const key = newKey();
      const ignored = (Object.keys(FAILURE_KINDS) as FailureKind[]).filter((kind) => !CIRCUIT_FAILURE_KINDS.includes(kind));
      for (const kind of ignored) {
        for (let index = 0; index < 5; index++) expect(await store.recordFailure(key, kind)).toBeUndefined();
      }
      expect(await store.openCircuits([key])).toEqual(new Set());
      expect(await circuit(store, key)).toBeUndefined();
    });

    it('counts exactly the outage kinds', () => {
      expect([...CIRCUIT_FAILURE_KINDS].sort()).toEqual(
        ['bad_response', 'network', 'overloaded', 'stream_stalled', 'stream_truncated', 'timeout', 'upstream_unavailable']);
    });

    it('does not let a non-outage failure break a run of outage failures', async () => {
      const store = new CircuitBreakerStore(database.pool, fast);
      const key = newKey();
      await failTimes(store, key, 2, 'overloaded');
      await store.recordFailure(key, 'rate_limit');
      await store.recordFailure(key, 'stream_stalled');
      expect(await store.openCircuits([key])).toEqual(new Set([key]));
    });
  });

  describe('recordSuccess', () => {
    it('closes a half-open circuit after a successful probe and resets the counters and backoff', async () => {
      const store = new CircuitBreakerStore(database.pool, { ...fast, openMs: 150 });
      const key = newKey();
      await failTimes(store, key, 3);
      await sleep(250);
      await store.recordFailure(key, 'timeout');
      expect(openLengthMs(await circuit(store, key))).toBe(300);
      await sleep(400);
      await store.recordSuccess(key);
      expect(await circuit(store, key)).toMatchObject({ state: 'closed', failures: 0, openUntil: null });

      // A fresh run is needed to open it again, and it opens for the base duration.
      await failTimes(store, key, 2);
      expect(await store.openCircuits([key])).toEqual(new Set());
      await failTimes(store, key, 1);
      expect(openLengthMs(await circuit(store, key))).toBe(150);
    });

    it('breaks a run of consecutive failures', async () => {
      const store = new CircuitBreakerStore(database.pool, fast);
      const key = newKey();
      await failTimes(store, key, 2);
      await store.recordSuccess(key);
      await failTimes(store, key, 2);
      expect(await circuit(store, key)).toMatchObject({ state: 'closed', failures: 2 });
    });

    it('is harmless for a key it has never seen', async () => {
      const store = new CircuitBreakerStore(database.pool, fast);
      const key = newKey();
      await store.recordSuccess(key);
      expect(await circuit(store, key)).toBeUndefined();
    });
  });

  describe('openCircuits', () => {
    it('returns only the asked keys, or every open key when none are given', async () => {
      const store = new CircuitBreakerStore(database.pool, fast);
      const [open, closed] = [newKey(), newKey()];
      await failTimes(store, open, 3);
      await failTimes(store, closed, 1);
      expect(await store.openCircuits([open, closed, 'never|seen|key'])).toEqual(new Set([open]));
      expect(await store.openCircuits([closed])).toEqual(new Set());
      expect(await store.openCircuits([])).toEqual(new Set());
      expect((await store.openCircuits()).has(open)).toBe(true);
      expect((await store.openCircuits()).has(closed)).toBe(false);
    });
  });

  describe('across processes', () => {
    let otherPool: Pool;

    beforeAll(() => {
      otherPool = new Pool({ connectionString: database.url, max: 10 });
      // pool.end() does not wait for the server to see its clients go: the file's forced database drop
      // may still terminate one, which an idle client hears as an error event (as test-database.ts's pool).
      otherPool.on('error', () => undefined);
    });

    afterAll(async () => {
      await otherPool.end();
    });

    it('two processes add up to one failure count and see the same state', async () => {
      const first = new CircuitBreakerStore(database.pool, fast);
      const second = new CircuitBreakerStore(otherPool, fast);
      const key = newKey();
      await first.recordFailure(key, 'timeout');
      await second.recordFailure(key, 'timeout');
      expect(await first.openCircuits([key])).toEqual(new Set());
      await first.recordFailure(key, 'timeout');
      expect(await second.openCircuits([key])).toEqual(new Set([key]));
      await second.recordSuccess(key);
      expect(await first.openCircuits([key])).toEqual(new Set());
      expect(await circuit(first, key)).toMatchObject({ state: 'closed', failures: 0 });
    });

    it('loses no failure when two processes report concurrently', async () => {
      const stores = [new CircuitBreakerStore(database.pool, { ...fast, failureThreshold: 1_000 }),
        new CircuitBreakerStore(otherPool, { ...fast, failureThreshold: 1_000 })];
      const key = newKey();
      await Promise.all(Array.from({ length: 30 }, (_, index) => stores[index % 2]!.recordFailure(key, 'network')));
      expect(await circuit(stores[0]!, key)).toMatchObject({ state: 'closed', failures: 30 });
    });
  });
});

import { Pool } from 'pg';
import { AdmissionStore, type AdmitRequest, type AdmissionLimits } from '../../src/store/admission-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

let database: TestDatabase;
let store: AdmissionStore;
let tenantCounter = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  store = new AdmissionStore(database.pool);
});

afterAll(async () => {
  await database.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh tenant per test, so tests share the database but never each other's limits. */
function tenant(limits: Partial<AdmissionLimits> = {}) {
  const tenantId = `tenant_${++tenantCounter}`;
  const fullLimits: AdmissionLimits = { maxQueueLength: 10, ...limits };
  return {
    tenantId,
    request(requestId: string, overrides: Partial<AdmitRequest> = {}): AdmitRequest {
      return { requestId: `${tenantId}:${requestId}`, tenantId, apiKeyId: `${tenantId}:key_a`, priority: 3,
        limits: fullLimits, leaseMs: 60_000, queue: true, ...overrides };
    },
    admit(requestId: string, overrides: Partial<AdmitRequest> = {}) {
      return store.tryAdmit(this.request(requestId, overrides));
    },
    release(requestId: string) {
      return store.release(`${tenantId}:${requestId}`);
    },
    stats() {
      return store.stats(tenantId);
    },
  };
}

describe('AdmissionStore', () => {
  describe('tryAdmit', () => {
    it('admits up to the tenant concurrency, then queues, then rejects when the queue is full', async () => {
      const t = tenant({ tenantConcurrency: 2, maxQueueLength: 2 });
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      expect(await t.admit('r2')).toEqual({ state: 'admitted' });
      expect(await t.admit('r3')).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('r4')).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('r5')).toEqual({ state: 'rejected', reason: 'rejected_queue_full' });
      expect(await t.stats()).toEqual({ active: 2, queued: 2 });
    });

    it('rejects with rejected_concurrency_limit when the caller may not queue', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      expect(await t.admit('r2', { queue: false })).toEqual({ state: 'rejected', reason: 'rejected_concurrency_limit' });
      expect(await t.stats()).toEqual({ active: 1, queued: 0 });
    });

    it('treats a maxQueueLength of 0 as "never queue"', async () => {
      const t = tenant({ tenantConcurrency: 1, maxQueueLength: 0 });
      await t.admit('r1');
      expect(await t.admit('r2')).toEqual({ state: 'rejected', reason: 'rejected_queue_full' });
    });

    it('is idempotent per requestId: a retried admitted request takes no second slot', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      expect(await t.stats()).toEqual({ active: 1, queued: 0 });
      expect(await t.admit('r2')).toEqual({ state: 'queued', position: 1 });
    });

    it('keeps a queued request in its place when it polls again', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('holder');
      await t.admit('first');
      await t.admit('second');
      expect(await t.admit('second')).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('first')).toEqual({ state: 'queued', position: 1 });
      expect(await t.stats()).toEqual({ active: 1, queued: 2 });
    });

    it('limits each tenant separately', async () => {
      const a = tenant({ tenantConcurrency: 1 });
      const b = tenant({ tenantConcurrency: 1 });
      expect(await a.admit('r1')).toEqual({ state: 'admitted' });
      expect(await b.admit('r1')).toEqual({ state: 'admitted' });
      expect(await a.admit('r2', { queue: false })).toEqual({ state: 'rejected', reason: 'rejected_concurrency_limit' });
    });

    it('rejects invalid input before touching the database', async () => {
      const t = tenant();
      await expect(t.admit('r1', { priority: 0 })).rejects.toThrow(RangeError);
      await expect(t.admit('r1', { leaseMs: 0 })).rejects.toThrow(/leaseMs/);
      await expect(t.admit('r1', { limits: { maxQueueLength: -1 } })).rejects.toThrow(/maxQueueLength/);
      expect(await t.stats()).toEqual({ active: 0, queued: 0 });
    });
  });

  describe('queue order', () => {
    it('admits the head of the queue first when a slot frees; a newcomer cannot jump the queue', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('holder');
      expect(await t.admit('first')).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('second')).toEqual({ state: 'queued', position: 2 });
      await t.release('holder');

      // The slot is free, but it belongs to the head: neither a newcomer nor the second waiter takes it.
      expect(await t.admit('newcomer')).toEqual({ state: 'queued', position: 3 });
      expect(await t.admit('second')).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('first')).toEqual({ state: 'admitted' });
      expect(await t.admit('second')).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('newcomer')).toEqual({ state: 'queued', position: 2 });

      await t.release('first');
      expect(await t.admit('newcomer')).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('second')).toEqual({ state: 'admitted' });
      await t.release('second');
      expect(await t.admit('newcomer')).toEqual({ state: 'admitted' });
      expect(await t.stats()).toEqual({ active: 1, queued: 0 });
    });

    it('lets as many waiters through as there are free slots, in order', async () => {
      const t = tenant({ tenantConcurrency: 2 });
      await t.admit('holder1');
      await t.admit('holder2');
      await t.admit('first');
      await t.admit('second');
      await t.admit('third');
      await t.release('holder1');
      await t.release('holder2');
      // Two free slots: the first two waiters may each take one, whichever polls first; the third may not.
      expect(await t.admit('third')).toEqual({ state: 'queued', position: 3 });
      expect(await t.admit('second')).toEqual({ state: 'admitted' });
      expect(await t.admit('third')).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('first')).toEqual({ state: 'admitted' });
      expect(await t.admit('third')).toEqual({ state: 'queued', position: 1 });
    });

    it('orders the queue by priority, then arrival', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('holder');
      expect(await t.admit('low', { priority: 5 })).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('normal', { priority: 3 })).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('high', { priority: 1 })).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('normal2', { priority: 3 })).toEqual({ state: 'queued', position: 3 });
      expect(await t.admit('low', { priority: 5 })).toEqual({ state: 'queued', position: 4 });

      await t.release('holder');
      expect(await t.admit('low', { priority: 5 })).toEqual({ state: 'queued', position: 4 });
      expect(await t.admit('normal', { priority: 3 })).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('high', { priority: 1 })).toEqual({ state: 'admitted' });
      await t.release('high');
      expect(await t.admit('normal2', { priority: 3 })).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('normal', { priority: 3 })).toEqual({ state: 'admitted' });
    });

    it('skips a stale ticket whose waiter stopped polling', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('holder');
      expect(await t.admit('dead', { ticketTtlMs: 150 })).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('alive')).toEqual({ state: 'queued', position: 2 });
      await sleep(400);
      expect(await t.admit('alive')).toEqual({ state: 'queued', position: 1 });
      expect(await t.stats()).toEqual({ active: 1, queued: 1 });
      await t.release('holder');
      expect(await t.admit('alive')).toEqual({ state: 'admitted' });
      // The dead waiter, back at last, has lost its place: it arrives again behind everyone.
      expect(await t.admit('dead')).toEqual({ state: 'queued', position: 1 });
    });

    it('keeps a ticket alive as long as its waiter polls within the ticket TTL', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('holder');
      await t.admit('waiter', { ticketTtlMs: 1_000 });
      for (let poll = 0; poll < 3; poll++) {
        await sleep(300);
        expect(await t.admit('waiter', { ticketTtlMs: 1_000 })).toEqual({ state: 'queued', position: 1 });
      }
      expect(await t.admit('newcomer')).toEqual({ state: 'queued', position: 2 });
    });
  });

  describe('per-key limits', () => {
    it('limits an API key independently of its tenant', async () => {
      const t = tenant({ tenantConcurrency: 10, keyConcurrency: 1 });
      const keyB = { apiKeyId: `${t.tenantId}:key_b` };
      expect(await t.admit('a1')).toEqual({ state: 'admitted' });
      expect(await t.admit('a2')).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('a3', { queue: false })).toEqual({ state: 'rejected', reason: 'rejected_concurrency_limit' });
      // key_a's waiter cannot use a slot, so it does not hold the tenant back: key_b goes ahead of it.
      expect(await t.admit('b1', keyB)).toEqual({ state: 'admitted' });
      expect(await t.admit('b2', keyB)).toEqual({ state: 'queued', position: 2 });
      await t.release('a1');
      expect(await t.admit('a2')).toEqual({ state: 'admitted' });
      expect(await t.stats()).toEqual({ active: 2, queued: 1 });
    });

    it('still lets a key-blocked waiter keep its place for the tenant slot once its key frees', async () => {
      const t = tenant({ tenantConcurrency: 2, keyConcurrency: 1 });
      const keyB = { apiKeyId: `${t.tenantId}:key_b` };
      await t.admit('a1');
      expect(await t.admit('a2')).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('b1', keyB)).toEqual({ state: 'admitted' });
      await t.release('a1');
      // One tenant slot is free and a2 (now runnable) is ahead of b2: b2 must wait for it.
      expect(await t.admit('b2', { ...keyB, limits: { tenantConcurrency: 2, maxQueueLength: 10 } }))
        .toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('a2')).toEqual({ state: 'admitted' });
    });

    it('rate-limits an API key independently of its tenant', async () => {
      const t = tenant({ tenantRequestsPerMinute: 100, keyRequestsPerMinute: 2 });
      const keyB = { apiKeyId: `${t.tenantId}:key_b` };
      expect(await t.admit('a1')).toEqual({ state: 'admitted' });
      expect(await t.admit('a2')).toEqual({ state: 'admitted' });
      expect(await t.admit('a3')).toEqual({ state: 'rejected', reason: 'rejected_rate_limit' });
      expect(await t.admit('b1', keyB)).toEqual({ state: 'admitted' });
    });
  });

  describe('rate limits', () => {
    it('rejects a request over the tenant rate and does not queue it', async () => {
      const t = tenant({ tenantRequestsPerMinute: 3, tenantConcurrency: 1 });
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      expect(await t.admit('r2')).toEqual({ state: 'queued', position: 1 });
      expect(await t.admit('r3')).toEqual({ state: 'queued', position: 2 });
      expect(await t.admit('r4')).toEqual({ state: 'rejected', reason: 'rejected_rate_limit' });
      expect(await t.stats()).toEqual({ active: 1, queued: 2 });
    });

    it('counts each request once: polling and retries do not spend the rate', async () => {
      const t = tenant({ tenantRequestsPerMinute: 2, tenantConcurrency: 1 });
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      expect(await t.admit('r2')).toEqual({ state: 'queued', position: 1 });
      for (let poll = 0; poll < 3; poll++) {
        expect(await t.admit('r1')).toEqual({ state: 'admitted' });
        expect(await t.admit('r2')).toEqual({ state: 'queued', position: 1 });
      }
      await t.release('r1');
      expect(await t.admit('r2')).toEqual({ state: 'admitted' });
      expect(await t.admit('r3')).toEqual({ state: 'rejected', reason: 'rejected_rate_limit' });
    });

    it('does not spend the rate on a request it rejects for lack of capacity', async () => {
      const t = tenant({ tenantRequestsPerMinute: 2, tenantConcurrency: 1 });
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      for (let attempt = 0; attempt < 3; attempt++) {
        expect(await t.admit(`busy${attempt}`, { queue: false })).toEqual({ state: 'rejected', reason: 'rejected_concurrency_limit' });
      }
      expect(await t.admit('r2')).toEqual({ state: 'queued', position: 1 });
    });
  });

  describe('release, abandon and renew', () => {
    it('release frees the slot for the next request and is idempotent', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('r1');
      expect(await t.admit('r2', { queue: false })).toEqual({ state: 'rejected', reason: 'rejected_concurrency_limit' });
      expect(await t.release('r1')).toBe(true);
      expect(await t.release('r1')).toBe(false);
      expect(await t.stats()).toEqual({ active: 0, queued: 0 });
      expect(await t.admit('r2', { queue: false })).toEqual({ state: 'admitted' });
    });

    it('release also drops a queue ticket', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('holder');
      await t.admit('waiter');
      await t.admit('next');
      expect(await t.release('waiter')).toBe(true);
      expect(await t.admit('next')).toEqual({ state: 'queued', position: 1 });
    });

    it('abandon drops a ticket so the waiters behind move up', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('holder');
      await t.admit('waiter');
      await t.admit('next');
      expect(await store.abandon(`${t.tenantId}:waiter`)).toBe(true);
      expect(await store.abandon(`${t.tenantId}:waiter`)).toBe(false);
      expect(await t.stats()).toEqual({ active: 1, queued: 1 });
      await t.release('holder');
      expect(await t.admit('next')).toEqual({ state: 'admitted' });
    });

    it('an expired lease frees its slot: a crashed holder cannot leak capacity', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      expect(await t.admit('crashed', { leaseMs: 150 })).toEqual({ state: 'admitted' });
      expect(await t.admit('waiter')).toEqual({ state: 'queued', position: 1 });
      await sleep(400);
      expect(await t.stats()).toEqual({ active: 0, queued: 1 });
      expect(await t.admit('waiter')).toEqual({ state: 'admitted' });
      expect(await store.renew(`${t.tenantId}:crashed`, 60_000)).toBe(false);
    });

    it('renew keeps a long call holding its slot past the original lease', async () => {
      const t = tenant({ tenantConcurrency: 1 });
      await t.admit('long', { leaseMs: 300 });
      expect(await store.renew(`${t.tenantId}:long`, 60_000)).toBe(true);
      await sleep(500);
      expect(await t.admit('other', { queue: false })).toEqual({ state: 'rejected', reason: 'rejected_concurrency_limit' });
      expect(await t.stats()).toEqual({ active: 1, queued: 0 });
    });

    it('re-admits a request whose own lease lapsed when it asks again and a slot is free', async () => {
      const t = tenant({ tenantConcurrency: 1, tenantRequestsPerMinute: 1 });
      await t.admit('r1', { leaseMs: 150 });
      await sleep(400);
      // Counted once already, so the rate does not refuse it a second time.
      expect(await t.admit('r1')).toEqual({ state: 'admitted' });
      expect(await t.stats()).toEqual({ active: 1, queued: 0 });
    });
  });

  describe('across processes', () => {
    let otherPool: Pool;

    beforeAll(() => {
      otherPool = new Pool({ connectionString: database.url, max: 10 });
      otherPool.on('error', () => undefined); // idle clients hear the database drop at the end
    });

    afterAll(async () => {
      await otherPool.end();
    });

    it('two processes racing 40 requests share one tenant limit of 5', async () => {
      const t = tenant({ tenantConcurrency: 5 });
      const stores = [new AdmissionStore(database.pool), new AdmissionStore(otherPool)];
      const results = await Promise.all(Array.from({ length: 40 }, (_, index) =>
        stores[index % 2]!.tryAdmit(t.request(`r${index}`, { queue: false }))));
      expect(results.filter((result) => result.state === 'admitted')).toHaveLength(5);
      expect(results.filter((result) => result.state === 'rejected' && result.reason === 'rejected_concurrency_limit')).toHaveLength(35);
      expect(await t.stats()).toEqual({ active: 5, queued: 0 });
    });

    it('two processes racing 40 queueing requests fill the slots and a bounded queue exactly', async () => {
      const t = tenant({ tenantConcurrency: 5, maxQueueLength: 10 });
      const stores = [new AdmissionStore(database.pool), new AdmissionStore(otherPool)];
      const results = await Promise.all(Array.from({ length: 40 }, (_, index) =>
        stores[index % 2]!.tryAdmit(t.request(`r${index}`))));
      expect(results.filter((result) => result.state === 'admitted')).toHaveLength(5);
      const positions = results.flatMap((result) => (result.state === 'queued' ? [result.position] : []));
      expect(positions.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(results.filter((result) => result.state === 'rejected' && result.reason === 'rejected_queue_full')).toHaveLength(25);
      expect(await t.stats()).toEqual({ active: 5, queued: 10 });
    });

    it('a rate limit holds across processes', async () => {
      const t = tenant({ tenantRequestsPerMinute: 7 });
      const stores = [new AdmissionStore(database.pool), new AdmissionStore(otherPool)];
      const results = await Promise.all(Array.from({ length: 20 }, (_, index) =>
        stores[index % 2]!.tryAdmit(t.request(`r${index}`))));
      expect(results.filter((result) => result.state === 'admitted')).toHaveLength(7);
      expect(results.filter((result) => result.state === 'rejected' && result.reason === 'rejected_rate_limit')).toHaveLength(13);
    });
  });
});

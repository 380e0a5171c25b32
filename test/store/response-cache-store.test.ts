import { ResponseCacheStore } from '../../src/store/response-cache-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('ResponseCacheStore', () => {
  let database: TestDatabase;
  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(async () => { await database.drop(); });

  const answer = (text: string) => ({ kind: 'json' as const, body: { object: 'chat.completion', text } });
  const put = (store: ResponseCacheStore, tenantId: string, key: string, text: string, ttlSeconds = 60) =>
    store.put({ tenantId, key, answer: answer(text), ttlSeconds, sourceRequestId: `req_${key}` });

  it('keeps entries per tenant and shape, and never answers another tenant', async () => {
    const store = new ResponseCacheStore(database.pool);
    await put(store, 't1', 'k', 'one');
    expect(await store.get('t1', 'k', false)).toEqual(answer('one'));
    expect(await store.get('t1', 'k', true)).toBeUndefined();
    expect(await store.get('t2', 'k', false)).toBeUndefined();
  });

  it('does not keep an answer above the per-entry cap', async () => {
    const store = new ResponseCacheStore(database.pool, { maxEntryBytes: 100, maxTenantBytes: 10_000 });
    expect(await put(store, 't3', 'big', 'x'.repeat(200))).toBe(false);
    expect(await store.get('t3', 'big', false)).toBeUndefined();
  });

  it('evicts the least recently used entries beyond the tenant cap, and expired ones', async () => {
    const size = Buffer.byteLength(JSON.stringify(answer('aaaa')));
    const store = new ResponseCacheStore(database.pool, { maxEntryBytes: 1_000, maxTenantBytes: size * 2 });
    await put(store, 't4', 'a', 'aaaa');
    await put(store, 't4', 'b', 'bbbb');
    expect(await store.get('t4', 'a', false)).toBeDefined(); // a is now the most recently used
    await put(store, 't4', 'c', 'cccc');
    expect(await store.get('t4', 'b', false)).toBeUndefined();
    expect(await store.get('t4', 'a', false)).toBeDefined();
    expect(await store.get('t4', 'c', false)).toBeDefined();
    expect((await store.stats('t4')).entries).toBe(2);
    expect(await put(store, 't5', 'old', 'gone', 1)).toBe(true);
    await database.pool.query("UPDATE response_cache SET expires_at = now() - interval '1 second' WHERE tenant_id = 't5'");
    expect(await store.get('t5', 'old', false)).toBeUndefined();
    await store.evict('t5');
    expect((await database.pool.query("SELECT 1 FROM response_cache WHERE tenant_id = 't5'")).rows).toHaveLength(0);
  });
});

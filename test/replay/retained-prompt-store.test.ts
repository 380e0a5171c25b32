/**
 * Retention ends on time without a replay: the store's own writes sweep expired prompts (at most every
 * `purgeEveryMs`), on a real Postgres.
 */
import { RetainedPromptStore } from '../../src/store/retained-prompt-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('RetainedPromptStore', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  const prompt = (requestId: string, expiresAt: number) => ({
    requestId, tenantId: 'default', alias: 'chat', releaseId: null, request: { messages: [{ role: 'user', content: requestId }] },
    answer: { text: 'ok', finish_reason: 'stop', usage: null, ttft_ms: null, latency_ms: 5, provider: 'openai', model: 'gpt-4o-mini' }, expiresAt,
  });
  const ids = async () => (await database.pool.query<{ request_id: string }>('SELECT request_id FROM retained_prompts ORDER BY request_id')).rows
    .map((row) => row.request_id);

  it('deletes prompts past their retention when it writes, without waiting for a replay', async () => {
    const store = new RetainedPromptStore(database.pool, { purgeEveryMs: 0 });
    await store.keep(prompt('req_expired', Date.now() - 1_000));
    await store.keep(prompt('req_kept', Date.now() + 3_600_000));
    expect(await ids()).toEqual(['req_kept']);
  });

  it('sweeps at most every purgeEveryMs', async () => {
    await database.pool.query('DELETE FROM retained_prompts');
    const store = new RetainedPromptStore(database.pool, { purgeEveryMs: 3_600_000 });
    await store.keep(prompt('req_a', Date.now() + 3_600_000)); // the first write sweeps (nothing to take)
    await store.keep(prompt('req_b_expired', Date.now() - 1_000));
    await store.keep(prompt('req_c', Date.now() + 3_600_000)); // within the hour: no sweep yet
    expect(await ids()).toEqual(['req_a', 'req_b_expired', 'req_c']);
    expect(await store.find('default', 'req_b_expired')).toBeUndefined(); // reads never see it
  });
});

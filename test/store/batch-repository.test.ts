import { toBatchObject } from '../../src/server/routes/batches';
import { BatchRepository } from '../../src/store/batch-repository';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('BatchRepository', () => {
  let database: TestDatabase;
  let batches: BatchRepository;
  beforeAll(async () => {
    database = await createTestDatabase();
    batches = new BatchRepository(database.pool);
  });
  afterAll(async () => { await database.drop(); });

  const create = (tenantId = 'acme') => batches.create({
    tenantId, endpoint: '/v1/chat/completions', inputFileId: 'file-abc', metadata: { project: 'eval' }, apiKeyId: 'key_1',
  });

  it('creates a validating batch whose window ends 24 h after creation, shown as the OpenAI batch object', async () => {
    const batch = await create();
    expect(batch).toMatchObject({
      id: expect.stringMatching(/^batch_[0-9A-Za-z]{24}$/), tenantId: 'acme', status: 'validating', completionWindow: '24h',
      requestCounts: { total: 0, completed: 0, failed: 0 }, metadata: { project: 'eval' }, outputFileId: null, errors: null,
    });
    expect(batch.expiresAt!.getTime() - batch.createdAt.getTime()).toBe(24 * 3600 * 1000);
    // Unset optional fields are left out, as OpenAI's schema types them (optional, not nullable).
    expect(toBatchObject(batch)).toEqual({
      id: batch.id, object: 'batch', endpoint: '/v1/chat/completions', input_file_id: 'file-abc',
      completion_window: '24h', status: 'validating', created_at: expect.any(Number),
      expires_at: expect.any(Number), request_counts: { total: 0, completed: 0, failed: 0 }, metadata: { project: 'eval' },
    });
    expect(await batches.get('other', batch.id)).toBeUndefined();
    expect((await batches.getById(batch.id))!.id).toBe(batch.id);
  });

  it('moves through statuses, stamping each once, and refuses a move the guard does not allow', async () => {
    const batch = await create();
    const started = (await batches.updateStatus(batch.id, 'in_progress', { from: ['validating'] }))!;
    expect(started.status).toBe('in_progress');
    expect(started.inProgressAt).toBeInstanceOf(Date);
    const again = (await batches.updateStatus(batch.id, 'in_progress'))!;
    expect(again.inProgressAt).toEqual(started.inProgressAt);
    expect((await batches.updateStatus(batch.id, 'completed', { from: ['finalizing'] }))).toBeUndefined();
    await batches.updateStatus(batch.id, 'finalizing', { from: ['in_progress'] });
    const done = (await batches.updateStatus(batch.id, 'completed', { from: ['finalizing'] }))!;
    expect(done).toMatchObject({ status: 'completed', finalizingAt: expect.any(Date), completedAt: expect.any(Date), cancelledAt: null });
    expect(await batches.updateStatus(batch.id, 'cancelling', { from: ['validating', 'in_progress'] })).toBeUndefined();
  });

  it('sets counts, files, errors, usage and model without touching the rest', async () => {
    const batch = await create();
    await batches.setCounts(batch.id, { total: 10 });
    await batches.setCounts(batch.id, { completed: 7, failed: 1 });
    await batches.setFiles(batch.id, { outputFileId: 'file-out' });
    await batches.setFiles(batch.id, { errorFileId: 'file-err' });
    await batches.setErrors(batch.id, [{ code: 'invalid_request', message: 'line 3: custom_id is required', param: 'custom_id', line: 3 }]);
    await batches.setUsage(batch.id, { input_tokens: 5, output_tokens: 7, total_tokens: 12 });
    await batches.setModel(batch.id, 'gpt-4o-mini-2024-07-18');
    const stored = (await batches.get('acme', batch.id))!;
    expect(stored).toMatchObject({
      requestCounts: { total: 10, completed: 7, failed: 1 }, outputFileId: 'file-out', errorFileId: 'file-err',
      usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 }, model: 'gpt-4o-mini-2024-07-18',
    });
    expect(toBatchObject(stored).errors).toEqual({ object: 'list', data: [{ code: 'invalid_request', message: 'line 3: custom_id is required', param: 'custom_id', line: 3 }] });
  });

  it('lists a tenant\'s batches newest first, a page at a time', async () => {
    const ids = [];
    for (let index = 0; index < 5; index += 1) ids.push((await create('lister')).id);
    const first = await batches.list('lister', { limit: 2 });
    expect(first.data.map((batch) => batch.id)).toEqual([ids[4], ids[3]]);
    expect(first.hasMore).toBe(true);
    const rest = await batches.list('lister', { after: first.data[1]!.id, limit: 10 });
    expect(rest.data.map((batch) => batch.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(rest.hasMore).toBe(false);
  });
});

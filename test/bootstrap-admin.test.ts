import pino from 'pino';
import { bootstrapAdminKey } from '../src/bootstrap-admin';
import { hashApiKey } from '../src/ids';
import { ApiKeyRepository } from '../src/store/api-key-repository';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const logger = pino({ level: 'silent' });

describe('bootstrapAdminKey', () => {
  let database: TestDatabase;
  let keys: ApiKeyRepository;
  beforeEach(async () => {
    database = await createTestDatabase();
    keys = new ApiKeyRepository(database.pool);
  });
  afterEach(async () => { await database.drop(); });

  it('generates the operator key once, prints it once, and keeps only its hash', async () => {
    const printed: string[] = [];
    await bootstrapAdminKey(keys, undefined, logger, (text) => printed.push(text));
    await bootstrapAdminKey(keys, undefined, logger, (text) => printed.push(text));
    expect(printed).toHaveLength(1);
    const secret = /(zk_\S+)/.exec(printed[0]!)![1]!;
    expect(await keys.findLiveByHash(hashApiKey(secret))).toMatchObject({ tenantId: 'default', scopes: ['operator'] });
    const { rows } = await database.pool.query('SELECT count(*)::int AS n FROM api_keys');
    expect(rows[0].n).toBe(1);
  });

  it('installs ZUMIK_ADMIN_KEY on first start and keeps it on the next, printing nothing', async () => {
    const printed: string[] = [];
    const adminKey = 'zk_operator-chosen-admin-key-0123456789';
    await bootstrapAdminKey(keys, adminKey, logger, (text) => printed.push(text));
    await bootstrapAdminKey(keys, adminKey, logger, (text) => printed.push(text));
    expect(printed).toEqual([]);
    expect(await keys.findLiveByHash(hashApiKey(adminKey))).toMatchObject({ scopes: ['operator'] });
    expect((await keys.list()).length).toBe(1);
  });

  it('generates an operator key even when tenant admin keys exist: a tenant admin is not the operator', async () => {
    await keys.create({ tenantId: 'acme', name: 'acme admin', scopes: ['admin'] });
    const printed: string[] = [];
    await bootstrapAdminKey(keys, undefined, logger, (text) => printed.push(text));
    expect(printed).toHaveLength(1);
    expect(await keys.hasLiveOperatorKey()).toBe(true);
  });

  it('does not resurrect a configured admin key that an operator revoked', async () => {
    const adminKey = 'zk_operator-chosen-admin-key-revoked-01';
    await bootstrapAdminKey(keys, adminKey, logger);
    const [record] = await keys.list();
    await keys.revoke(record!.id);
    await bootstrapAdminKey(keys, adminKey, logger);
    expect(await keys.findLiveByHash(hashApiKey(adminKey))).toBeUndefined();
  });
});

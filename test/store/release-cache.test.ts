import { ReleaseCache } from '../../src/store/hot-config';
import { ModelAliasRepository } from '../../src/store/model-alias-repository';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const targets = (model: string) => [{ execution_profile: 'managed_provider' as const, provider: 'openai', model, model_revision: '1', weight: 1 }];

describe('ReleaseCache', () => {
  let database: TestDatabase;
  let aliases: ModelAliasRepository;
  beforeAll(async () => {
    database = await createTestDatabase();
    aliases = new ModelAliasRepository(database.pool);
  });
  afterAll(async () => { await database.drop(); });

  it("caches what each tenant resolves (its own release, else the shared one) and forgets an alias for every tenant at once", async () => {
    const cache = new ReleaseCache(aliases, 60_000);
    await aliases.install('cache.alias', { targets: targets('shared-1') });
    await aliases.install('cache.alias', { targets: targets('acme-1') }, 'acme');
    expect((await cache.get('acme', 'cache.alias'))?.targets[0]!.model).toBe('acme-1');
    expect((await cache.get('globex', 'cache.alias'))?.targets[0]!.model).toBe('shared-1');

    await aliases.install('cache.alias', { targets: targets('shared-2') });
    await aliases.install('cache.alias', { targets: targets('acme-2') }, 'acme');
    expect((await cache.get('globex', 'cache.alias'))?.targets[0]!.model).toBe('shared-1'); // cached until told
    cache.invalidate('cache.alias'); // what the zumik_config feed says: alias:<alias>, whoever owns the release
    expect((await cache.get('acme', 'cache.alias'))?.targets[0]!.model).toBe('acme-2');
    expect((await cache.get('globex', 'cache.alias'))?.targets[0]!.model).toBe('shared-2');
    expect(await cache.get('globex', 'no.such.alias')).toBeUndefined();
  });
});

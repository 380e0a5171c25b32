import fs from 'node:fs';
import { Pool } from 'pg';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

// An api and a worker process started together on a fresh database both run the migrations at start-up:
// one applies them, the others wait for it and find nothing left to do (none fails the start-up).
describe('migrations from several processes at once', () => {
  let database: TestDatabase;
  const pools: Pool[] = [];
  beforeAll(async () => { database = await createTestDatabase({ migrate: false }); });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await database?.drop();
  });

  it('one process applies them, the others wait and apply nothing', async () => {
    for (let index = 0; index < 4; index++) pools.push(new Pool({ connectionString: database.url, max: 2 }));
    const applied = await Promise.all(pools.map((pool) => migrate(pool)));
    const all = fs.readdirSync(MIGRATIONS_DIR).filter((name) => /\.(sql|js|ts)$/.test(name)).map((name) => name.replace(/\.[^.]+$/, '')).sort();
    expect(applied.filter((names) => names.length > 0)).toEqual([all]);
    expect(applied.filter((names) => names.length === 0)).toHaveLength(3);
    // This database's advisory locks only: other test files on the same server take their own meanwhile.
    const locks = await database.pool.query(`SELECT count(*)::int AS held FROM pg_locks
      WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    expect(locks.rows[0].held).toBe(0);
  });
});

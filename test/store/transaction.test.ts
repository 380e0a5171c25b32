/**
 * inTransaction on a real Postgres: the work's writes are committed when it returns, rolled back when
 * it throws (the error reaches the caller) or when it answers `rollback(value)`, and the client goes
 * back to the pool every time.
 */
import { inTransaction, rollback } from '../../src/store/transaction';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('inTransaction', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    await database.pool.query('CREATE TABLE notes (id text PRIMARY KEY)');
  });
  afterAll(async () => { await database.drop(); });

  const ids = async () => (await database.pool.query<{ id: string }>('SELECT id FROM notes ORDER BY id')).rows.map((row) => row.id);
  const expectAllClientsBack = () => {
    expect(database.pool.totalCount).toBeGreaterThan(0);
    expect(database.pool.idleCount).toBe(database.pool.totalCount);
  };

  it('commits the work and answers what it returned', async () => {
    const answer = await inTransaction(database.pool, async (client) => {
      await client.query("INSERT INTO notes (id) VALUES ('committed')");
      return 42;
    });
    expect(answer).toBe(42);
    expect(await ids()).toContain('committed');
    expectAllClientsBack();
  });

  it('rolls back when the work throws, and rethrows', async () => {
    await expect(inTransaction(database.pool, async (client) => {
      await client.query("INSERT INTO notes (id) VALUES ('thrown')");
      throw new Error('refused inside');
    })).rejects.toThrow('refused inside');
    expect(await ids()).not.toContain('thrown');
    expectAllClientsBack();
  });

  it('rolls back when the work answers rollback(value), and answers the value', async () => {
    const answer = await inTransaction<string>(database.pool, async (client) => {
      await client.query("INSERT INTO notes (id) VALUES ('rolled-back')");
      return rollback('not this time');
    });
    expect(answer).toBe('not this time');
    expect(await ids()).not.toContain('rolled-back');
    expectAllClientsBack();
  });

  it('rolls back a failed statement and leaves the pool usable (a released client, not a stuck one)', async () => {
    for (let round = 0; round < 15; round += 1) {
      await expect(inTransaction(database.pool, async (client) => {
        await client.query("INSERT INTO notes (id) VALUES ('duplicate')");
        await client.query("INSERT INTO notes (id) VALUES ('duplicate')");
      })).rejects.toThrow(/duplicate key/);
    }
    // More failures than the pool has clients (10): had any not been released, this would wait forever.
    expect(await ids()).not.toContain('duplicate');
    expectAllClientsBack();
  });
});

/**
 * One Postgres transaction on a client of the pool: BEGIN, the work, COMMIT; ROLLBACK when the work
 * throws (or when it asks for it with `rollback(value)`), and the client always goes back to the pool.
 * Every multi-statement write of the store layer goes through here, so none hand-writes that shape.
 */
import type { Pool, PoolClient } from 'pg';

/** What a transaction's work returns to end in ROLLBACK rather than COMMIT, still answering `value`. */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/** End the transaction in ROLLBACK and answer `value` (a refusal decided inside it, not an error). */
export const rollback = <T>(value: T): Rollback<T> => new Rollback(value);

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T | Rollback<T>>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    if (result instanceof Rollback) {
      await client.query('ROLLBACK');
      return result.value;
    }
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Applies the SQL migrations in src/store/migrations with node-pg-migrate (locked across processes, one transaction). */
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from '../project-root';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'src', 'store', 'migrations');
/** node-pg-migrate's own advisory lock id, so its CLI and Zumik still exclude each other. */
const MIGRATION_LOCK_ID = '7241865325823964';

export async function migrate(pool: Pool, logger?: Logger): Promise<string[]> {
  const client = await pool.connect();
  // Several processes start at once on one database (api + worker): wait for the lock, where node-pg-migrate's
  // own try-lock would fail the start-up with "Another migration is already running".
  let locked = false;
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_ID]);
    locked = true;
    const applied = await runner({
      dbClient: client,
      noLock: true,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'zumik_migrations',
      count: Infinity,
      singleTransaction: true,
      log: (message) => logger?.debug(message),
    });
    if (applied.length > 0) logger?.info({ migrations: applied.map((migration) => migration.name) }, 'database migrated');
    return applied.map((migration) => migration.name);
  } finally {
    const unlocked = locked ? await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_ID]).then(() => true, () => false) : true;
    client.release(!unlocked); // a client that may still hold the lock is destroyed, not pooled
  }
}

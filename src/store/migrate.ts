/** Applies the SQL migrations in src/store/migrations with node-pg-migrate (locked, one transaction). */
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from '../project-root';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'src', 'store', 'migrations');

export async function migrate(pool: Pool, logger?: Logger): Promise<string[]> {
  const client = await pool.connect();
  try {
    const applied = await runner({
      dbClient: client,
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
    client.release();
  }
}

/**
 * The Postgres connection: a `pg` pool on DATABASE_URL, or, when it is unset, a real PostgreSQL server
 * that Zumik starts itself in the data dir (embedded-postgres.ts): the same SQL, driver and server in
 * both modes.
 */
import { Pool, type PoolConfig } from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres } from './embedded-postgres';

export interface Database {
  pool: Pool;
  /** `embedded` when Zumik runs its own PostgreSQL server. */
  mode: 'external' | 'embedded';
  close(): Promise<void>;
}

export async function openDatabase(options: { databaseUrl?: string; dataDir: string; logger: Logger; poolSize?: number }): Promise<Database> {
  const poolConfig: PoolConfig = { max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 };
  if (options.databaseUrl) {
    const pool = new Pool({ ...poolConfig, connectionString: options.databaseUrl });
    pool.on('error', (error) => options.logger.error({ err: error }, 'idle Postgres client error'));
    return { pool, mode: 'external', close: () => pool.end() };
  }
  return openEmbedded(options.dataDir, options.logger, poolConfig);
}

/**
 * The embedded pool is smaller: the request path writes one statement per request and reads its
 * configuration from caches, and every connection is a server process of its own (bench/README.md
 * measured the whole tree's memory with three).
 */
const EMBEDDED_POOL_SIZE = 3;

async function openEmbedded(dataDir: string, logger: Logger, poolConfig: PoolConfig): Promise<Database> {
  const server = await startEmbeddedPostgres({ dataDir, logger });
  const pool = new Pool({ ...poolConfig, max: Math.min(poolConfig.max ?? EMBEDDED_POOL_SIZE, EMBEDDED_POOL_SIZE), connectionString: server.url });
  let closing = false;
  // pool.end() does not wait for the server to see its clients go: the server's shutdown may still tell
  // one of them it is terminated, which is no news while closing.
  pool.on('error', (error) => { if (!closing) logger.error({ err: error }, 'idle embedded Postgres client error'); });
  return {
    pool,
    mode: 'embedded',
    async close() {
      closing = true;
      await pool.end();
      await server.stop();
    },
  };
}

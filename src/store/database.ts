/**
 * The Postgres connection: a `pg` pool on DATABASE_URL, or, when it is unset, an embedded PGlite in
 * the data dir served over pglite-socket so that the same SQL and the same driver run in both modes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Pool, type PoolConfig } from 'pg';
import type { Logger } from 'pino';
import { freePorts } from '../net/free-ports';

export interface Database {
  pool: Pool;
  /** `embedded` when Zumik runs PGlite itself. */
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
 * The embedded database gets ONE pooled connection: pglite-socket serialises single protocol messages,
 * not whole extended-protocol queries, so two connections' Parse/Bind/Execute interleave and bind one
 * query's parameters into another's statement (wrong rows without an error; reproduced by
 * bench/repro/pglite-socket-interleave.ts). PGlite runs one query at a time anyway, so one connection
 * costs no parallelism; no repository holds a client while waiting for another.
 */
const EMBEDDED_POOL_SIZE = 1;

async function openEmbedded(dataDir: string, logger: Logger, poolConfig: PoolConfig): Promise<Database> {
  // Loaded lazily: production (DATABASE_URL set) never pays for the WASM build.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const directory = path.join(dataDir, 'pgdata');
  fs.mkdirSync(directory, { recursive: true });
  const db = await PGlite.create(directory);
  const [port] = await freePorts(1);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: EMBEDDED_POOL_SIZE + 1 });
  await server.start();
  const pool = new Pool({ ...poolConfig, max: EMBEDDED_POOL_SIZE, host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  pool.on('error', (error) => logger.error({ err: error }, 'idle embedded Postgres client error'));
  logger.info({ directory, port }, 'embedded Postgres (PGlite) started');
  return {
    pool,
    mode: 'embedded',
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}

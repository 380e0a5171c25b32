/**
 * A fresh database on the real local PostgreSQL for one test file: created with a unique name,
 * migrated, and dropped at the end. TEST_DATABASE_URL points at the server (default: local trust auth).
 */
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { migrate } from '../../src/store/migrate';

const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `zumik_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = withDatabase(serverUrl, name);
  const pool = new Pool({ connectionString: url, max: 10 });
  // The drop (WITH FORCE) ends any backend still closing after pool.end(): an idle client hears it as an error event.
  pool.on('error', () => undefined);
  if (options.migrate !== false) await migrate(pool);
  return {
    name, url, pool,
    async drop() {
      await pool.end();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root';

// The embedded database (a real PostgreSQL server Zumik starts in its data dir) in a plain node process,
// the built dist/ as `npm start` runs it. Concurrent parameterised queries and transactions, as the
// request path mixes them, must each get their own answer on its pool (three connections) (the PGlite it replaced
// interleaved the protocol messages of different connections and answered wrongly).
const script = `
  const { openDatabase } = require(${JSON.stringify(path.join(PROJECT_ROOT, 'dist', 'src', 'store', 'database.js'))});
  const pino = require('pino');
  (async () => {
    const db = await openDatabase({ dataDir: process.argv[1], logger: pino({ level: 'silent' }) });
    const pool = db.pool;
    await pool.query('CREATE TABLE kv (k text PRIMARY KEY, v integer NOT NULL)');
    await pool.query("INSERT INTO kv SELECT 'key' || i, i FROM generate_series(1, 100) AS i");
    const shapes = [
      async (i) => { const key = (i % 100) + 1; const { rows } = await pool.query('SELECT v FROM kv WHERE k = $1', ['key' + key]); return rows.length === 1 && rows[0].v === key; },
      async (i) => { const { rows } = await pool.query('SELECT $1::integer + $2::integer AS s', [i, 1]); return rows[0].s === i + 1; },
      async (i) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('UPDATE kv SET v = v WHERE k = $1', ['key' + ((i % 100) + 1)]);
          const { rows } = await client.query('SELECT v FROM kv WHERE k = $1', ['key' + ((i % 100) + 1)]);
          await client.query('COMMIT');
          return rows.length === 1 && rows[0].v === (i % 100) + 1;
        } catch (error) { await client.query('ROLLBACK').catch(() => undefined); throw error; } finally { client.release(); }
      },
    ];
    let right = 0, wrong = 0, failed = 0;
    await Promise.all(Array.from({ length: 600 }, (_u, i) => shapes[i % shapes.length](i).then((ok) => { if (ok) right++; else wrong++; }, () => { failed++; })));
    const pool10 = pool.options.max;
    process.stdout.write(JSON.stringify({ right, wrong, failed, pool: pool10 }));
    await db.close();
  })().catch((error) => { console.error(error); process.exit(1); });`;

describe('openDatabase (embedded PostgreSQL server)', () => {
  it('answers concurrent parameterised queries and transactions correctly', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-embedded-'));
    try {
      const result = spawnSync(process.execPath, ['-e', script, dataDir], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 90_000 });
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual({ right: 600, wrong: 0, failed: 0, pool: 3 });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('keeps its data across restarts, and a server left behind by a killed process does not block the next start', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-embedded-'));
    const run = (code: string) => spawnSync(process.execPath, ['-e', `
      const { openDatabase } = require(${JSON.stringify(path.join(PROJECT_ROOT, 'dist', 'src', 'store', 'database.js'))});
      const pino = require('pino');
      (async () => { const db = await openDatabase({ dataDir: process.argv[1], logger: pino({ level: 'silent' }) }); ${code} })()
        .catch((error) => { console.error(error); process.exit(1); });`, dataDir], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
    try {
      const first = run(`await db.pool.query('CREATE TABLE kept (v text)'); await db.pool.query("INSERT INTO kept VALUES ('hello')"); await db.close();`);
      expect(first.stderr).toBe('');
      // A process killed without closing: its server keeps running on the data dir.
      const killed = run(`process.stdout.write(String((await db.pool.query('SELECT pg_backend_pid()')).rows.length)); process.kill(process.pid, 'SIGKILL');`);
      expect(killed.signal).toBe('SIGKILL');
      const pidFile = path.join(dataDir, 'postgres', 'data', 'postmaster.pid');
      const orphan = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
      expect(() => process.kill(orphan, 0)).not.toThrow();
      const third = run(`process.stdout.write(JSON.stringify((await db.pool.query('SELECT v FROM kept')).rows)); await db.close();`);
      expect(third.stderr).toBe('');
      expect(JSON.parse(third.stdout)).toEqual([{ v: 'hello' }]);
      expect(() => process.kill(orphan, 0)).toThrow(); // the leftover was stopped, not left beside a second server
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

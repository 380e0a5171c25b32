#!/usr/bin/env node
/**
 * Reproduces the failure `npm run bench` found in Zumik's embedded-Postgres mode: node-postgres
 * sends a parameterised query as several protocol messages (Parse, Bind, Describe, Execute, Sync);
 * @electric-sql/pglite-socket 0.2.17 serialises *messages*, not message sequences, across its
 * connections, so with a `pg` pool of more than one connection another connection's Parse/Sync can
 * land between them. Seen as errors (34000 portal/26000 statement does not exist, 08P01 bind
 * parameter count, 22P02 a parameter of the wrong type) and as silently wrong results.
 *
 *   node dist/bench/repro/pglite-socket-interleave.js [poolSize=10] [queries=3000]
 * Prints counts of right answers, wrong answers and errors by code; exits 1 when anything went wrong.
 */
import net from 'node:net';
import { Pool } from 'pg';

async function main(): Promise<void> {
  const poolSize = Number(process.argv[2] ?? 10);
  const total = Math.min(100_000, Number(process.argv[3] ?? 3000));
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(); // in memory
  const port = await freePort();
  // The same settings as src/store/database.ts (embedded mode): maxConnections = pool size + 2.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: poolSize + 2 });
  await server.start();
  // Client-side timeouts keep the run bounded if the server stops answering.
  const pool = new Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: poolSize, query_timeout: 5_000, connectionTimeoutMillis: 5_000 });
  // Zumik's pool logs these; here they are counted (an error message that reached a connection with no query running).
  let idleClientErrors = 0;
  pool.on('error', () => { idleClientErrors += 1; });
  try {
    await pool.query('CREATE TABLE kv (k text PRIMARY KEY, v integer NOT NULL)');
    await pool.query('INSERT INTO kv SELECT \'key\' || i, i FROM generate_series(1, 100) AS i');
    // Statement shapes with different parameter counts and types, and a transaction, as Zumik's request path mixes them.
    const shapes = [
      async (i: number) => {
        const key = (i % 100) + 1;
        const { rows } = await pool.query<{ v: number }>('SELECT v FROM kv WHERE k = $1', [`key${key}`]);
        return rows.length === 1 && rows[0]!.v === key;
      },
      async (i: number) => {
        const { rows } = await pool.query<{ s: number }>('SELECT $1::integer + $2::integer AS s', [i, 1]);
        return rows.length === 1 && rows[0]!.s === i + 1;
      },
      async (i: number) => {
        const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM kv WHERE k = ANY($1::text[])', [[`key${(i % 100) + 1}`, 'nope']]);
        return rows.length === 1 && Number(rows[0]!.n) === 1;
      },
      // A short transaction on one pooled client, as RequestRepository.record does after each request.
      async (i: number) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('UPDATE kv SET v = v WHERE k = $1', [`key${(i % 100) + 1}`]);
          const { rows } = await client.query<{ v: number }>('SELECT v FROM kv WHERE k = $1', [`key${(i % 100) + 1}`]);
          await client.query('COMMIT');
          return rows.length === 1 && rows[0]!.v === (i % 100) + 1;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
    ];
    let right = 0;
    let wrong = 0;
    const errors: Record<string, number> = {};
    const examples = new Set<string>();
    const report = () => {
      const failed = wrong + Object.values(errors).reduce((sum, count) => sum + count, 0);
      console.log(JSON.stringify({ poolSize, queries: right + failed, right, wrongResults: wrong, errors, idleClientErrors, examples: [...examples] }, null, 2));
      return failed + idleClientErrors;
    };
    const watchdog = setTimeout(() => { console.log('gave up after 90 s (the server stopped answering):'); report(); process.exit(1); }, 90_000);
    const deadline = Date.now() + 60_000;
    for (let start = 0; start < total && Date.now() < deadline; start += 50) {
      await Promise.all(Array.from({ length: Math.min(50, total - start) }, async (_unused, offset) => {
        const i = start + offset;
        try {
          if (await shapes[i % shapes.length]!(i)) right += 1;
          else wrong += 1;
        } catch (error) {
          const code = (error as { code?: string }).code ?? (error as Error).message.slice(0, 40);
          errors[code] = (errors[code] ?? 0) + 1;
          if (examples.size < 6) examples.add(`${code}: ${(error as Error).message}`);
        }
      }));
    }
    clearTimeout(watchdog);
    process.exitCode = report() > 0 ? 1 : 0;
  } finally {
    await pool.end().catch(() => undefined);
    await server.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});

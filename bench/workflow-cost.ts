/**
 * What one request costs the workflow thread and PostgreSQL, measured in isolation (issue 16): two
 * micro-benchmarks that stay meaningful on a busy machine, unlike the whole-path bench.
 *
 * - **workflow**: replays a stored history of the happy path (`test/fixtures/histories/v4-canary.json`: one
 *   local attempt, one upsert, completed) `BENCH_REPLAYS` times through the SDK's replay worker, which runs
 *   workflow code in the same reusable V8 context as a live worker, and reports CPU per workflow and the
 *   number of promises workflow code created per workflow. Every such promise goes through the SDK's
 *   stack-trace promise hook (`@temporalio/worker` vm-shared: a stack captured and formatted per promise).
 *   `BENCH_BUNDLE` picks another bundle to compare (default `dist/workflow-bundle.js`).
 * - **record**: the request record (`RequestRepository.record`) `BENCH_RECORDS` times on one connection to the
 *   PostgreSQL at `BENCH_POSTGRES_URL`, in a database of its own, as named (prepared once per connection)
 *   and as unnamed statements; reports wall time and the backend's CPU (from /proc) per record.
 * - **codec**: the payload codec's share of one request on the front door's main thread: the nine codec
 *   operations a happy-path request makes (six seals: the workflow input and its static summary, the local
 *   attempt's arguments, summary and result, the workflow result; three opens: the input, the arguments and the
 *   result, each sealed by the same process), with the payloads of the stored history, `BENCH_CODEC_REQUESTS`
 *   times: opening through the sealed cache (what a live process does) and by decryption (the codec before it).
 *
 * `npm run build && node dist/bench/workflow-cost.js [workflow|record|codec]` (all by default).
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { Pool, type QueryConfig } from 'pg';
import { PROJECT_ROOT } from '../src/project-root';
import { migrate } from '../src/store/migrate';
import { RequestRepository } from '../src/store/request-repository';
import { EncryptionCodec } from '../src/temporal/payload-codec';
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import type { RequestOutcome } from '../src/domain/request-outcome';

const HISTORY = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories', 'v4-canary.json');

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

async function workflowCost(): Promise<void> {
  const bundle = process.env.BENCH_BUNDLE ?? path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
  const replays = Number(process.env.BENCH_REPLAYS ?? 600);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const history = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(HISTORY, 'utf8')));
  // Promises made in a workflow's context are instances of the sandbox's Promise, not this realm's.
  let promises = 0;
  const stopHook = v8.promiseHooks.createHook({ init: (promise) => { if (promise.constructor !== Promise) promises += 1; } });
  async function* histories(n: number) {
    for (let i = 0; i < n; i += 1) yield { workflowId: `replay-${i}`, history };
  }
  const options = { workflowBundle: { codePath: bundle } };
  const run = async (n: number) => {
    for await (const result of Worker.runReplayHistories(options, histories(n))) if (result.error) throw result.error;
  };
  await run(50); // warm-up: the worker thread, the context, the JIT
  const rounds: { cpu: number; wall: number }[] = [];
  promises = 0;
  for (let round = 0; round < 3; round += 1) {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    await run(replays);
    rounds.push({ cpu: cpuMs(process.cpuUsage(cpu)) / replays, wall: (performance.now() - wall) / replays });
  }
  stopHook();
  const best = rounds.reduce((a, b) => (a.cpu <= b.cpu ? a : b));
  console.log(`workflow: ${path.relative(PROJECT_ROOT, bundle)}, ${replays} replays × 3 rounds of ${path.basename(HISTORY)}`);
  console.log(`  CPU per workflow, best round ${best.cpu.toFixed(2)} ms (rounds ${rounds.map((r) => r.cpu.toFixed(2)).join(', ')}); wall ${best.wall.toFixed(2)} ms`);
  console.log(`  promises created by workflow code: ${(promises / (3 * replays)).toFixed(1)} per workflow`);
}

/** A PostgreSQL backend's CPU so far (utime + stime from /proc, in USER_HZ = 100 ticks a second). */
function backendCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function recordCost(): Promise<void> {
  const url = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const records = Number(process.env.BENCH_RECORDS ?? 2000);
  const history = JSON.parse(fs.readFileSync(HISTORY, 'utf8')) as { events: { markerRecordedEventAttributes?: { details: { result: { payloads: { data: string }[] } } } }[] };
  const marker = history.events.find((event) => event.markerRecordedEventAttributes)!.markerRecordedEventAttributes!;
  const answered = JSON.parse(Buffer.from(marker.details.result.payloads[0]!.data, 'base64').toString()) as { outcome: RequestOutcome; attempt: RequestOutcome['attempts'][number] };
  const outcome: RequestOutcome = { ...answered.outcome, attempts: [answered.attempt] };
  const admin = new Pool({ connectionString: url, max: 1 });
  const database = `zumik_bench_record_${process.pid}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const target = new URL(url);
  target.pathname = `/${database}`;
  const pool = new Pool({ connectionString: target.toString(), max: 1 });
  try {
    await migrate(pool);
    const backend = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    // Unnamed: the same statement with its name taken off, as the repository sent it before.
    const unnamed = new Pool({ connectionString: target.toString(), max: 1 });
    const unnamedBackend = (await unnamed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const stripName = { query: (config: QueryConfig) => unnamed.query({ text: config.text, values: config.values }) } as unknown as Pool;
    const variants: [string, RequestRepository, number][] = [
      ['named (prepared once per connection)', new RequestRepository(pool), backend],
      ['unnamed (parsed and planned every time)', new RequestRepository(stripName), unnamedBackend],
    ];
    console.log(`record: ${records} records per variant and round, one connection, ${target.host}`);
    for (let round = 0; round < 2; round += 1) {
      for (const [label, repository, pid] of variants) {
        const cpu = backendCpuMs(pid);
        const wall = performance.now();
        for (let i = 0; i < records; i += 1) {
          await repository.record({ outcome: { ...outcome, id: `req_bench_${round}_${label.length}_${i}` }, apiKeyId: 'key_bench', receivedAt: Date.now(), endedAt: Date.now() });
        }
        const used = backendCpuMs(pid) - cpu;
        console.log(`  round ${round + 1}, ${label}: ${((performance.now() - wall) / records).toFixed(3)} ms wall, ${(used / records).toFixed(3)} ms backend CPU per record`);
      }
    }
    await unnamed.end();
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  }
}

async function codecCost(): Promise<void> {
  const requests = Number(process.env.BENCH_CODEC_REQUESTS ?? 20_000);
  const events = (JSON.parse(fs.readFileSync(HISTORY, 'utf8')) as { events: Array<Record<string, any>> }).events;
  const payload = (encoded: { metadata: Record<string, string>; data: string }): Payload => ({
    metadata: Object.fromEntries(Object.entries(encoded.metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(encoded.data, 'base64'),
  });
  const input = payload(events[0]!.workflowExecutionStartedEventAttributes.input.payloads[0]);
  const result = payload(events[4]!.markerRecordedEventAttributes.details.result.payloads[0]);
  const summary = payload(events[4]!.userMetadata.summary);
  const completed = payload(events[6]!.workflowExecutionCompletedEventAttributes.result.payloads[0]);
  // The attempt's arguments are about the input's size (the same body and decision, as the attempt's facts).
  const seals = [input, input, summary, result, completed, summary];
  console.log(`codec: ${requests} requests of ${seals.length} seals and 3 opens (payloads of ${path.basename(HISTORY)}: ${seals.map((sealed) => sealed.data!.length).join(', ')} bytes)`);
  for (let round = 0; round < 3; round += 1) {
    for (const cached of [true, false]) {
      const key = randomBytes(32);
      const codec = new EncryptionCodec(key);
      // Without the cache: a codec of the same key that did not seal them decrypts (the work of every open before the cache).
      const opener = cached ? codec : new EncryptionCodec(key);
      const cpu = process.cpuUsage();
      for (let i = 0; i < requests; i += 1) {
        const sealed = seals.map((plain) => codec.encrypt(plain));
        for (const index of [0, 1, 3]) opener.decrypt(sealed[index]!);
      }
      const used = cpuMs(process.cpuUsage(cpu));
      console.log(`  round ${round + 1}, ${cached ? 'sealed cache' : 'decrypting  '}: ${(used * 1000 / requests).toFixed(1)} µs of CPU per request `
        + `(opens: ${opener.opens.cached} cached, ${opener.opens.decrypted} decrypted)`);
    }
  }
}

const which = process.argv[2];
(async () => {
  if (!which || which === 'workflow') await workflowCost();
  if (!which || which === 'record') await recordCost();
  if (!which || which === 'codec') await codecCost();
  process.exit(0);
})().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

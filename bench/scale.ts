#!/usr/bin/env node
/**
 * `npm run bench:scale` (= `node dist/bench/scale.js`): Zumik scaled out as in production, on this
 * machine — the full Temporal server on PostgreSQL (built once by scripts/install-temporal-server.js,
 * schema set up by its SQL tool), one `zumik --role api` and 1, 2, 4 `zumik --role worker` processes on
 * the Redis stream bus, the OpenAI emulator upstream — measuring for each worker count: throughput at a
 * fixed concurrency (plain and streamed), latency, and CPU per request by component (API, workers,
 * Temporal server, Temporal's and Zumik's PostgreSQL backends, the emulator), and which component used
 * the most CPU (where the limit is). Writes bench/results/scale-<run>.json and .md. See bench/README.md.
 *
 * Flags: --workers 1,2,4   --concurrency <n> (default 10 × cores)   --duration-s 15   --warmup-s 3
 *        --shards 4 (numHistoryShards)   --quick (a short smoke run; numbers not meaningful)
 * Env:   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres: trust auth, may create databases),
 *        BENCH_REDIS_URL (redis://127.0.0.1:6379), ZUMIK_TEMPORAL_BIN (the CLI, for `operator namespace create`).
 * Every loop is bounded; every child is stopped (process groups) on any exit; traffic stays on 127.0.0.1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { PROJECT_ROOT } from '../src/project-root';
import { freePorts, freeStablePorts } from '../src/net/free-ports';
import { findTemporalBinary } from '../src/temporal/temporal-binary';
import { closedLoop, type Target, type ThroughputResult } from './lib/load';
import { delay, killAllNow, machineCpu, processesMatching, processTree, round, startProcess, stopAll, stopProcess, TreeMonitor, type Supervised } from './lib/proc';

const TEMPORAL_VERSION = 'v1.29.1';
const TOOLS = path.join(PROJECT_ROOT, '.tools', 'bin');
const ZUMIK_MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
const EMULATOR_KEY = 'sk-bench-scale';
const ALIAS = 'bench.scale';
const UPSTREAM_MODEL = 'gpt-4o-mini';
/** Zumik's pg pool per process (src/store/database.ts) and the Temporal server's SQL pool (its config below). */
const ZUMIK_POOL = 10;
const TEMPORAL_MAX_CONNS = 20;

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}
const quick = process.argv.includes('--quick');
const SETTINGS = {
  workers: flag('workers', '1,2,4').split(',').map(Number).filter((count) => Number.isInteger(count) && count > 0 && count <= 64),
  concurrency: Number(flag('concurrency', String(10 * os.cpus().length))),
  durationS: Number(flag('duration-s', quick ? '4' : '15')),
  warmupS: Number(flag('warmup-s', quick ? '1' : '3')),
  shards: Number(flag('shards', '4')),
};

interface Row {
  workers: number;
  mode: 'plain' | 'stream';
  result: ThroughputResult;
  /** CPU ms per successful request, by component. */
  cpuPerRequestMs: Record<string, number>;
  /** Cores each component used on average over the window. */
  coresUsed: Record<string, number>;
  machineBusyPct: number;
  limit: string;
}

async function main(): Promise<void> {
  const run = new Date().toISOString().replace(/[:.]/g, '-');
  const logDir = path.join(PROJECT_ROOT, 'bench', 'results', `scale-${run}`);
  fs.mkdirSync(logDir, { recursive: true });
  const log = (message: string) => console.log(`[bench:scale] ${message}`);
  log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, load ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}; settings ${JSON.stringify(SETTINGS)}`);

  // 1. The full Temporal server and its SQL tool, built once (several minutes the first time).
  const install = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'install-temporal-server.js')], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('scripts/install-temporal-server.js failed');

  const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const id = randomBytes(3).toString('hex');
  const databases = { temporal: `temporal_scale_${id}`, visibility: `temporal_scale_${id}_vis`, zumik: `zumik_scale_${id}` };
  const cleanups: Array<() => Promise<void>> = [];
  const rows: Row[] = [];
  try {
    // 2. Databases: Temporal's two (schema by temporal-sql-tool, from the module's own schema files) and Zumik's.
    for (const name of Object.values(databases)) await pgAdmin(adminUrl, `CREATE DATABASE ${name}`);
    cleanups.push(async () => { for (const name of Object.values(databases)) await pgAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined); });
    const pg = new URL(adminUrl);
    const schemaRoot = path.join(execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim(), `go.temporal.io/server@${TEMPORAL_VERSION}`, 'schema', 'postgresql', 'v12');
    for (const [database, schema] of [[databases.temporal, 'temporal'], [databases.visibility, 'visibility']] as const) {
      const sql = (...args: string[]) => execFileSync(path.join(TOOLS, 'temporal-sql-tool'), [
        '--plugin', 'postgres12', '--ep', pg.hostname, '-p', pg.port || '5432', '-u', decodeURIComponent(pg.username || 'postgres'),
        ...(pg.password ? ['--pw', decodeURIComponent(pg.password)] : []), '--db', database, ...args], { stdio: 'pipe' });
      sql('setup-schema', '-v', '0.0');
      sql('update-schema', '-d', path.join(schemaRoot, schema, 'versioned'));
    }
    log(`Temporal schema set up in ${databases.temporal} and ${databases.visibility}`);

    // 3. The Temporal server (frontend, history, matching, worker in one process), on those databases.
    // Temporal keeps membership ports in a smallint column: every port of the server below 32768.
    const ports = await freeStablePorts(10);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-scale-temporal-'));
    cleanups.push(async () => fs.rmSync(root, { recursive: true, force: true }));
    fs.mkdirSync(path.join(root, 'config', 'dynamicconfig'), { recursive: true });
    fs.writeFileSync(path.join(root, 'config', 'dynamicconfig', 'scale.yaml'), [
      'system.enableActivityEagerExecution:', '  - value: true', 'limit.maxIDLength:', '  - value: 255', '',
    ].join('\n'));
    fs.writeFileSync(path.join(root, 'config', 'scale.yaml'), temporalConfig({ root, ports, pg, databases, shards: SETTINGS.shards }));
    const server = startProcess('temporal-server', path.join(TOOLS, 'temporal-server'), ['--root', root, '--config', 'config', '--env', 'scale', '--allow-no-auth', 'start'], {
      cwd: root, env: { PATH: process.env.PATH ?? '' }, logFile: path.join(logDir, 'temporal-server.log'),
    });
    cleanups.push(() => stopProcess(server, 10_000));
    server.monitor = TreeMonitor.ofTree(server.pid);
    const temporalAddress = `127.0.0.1:${ports[0]}`;
    await waitForTemporal(temporalAddress, server);
    execFileSync(findTemporalBinary(process.env.ZUMIK_TEMPORAL_BIN), ['operator', 'namespace', 'create', '-n', 'default', '--retention', '24h', '--address', temporalAddress], { stdio: 'pipe' });
    log(`Temporal server ${TEMPORAL_VERSION} on ${temporalAddress}: ${SETTINGS.shards} history shards, SQL pool ${TEMPORAL_MAX_CONNS}`);

    // 4. The upstream: the OpenAI emulator in a process of its own.
    const emulator = startProcess('emulator', process.execPath, [path.join(__dirname, 'emulator-process.js')], {
      cwd: PROJECT_ROOT, logFile: path.join(logDir, 'emulator.log'),
      env: { PATH: process.env.PATH ?? '', BENCH_EMULATOR_KEY: EMULATOR_KEY, BENCH_EVENT_INTERVAL_MS: '10' },
    });
    cleanups.push(() => stopProcess(emulator, 3_000));
    const upstream = JSON.parse((await emulator.waitForLine(/^\{"ready":true.*\}$/, 20_000))[0]) as { baseUrl: string };
    emulator.monitor = TreeMonitor.ofTree(emulator.pid);

    // 5. For each worker count: one API process and N workers on a fresh task queue, measured plain and streamed.
    const adminKey = `zk_bench_${randomBytes(16).toString('hex')}`;
    const common = {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', DATABASE_URL: withDatabase(adminUrl, databases.zumik),
      TEMPORAL_ADDRESS: temporalAddress, ZUMIK_STREAM_BUS: redisUrl, ZUMIK_ADMIN_KEY: adminKey, ZUMIK_MASTER_KEY: randomBytes(32).toString('base64url'),
      OPENAI_API_KEY: EMULATOR_KEY, OPENAI_BASE_URL: upstream.baseUrl, ZUMIK_LOG_LEVEL: 'warn', ZUMIK_DATA_DIR: path.join(root, 'zumik'),
    };
    for (const workers of SETTINGS.workers) {
      const taskQueue = `scale-${id}-${workers}`;
      const [apiPort, ...workerPorts] = await freePorts(workers + 1);
      const api = startProcess('api', process.execPath, [ZUMIK_MAIN, '--role', 'api'], {
        cwd: PROJECT_ROOT, logFile: path.join(logDir, `api-${workers}.log`), env: { ...common, PORT: String(apiPort), ZUMIK_TASK_QUEUE: taskQueue },
      });
      const workerProcesses = workerPorts.map((port, index) => startProcess(`worker-${index}`, process.execPath, [ZUMIK_MAIN, '--role', 'worker'], {
        cwd: PROJECT_ROOT, logFile: path.join(logDir, `worker-${workers}-${index}.log`), env: { ...common, PORT: String(port), ZUMIK_TASK_QUEUE: taskQueue },
      }));
      const zumikProcesses = [api, ...workerProcesses];
      try {
        for (const [index, proc] of zumikProcesses.entries()) await waitHttp(`http://127.0.0.1:${[apiPort, ...workerPorts][index]}/readyz`, 120_000, proc);
        const origin = `http://127.0.0.1:${apiPort}`;
        const headers = { authorization: `Bearer ${adminKey}` };
        const installed = await fetch(`${origin}/v2/model-aliases/${ALIAS}`, {
          method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000),
          body: JSON.stringify({ targets: [{ execution_profile: 'managed_provider', provider: 'openai', model: UPSTREAM_MODEL, model_revision: '2024-07-18', weight: 1 }] }),
        });
        if (installed.status !== 200) throw new Error(`PUT /v2/model-aliases/${ALIAS}: ${installed.status} ${await installed.text()}`);
        const target: Target = { name: `zumik-${workers}w`, origin, path: '/v1/chat/completions', headers, model: ALIAS };
        await closedLoop(target, { concurrency: SETTINGS.concurrency, durationMs: SETTINGS.warmupS * 1000 });
        const monitors: Record<string, TreeMonitor> = {
          api: TreeMonitor.ofTree(api.pid),
          workers: new TreeMonitor(() => workerProcesses.flatMap((proc) => processTree(proc.pid))),
          'temporal server': server.monitor!,
          'postgres (temporal)': new TreeMonitor(() => [...processesMatching(` ${databases.temporal} `), ...processesMatching(` ${databases.visibility} `)]),
          'postgres (zumik)': new TreeMonitor(() => processesMatching(` ${databases.zumik} `)),
          emulator: emulator.monitor!,
        };
        for (const mode of ['plain', 'stream'] as const) {
          const before = Object.fromEntries(Object.entries(monitors).map(([name, monitor]) => [name, monitor.sample().cpuMs]));
          const machineBefore = machineCpu();
          const result = await closedLoop(target, { concurrency: SETTINGS.concurrency, durationMs: SETTINGS.durationS * 1000, stream: mode === 'stream' });
          const machineAfter = machineCpu();
          const used = Object.fromEntries(Object.entries(monitors).map(([name, monitor]) => [name, monitor.sample().cpuMs - before[name]!]));
          const cpuPerRequestMs = Object.fromEntries(Object.entries(used).map(([name, ms]) => [name, round(ms / Math.max(1, result.ok), 2)]));
          const coresUsed = Object.fromEntries(Object.entries(used).map(([name, ms]) => [name, round(ms / result.wallMs, 2)]));
          const limit = Object.entries(coresUsed).sort(([, a], [, b]) => b - a)[0]![0];
          const machineBusyPct = round((100 * (machineAfter.busyMs - machineBefore.busyMs)) / Math.max(1, machineAfter.totalMs - machineBefore.totalMs), 0);
          rows.push({ workers, mode, result, cpuPerRequestMs, coresUsed, machineBusyPct, limit });
          log(`${workers} worker(s), ${mode}: ${round(result.rps, 1)} req/s, p50 ${round(result.latencyMs.p50)} ms, p99 ${round(result.latencyMs.p99)} ms, `
            + `errors ${result.errors.count}, CPU/request ${JSON.stringify(cpuPerRequestMs)}, machine ${machineBusyPct} % busy, most CPU: ${limit}`);
        }
        for (const name of ['workers', 'postgres (temporal)', 'postgres (zumik)']) monitors[name]!.close();
        monitors.api!.close();
      } finally {
        // The drain under test elsewhere: SIGTERM, each process finishes what it has.
        await Promise.all(zumikProcesses.map((proc) => stopProcess(proc, 30_000)));
      }
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    await stopAll();
  }

  const report = renderReport(rows);
  fs.writeFileSync(path.join(logDir, '..', `scale-${run}.json`), JSON.stringify({ settings: SETTINGS, machine: { cpus: os.cpus().length, loadAverage: os.loadavg() }, rows }, null, 2));
  fs.writeFileSync(path.join(logDir, '..', `scale-${run}.md`), report);
  console.log(`\n${report}`);
}

function renderReport(rows: Row[]): string {
  const components = rows[0] ? Object.keys(rows[0].cpuPerRequestMs) : [];
  const lines = [
    `Zumik scale-out on ${os.cpus().length} cores: 1 API process, N workers (Redis bus), Temporal server ${TEMPORAL_VERSION} on PostgreSQL `
      + `(${SETTINGS.shards} history shards, SQL pool ${TEMPORAL_MAX_CONNS}), Zumik pg pool ${ZUMIK_POOL} per process; concurrency ${SETTINGS.concurrency}, ${SETTINGS.durationS} s per phase.`,
    '',
    `| workers | mode | req/s | p50 ms | p90 ms | p99 ms | errors | ${components.map((name) => `CPU ms/req ${name}`).join(' | ')} | machine busy | most CPU |`,
    `|---|---|---|---|---|---|---|${components.map(() => '---').join('|')}|---|---|`,
    ...rows.map((row) => `| ${row.workers} | ${row.mode} | ${round(row.result.rps, 1)} | ${round(row.result.latencyMs.p50)} | ${round(row.result.latencyMs.p90)} | `
      + `${round(row.result.latencyMs.p99)} | ${row.result.errors.count} | ${components.map((name) => row.cpuPerRequestMs[name]).join(' | ')} | ${row.machineBusyPct} % | ${row.limit} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function temporalConfig(options: { root: string; ports: number[]; pg: URL; databases: { temporal: string; visibility: string }; shards: number }): string {
  const [frontend, frontendHttp, frontendMembership, history, historyMembership, matching, matchingMembership, worker, workerMembership, metrics] = options.ports;
  const store = (database: string, maxConns: number) => [
    '      sql:', '        pluginName: "postgres12"', `        databaseName: "${database}"`, `        connectAddr: "${options.pg.hostname}:${options.pg.port || '5432'}"`,
    '        connectProtocol: "tcp"', `        user: "${decodeURIComponent(options.pg.username || 'postgres')}"`, `        password: "${decodeURIComponent(options.pg.password)}"`,
    `        maxConns: ${maxConns}`, `        maxIdleConns: ${maxConns}`, '        maxConnLifetime: "1h"',
  ];
  const service = (name: string, grpc: number, membership: number, http?: number) => [
    `  ${name}:`, '    rpc:', `      grpcPort: ${grpc}`, `      membershipPort: ${membership}`, '      bindOnLocalHost: true', ...(http ? [`      httpPort: ${http}`] : []),
  ];
  return [
    'log:', '  stdout: true', '  level: warn',
    'persistence:', '  defaultStore: postgres-default', '  visibilityStore: postgres-visibility', `  numHistoryShards: ${options.shards}`, '  datastores:',
    '    postgres-default:', ...store(options.databases.temporal, TEMPORAL_MAX_CONNS), '    postgres-visibility:', ...store(options.databases.visibility, 4),
    'global:', '  membership:', '    maxJoinDuration: 30s', '    broadcastAddress: "127.0.0.1"',
    '  metrics:', '    prometheus:', '      framework: "tally"', '      timerType: "histogram"', `      listenAddress: "127.0.0.1:${metrics}"`,
    'services:', ...service('frontend', frontend!, frontendMembership!, frontendHttp), ...service('history', history!, historyMembership!),
    ...service('matching', matching!, matchingMembership!), ...service('worker', worker!, workerMembership!),
    'clusterMetadata:', '  enableGlobalNamespace: false', '  failoverVersionIncrement: 10', '  masterClusterName: "active"', '  currentClusterName: "active"',
    '  clusterInformation:', '    active:', '      enabled: true', '      initialFailoverVersion: 1', '      rpcName: "frontend"', `      rpcAddress: "127.0.0.1:${frontend}"`,
    'dcRedirectionPolicy:', '  policy: "noop"',
    'dynamicConfigClient:', `  filepath: "${path.join(options.root, 'config', 'dynamicconfig', 'scale.yaml')}"`, '  pollInterval: "10s"', '',
  ].join('\n');
}

async function waitForTemporal(address: string, server: Supervised): Promise<void> {
  for (let tries = 0; tries < 300; tries += 1) {
    if (server.child.exitCode !== null) throw new Error(`temporal-server exited:\n${server.tail()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch {
      await delay(200);
    }
  }
  throw new Error(`temporal-server did not answer on ${address}:\n${server.tail()}`);
}

async function waitHttp(url: string, timeoutMs: number, proc: Supervised): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.label} exited:\n${proc.tail()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch { /* not yet */ }
    await delay(200);
  }
  throw new Error(`${proc.label}: ${url} not ready within ${timeoutMs} ms:\n${proc.tail()}`);
}

async function pgAdmin(url: string, sql: string): Promise<void> {
  const client = new PgClient({ connectionString: url });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { killAllNow(); process.exit(130); });
main().catch((error: unknown) => {
  console.error(error);
  killAllNow();
  process.exit(1);
});

#!/usr/bin/env node
/**
 * `npm run bench` (= `node dist/bench/run.js`): Zumik's overhead over calling the provider directly,
 * beside the durable floor (../shared/floor), on this machine. Starts the OpenAI emulator and every
 * gateway as a real process — the floor, Zumik (`node dist/src/main.js` on its embedded defaults) and
 * Zumik on an external PostgreSQL — then measures them phase by phase, interleaved (so that whatever
 * else runs on the machine weighs on all alike): sequential latency, throughput at fixed concurrency
 * for a fixed time, streaming time to first content, CPU time and peak RSS of each gateway's process
 * tree, and the share of eagerly started workflows. Writes bench/results/<run>.json and .md.
 * See bench/README.md. Every loop is bounded; every child is killed (process groups) on any exit.
 *
 * Options (env): BENCH_SEQ_N (300), BENCH_STREAM_N (200), BENCH_DURATION_S (10), BENCH_CONCURRENCY
 * ("10,50"), BENCH_EVENT_INTERVAL_MS (10), BENCH_WARMUP_S (3), BENCH_TARGETS
 * ("direct,floor,audit,zumik,zumik-pg"; audit = the audit minimum, bench/audit-floor; zumik-plain (not by default) = Zumik without payload encryption; zumik-nometrics (not by default) = Zumik with ZUMIK_METRICS=off; zumik-cache (not by default) = Zumik answering from its response cache (`x-zumik-cache: use` on the bench's one body: the first request fills the entry, every later one is a hit, no workflow and no provider call); zumik-pg = Zumik with DATABASE_URL on BENCH_POSTGRES_URL's server,
 * skipped when none answers), BENCH_MAX_MINUTES (12), ZUMIK_TEMPORAL_BIN. `--quick`: a short smoke run
 * (numbers not meaningful). `--profile`: the gateways run under `node --cpu-prof` for the warm-up and
 * the c phases only, and the report adds where their JS threads spent the CPU (not for comparisons:
 * the profiler itself costs CPU).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/project-root';
import { findTemporalBinary } from '../src/temporal/temporal-binary';
import { closedLoop, sequential, streaming, type PhaseResult, type Target, type ThroughputResult, type StreamResult } from './lib/load';
import { Client as PgClient } from 'pg';
import {
  delay, killAllNow, machineCpu, processesMatching, round, startProcess, stopAll, stopProcess, TreeMonitor, type Supervised,
} from './lib/proc';
import { summarizeProfiles, type ProfileSummary } from './lib/profile';
import { renderMarkdown } from './lib/report';
import { inspectTemporal, type EagerReport, type PhaseWindow, type TimelineReport } from './lib/temporal-inspect';
import { freePorts } from '../src/net/free-ports';

const quick = process.argv.includes('--quick');
/** `--profile`: gateways run under `node --cpu-prof`; only warm-up and the c phases; a profile summary instead of the usual report. */
const profile = process.argv.includes('--profile');
const int = (name: string, fallback: number, quickValue: number) => {
  const value = process.env[name];
  if (value === undefined || value === '') return quick ? quickValue : fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  return parsed;
};

export const SETTINGS = {
  sequentialRequests: int('BENCH_SEQ_N', 300, 40),
  streamRequests: int('BENCH_STREAM_N', 200, 30),
  durationS: int('BENCH_DURATION_S', 10, 3),
  concurrency: (process.env.BENCH_CONCURRENCY ?? '10,50').split(',').map((value) => Number(value.trim())).filter((value) => value > 0 && value <= 500),
  eventIntervalMs: int('BENCH_EVENT_INTERVAL_MS', 10, 10),
  /** Pause after each request of the sequential and streaming phases (default 0: back to back). */
  thinkMs: int('BENCH_THINK_MS', 0, 0),
  warmupS: int('BENCH_WARMUP_S', 3, 1),
  targets: (process.env.BENCH_TARGETS ?? 'direct,floor,audit,zumik,zumik-pg').split(',').map((value) => value.trim()),
  maxMinutes: int('BENCH_MAX_MINUTES', 12, 6),
  quick,
  profile,
};

const FLOOR_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'floor');
/** The audit minimum: the floor plus the per-request audit's least (bench/audit-floor/server.mjs; run from source). */
const AUDIT_SERVER = path.join(PROJECT_ROOT, 'bench', 'audit-floor', 'server.mjs');
const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');
const ZUMIK_MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
const EMULATOR_KEY = 'sk-perf-floor'; // the floor sends this key upstream
const UPSTREAM_MODEL = 'gpt-4o-mini';
const ALIAS = 'bench.fast';
/** A PostgreSQL server for the `zumik-pg` variant (a database is created for the run and dropped after). */
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface CpuUse {
  wallMs: number;
  /** CPU time of the gateway's process tree, by process name, ms. */
  gatewayMs: number;
  gatewayByName: Record<string, number>;
  /** Per successful request, ms. */
  gatewayPerRequestMs: number | null;
  gatewayPerRequestByName: Record<string, number>;
  emulatorMs: number;
  loadGeneratorMs: number;
  /** Busy time of the whole machine minus all of the above: anything else running meanwhile, ms. */
  otherMs: number;
}

interface TargetResult {
  name: string;
  sequential?: PhaseResult & { cpu: CpuUse };
  throughput: Array<ThroughputResult & { cpu: CpuUse }>;
  streaming?: StreamResult & { cpu: CpuUse };
  idleCpuPercent?: number;
  startupMs?: number;
  peakRss?: ReturnType<TreeMonitor['peakRss']>;
  eager?: EagerReport;
  timeline?: TimelineReport;
  requestsSent: number;
  phases: PhaseWindow[];
  notes: string[];
  /** With --profile: where the gateway's JS threads spent their CPU. */
  profiles?: ProfileSummary[];
  /** Zumik: whether each closed request's record is in Postgres. */
  records?: RecordCheck;
}

interface Runtime {
  /** Sequential phase, by Zumik request id: when the bench sent it and got the answer (wall clock). */
  clientTimes: Map<string, { sentAt: number; answeredAt: number }>;
  /** With --profile: where `node --cpu-prof` writes this gateway's profiles. */
  profileDir?: string;
  target: Target;
  result: TargetResult;
  gateway?: Supervised;
  /** The gateway's PostgreSQL backends (external-database variant), whose CPU counts as the gateway's. */
  database?: { monitor: TreeMonitor; name: string };
  inspect?: { address: string; workflowType: string; knownPorts: number[]; records?: { origin: string; headers: Record<string, string> } };
}

interface RecordCheck {
  checked: number;
  /** recorded:<completion>:<reason_code>, not-recorded (the workflow closed but Postgres has no row), mismatch, http_<status>. */
  byKind: Record<string, number>;
  examples: string[];
}

/**
 * Did every closed request reach Postgres, intact? GET /v2/requests/{id} (served from the requests
 * table once recorded, else from the workflow) for each workflow, one at a time, within 60 s.
 */
async function checkRecords(where: { origin: string; headers: Record<string, string> }, workflowIds: string[]): Promise<RecordCheck> {
  const byKind: Record<string, number> = {};
  const examples: string[] = [];
  const note = (kind: string, example?: string) => {
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (example && examples.length < 5) examples.push(example);
  };
  const deadline = Date.now() + 60_000;
  let checked = 0;
  for (const workflowId of workflowIds) {
    if (Date.now() > deadline) break;
    const requestId = workflowId.split(':').at(-1)!;
    checked += 1;
    try {
      const response = await fetch(`${where.origin}/v2/requests/${requestId}`, { headers: where.headers, signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      if (response.status !== 200) { note(`http_${response.status}`, `${requestId}: ${text.slice(0, 200)}`); continue; }
      const body = JSON.parse(text) as { id?: string; alias?: string; status?: string; completion?: string | null; reason_code?: string };
      if (body.status === 'in_progress') note('not-recorded', `${requestId}: ${text.slice(0, 200)}`);
      else if (body.id !== requestId || body.alias !== ALIAS) note('mismatch', `${requestId}: ${text.slice(0, 200)}`);
      else note(`recorded:${body.completion ?? 'none'}:${body.reason_code ?? '?'}`);
    } catch (error) {
      note('error', `${requestId}: ${(error as Error).message}`);
    }
  }
  return { checked, byKind, examples };
}

async function main(): Promise<void> {
  const runStarted = Date.now();
  const runId = new Date(runStarted).toISOString().replace(/[:.]/g, '-');
  const logDir = path.join(RESULTS_DIR, runId);
  fs.mkdirSync(logDir, { recursive: true });
  const log = (message: string) => console.log(`[bench ${((Date.now() - runStarted) / 1000).toFixed(1).padStart(6)} s] ${message}`);
  log(`run ${runId}: ${JSON.stringify(SETTINGS)}; logs in ${path.relative(PROJECT_ROOT, logDir)}`);

  if (!fs.existsSync(ZUMIK_MAIN) || !fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js'))) {
    throw new Error('dist/ is incomplete: run `npm run build` first');
  }
  const temporalBin = findTemporalBinary(process.env.ZUMIK_TEMPORAL_BIN);
  if (SETTINGS.targets.includes('floor')) ensureFloorDependencies(log);
  const machine = machineInfo(temporalBin);
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.temporal}, load ${machine.loadAverage.join(' ')}`);

  const tempDirs: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const runtimes: Runtime[] = [];
  const skipped: string[] = [];
  try {
    const emulator = startProcess('emulator', process.execPath, [path.join(__dirname, 'emulator-process.js')], {
      cwd: PROJECT_ROOT, logFile: path.join(logDir, 'emulator.log'),
      env: { PATH: process.env.PATH ?? '', BENCH_EMULATOR_KEY: EMULATOR_KEY, BENCH_EVENT_INTERVAL_MS: String(SETTINGS.eventIntervalMs) },
    });
    cleanups.push(() => stopProcess(emulator, 3_000));
    const ready = await emulator.waitForLine(/^\{"ready":true.*\}$/, 20_000);
    const upstream = JSON.parse(ready[0]) as { url: string; baseUrl: string };
    emulator.monitor = TreeMonitor.ofTree(emulator.pid);
    log(`emulator on ${upstream.url} (eventIntervalMs ${SETTINGS.eventIntervalMs}, latencyMs 0)`);

    // ---- start every target (one at a time), then measure them phase by phase, interleaved ----
    const newResult = (name: string): TargetResult => ({ name, throughput: [], requestsSent: 0, phases: [], notes: [] });
    if (SETTINGS.targets.includes('direct')) {
      runtimes.push({ clientTimes: new Map(), target: { name: 'direct', origin: upstream.url, path: '/v1/chat/completions', headers: { authorization: `Bearer ${EMULATOR_KEY}` }, model: UPSTREAM_MODEL }, result: newResult('direct') });
    }
    if (SETTINGS.targets.includes('floor')) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-bench-floor-'));
      tempDirs.push(dataDir);
      const [port] = await freePorts(1);
      const started = Date.now();
      const floorProfileDir = path.join(logDir, 'profile-floor');
      const floor = startProcess('floor', process.execPath, [...profileArgs(floorProfileDir), path.join(FLOOR_DIR, 'server.mjs')], {
        cwd: FLOOR_DIR, logFile: path.join(logDir, 'floor.log'),
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), UPSTREAM: upstream.url, TEMPORAL_BIN: temporalBin, DATA_DIR: dataDir },
      });
      cleanups.push(() => stopProcess(floor));
      const line = await floor.waitForLine(/floor listening on (\d+), temporal on (\d+)/, 120_000);
      floor.monitor = TreeMonitor.ofTree(floor.pid);
      const origin = `http://127.0.0.1:${port}`;
      await waitHttp(`${origin}/`, 30_000, floor);
      const result = newResult('floor');
      result.startupMs = Date.now() - started;
      log(`floor ready in ${result.startupMs} ms (temporal on ${line[2]})`);
      runtimes.push({
        clientTimes: new Map(), profileDir: profile ? floorProfileDir : undefined,
        target: { name: 'floor', origin, path: '/v1/chat/completions', headers: {}, model: UPSTREAM_MODEL }, result, gateway: floor,
        inspect: { address: `127.0.0.1:${line[2]}`, workflowType: 'chat', knownPorts: [Number(line[2])] },
      });
    }
    if (SETTINGS.targets.includes('audit')) {
      // The audit minimum (bench/audit-floor): the floor plus only the per-request audit, on the machine's PostgreSQL.
      const databaseName = `zumik_bench_audit_${randomBytes(5).toString('hex')}`;
      try {
        await adminQuery(`CREATE DATABASE ${databaseName}`);
        cleanups.push(() => adminQuery(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).catch(() => undefined));
        const url = new URL(POSTGRES_URL);
        url.pathname = `/${databaseName}`;
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-bench-audit-'));
        tempDirs.push(dataDir);
        const [port] = await freePorts(1);
        const started = Date.now();
        const auditProfileDir = path.join(logDir, 'profile-audit');
        const audit = startProcess('audit', process.execPath, [...profileArgs(auditProfileDir), AUDIT_SERVER], {
          cwd: PROJECT_ROOT, logFile: path.join(logDir, 'audit.log'),
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), UPSTREAM: upstream.url, TEMPORAL_BIN: temporalBin, DATA_DIR: dataDir, DATABASE_URL: url.toString() },
        });
        cleanups.push(() => stopProcess(audit));
        const line = await audit.waitForLine(/audit minimum listening on (\d+), temporal on (\d+)/, 120_000);
        audit.monitor = TreeMonitor.ofTree(audit.pid);
        const origin = `http://127.0.0.1:${port}`;
        await waitHttp(`${origin}/`, 30_000, audit);
        const result = newResult('audit');
        result.startupMs = Date.now() - started;
        log(`audit minimum ready in ${result.startupMs} ms (temporal on ${line[2]})`);
        runtimes.push({
          clientTimes: new Map(), profileDir: profile ? auditProfileDir : undefined,
          target: { name: 'audit', origin, path: '/v1/chat/completions', headers: {}, model: UPSTREAM_MODEL }, result, gateway: audit,
          inspect: { address: `127.0.0.1:${line[2]}`, workflowType: 'chat', knownPorts: [Number(line[2])] },
        });
      } catch (error) {
        skipped.push(`audit: ${(error as Error).message}`);
        log(skipped.at(-1)!);
      }
    }
    for (const variant of ['zumik', 'zumik-plain', 'zumik-nometrics', 'zumik-pg', 'zumik-cache'] as const) {
      if (!SETTINGS.targets.includes(variant)) continue;
      let databaseUrl: string | undefined;
      let databaseName: string | undefined;
      if (variant === 'zumik-pg') {
        databaseName = `zumik_bench_${randomBytes(5).toString('hex')}`;
        try {
          await adminQuery(`CREATE DATABASE ${databaseName}`);
        } catch (error) {
          skipped.push(`zumik-pg: no PostgreSQL at ${redact(POSTGRES_URL)} (${(error as Error).message}); set BENCH_POSTGRES_URL`);
          log(skipped.at(-1)!);
          continue;
        }
        const name = databaseName;
        cleanups.push(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined));
        const url = new URL(POSTGRES_URL);
        url.pathname = `/${databaseName}`;
        databaseUrl = url.toString();
      }
      runtimes.push(await startZumikTarget(variant, upstream, temporalBin, logDir, tempDirs, cleanups, log, databaseUrl, databaseName));
    }

    const measurer = new Measurer(log, emulator.monitor);
    await measurer.idle(runtimes);
    for (const runtime of runtimes) await measurer.warmup(runtime);
    // --profile profiles the c phases; with BENCH_PROFILE_PHASE=streaming, the streaming phase instead.
    const profiled = process.env.BENCH_PROFILE_PHASE === 'streaming' ? ['streaming'] : SETTINGS.concurrency.map((level) => `c${level}`);
    const kinds = profile ? profiled : ['sequential', ...SETTINGS.concurrency.map((level) => `c${level}`), 'streaming'];
    for (const kind of kinds) {
      for (const runtime of runtimes) await measurer.phase(runtime, kind);
    }
    for (const runtime of runtimes) {
      if (runtime.gateway?.monitor) runtime.result.peakRss = runtime.gateway.monitor.peakRss();
      if (runtime.inspect && runtime.gateway && !profile) await inspect(runtime.result, runtime.gateway, runtime.inspect, runtime.clientTimes, log);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    await stopAll();
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  // The profiles are written when the gateways exit.
  for (const runtime of runtimes) {
    if (runtime.profileDir) runtime.result.profiles = summarizeProfiles(runtime.profileDir, PROJECT_ROOT);
  }

  const machineAfter = { loadAverage: os.loadavg().map((value) => round(value, 2)) };
  const results = runtimes.map((runtime) => runtime.result);
  const report = { runId, date: new Date(runStarted).toISOString(), durationS: round((Date.now() - runStarted) / 1000), settings: SETTINGS, machine, machineAfter, skipped, results };
  const jsonFile = path.join(RESULTS_DIR, `${runId}.json`);
  fs.writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report);
  fs.writeFileSync(path.join(RESULTS_DIR, `${runId}.md`), markdown);
  fs.copyFileSync(jsonFile, path.join(RESULTS_DIR, 'latest.json'));
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), markdown);
  console.log(`\n${markdown}`);
  log(`done: ${path.relative(PROJECT_ROOT, jsonFile)} and .md`);
}

async function startZumikTarget(name: 'zumik' | 'zumik-plain' | 'zumik-nometrics' | 'zumik-pg' | 'zumik-cache', upstream: { baseUrl: string }, temporalBin: string, logDir: string, tempDirs: string[],
  cleanups: Array<() => Promise<void>>, log: (message: string) => void, databaseUrl?: string, databaseName?: string): Promise<Runtime> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `zumik-bench-${name}-`));
  tempDirs.push(dataDir);
  const [port, temporalPort, uiPort] = await freePorts(3);
  const adminKey = `zk_bench_${randomBytes(16).toString('hex')}`;
  const started = Date.now();
  const profileDir = path.join(logDir, `profile-${name}`);
  const zumik = startProcess(name, process.execPath, [...profileArgs(profileDir), ZUMIK_MAIN], {
    cwd: PROJECT_ROOT, logFile: path.join(logDir, `${name}.log`),
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', ZUMIK_DATA_DIR: dataDir,
      ZUMIK_TEMPORAL_PORT: String(temporalPort), ZUMIK_TEMPORAL_UI_PORT: String(uiPort), ZUMIK_TEMPORAL_BIN: temporalBin,
      ZUMIK_ADMIN_KEY: adminKey, OPENAI_API_KEY: EMULATOR_KEY, OPENAI_BASE_URL: upstream.baseUrl, ZUMIK_LOG_LEVEL: 'warn',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      // zumik-plain: the embedded defaults without payload encryption, to measure what the codec costs.
      ...(name === 'zumik-plain' ? { ZUMIK_PAYLOAD_ENCRYPTION: 'off' } : {}),
      // zumik-nometrics: the embedded defaults without Prometheus metrics, to measure what they cost (issue 11).
      ...(name === 'zumik-nometrics' ? { ZUMIK_METRICS: 'off' } : {}),
    },
  });
  cleanups.push(() => stopProcess(zumik));
  zumik.monitor = TreeMonitor.ofTree(zumik.pid);
  const origin = `http://127.0.0.1:${port}`;
  await waitHttp(`${origin}/readyz`, 180_000, zumik);
  const result: TargetResult = { name, throughput: [], requestsSent: 0, phases: [], notes: [], startupMs: Date.now() - started };
  log(`${name} ready in ${result.startupMs} ms (temporal on ${temporalPort}${databaseName ? `, database ${databaseName}` : ', embedded PostgreSQL'})`);
  const headers = { authorization: `Bearer ${adminKey}` };
  const install = await fetch(`${origin}/v2/model-aliases/${ALIAS}`, {
    method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000),
    body: JSON.stringify({ targets: [{ execution_profile: 'managed_provider', provider: 'openai', model: UPSTREAM_MODEL, model_revision: '2024-07-18', weight: 1 }] }),
  });
  if (install.status !== 200) throw new Error(`${name}: PUT /v2/model-aliases/${ALIAS}: ${install.status} ${await install.text()}`);
  // zumik-cache: every request asks the response cache; hits start no workflow, so there is no history to inspect.
  const cache = name === 'zumik-cache';
  const runtime: Runtime = {
    clientTimes: new Map(), profileDir: profile ? profileDir : undefined,
    target: { name, origin, path: '/v1/chat/completions', headers: cache ? { ...headers, 'x-zumik-cache': 'use' } : headers, model: ALIAS }, result, gateway: zumik,
    ...(cache ? {} : { inspect: { address: `127.0.0.1:${temporalPort}`, workflowType: 'chatRequestWorkflow', knownPorts: [temporalPort!, uiPort!], records: { origin, headers } } }),
  };
  if (databaseName) {
    const marker = ` ${databaseName} `; // backend titles read "postgres: <user> <database> <client> <state>"
    const monitor = new TreeMonitor(() => processesMatching(marker), { intervalMs: 1_000, rescanEvery: 2 });
    cleanups.push(async () => monitor.close());
    runtime.database = { monitor, name: databaseName };
  }
  return runtime;
}

/** Runs the phases against one target, with CPU accounting around each. */
class Measurer {
  constructor(private readonly log: (message: string) => void, private readonly emulatorMonitor: TreeMonitor) {}

  /** Idle CPU of every gateway over the same 3 s. */
  async idle(runtimes: Runtime[]): Promise<void> {
    const before = runtimes.map((runtime) => this.snapshot(runtime));
    await delay(3_000);
    runtimes.forEach((runtime, index) => {
      if (!runtime.gateway) return;
      const cpu = this.cpuSince(before[index]!, runtime, 0);
      runtime.result.idleCpuPercent = round((cpu.gatewayMs / cpu.wallMs) * 100);
    });
  }

  async warmup(runtime: Runtime): Promise<void> {
    this.log(`${runtime.target.name}: warm-up`);
    await this.track(runtime, 'warmup-sequential', () => sequential(runtime.target, { count: 50, maxMs: 30_000 }));
    await this.track(runtime, 'warmup-c10', () => closedLoop(runtime.target, { concurrency: 10, durationMs: SETTINGS.warmupS * 1000 }));
    await settle(runtime);
  }

  async phase(runtime: Runtime, kind: string): Promise<void> {
    const { target, result } = runtime;
    const before = this.snapshot(runtime);
    if (kind === 'sequential') {
      this.log(`${target.name}: sequential × ${SETTINGS.sequentialRequests}`);
      const { samples, ...run } = await this.track(runtime, kind, () => sequential(target, { count: SETTINGS.sequentialRequests, maxMs: 60_000, thinkMs: SETTINGS.thinkMs }));
      for (const sample of samples) {
        if (sample.ok && sample.requestId && sample.sentAtEpochMs) runtime.clientTimes.set(sample.requestId, { sentAt: sample.sentAtEpochMs, answeredAt: sample.sentAtEpochMs + sample.ms });
      }
      await settle(runtime);
      result.sequential = { ...run, cpu: this.cpuSince(before, runtime, run.ok) };
      this.log(`${target.name}: sequential p50 ${run.latencyMs.p50} ms p99 ${run.latencyMs.p99} ms, errors ${run.errors.count}, other ${this.otherPercent(result.sequential.cpu)} % of a core`);
    } else if (kind === 'streaming') {
      this.log(`${target.name}: streaming × ${SETTINGS.streamRequests}`);
      const run = await this.track(runtime, kind, () => streaming(target, { count: SETTINGS.streamRequests, maxMs: 60_000, thinkMs: SETTINGS.thinkMs }));
      await settle(runtime);
      result.streaming = { ...run, cpu: this.cpuSince(before, runtime, run.ok) };
      this.log(`${target.name}: TTFT p50 ${run.ttftMs.p50} ms p99 ${run.ttftMs.p99} ms, errors ${run.errors.count}, other ${this.otherPercent(result.streaming.cpu)} % of a core`);
    } else {
      const concurrency = Number(kind.slice(1));
      this.log(`${target.name}: ${concurrency} clients × ${SETTINGS.durationS} s`);
      const run = await this.track(runtime, kind, () => closedLoop(target, { concurrency, durationMs: SETTINGS.durationS * 1000 }));
      await settle(runtime); // the bookkeeping that runs after the answers is part of their cost
      const cpu = this.cpuSince(before, runtime, run.ok);
      result.throughput.push({ ...run, cpu });
      this.log(`${target.name}: c=${concurrency} ${run.rps.toFixed(1)} req/s, p50 ${run.latencyMs.p50} ms, errors ${run.errors.count}/${run.requests}`
        + `${run.errors.count ? ` ${JSON.stringify(run.errors.byKind)}` : ''}, gateway CPU ${cpu.gatewayPerRequestMs ?? '-'} ms/req, other ${this.otherPercent(cpu)} % of a core`);
    }
  }

  private otherPercent(cpu: CpuUse): number {
    return round((cpu.otherMs / cpu.wallMs) * 100);
  }

  private async track<T extends { requests: number }>(runtime: Runtime, name: string, run: () => Promise<T>): Promise<T> {
    const startedAt = Date.now();
    const value = await run();
    runtime.result.phases.push({ name, startedAt, endedAt: Date.now() });
    runtime.result.requestsSent += value.requests;
    return value;
  }

  private gatewaySample(runtime: Runtime) {
    const tree = runtime.gateway?.monitor?.sample() ?? { cpuMs: 0, cpuMsByName: {} };
    const database = runtime.database?.monitor.sample();
    if (!database) return tree;
    return { cpuMs: tree.cpuMs + database.cpuMs, cpuMsByName: { ...tree.cpuMsByName, 'postgres (server)': database.cpuMs } };
  }

  private snapshot(runtime: Runtime) {
    return {
      at: Date.now(), machine: machineCpu(), self: process.cpuUsage(), emulator: this.emulatorMonitor.sample().cpuMs,
      gateway: this.gatewaySample(runtime),
    };
  }

  private cpuSince(before: ReturnType<Measurer['snapshot']>, runtime: Runtime, okRequests: number): CpuUse {
    const after = this.snapshot(runtime);
    const gatewayMs = after.gateway.cpuMs - before.gateway.cpuMs;
    const byName = Object.fromEntries(Object.entries(after.gateway.cpuMsByName)
      .map(([name, ms]) => [name, round(ms - ((before.gateway.cpuMsByName as Record<string, number>)[name] ?? 0))]));
    const loadGeneratorMs = (after.self.user + after.self.system - before.self.user - before.self.system) / 1000;
    const emulatorMs = after.emulator - before.emulator;
    const machineMs = after.machine.busyMs - before.machine.busyMs;
    return {
      wallMs: after.at - before.at, gatewayMs: round(gatewayMs), gatewayByName: byName,
      gatewayPerRequestMs: runtime.gateway && okRequests > 0 ? round(gatewayMs / okRequests, 2) : null,
      gatewayPerRequestByName: Object.fromEntries(Object.entries(byName).map(([name, ms]) => [name, okRequests ? round(ms / okRequests, 2) : 0])),
      emulatorMs: round(emulatorMs), loadGeneratorMs: round(loadGeneratorMs),
      otherMs: round(Math.max(0, machineMs - gatewayMs - emulatorMs - loadGeneratorMs)),
    };
  }
}

async function inspect(result: TargetResult, gateway: Supervised, where: NonNullable<Runtime['inspect']>, clientTimes: Runtime['clientTimes'],
  log: (message: string) => void) {
  const temporal = gateway.monitor?.known().find((stat) => stat.comm === 'temporal');
  try {
    const inspected = await inspectTemporal({
      address: where.address, workflowType: where.workflowType, phases: result.phases, timelinePhase: 'sequential', timelineSample: 25,
      budgetMs: 90_000, temporalPid: temporal?.pid, knownPorts: where.knownPorts,
      clientTimes: (workflowId) => clientTimes.get(workflowId.split(':').at(-1)!),
    });
    result.eager = inspected.eager;
    result.timeline = inspected.timeline;
    if (where.records) result.records = await checkRecords(where.records, inspected.workflowIds);
    const eager = inspected.eager;
    log(`${result.name}: ${eager.workflows} ${where.workflowType} workflows for ${result.requestsSent} requests sent (${JSON.stringify(eager.byStatus)}, `
      + `all closed ${eager.drainMs} ms after the inspection began); eager ${eager.eagerAccepted}/${eager.scanned} (${(eager.share * 100).toFixed(1)} %), `
      + `server counter: requested ${eager.metrics?.requested ?? '?'}, denied ${JSON.stringify(eager.metrics?.denied ?? {})}`);
    if (result.records) log(`${result.name}: Postgres records of ${result.records.checked} closed requests: ${JSON.stringify(result.records.byKind)}`);
  } catch (error) {
    result.notes.push(`Temporal inspection failed: ${(error as Error).message}`);
    log(`${result.name}: Temporal inspection failed: ${(error as Error).message}`);
  }
}

/**
 * Wait until the gateway uses < 10 % of a core over 500 ms — its deferred work (bookkeeping after
 * the answers) is done — at most 20 s.
 */
async function settle(runtime: Runtime): Promise<void> {
  const monitor = runtime.gateway?.monitor;
  if (!monitor) return delay(300);
  const cpu = () => monitor.sample().cpuMs + (runtime.database?.monitor.sample().cpuMs ?? 0);
  let last = cpu();
  for (let index = 0; index < 40; index++) {
    await delay(500);
    const now = cpu();
    if (now - last < 50) return;
    last = now;
  }
}

async function waitHttp(url: string, timeoutMs: number, proc: Supervised): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${proc.label} exited during start-up:\n${proc.tail()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.text();
      if (response.status === 200) return;
    } catch { /* not yet */ }
    await delay(200);
  }
  throw new Error(`${proc.label} did not answer ${url} within ${timeoutMs} ms:\n${proc.tail()}`);
}

function profileArgs(dir: string): string[] {
  const probe = process.env.BENCH_GATEWAY_REQUIRE ? ['--require', process.env.BENCH_GATEWAY_REQUIRE] : [];
  return [...probe, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])];
}

async function adminQuery(sql: string): Promise<void> {
  const client = new PgClient({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The floor needs its own node_modules (../shared/floor/package-lock.json). */
function ensureFloorDependencies(log: (message: string) => void): void {
  if (!fs.existsSync(path.join(FLOOR_DIR, 'server.mjs'))) throw new Error(`the durable floor is missing: ${FLOOR_DIR}/server.mjs`);
  if (fs.existsSync(path.join(FLOOR_DIR, 'node_modules', '@temporalio', 'worker'))) return;
  log(`installing the floor's dependencies (npm ci --ignore-scripts in ${FLOOR_DIR})`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const ci = spawnSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: FLOOR_DIR, encoding: 'utf8', timeout: 300_000 });
  if (ci.status === 0) return;
  // npm 11 refuses a lock file pruned of other platforms' optional packages; this installs the same
  // pinned versions without rewriting package.json or package-lock.json.
  log(`npm ci failed (${(ci.stderr || '').split('\n').find((line) => line.includes('error')) ?? ci.status}); trying npm install --no-save`);
  const install = spawnSync(npm, ['install', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund'], { cwd: FLOOR_DIR, encoding: 'utf8', timeout: 300_000 });
  if (install.status !== 0) throw new Error(`could not install the floor's dependencies:\n${install.stderr}`);
}

function machineInfo(temporalBin: string) {
  let temporal = 'temporal (version unknown)';
  try { temporal = execFileSync(temporalBin, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim(); } catch { /* keep */ }
  const packageVersion = (name: string) => {
    try { return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version; } catch { return '?'; }
  };
  const git = (args: string[]) => {
    try { return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 10_000 }).trim(); } catch { return '?'; }
  };
  return {
    commit: git(['rev-parse', '--short', 'HEAD']),
    uncommittedFiles: git(['status', '--porcelain']).split('\n').filter(Boolean).length,
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memoryGiB: round(os.totalmem() / 2 ** 30), kernel: os.release(),
    node: process.version, temporal, temporalSdk: packageVersion('@temporalio/worker'), undici: packageVersion('undici'),
    loadAverage: os.loadavg().map((value) => round(value, 2)),
  };
}

// ---- lifetime: a time limit for the whole run, and no child left behind whatever happens ----
let finishing = false;
const abort = (reason: string, code: number) => {
  if (finishing) return;
  finishing = true;
  console.error(`[bench] ${reason}: stopping every child process`);
  void stopAll().finally(() => process.exit(code));
  setTimeout(() => { killAllNow(); process.exit(code); }, 25_000).unref();
};
process.on('exit', () => killAllNow());
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));
const watchdog = setTimeout(() => abort(`time limit of ${SETTINGS.maxMinutes} min reached`, 2), SETTINGS.maxMinutes * 60_000);

main().then(() => {
  clearTimeout(watchdog);
  finishing = true;
  process.exit(0);
}, (error: unknown) => {
  console.error(`[bench] failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  clearTimeout(watchdog);
  abort('failed', 1);
});

#!/usr/bin/env node
/**
 * `npm run bench:batch` (= `node dist/bench/batch.js`): one large OpenAI-style batch (10,000 lines by
 * default) through Zumik, end to end, on this machine. Starts the OpenAI emulator (a process of its
 * own) and Zumik as a real process (`node dist/src/main.js`, its embedded Temporal dev server on free
 * ports, and a fresh database on the local PostgreSQL,
 * created for the run and dropped after; `--embedded-db` runs on Zumik's embedded PostgreSQL instead). Sets the tenant
 * policy's `batch.max_concurrency` (no concurrency limit), installs an alias with one OpenAI target,
 * writes the JSONL, uploads it and creates the batch with the official openai SDK, polls until it
 * ends (bounded), streams the output and error files back and checks that every custom_id appears
 * exactly once. Reports wall time, lines per second (end to end and steady state), peak RSS of Zumik's
 * process tree (node + temporal; /proc every 500 ms), CPU seconds, how many runs the batch workflow
 * took (continue-as-new) and the largest history: of its runs and of its child request workflows.
 * Writes bench/results/batch-<run>.json (and the processes' logs under bench/results/batch-<run>/).
 * Every loop is bounded; only loopback; every child process group is killed on any exit.
 *
 * Options: --lines N (10000), --concurrency N (batch.max_concurrency, 50), --latency-ms N (emulator
 * latency, 0), --lines-per-run N (ZUMIK_BATCH_LINES_PER_RUN; unset = Zumik's default), --max-minutes N
 * (how long to wait for the batch, 30), --stall-minutes N (give up when no line finished for this
 * long, 5), --embedded-db, --postgres-url URL (env BENCH_POSTGRES_URL; postgres://postgres@127.0.0.1:5432/postgres).
 * A batch that does not finish in time is reported as partial, with the rate measured so far.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import OpenAI from 'openai';
import { Client as PgClient } from 'pg';
import { PROJECT_ROOT } from '../src/project-root';
import { findTemporalBinary } from '../src/temporal/temporal-binary';
import { checkResultFile, tallyLines, writeBatchInput, type FileCheck } from './batch-lib/check-output';
import { inspectBatchHistories, type HistoryReport } from './batch-lib/inspect-batch';
import { RssSampler } from './batch-lib/rss-sampler';
import { freePorts } from '../src/net/free-ports';
import {
  delay, killAllNow, machineCpu, processesMatching, round, startProcess, stopAll, stopProcess, TreeMonitor, type Supervised,
} from './lib/proc';

// ---- options ----
function option(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const index = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index === -1) return undefined;
  return argv[index]!.includes('=') ? argv[index]!.slice(argv[index]!.indexOf('=') + 1) : argv[index + 1];
}
function numberOption(name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const value = option(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return parsed;
}

const SETTINGS = {
  lines: numberOption('lines', 10_000, 1, 50_000)!,
  maxConcurrency: numberOption('concurrency', 50, 1, 10_000)!,
  emulatorLatencyMs: numberOption('latency-ms', 0, 0, 60_000)!,
  linesPerRun: numberOption('lines-per-run', undefined, 1, 10_000),
  maxMinutes: numberOption('max-minutes', 30, 1, 24 * 60)!,
  stallMinutes: numberOption('stall-minutes', 5, 1, 24 * 60)!,
  database: process.argv.includes('--embedded-db') ? 'embedded PostgreSQL' as const : 'postgresql' as const,
  postgresUrl: option('postgres-url') ?? process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};

const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');
const ZUMIK_MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
const EMULATOR_MAIN = path.join(__dirname, 'batch-lib', 'emulator-process.js');
const EMULATOR_KEY = 'sk-bench-batch';
const ALIAS = 'bench.batch';
const TENANT = 'default';
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

interface PollSample {
  /** Seconds since the batch was created. */
  t: number;
  status: string;
  completed: number;
  failed: number;
  treeRssMb?: number;
}

/** Every ~10 s during the batch: where the CPU went since the previous point (is Zumik slowing per line, or is the machine busier?). */
interface TimelinePoint {
  t: number;
  done: number;
  linesPerS: number;
  zumikMsPerLine: number | null;
  temporalMsPerLine: number | null;
  postgresMsPerLine: number | null;
  /** Cores busy over the interval: Zumik's tree, the database backends, everything else on the machine. */
  zumikCores: number;
  otherCores: number;
  rssMb: Record<string, number>;
}

interface CpuSnapshot { at: number; zumik: ReturnType<TreeMonitor['sample']>; postgres?: ReturnType<TreeMonitor['sample']>; emulatorMs: number; selfMs: number; machineBusyMs: number }

async function main(): Promise<void> {
  const runStarted = Date.now();
  const runId = `batch-${new Date(runStarted).toISOString().replace(/[:.]/g, '-')}`;
  const logDir = path.join(RESULTS_DIR, runId);
  fs.mkdirSync(logDir, { recursive: true });
  const log = (message: string) => console.log(`[bench:batch ${((Date.now() - runStarted) / 1000).toFixed(1).padStart(6)} s] ${message}`);
  log(`run ${runId}: ${JSON.stringify({ ...SETTINGS, postgresUrl: redact(SETTINGS.postgresUrl) })}; logs in ${path.relative(PROJECT_ROOT, logDir)}`);
  for (const file of [ZUMIK_MAIN, EMULATOR_MAIN, path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js')]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(PROJECT_ROOT, file)} is missing: run \`npm run build\` first`);
  }
  const temporalBin = findTemporalBinary(process.env.ZUMIK_TEMPORAL_BIN);
  const machine = machineInfo(temporalBin);
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.temporal.split('\n')[0]}, load ${machine.loadAverage.join(' ')}`);

  const report: Record<string, unknown> = { runId, date: new Date(runStarted).toISOString(), settings: { ...SETTINGS, postgresUrl: redact(SETTINGS.postgresUrl) }, machine };
  const notes: string[] = [];
  report.notes = notes;
  const cleanups: Array<() => Promise<void>> = [];
  const tempDirs: string[] = [];
  let rss: RssSampler | undefined;
  let zumik: Supervised | undefined;
  let stoppingAt = Infinity;
  try {
    // ---- the upstream ----
    const emulator = startProcess('emulator', process.execPath, [EMULATOR_MAIN], {
      cwd: PROJECT_ROOT, logFile: path.join(logDir, 'emulator.log'),
      env: { PATH: process.env.PATH ?? '', BENCH_EMULATOR_KEY: EMULATOR_KEY, BENCH_EMULATOR_LATENCY_MS: String(SETTINGS.emulatorLatencyMs), BENCH_BATCH_LINES: String(SETTINGS.lines) },
    });
    cleanups.push(() => stopProcess(emulator, 3_000));
    const ready = JSON.parse((await emulator.waitForLine(/^\{"ready":true.*\}$/, 20_000))[0]) as { url: string; baseUrl: string };
    emulator.monitor = TreeMonitor.ofTree(emulator.pid);
    log(`emulator on ${ready.url} (latency ${SETTINGS.emulatorLatencyMs} ms)`);

    // ---- the database ----
    let databaseUrl: string | undefined;
    let postgresMonitor: TreeMonitor | undefined;
    if (SETTINGS.database === 'postgresql') {
      const name = `zumik_batch_${randomBytes(5).toString('hex')}`;
      await adminQuery(SETTINGS.postgresUrl, `CREATE DATABASE ${name}`);
      cleanups.push(() => adminQuery(SETTINGS.postgresUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      const url = new URL(SETTINGS.postgresUrl);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
      // Backend titles read "postgres: <user> <database> <client> <state>": their CPU is the database's share of the work.
      postgresMonitor = new TreeMonitor(() => processesMatching(` ${name} `), { intervalMs: 1_000, rescanEvery: 2 });
      cleanups.push(async () => postgresMonitor?.close());
      report.database = { kind: 'postgresql', name, server: redact(SETTINGS.postgresUrl) };
      log(`database ${name} created on ${redact(SETTINGS.postgresUrl)}`);
    } else {
      report.database = { kind: 'embedded PostgreSQL' };
    }

    // ---- Zumik ----
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-bench-batch-'));
    tempDirs.push(dataDir);
    const [port, temporalPort, uiPort] = await freePorts(3);
    const adminKey = `zk_bench_${randomBytes(16).toString('hex')}`;
    const zumikStarted = Date.now();
    zumik = startProcess('zumik', process.execPath, [ZUMIK_MAIN], {
      cwd: PROJECT_ROOT, logFile: path.join(logDir, 'zumik.log'),
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', ZUMIK_DATA_DIR: dataDir,
        ZUMIK_TEMPORAL_PORT: String(temporalPort), ZUMIK_TEMPORAL_UI_PORT: String(uiPort), ZUMIK_TEMPORAL_BIN: temporalBin,
        ZUMIK_ADMIN_KEY: adminKey, OPENAI_API_KEY: EMULATOR_KEY, OPENAI_BASE_URL: ready.baseUrl, ZUMIK_LOG_LEVEL: 'warn',
        ...(SETTINGS.linesPerRun ? { ZUMIK_BATCH_LINES_PER_RUN: String(SETTINGS.linesPerRun) } : {}),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      },
    });
    const zumikProcess = zumik;
    cleanups.push(() => stopProcess(zumikProcess));
    zumik.monitor = TreeMonitor.ofTree(zumik.pid);
    rss = new RssSampler(zumik.pid, 500);
    const origin = `http://127.0.0.1:${port}`;
    await waitHttp(`${origin}/readyz`, 180_000, zumik);
    report.startupMs = Date.now() - zumikStarted;
    log(`zumik ready in ${report.startupMs} ms on ${origin} (temporal on ${temporalPort}, ${SETTINGS.database})`);

    const admin = async (method: string, route: string, body: unknown) => {
      const response = await fetch(`${origin}${route}`, {
        method, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${method} ${route}: ${response.status} ${text}`);
      return JSON.parse(text) as Record<string, any>;
    };
    const policy = await admin('PUT', `/v2/tenants/${TENANT}/policy`, { batch: { max_concurrency: SETTINGS.maxConcurrency } });
    report.policy = { batch: policy.batch, limits: policy.limits };
    await admin('PUT', `/v2/model-aliases/${ALIAS}`, {
      targets: [{ execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-4o-mini', model_revision: '2024-07-18', weight: 1 }],
    });
    log(`policy batch ${JSON.stringify(policy.batch)}, limits ${JSON.stringify(policy.limits)}; alias ${ALIAS} → openai/gpt-4o-mini`);

    // ---- the batch ----
    const client = new OpenAI({ baseURL: `${origin}/v1`, apiKey: adminKey, maxRetries: 0, timeout: 120_000 });
    const inputFile = path.join(dataDir, 'input.jsonl');
    const inputBytes = await writeBatchInput(inputFile, SETTINGS.lines, ALIAS);
    const uploadStarted = Date.now();
    const uploaded = await client.files.create({ file: fs.createReadStream(inputFile), purpose: 'batch' });
    const uploadMs = Date.now() - uploadStarted;
    log(`uploaded ${SETTINGS.lines} lines (${round(inputBytes / 1024)} KiB) as ${uploaded.id} in ${uploadMs} ms`);
    report.upload = { fileId: uploaded.id, lines: SETTINGS.lines, bytes: inputBytes, ms: uploadMs };

    const temporalConnection = await Connection.connect({ address: `127.0.0.1:${temporalPort}`, connectTimeout: 10_000 });
    cleanups.push(() => temporalConnection.close());
    const temporal = new TemporalClient({ connection: temporalConnection, namespace: 'default' });

    const before = snapshot(zumik.monitor, postgresMonitor, emulator.monitor);
    const createdAt = Date.now();
    const created = await client.batches.create({ input_file_id: uploaded.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const workflowId = `batch:${TENANT}:${created.id}`;
    log(`batch ${created.id} created (${Date.now() - createdAt} ms); workflow ${workflowId}`);

    // ---- poll until it ends: bounded by --max-minutes, and by --stall-minutes without progress ----
    const samples: PollSample[] = [];
    const progressQueries: Array<Record<string, unknown>> = [];
    const timeline: TimelinePoint[] = [];
    let previous = { ...before, done: 0 };
    const deadline = createdAt + SETTINGS.maxMinutes * 60_000;
    let batch: OpenAI.Batch = created;
    let lastProgressAt = Date.now();
    let lastDone = 0;
    let lastLogAt = 0;
    let lastQueryAt = Date.now();
    let pollErrors = 0;
    let outcome: 'finished' | 'time limit' | 'stalled' = 'time limit';
    for (let index = 0; index < 1_000_000 && Date.now() < deadline; index++) {
      await delay(1_000);
      try {
        batch = await client.batches.retrieve(created.id, { timeout: 30_000 });
      } catch (error) {
        pollErrors += 1;
        if (pollErrors <= 5) log(`poll error: ${(error as Error).message}`);
        continue;
      }
      const counts = batch.request_counts ?? { total: SETTINGS.lines, completed: 0, failed: 0 };
      const done = counts.completed + counts.failed;
      const t = (Date.now() - createdAt) / 1000;
      samples.push({ t: round(t, 2), status: batch.status, completed: counts.completed, failed: counts.failed, treeRssMb: rss.last?.treeMb });
      if (done > lastDone) { lastDone = done; lastProgressAt = Date.now(); }
      if (TERMINAL.has(batch.status)) { outcome = 'finished'; break; }
      if (Date.now() - lastQueryAt >= 30_000) {
        lastQueryAt = Date.now();
        const queried = await queryProgress(temporal, workflowId);
        progressQueries.push({ t: round(t, 1), ...queried });
      }
      if (Date.now() - lastLogAt >= 10_000) {
        lastLogAt = Date.now();
        const now = { ...snapshot(zumik.monitor, postgresMonitor, emulator.monitor), done };
        timeline.push(timelinePoint(previous, now, t, rss.last?.byName ?? {}));
        previous = now;
        const recent = samples.filter((sample) => sample.t >= t - 10);
        const rate = recent.length >= 2 ? (recent.at(-1)!.completed + recent.at(-1)!.failed - recent[0]!.completed - recent[0]!.failed) / (recent.at(-1)!.t - recent[0]!.t) : 0;
        log(`${batch.status}: ${counts.completed} completed, ${counts.failed} failed of ${counts.total} (${round(rate)} lines/s over the last 10 s), `
          + `zumik tree RSS ${rss.last?.treeMb ?? '?'} MB${progressQueries.length ? `, workflow ${JSON.stringify(progressQueries.at(-1))}` : ''}`);
      }
      if (Date.now() - lastProgressAt > SETTINGS.stallMinutes * 60_000) { outcome = 'stalled'; break; }
    }
    const endedAt = Date.now();
    const after = snapshot(zumik.monitor, postgresMonitor, emulator.monitor);
    const finalCounts = batch.request_counts ?? { total: SETTINGS.lines, completed: 0, failed: 0 };
    const doneLines = finalCounts.completed + finalCounts.failed;
    const wallS = (endedAt - createdAt) / 1000;
    log(`batch ${outcome === 'finished' ? `ended: ${batch.status}` : `NOT finished (${outcome})`} after ${round(wallS)} s: `
      + `${finalCounts.completed} completed, ${finalCounts.failed} failed of ${finalCounts.total}`);
    if (outcome !== 'finished') {
      notes.push(`The batch did not finish (${outcome}): ${doneLines} of ${SETTINGS.lines} lines in ${round(wallS)} s; the rates below are from this partial run.`);
      const queried = await queryProgress(temporal, workflowId);
      progressQueries.push({ t: round(wallS, 1), ...queried });
    }

    const rates = rateSummary(samples, SETTINGS.lines, wallS, doneLines, outcome === 'finished');
    report.batch = {
      id: created.id, workflowId, outcome, status: batch.status, requestCounts: finalCounts, wallS: round(wallS, 2), pollErrors,
      timestamps: { createdAt: new Date(createdAt).toISOString(), inProgressAtS: atS(batch.in_progress_at, createdAt), finalizingAtS: atS(batch.finalizing_at, createdAt), endedAtS: round(wallS, 2) },
      ...rates,
    };
    report.cpu = cpuReport(before, after, doneLines);
    report.progressQueries = progressQueries;
    report.timeline = timeline;
    report.perQuarter = quarters(timeline);
    log(`lines/s: end to end ${rates.endToEndLinesPerS}, steady state ${rates.steadyState?.linesPerS ?? '-'} (${rates.steadyState?.fromPct}–${rates.steadyState?.toPct} %), `
      + `first line after ${rates.firstLineS ?? '-'} s; CPU ${JSON.stringify((report.cpu as { seconds: unknown }).seconds)}`);

    // ---- the files: every custom_id exactly once across output and error ----
    const seen = new Uint16Array(SETTINGS.lines);
    const files: FileCheck[] = [];
    if (batch.output_file_id) files.push(await checkResultFile(client, batch.output_file_id, 'output', seen));
    if (batch.error_file_id) files.push(await checkResultFile(client, batch.error_file_id, 'error', seen));
    const tally = tallyLines(seen);
    report.files = { checks: files, ...tally, allExactlyOnce: tally.exactlyOnce === SETTINGS.lines };
    if (outcome === 'finished') {
      log(`files: ${files.map((file) => `${file.kind} ${file.lines} lines ${round(file.bytes / 1024)} KiB in ${file.downloadMs} ms ${JSON.stringify(file.statusCodes)}`).join('; ') || 'none'}; `
        + `exactly once ${tally.exactlyOnce}, missing ${tally.missing}, duplicated ${tally.duplicated}`);
    }

    // ---- the upstream's view: calls per line ----
    try {
      const stats = await (await fetch(`${ready.url}/__bench/stats`, { signal: AbortSignal.timeout(10_000) })).json() as Record<string, unknown>;
      report.upstream = stats;
      log(`upstream: ${JSON.stringify(stats)}`);
    } catch (error) {
      notes.push(`emulator stats: ${(error as Error).message}`);
    }

    // ---- Temporal: runs, largest run history, children ----
    log('reading the batch workflow\'s runs and its children\'s histories from Temporal');
    const histories: HistoryReport = await inspectBatchHistories({
      address: `127.0.0.1:${temporalPort}`, tenantId: TENANT, batchId: created.id, totalLines: SETTINGS.lines, budgetMs: 5 * 60_000,
    });
    report.histories = histories;
    report.runBoundaries = boundaryStalls(samples, histories, createdAt);
    const largest = histories.largestRun;
    log(`runs: ${histories.runCount} (result.runs ${String(histories.result?.runs ?? histories.resultError ?? '?')}); largest run ${largest?.runId ?? '-'}: `
      + `${largest?.events ?? '-'} events, ${largest?.bytes ?? '-'} bytes; children ${histories.children.executions} `
      + `(${JSON.stringify(histories.children.byStatus)}), largest child ${JSON.stringify(histories.children.largest)}, events ${JSON.stringify(histories.children.events)}`);

    rss.sample();
    report.memory = { zumikTree: rss.report(), zumikTreeCumulativePeaks: zumik.monitor.peakRss(), series: rss.series };
  } finally {
    stoppingAt = Date.now();
    rss?.close();
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    await stopAll();
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
    report.zumikLog = zumik ? scanLog(path.join(logDir, 'zumik.log'), stoppingAt) : undefined;
    report.durationS = round((Date.now() - runStarted) / 1000);
    report.machineAfter = { loadAverage: os.loadavg().map((value) => round(value, 2)) };
    const file = path.join(RESULTS_DIR, `${runId}.json`);
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    fs.copyFileSync(file, path.join(RESULTS_DIR, 'batch-latest.json'));
    log(`results: ${path.relative(PROJECT_ROOT, file)}`);
  }
  console.log(`\n${summary(report)}`);
}

// ---- measurements ----

function snapshot(zumik: TreeMonitor, postgres: TreeMonitor | undefined, emulator: TreeMonitor | undefined): CpuSnapshot {
  const self = process.cpuUsage();
  return {
    at: Date.now(), zumik: zumik.sample(), postgres: postgres?.sample(), emulatorMs: emulator?.sample().cpuMs ?? 0,
    selfMs: (self.user + self.system) / 1000, machineBusyMs: machineCpu().busyMs,
  };
}

function timelinePoint(from: CpuSnapshot & { done: number }, to: CpuSnapshot & { done: number }, t: number, rssMb: Record<string, number>): TimelinePoint {
  const lines = to.done - from.done;
  const wallMs = Math.max(1, to.at - from.at);
  const zumikMs = to.zumik.cpuMs - from.zumik.cpuMs;
  const temporalMs = (to.zumik.cpuMsByName.temporal ?? 0) - (from.zumik.cpuMsByName.temporal ?? 0);
  const postgresMs = (to.postgres?.cpuMs ?? 0) - (from.postgres?.cpuMs ?? 0);
  const otherMs = Math.max(0, to.machineBusyMs - from.machineBusyMs - zumikMs - postgresMs - (to.emulatorMs - from.emulatorMs) - (to.selfMs - from.selfMs));
  const perLine = (ms: number) => (lines > 0 ? round(ms / lines, 1) : null);
  return {
    t: round(t, 1), done: to.done, linesPerS: round((lines * 1000) / wallMs, 1), zumikMsPerLine: perLine(zumikMs), temporalMsPerLine: perLine(temporalMs),
    postgresMsPerLine: to.postgres ? perLine(postgresMs) : null, zumikCores: round(zumikMs / wallMs, 2), otherCores: round(otherMs / wallMs, 2), rssMb,
  };
}

/** The timeline in four parts by lines done: is the cost per line (or the machine's other load) changing as the batch goes on? */
function quarters(timeline: TimelinePoint[]) {
  const total = timeline.at(-1)?.done ?? 0;
  if (total === 0) return [];
  return [0, 1, 2, 3].map((quarter) => {
    const points = timeline.filter((point) => point.done > (quarter * total) / 4 && point.done <= ((quarter + 1) * total) / 4 && point.zumikMsPerLine !== null);
    const mean = (values: number[]) => (values.length ? round(values.reduce((sum, value) => sum + value, 0) / values.length, 1) : null);
    return {
      quarter: quarter + 1, points: points.length, linesPerS: mean(points.map((point) => point.linesPerS)),
      zumikMsPerLine: mean(points.map((point) => point.zumikMsPerLine!)), temporalMsPerLine: mean(points.map((point) => point.temporalMsPerLine ?? 0)),
      zumikCores: mean(points.map((point) => point.zumikCores)), otherCores: mean(points.map((point) => point.otherCores)),
      rssMbAtEnd: points.at(-1)?.rssMb ?? null,
    };
  });
}

function cpuReport(before: CpuSnapshot, after: CpuSnapshot, lines: number) {
  const zumikMs = after.zumik.cpuMs - before.zumik.cpuMs;
  const byName = Object.fromEntries(Object.entries(after.zumik.cpuMsByName).map(([name, ms]) => [name, round((ms - (before.zumik.cpuMsByName[name] ?? 0)) / 1000, 2)]));
  const postgresMs = after.postgres && before.postgres ? after.postgres.cpuMs - before.postgres.cpuMs : 0;
  const emulatorMs = after.emulatorMs - before.emulatorMs;
  const selfMs = after.selfMs - before.selfMs;
  const wallMs = after.at - before.at;
  const machineMs = after.machineBusyMs - before.machineBusyMs;
  const otherMs = Math.max(0, machineMs - zumikMs - postgresMs - emulatorMs - selfMs);
  return {
    wallS: round(wallMs / 1000, 2),
    seconds: { zumikTree: round(zumikMs / 1000, 1), postgresBackends: round(postgresMs / 1000, 1), emulator: round(emulatorMs / 1000, 1), benchClient: round(selfMs / 1000, 1), otherProcesses: round(otherMs / 1000, 1) },
    zumikTreeByThread: byName,
    zumikMsPerLine: lines > 0 ? round(zumikMs / lines, 2) : null,
    postgresMsPerLine: lines > 0 && postgresMs > 0 ? round(postgresMs / lines, 2) : null,
    /** Average cores busy over the batch. */
    cores: { zumikTree: round(zumikMs / wallMs, 2), postgresBackends: round(postgresMs / wallMs, 2), otherProcesses: round(otherMs / wallMs, 2), machine: round(machineMs / wallMs, 2) },
  };
}

/** End-to-end and steady-state rates from the poll samples (steady state: from 10 % to 90 % of the lines done). */
function rateSummary(samples: PollSample[], total: number, wallS: number, doneLines: number, finished: boolean) {
  const done = (sample: PollSample) => sample.completed + sample.failed;
  const firstLine = samples.find((sample) => done(sample) > 0);
  const crossing = (fraction: number) => samples.find((sample) => done(sample) >= fraction * total);
  let from = crossing(0.1);
  let to = crossing(0.9);
  let fromPct = 10;
  let toPct = 90;
  if (!finished || !to) {
    // Partial run: the steady part is from 10 % of what got done to the last sample.
    from = samples.find((sample) => done(sample) >= 0.1 * doneLines);
    to = samples.at(-1);
    fromPct = round((100 * (from ? done(from) : 0)) / total);
    toPct = round((100 * (to ? done(to) : 0)) / total);
  }
  const steadyState = from && to && to.t > from.t
    ? { linesPerS: round((done(to) - done(from)) / (to.t - from.t), 1), fromS: from.t, toS: to.t, fromPct, toPct }
    : null;
  // The slowest and fastest 30-s windows (to show dips, e.g. around continue-as-new).
  const windows: Array<{ fromS: number; linesPerS: number }> = [];
  for (let index = 0, start = 0; index < samples.length; index++) {
    while (samples[start] && samples[index]!.t - samples[start]!.t > 30) start += 1;
    if (samples[index]!.t - samples[start]!.t >= 29) windows.push({ fromS: samples[start]!.t, linesPerS: round((done(samples[index]!) - done(samples[start]!)) / (samples[index]!.t - samples[start]!.t), 1) });
  }
  const steadyWindows = windows.filter((window) => steadyState && window.fromS >= steadyState.fromS && window.fromS + 30 <= steadyState.toS);
  return {
    endToEndLinesPerS: wallS > 0 ? round(doneLines / wallS, 1) : null,
    firstLineS: firstLine?.t ?? null,
    steadyState,
    window30s: steadyWindows.length
      ? { min: Math.min(...steadyWindows.map((window) => window.linesPerS)), max: Math.max(...steadyWindows.map((window) => window.linesPerS)) }
      : null,
    samples,
  };
}

/**
 * Seconds in which no line finished (from the 1-s polls), and how many of them fall within 15 s after a
 * run boundary: the window drains to zero before each continue-as-new, and the next run starts cold.
 */
function boundaryStalls(samples: PollSample[], histories: HistoryReport, createdAt: number) {
  const done = (sample: PollSample) => sample.completed + sample.failed;
  const boundaries = histories.runs.slice(0, -1).map((run) => (run.closeTime ? (Date.parse(run.closeTime) - createdAt) / 1000 : NaN)).filter(Number.isFinite);
  const firstLine = samples.find((sample) => done(sample) > 0)?.t ?? Infinity;
  const lastLine = samples.findLast((sample) => sample.status === 'in_progress')?.t ?? -Infinity;
  let flatS = 0;
  let flatNearBoundaryS = 0;
  for (let index = 1; index < samples.length; index++) {
    const [before, after] = [samples[index - 1]!, samples[index]!];
    if (after.t <= firstLine || after.t > lastLine || done(after) > done(before)) continue;
    const seconds = after.t - before.t;
    flatS += seconds;
    if (boundaries.some((boundary) => after.t >= boundary - 1 && after.t <= boundary + 15)) flatNearBoundaryS += seconds;
  }
  // Lines per second in the 15 s before each boundary and the 15 s after it.
  const rateBetween = (from: number, to: number) => {
    const a = samples.find((sample) => sample.t >= from);
    const b = samples.findLast((sample) => sample.t <= to);
    return a && b && b.t > a.t ? round((done(b) - done(a)) / (b.t - a.t), 1) : null;
  };
  const around = boundaries.map((boundary) => ({ atS: round(boundary, 1), before: rateBetween(boundary - 15, boundary), after: rateBetween(boundary, boundary + 15) }));
  return { boundaries: boundaries.length, secondsWithoutAFinishedLine: round(flatS, 1), ofWhichWithin15sOfABoundary: round(flatNearBoundaryS, 1), around };
}

async function queryProgress(temporal: TemporalClient, workflowId: string): Promise<Record<string, unknown>> {
  try {
    const query = temporal.workflow.getHandle(workflowId).query<Record<string, unknown>>('progress');
    const progress = await Promise.race([query, delay(5_000).then(() => { throw new Error('no answer within 5 s'); })]);
    const { runs, inFlight, nextLine, completed, failed, status } = progress;
    return { runs, inFlight, nextLine, completed, failed, status };
  } catch (error) {
    return { queryError: (error as Error).message };
  }
}

/** Warnings and errors Zumik logged (pino JSON lines) before the bench began to stop it, grouped by message. */
function scanLog(file: string, until: number) {
  const byLevel: Record<string, number> = {};
  const messages = new Map<string, number>();
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return { missing: true }; }
  const lines = text.split('\n');
  for (const line of lines.slice(0, 2_000_000)) {
    if (!line.startsWith('{')) continue;
    let entry: { level?: number; time?: number; msg?: string; err?: { message?: string } };
    try { entry = JSON.parse(line); } catch { continue; }
    if ((entry.level ?? 0) < 40 || (entry.time ?? 0) >= until) continue;
    const level = entry.level! >= 50 ? 'error' : 'warn';
    byLevel[level] = (byLevel[level] ?? 0) + 1;
    const key = `${level}: ${(entry.msg ?? '').slice(0, 300)}${entry.err?.message ? ` — ${entry.err.message.slice(0, 160)}` : ''}`;
    messages.set(key, (messages.get(key) ?? 0) + 1);
  }
  return { lines: lines.length, byLevel, top: [...messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([message, count]) => ({ count, message })) };
}

function summary(report: Record<string, any>): string {
  const batch = report.batch;
  const out: string[] = [`## ${report.runId}`];
  if (!batch) return [...out, 'no batch result (see the log above)'].join('\n');
  const memory = report.memory?.zumikTree;
  const histories: HistoryReport | undefined = report.histories;
  out.push(`${report.settings.lines} lines, batch.max_concurrency ${report.settings.maxConcurrency}, emulator latency ${report.settings.emulatorLatencyMs} ms, ${report.database.kind}`);
  out.push(`outcome ${batch.outcome} (${batch.status}): ${JSON.stringify(batch.requestCounts)} in ${batch.wallS} s`);
  out.push(`lines/s end to end ${batch.endToEndLinesPerS}; steady state ${batch.steadyState?.linesPerS ?? '-'} (${batch.steadyState?.fromPct}–${batch.steadyState?.toPct} %); 30-s windows ${JSON.stringify(batch.window30s)}`);
  if (memory) out.push(`peak RSS of Zumik's tree ${memory.peakTreeMb} MB at ${memory.peakTreeAtS} s (${memory.byProcess.map((entry: { name: string; peakMb: number }) => `${entry.name} ${entry.peakMb}`).join(' + ')})`);
  out.push(`CPU s ${JSON.stringify(report.cpu?.seconds)}; Zumik ${report.cpu?.zumikMsPerLine} ms/line`);
  if (histories) {
    out.push(`runs ${histories.runCount}; largest run ${histories.largestRun?.events} events / ${histories.largestRun?.bytes} bytes; `
      + `largest child ${histories.children.largest?.events} events / ${histories.children.largest?.bytes} bytes`);
  }
  if (report.files) out.push(`files: exactly once ${report.files.exactlyOnce}, missing ${report.files.missing}, duplicated ${report.files.duplicated}`);
  for (const note of report.notes ?? []) out.push(`note: ${note}`);
  return out.join('\n');
}

// ---- plumbing ----

function atS(epochSeconds: number | null | undefined, origin: number): number | null {
  return epochSeconds ? round(epochSeconds - origin / 1000, 1) : null;
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

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function machineInfo(temporalBin: string) {
  let temporal = 'temporal (version unknown)';
  try { temporal = execFileSync(temporalBin, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim(); } catch { /* keep */ }
  let commit = '?';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 10_000 }).trim(); } catch { /* keep */ }
  return {
    commit, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memoryGiB: round(os.totalmem() / 2 ** 30), kernel: os.release(),
    node: process.version, temporal, loadAverage: os.loadavg().map((value) => round(value, 2)),
  };
}

// ---- lifetime: a time limit for the whole run, and no child left behind whatever happens ----
let finishing = false;
const abort = (reason: string, code: number) => {
  if (finishing) return;
  finishing = true;
  console.error(`[bench:batch] ${reason}: stopping every child process`);
  void stopAll().finally(() => process.exit(code));
  setTimeout(() => { killAllNow(); process.exit(code); }, 25_000).unref();
};
process.on('exit', () => killAllNow());
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));
// Start-up, the batch's own limit, the downloads and the Temporal read-back (5 min budget), with room to spare.
const watchdog = setTimeout(() => abort(`time limit of ${SETTINGS.maxMinutes + 20} min reached`, 2), (SETTINGS.maxMinutes + 20) * 60_000);

main().then(() => {
  clearTimeout(watchdog);
  finishing = true;
  process.exit(0);
}, (error: unknown) => {
  console.error(`[bench:batch] failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  clearTimeout(watchdog);
  abort('failed', 1);
});

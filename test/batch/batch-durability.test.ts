import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import { freeStablePorts } from '../support/ports';
import { sleep, startCluster, waitUntil, type Cluster, type RoleProcess } from '../support/zumik-cluster';
import { target } from '../support/zumik-harness';
import { processesMentioning } from '../support/zumik-process';

// Issue 5, item 5: a batch survives its worker being SIGKILLed, and the Temporal dev server (file-backed
// SQLite, supervised by Zumik) being SIGKILLed, in the middle of the batch — and still ends with every
// line exactly once in the output or error file. Real processes (the built dist/src/main.js), a fresh
// Postgres database per test, the OpenAI emulator in this process with some latency so the batch runs
// for seconds, a small window so only a few lines are in flight at a kill, and few lines per run so the
// kill also lands around continue-as-new.
const ALIAS = 'durable.batch';
const LINES = 100;
const WINDOW = 5;
const LINES_PER_RUN = '20';
const LATENCY_MS = 150;
const BOUND_MS = 120_000; // a behaviour bound, not a benchmark

const ids = Array.from({ length: LINES }, (_unused, index) => `line-${String(index).padStart(3, '0')}`);
const content = (customId: string) => `question ${customId}`;
const inputFile = () => ids.map((customId) => JSON.stringify({
  custom_id: customId, method: 'POST', url: '/v1/chat/completions',
  body: { model: ALIAS, messages: [{ role: 'user', content: content(customId) }] },
})).join('\n');

interface ResultLine { id: string; custom_id: string; response: { status_code: number } | null; error: { code: string } | null }

async function prepare(cluster: Cluster, via: RoleProcess): Promise<OpenAI> {
  await cluster.installAlias(via, ALIAS, [target('openai', 'gpt-4o-mini')]);
  const policy = await via.call('PUT', '/v2/tenants/default/policy', { body: { batch: { max_concurrency: WINDOW } } });
  if (policy.status !== 200) throw new Error(`tenant policy: ${policy.status} ${policy.text}`);
  return new OpenAI({ baseURL: `${via.url}/v1`, apiKey: cluster.adminKey, maxRetries: 0, timeout: 10_000 });
}

async function startBatch(client: OpenAI): Promise<OpenAI.Batch> {
  const file = await client.files.create({ file: await toFile(Buffer.from(inputFile()), 'durable.jsonl'), purpose: 'batch' });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
}

/** [ms since the batch was created, lines with a result] each time the count moved. */
type Timeline = Array<[number, number]>;

/** Poll the batch (a Postgres read in the API process: it answers while Temporal or the worker is down). */
async function waitForBatch(client: OpenAI, id: string, done: (batch: OpenAI.Batch) => boolean, timeoutMs: number, what: string,
  timeline?: { since: number; points: Timeline }): Promise<OpenAI.Batch> {
  const started = Date.now();
  let last: OpenAI.Batch | undefined;
  for (;;) {
    try {
      last = await client.batches.retrieve(id);
      const finished = (last.request_counts?.completed ?? 0) + (last.request_counts?.failed ?? 0);
      if (timeline && timeline.points.at(-1)?.[1] !== finished) timeline.points.push([Date.now() - timeline.since, finished]);
      if (done(last)) return last;
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(last)}; progress ${JSON.stringify(timeline?.points)}`);
    await sleep(50);
  }
}

async function download(client: OpenAI, fileId: string | undefined): Promise<ResultLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text.split('\n').filter((line) => line.trim().length > 0).map((line) => JSON.parse(line) as ResultLine);
}

/** Every custom_id exactly once across the output and error files; returns the files. */
async function expectEveryLineExactlyOnce(client: OpenAI, batch: OpenAI.Batch) {
  const output = await download(client, batch.output_file_id);
  const errors = await download(client, batch.error_file_id);
  const seen = [...output, ...errors].map((line) => line.custom_id);
  const counts = new Map<string, number>();
  for (const customId of seen) counts.set(customId, (counts.get(customId) ?? 0) + 1);
  expect([...counts].filter(([, count]) => count > 1)).toEqual([]); // no line twice
  expect([...counts.keys()].sort()).toEqual(ids); // every line, nothing else
  expect(seen).toHaveLength(LINES);
  expect(batch.request_counts).toEqual({ total: LINES, completed: output.length, failed: errors.length });
  return { output, errors };
}

/**
 * Upstream is at-least-once: a line may reach the emulator twice only if its first call was already
 * made when the process that made it (or the server that would have recorded its result) was killed,
 * i.e. before `replacedAt` (the replacement was started after the killed process's requests arrived),
 * and its repeat came after.
 */
function upstreamCalls(cluster: Cluster, replacedAt: number) {
  const byLine = new Map<string, number[]>();
  for (const request of cluster.openai.requests.filter((entry) => entry.path.endsWith('/chat/completions'))) {
    const text = String((request.body as { messages?: Array<{ content?: unknown }> }).messages?.[0]?.content ?? '');
    const customId = text.replace(/^question /, '');
    byLine.set(customId, [...(byLine.get(customId) ?? []), request.receivedAt]);
  }
  const repeated = [...byLine].filter(([, times]) => times.length > 1);
  for (const [, times] of repeated) {
    expect(Math.min(...times)).toBeLessThan(replacedAt);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(replacedAt);
  }
  expect([...byLine.keys()].sort()).toEqual(ids); // every line was called upstream at least once
  return { calls: [...byLine.values()].reduce((sum, times) => sum + times.length, 0), repeatedLines: repeated.map(([customId]) => customId) };
}

/** The error with the last log lines of each process (warnings and errors only), for a failure's diagnosis. */
function withLogs(error: unknown, processes: Record<string, RoleProcess>): Error {
  const logs = Object.entries(processes).map(([name, handle]) => {
    const lines = handle.process.output().split('\n').filter((line) => /"level":(40|50|60)/.test(line)).slice(-30);
    return `--- ${name} (warnings and errors, last 30) ---\n${lines.join('\n')}`;
  });
  return new Error(`${(error as Error).message}\n${logs.join('\n')}`);
}

/** The longest time the batch made no progress: [from ms, to ms]. */
function longestStall(points: Timeline): [number, number] {
  let stall: [number, number] = [0, 0];
  for (let index = 1; index < points.length; index++) {
    if (points[index]![0] - points[index - 1]![0] > stall[1] - stall[0]) stall = [points[index - 1]![0], points[index]![0]];
  }
  return stall;
}

describe('batch durability on real processes', () => {
  describe('the worker process is SIGKILLed mid-batch', () => {
    let cluster: Cluster;
    let api: RoleProcess;
    let worker: RoleProcess;
    let client: OpenAI;
    const env = { ZUMIK_BATCH_LINES_PER_RUN: LINES_PER_RUN };

    beforeAll(async () => {
      cluster = await startCluster({ emulator: { latencyMs: LATENCY_MS } });
      [api, worker] = await Promise.all([cluster.spawn('api', env), cluster.spawn('worker', env)]);
      client = await prepare(cluster, api);
    }, 120_000);
    afterAll(async () => { await cluster?.stop(); }); // SIGKILLs every process group it started, drops the database

    it('every line ends up exactly once in the output or error file after a new worker takes over', async () => {
      const started = Date.now();
      const created = await startBatch(client);
      const timeline = { since: started, points: [] as Timeline };
      const before = await waitForBatch(client, created.id, (batch) => (batch.request_counts?.completed ?? 0) > 10, 60_000, 'more than 10 lines done', timeline);
      expect(before.request_counts!.completed).toBeLessThan(LINES);
      const killedAt = Date.now();
      const exitCode = await worker.kill('SIGKILL');
      expect(exitCode).toBeNull(); // killed by the signal, not an orderly exit
      const atKill = (await client.batches.retrieve(created.id)).request_counts!;
      await sleep(1_000);
      const replacedAt = Date.now();
      worker = await cluster.spawn('worker', env);
      const workerBackAt = Date.now();
      const done = await waitForBatch(client, created.id, (batch) => ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status), BOUND_MS, 'the batch to finish', timeline)
        .catch((error: unknown) => { throw withLogs(error, { api, worker }); });
      const totalMs = Date.now() - started;
      expect(done.status).toBe('completed');
      const { output, errors } = await expectEveryLineExactlyOnce(client, done);
      expect(errors).toEqual([]); // the lines in flight at the kill are retried by the new worker, not failed
      const upstream = upstreamCalls(cluster, replacedAt);
      expect(upstream.repeatedLines.length).toBeLessThanOrEqual(WINDOW); // only lines in flight at the kill
      console.info(`batch durability (worker restart): ${JSON.stringify({
        killedAfterMs: killedAt - started, doneAtKill: before.request_counts!.completed, countsJustAfterKill: atKill,
        workerBackAfterMs: workerBackAt - started, totalMs, output: output.length, errors: errors.length, ...upstream,
        longestStallMs: longestStall(timeline.points), timeline: timeline.points,
      })}`);
      expect(totalMs).toBeLessThan(BOUND_MS);
    }, BOUND_MS + 60_000);
  });

  describe('the Temporal dev server Zumik supervises is SIGKILLed mid-batch', () => {
    let cluster: Cluster;
    let zumik: RoleProcess;
    let client: OpenAI;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-batch-durability-'));
    const temporalServers = () => processesMentioning(dataDir).filter((pid) => {
      try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev'); } catch { return false; }
    });

    beforeAll(async () => {
      cluster = await startCluster({ emulator: { latencyMs: LATENCY_MS } });
      const [temporalPort, uiPort] = await freeStablePorts(2);
      // TEMPORAL_ADDRESS '' = unset: Zumik starts and supervises its own file-backed dev server in the data dir.
      zumik = await cluster.spawn('all', {
        TEMPORAL_ADDRESS: '', ZUMIK_DATA_DIR: dataDir, ZUMIK_TEMPORAL_PORT: String(temporalPort), ZUMIK_TEMPORAL_UI_PORT: String(uiPort),
        ZUMIK_BATCH_LINES_PER_RUN: LINES_PER_RUN,
      });
      client = await prepare(cluster, zumik);
    }, 120_000);
    // The dev server runs in its own process group (Zumik's supervisor detaches it): SIGKILLing Zumik's
    // group does not reach it, so it is killed by its data dir — also if this test process exits abruptly.
    const killTemporalServers = () => {
      for (const pid of processesMentioning(dataDir)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    };
    process.once('exit', killTemporalServers);
    afterAll(async () => {
      if (zumik) { // an orderly stop takes its dev server down; give it 15 s
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([zumik.kill('SIGTERM'), new Promise((resolve) => { timer = setTimeout(resolve, 15_000); })]);
        clearTimeout(timer);
      }
      killTemporalServers();
      await cluster?.stop(); // SIGKILLs every process group it started, drops the database
      fs.rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('every line ends up exactly once in the output or error file after the server comes back on the same file', async () => {
      const [firstServer, ...others] = temporalServers();
      expect(firstServer).toBeDefined();
      expect(others).toEqual([]);
      const firstCommand = fs.readFileSync(`/proc/${firstServer}/cmdline`, 'utf8');
      const started = Date.now();
      const created = await startBatch(client);
      const timeline = { since: started, points: [] as Timeline };
      const before = await waitForBatch(client, created.id, (batch) => (batch.request_counts?.completed ?? 0) > 10, 60_000, 'more than 10 lines done', timeline);
      expect(before.request_counts!.completed).toBeLessThan(LINES);
      const killedAt = Date.now();
      process.kill(firstServer!, 'SIGKILL');
      await waitUntil(() => !temporalServers().includes(firstServer!), 10_000, 'the dev server to die');
      const atKill = (await client.batches.retrieve(created.id)).request_counts!;
      await waitUntil(() => temporalServers().length === 1, 30_000, 'the supervisor to restart the dev server');
      const serverBackAt = Date.now();
      // the same server again: same port, same SQLite file, same settings
      expect(fs.readFileSync(`/proc/${temporalServers()[0]}/cmdline`, 'utf8')).toBe(firstCommand);
      const done = await waitForBatch(client, created.id, (batch) => ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status), BOUND_MS, 'the batch to finish', timeline)
        .catch((error: unknown) => { throw withLogs(error, { zumik }); });
      const totalMs = Date.now() - started;
      expect(zumik.process.child.exitCode).toBeNull(); // Zumik itself never went down
      expect(zumik.process.output()).toContain('the Temporal dev server exited unexpectedly'); // its supervisor saw the crash
      expect(done.status).toBe('completed');
      const { output, errors } = await expectEveryLineExactlyOnce(client, done);
      const upstream = upstreamCalls(cluster, serverBackAt); // a repeat needs a first call the killed server handed out
      // Zumik answers again through the restarted server: a new request runs end to end.
      const after = await zumik.call('POST', '/v1/chat/completions', { body: { model: ALIAS, messages: [{ role: 'user', content: 'after the restart' }] } });
      expect(after.status).toBe(200);
      console.info(`batch durability (Temporal dev server restart): ${JSON.stringify({
        killedAfterMs: killedAt - started, doneAtKill: before.request_counts!.completed, countsJustAfterKill: atKill,
        serverBackAfterMs: serverBackAt - started, totalMs, output: output.length, errors: errors.length,
        errorCodes: [...new Set(errors.map((line) => line.error?.code ?? line.response?.status_code))], ...upstream,
        longestStallMs: longestStall(timeline.points), timeline: timeline.points,
      })}`);
      expect(totalMs).toBeLessThan(BOUND_MS);
    }, BOUND_MS + 60_000);
  });
});

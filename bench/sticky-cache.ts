/**
 * Sticky routing's cache hit rate (issue 12): one Zumik (embedded defaults, its own Temporal dev
 * server) in front of three cache-aware replicas registered as BYOC endpoints, and a multi-turn chat
 * workload run three times — through a plain weighted release, a session-sticky one and a
 * prefix-sticky one — with the replicas' caches emptied between runs. Reports the share of prompt
 * tokens the replicas found in their prefix cache. `npm run build && node dist/bench/sticky-cache.js`
 * (BENCH_SESSIONS, BENCH_TURNS, BENCH_CONCURRENCY, BENCH_CACHE_BLOCKS tune it).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/project-root';
import { freePorts } from '../src/net/free-ports';
import { findTemporalBinary } from '../src/temporal/temporal-binary';
import { delay, startProcess, stopProcess, type Supervised } from './lib/proc';
import { CacheAwareEmulator } from './sticky-lib/cache-aware-emulator';

const KEY = 'sk-sticky-bench';
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 48);
const TURNS = Number(process.env.BENCH_TURNS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 6);
const CACHE_BLOCKS = Number(process.env.BENCH_CACHE_BLOCKS ?? 400);
const SYSTEM_PROMPTS = 6;
const MODEL = 'llama-3.3-70b';

/** A deterministic PRNG (mulberry32), so that every mode runs the same workload in the same order. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const systemPrompt = (index: number) => `You are assistant ${index} of a code review team. ${`Rule ${index}: explain each finding with the line it concerns and a fix. `.repeat(30)}`;

async function waitReady(url: string, proc: Supervised): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`zumik exited during start-up:\n${proc.tail()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200) return;
    } catch { /* not yet */ }
    await delay(200);
  }
  throw new Error(`zumik did not get ready:\n${proc.tail()}`);
}

async function main(): Promise<void> {
  const replicas = await Promise.all(['lane-a', 'lane-b', 'lane-c'].map((name) => new CacheAwareEmulator(name, CACHE_BLOCKS, KEY).start()));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-sticky-bench-'));
  const [port, temporalPort, uiPort] = await freePorts(3);
  const adminKey = `zk_bench_${randomBytes(16).toString('hex')}`;
  const zumik = startProcess('zumik', process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'main.js')], {
    cwd: PROJECT_ROOT, logFile: path.join(dataDir, 'zumik.log'),
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', ZUMIK_DATA_DIR: dataDir,
      ZUMIK_TEMPORAL_PORT: String(temporalPort), ZUMIK_TEMPORAL_UI_PORT: String(uiPort), ZUMIK_TEMPORAL_BIN: findTemporalBinary(process.env.ZUMIK_TEMPORAL_BIN),
      ZUMIK_ADMIN_KEY: adminKey, ZUMIK_LOG_LEVEL: 'warn', ZUMIK_EGRESS_ALLOW: '127.0.0.1/32,http',
    },
  });
  const origin = `http://127.0.0.1:${port}`;
  const call = async (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${origin}${route}`, {
      method, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = await response.json() as any;
    if (response.status !== 200) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  try {
    await waitReady(`${origin}/readyz`, zumik);
    for (const replica of replicas) {
      await call('PUT', `/v2/byoc-endpoints/${replica.name}`, { profile: 'byoc_dynamo', base_url: replica.baseUrl, api_key: KEY });
      // A new endpoint is pending until a replay passes; the bench activates it with the operator's override.
      await call('POST', `/v2/byoc-endpoints/${replica.name}/activate`, { override: true, reason: 'bench setup' });
    }
    const targets = replicas.map((replica, index) => ({ execution_profile: 'byoc_dynamo', provider: replica.name, model: MODEL, model_revision: '1', weight: index === 0 ? 2 : 1 }));
    const modes = [
      { name: 'plain weighted', alias: 'bench.plain', sticky: undefined },
      { name: 'session-sticky', alias: 'bench.session', sticky: { by: 'session' } },
      { name: 'prefix-sticky, prefix_chars 1024 (the system prompt)', alias: 'bench.prefix-system', sticky: { by: 'prefix', prefix_chars: 1024 } },
      { name: 'prefix-sticky, prefix_chars 4096 (system + first turn)', alias: 'bench.prefix-session', sticky: { by: 'prefix', prefix_chars: 4096 } },
    ];
    for (const mode of modes) await call('PUT', `/v2/model-aliases/${mode.alias}`, { targets, ...(mode.sticky ? { sticky: mode.sticky } : {}) });

    // The workload: each session has a system prompt (of SYSTEM_PROMPTS shared ones) and TURNS turns that grow its history.
    const random = prng(12);
    const queue: number[] = [];
    for (let session = 0; session < SESSIONS; session += 1) for (let turn = 0; turn < TURNS; turn += 1) queue.push(session);
    for (let index = queue.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [queue[index], queue[other]] = [queue[other]!, queue[index]!];
    }
    const rows: string[] = [];
    for (const mode of modes) {
      for (const replica of replicas) replica.reset();
      const histories = Array.from({ length: SESSIONS }, (_, session) => [{ role: 'system', content: systemPrompt(session % SYSTEM_PROMPTS) }]);
      const turns = new Array<number>(SESSIONS).fill(0);
      const sessionTurns = new Array<Promise<void>>(SESSIONS).fill(Promise.resolve());
      let next = 0;
      let failures = 0;
      const started = Date.now();
      const worker = async () => {
        for (;;) {
          const index = next++;
          if (index >= queue.length) return;
          const session = queue[index]!;
          const runTurn = async () => {
            const turn = turns[session]!;
            turns[session] = turn + 1;
            const history = histories[session]!;
            history.push({ role: 'user', content: `Turn ${turn} of session ${session}: please review hunk ${turn} of file src/module-${session}.ts and say what changed.` });
            try {
              const answer = await call('POST', '/v1/chat/completions', { model: mode.alias, messages: [...history] }, { 'x-zumik-session-id': `session-${session}` });
              history.push({ role: 'assistant', content: answer.choices[0].message.content as string });
            } catch {
              failures += 1;
              history.pop();
            }
          };
          // One turn of a session at a time: a client waits for the answer before its next message.
          sessionTurns[session] = sessionTurns[session]!.then(runTurn);
          await sessionTurns[session];
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const prompt = replicas.reduce((sum, replica) => sum + replica.promptTokens, 0);
      const cached = replicas.reduce((sum, replica) => sum + replica.cachedTokens, 0);
      const spread = replicas.map((replica) => replica.requests).join(' / ');
      rows.push(`| ${mode.name} | ${queue.length - failures} | ${spread} | ${(100 * cached / prompt).toFixed(1)} % | ${failures} | ${((Date.now() - started) / 1000).toFixed(1)} s |`);
    }
    const header = `sessions ${SESSIONS} × turns ${TURNS}, ${SYSTEM_PROMPTS} shared system prompts (~${Math.round(systemPrompt(0).length / 4)} tokens each), `
      + `concurrency ${CONCURRENCY}, cache ${CACHE_BLOCKS} blocks of 16 tokens per replica, weights 2 / 1 / 1`;
    console.log(`${header}\n\n| routing | requests | requests per replica (a / b / c) | prompt tokens from prefix cache | failures | wall |\n|---|---|---|---|---|---|\n${rows.join('\n')}`);
  } finally {
    await stopProcess(zumik);
    await Promise.all(replicas.map((replica) => replica.close()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

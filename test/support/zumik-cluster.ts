/**
 * Several real Zumik processes (the built `dist/src/main.js`, one per role) sharing what a scale-out
 * deployment shares: one fresh Postgres database, the suite's Temporal server and one task queue, a
 * Redis stream bus, and provider emulators running in the test process. Every process runs in its own
 * process group and is SIGKILLed by `stop()` — and, as a last resort, when the test process exits — so
 * nothing outlives a failed test.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenAICompatibleEmulator, type OpenAICompatibleEmulatorOptions } from '../emulators/openai-compatible-emulator';
import { freeStablePorts } from './ports';
import { createTestDatabase, type TestDatabase } from './test-database';
import { EMULATOR_KEY } from './zumik-harness';
import { spawnZumik, waitForReady, type ZumikProcess } from './zumik-process';
import { EncryptionCodec } from '../../src/temporal/payload-codec';

export const REDIS_URL = process.env.ZUMIK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type Role = 'api' | 'worker' | 'all';

export interface CallResult { status: number; body: any; text: string; headers: Headers }

export interface RoleProcess {
  role: Role;
  url: string;
  process: ZumikProcess;
  /** fetch with the cluster's admin key and a JSON body; the body parsed when it is JSON. */
  call(method: string, requestPath: string, options?: { body?: unknown; headers?: Record<string, string> }): Promise<CallResult>;
  /** Signal the whole process group (SIGKILL = a crash) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Cluster {
  database: TestDatabase;
  adminKey: string;
  taskQueue: string;
  openai: OpenAICompatibleEmulator;
  xai: OpenAICompatibleEmulator;
  /** The processes' payload codec (same master key): a test's own Temporal client reads their workflows with it. */
  codec: EncryptionCodec;
  /** Start one process in `role` and wait until its /readyz answers 200. */
  spawn(role: Role, env?: Record<string, string>): Promise<RoleProcess>;
  /** Install an alias release through `via` (admin). */
  installAlias(via: RoleProcess, alias: string, targets: Array<Record<string, unknown>>): Promise<Record<string, any>>;
  /** Kill every process still running, close the emulators, drop the database. */
  stop(): Promise<void>;
}

/** Process groups started by any cluster of this test process and not yet known to be gone. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

export async function startCluster(options: { emulator?: Partial<OpenAICompatibleEmulatorOptions>; temporalAddress?: string } = {}): Promise<Cluster> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => { for (const pid of liveGroups) killGroup(pid, 'SIGKILL'); });
  }
  const database = await createTestDatabase();
  const openai = await new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: EMULATOR_KEY, ...options.emulator }).start();
  const xai = await new OpenAICompatibleEmulator({ flavour: 'xai', apiKey: EMULATOR_KEY, ...options.emulator }).start();
  const adminKey = `zk_test_admin_${randomBytes(16).toString('hex')}`;
  const taskQueue = `test-mp-${randomBytes(6).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-cluster-'));
  const processes: RoleProcess[] = [];
  const masterKey = randomBytes(32);
  const baseEnv: Record<string, string> = {
    DATABASE_URL: database.url, TEMPORAL_ADDRESS: options.temporalAddress ?? process.env.ZUMIK_TEST_TEMPORAL_ADDRESS!, ZUMIK_TASK_QUEUE: taskQueue,
    ZUMIK_STREAM_BUS: REDIS_URL, ZUMIK_ADMIN_KEY: adminKey, ZUMIK_DATA_DIR: dataDir,
    ZUMIK_MASTER_KEY: masterKey.toString('base64url'), ZUMIK_LOG_LEVEL: process.env.ZUMIK_TEST_LOG_LEVEL ?? 'info',
    OPENAI_API_KEY: EMULATOR_KEY, OPENAI_BASE_URL: openai.baseUrl, XAI_API_KEY: EMULATOR_KEY, XAI_BASE_URL: xai.baseUrl,
  };

  const spawn: Cluster['spawn'] = async (role, env = {}) => {
    // Below the ephemeral range: no client connection's local port can hold it when a process is restarted on it.
    const [port] = env.PORT ? [Number(env.PORT)] : await freeStablePorts(1);
    const child = spawnZumik({ ...baseEnv, PORT: String(port), ...env }, ['--role', role]);
    const pid = child.child.pid!;
    liveGroups.add(pid);
    void child.exited.then(() => liveGroups.delete(pid));
    const url = `http://127.0.0.1:${port}`;
    const handle: RoleProcess = {
      role, url, process: child,
      async call(method, requestPath, callOptions = {}) {
        const headers: Record<string, string> = { authorization: `Bearer ${adminKey}`, ...callOptions.headers };
        if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
        const response = await fetch(`${url}${requestPath}`, {
          method, headers, body: callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body),
        });
        const text = await response.text();
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* SSE or text */ }
        return { status: response.status, body, text, headers: response.headers };
      },
      async kill(signal = 'SIGKILL') {
        if (child.child.exitCode === null && child.child.signalCode === null) killGroup(pid, signal);
        return child.exited;
      },
    };
    processes.push(handle);
    try {
      await waitForReady(url, 90_000, child);
    } catch (error) {
      await handle.kill();
      throw error;
    }
    return handle;
  };

  return {
    database, adminKey, taskQueue, openai, xai, spawn, codec: new EncryptionCodec(masterKey),
    async installAlias(via, alias, targets) {
      const response = await via.call('PUT', `/v2/model-aliases/${alias}`, { body: { targets } });
      if (response.status !== 200) throw new Error(`installAlias ${alias}: ${response.status} ${response.text}`);
      return response.body;
    },
    async stop() {
      await Promise.all(processes.map((handle) => handle.kill('SIGKILL')));
      await Promise.all([openai.close(), xai.close()]);
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Poll `GET /v2/requests/{id}` until the recorded outcome (with its attempts) is there. */
export async function waitForOutcome(via: RoleProcess, id: string, timeoutMs = 20_000): Promise<any> {
  const started = Date.now();
  for (;;) {
    const response = await via.call('GET', `/v2/requests/${id}`);
    if (response.status === 200 && Array.isArray(response.body.attempts)) return response.body;
    if (Date.now() - started > timeoutMs) throw new Error(`request ${id} was never recorded: ${response.status} ${response.text}`);
    await sleep(100);
  }
}

export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The `data:` payloads and comment lines of an SSE body, in order. */
export function sseEvents(text: string): Array<{ data?: string; comment?: string }> {
  return text.split('\n\n').filter((block) => block.trim().length > 0).map((block) => {
    const line = block.trim();
    if (line.startsWith(':')) return { comment: line.slice(1).trim() };
    return { data: line.split('\n').filter((part) => part.startsWith('data: ')).map((part) => part.slice(6)).join('\n') };
  });
}

export interface TimedStream {
  status: number;
  headers: Headers;
  text: string;
  /** Each `data:` payload or comment with the time (ms since the request was sent) its bytes arrived. */
  events: Array<{ data?: string; comment?: string; atMs: number }>;
}

/** POST a streamed chat completion and read the SSE body as it arrives, timing every event. */
export async function streamChat(via: RoleProcess, adminKey: string, body: Record<string, unknown>,
  onEvent?: (event: TimedStream['events'][number]) => void): Promise<TimedStream> {
  const sent = Date.now();
  const response = await fetch(`${via.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const events: TimedStream['events'] = [];
  let text = '';
  let pending = '';
  const decoder = new TextDecoder();
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    const piece = decoder.decode(bytes, { stream: true });
    text += piece;
    pending += piece;
    const blocks = pending.split('\n\n');
    pending = blocks.pop()!;
    const atMs = Date.now() - sent;
    for (const block of blocks) {
      if (!block.trim()) continue;
      const event = { ...sseEvents(`${block}\n\n`)[0]!, atMs };
      events.push(event);
      onEvent?.(event);
    }
  }
  return { status: response.status, headers: response.headers, text, events };
}

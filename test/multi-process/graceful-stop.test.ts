import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { target } from '../support/zumik-harness';
import {
  sleep, startCluster, streamChat, waitForOutcome, type Cluster, type RoleProcess, type TimedStream,
} from '../support/zumik-cluster';

// SIGTERM on `zumik --role worker` and `--role api` as real processes (Redis bus, one Temporal task queue,
// real PostgreSQL): a worker stops taking tasks and finishes its attempts within ZUMIK_SHUTDOWN_GRACE_MS, or
// hands them over (a stream continues on the next worker from what its client has); the API answers 503 on
// /readyz first, takes no new connection, finishes its responses, then exits — 0 in every case.
const ALIAS = 'drain.chat';
const WORDS = Array.from({ length: 24 }, (_unused, index) => `word${index}`);
const LONG_REPLY = `${WORDS.join(' ')}.`;
const EVENT_INTERVAL_MS = 150;
/** ZUMIK_RECORD_HISTORIES=1: the hand-over's history is written for the replay test (payloads in clear, as the others). */
const RECORD = process.env.ZUMIK_RECORD_HISTORIES === '1';
const PLAIN_PAYLOADS: Record<string, string> = RECORD ? { ZUMIK_PAYLOAD_ENCRYPTION: 'off' } : {};
const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

describe('graceful stop (SIGTERM)', () => {
  let cluster: Cluster;
  let api: RoleProcess;
  const workers: RoleProcess[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ emulator: { eventIntervalMs: EVENT_INTERVAL_MS, replyFor: () => ({ text: LONG_REPLY }) } });
    api = await cluster.spawn('api', PLAIN_PAYLOADS);
    await cluster.installAlias(api, ALIAS, [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  beforeEach(() => {
    cluster.openai.reset();
    cluster.openai.options.latencyMs = 0;
  });
  afterEach(async () => {
    // Each test starts from no worker at all: the one it spawns is the only one that can take its request.
    await Promise.all(workers.splice(0).map((worker) => worker.kill('SIGKILL')));
  });

  const spawnWorker = async (env: Record<string, string> = {}) => {
    const worker = await cluster.spawn('worker', { ...PLAIN_PAYLOADS, ...env });
    workers.push(worker);
    return worker;
  };
  const chatCalls = () => cluster.openai.requests.filter((request) => request.path.endsWith('/chat/completions'));
  const contentOf = (stream: TimedStream) => stream.events.filter((event) => event.data !== undefined && event.data !== '[DONE]')
    .map((event) => JSON.parse(event.data!)).map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('');
  /** Stream a chat completion and call `onContent` once, at its first content chunk. */
  const streamWithHook = (via: RoleProcess, onContent: () => void) => {
    let seen = false;
    return streamChat(via, cluster.adminKey, { model: ALIAS, messages: [{ role: 'user', content: 'Count for me' }] }, (event) => {
      if (seen || event.data === undefined || event.data === '[DONE]') return;
      if (JSON.parse(event.data).choices?.[0]?.delta?.content) { seen = true; onContent(); }
    });
  };

  async function recordHistory(workflowId: string, file: string): Promise<void> {
    const connection = await Connection.connect({ address: process.env.ZUMIK_TEST_TEMPORAL_ADDRESS! });
    try {
      const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
      const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, enums: String, bytes: String });
      fs.writeFileSync(path.join(HISTORIES, file), JSON.stringify(json));
    } finally {
      await connection.close();
    }
  }

  describe('a worker', () => {
    it('hands a stream longer than its grace over to the next worker: the client gets the whole answer once, and the worker exits 0', async () => {
      const draining = await spawnWorker({ ZUMIK_SHUTDOWN_GRACE_MS: '1000' });
      let stopped: Promise<number | null> | undefined;
      const streaming = streamWithHook(api, () => { stopped = draining.kill('SIGTERM'); });
      // A rolling deploy: the successor starts while the old worker drains.
      await sleep(300);
      const successor = await spawnWorker();
      const stream = await streaming;
      expect(await stopped).toBe(0);
      expect(draining.process.output()).toContain('worker draining');

      expect(stream.status).toBe(200);
      expect(contentOf(stream)).toBe(LONG_REPLY); // whole, each word once, in order
      expect(stream.events.some((event) => event.data?.includes('"error"'))).toBe(false);
      expect(stream.events.at(-2)!.comment).toMatch(/"completion":"completed"/);
      expect(stream.events.at(-1)!.data).toBe('[DONE]');
      const outcome = await waitForOutcome(api, stream.headers.get('x-zumik-request-id')!);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume' });
      // The first attempt ended with its worker, not as a provider failure; the next one continued it.
      expect(outcome.attempts.map((attempt: any) => [attempt.status, attempt.failure_kind, attempt.retry_cause])).toEqual([
        ['failed', 'worker_shutdown', null], ['succeeded', null, 'resume:worker_shutdown'],
      ]);
      expect(outcome.attempts[1].continuation).toMatchObject({ from_attempt: 1 });
      expect(outcome.attempts[1].continuation.offset_chars).toBeGreaterThan(0);
      expect(chatCalls()).toHaveLength(2);
      expect(successor.process.child.exitCode).toBeNull();
      if (RECORD) await recordHistory(outcome.workflow.id, 'v3-worker-shutdown-handover.json');
    });

    it('finishes an attempt that ends within its grace itself, takes no new task meanwhile, and exits 0', async () => {
      const draining = await spawnWorker({ ZUMIK_SHUTDOWN_GRACE_MS: '30000' });
      let stopped: Promise<number | null> | undefined;
      const streaming = streamWithHook(api, () => { stopped = draining.kill('SIGTERM'); });
      await sleep(500);
      // Sent while the worker drains: it waits for a worker that takes tasks.
      const later = api.call('POST', '/v1/chat/completions', { body: { model: ALIAS, messages: [{ role: 'user', content: 'And later?' }] } });
      const stream = await streaming;
      expect(stream.status).toBe(200);
      expect(contentOf(stream)).toBe(LONG_REPLY);
      expect(await stopped).toBe(0);
      const outcome = await waitForOutcome(api, stream.headers.get('x-zumik-request-id')!);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok' });
      expect(outcome.attempts).toHaveLength(1);
      expect(chatCalls()).toHaveLength(1); // the later request was not taken by the draining worker

      await spawnWorker();
      const answered = await later;
      expect(answered.status).toBe(200);
      expect(answered.body.choices[0].message.content).toBe(LONG_REPLY);
      expect(chatCalls()).toHaveLength(2);
    });
  });

  describe('an API process', () => {
    it('turns not-ready first, then takes no new connection, answers its responses in flight (plain and streamed), and exits 0', async () => {
      await spawnWorker();
      const door = await cluster.spawn('api', { ZUMIK_SHUTDOWN_DELAY_MS: '1500', ZUMIK_SHUTDOWN_GRACE_MS: '30000' });
      cluster.openai.options.latencyMs = 2_000;
      const plain = door.call('POST', '/v1/chat/completions', { body: { model: ALIAS, messages: [{ role: 'user', content: 'Plain, please' }] } });
      const streamed = streamWithHook(door, () => undefined);
      while (chatCalls().length < 2) await sleep(20);
      const stopped = door.kill('SIGTERM');

      // Readiness goes first, while the process still answers.
      let readiness: { status: number; body: any } | undefined;
      while (!readiness) {
        const response = await fetch(`${door.url}/readyz`).catch(() => undefined);
        if (response?.status === 503) readiness = { status: response.status, body: await response.json() };
        else await sleep(20);
      }
      expect(readiness.body.status).toBe('draining');

      const [answered, stream] = await Promise.all([plain, streamed]);
      expect(answered.status).toBe(200);
      expect(answered.body.choices[0].message.content).toBe(LONG_REPLY);
      expect(stream.status).toBe(200);
      expect(contentOf(stream)).toBe(LONG_REPLY);
      expect(stream.events.at(-1)!.data).toBe('[DONE]');
      expect(await stopped).toBe(0);
      await expect(fetch(`${door.url}/healthz`)).rejects.toThrow();
      for (const id of [answered.body.id, stream.headers.get('x-zumik-request-id')]) {
        expect(await waitForOutcome(api, id)).toMatchObject({ completion: 'completed' });
      }
    });

    it('past its grace closes what is still open without cancelling it: the request completes, and a resend to another replica gets its answer', async () => {
      await spawnWorker();
      const door = await cluster.spawn('api', { ZUMIK_SHUTDOWN_GRACE_MS: '500' });
      cluster.openai.options.latencyMs = 4_000;
      const key = `drain-${Date.now()}`;
      const request = { model: ALIAS, messages: [{ role: 'user', content: 'Slow, please' }] };
      const cut = door.call('POST', '/v1/chat/completions', { body: request, headers: { 'idempotency-key': key } }).then(() => 'answered', () => 'cut');
      while (!chatCalls().some((call) => JSON.stringify(call.body).includes('Slow, please'))) await sleep(20);
      expect(await door.kill('SIGTERM')).toBe(0);
      expect(await cut).toBe('cut');

      const resent = await api.call('POST', '/v1/chat/completions', { body: request, headers: { 'idempotency-key': key } });
      expect(resent.status).toBe(200);
      expect(resent.body.choices[0].message.content).toBe(LONG_REPLY);
      expect(await waitForOutcome(api, resent.body.id)).toMatchObject({ completion: 'completed', reason_code: 'ok' });
      // The closed connection cancelled nothing: one provider call for this request (an earlier test's worker, stopped
      // in its tail, may have its last request run again here: only this test's prompt counts).
      expect(chatCalls().filter((call) => JSON.stringify(call.body).includes('Slow, please'))).toHaveLength(1);
    });
  });
});

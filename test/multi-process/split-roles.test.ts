import { Client, Connection } from '@temporalio/client';
import { attemptsInHistory, eventTypes } from '../support/history';
import { target } from '../support/zumik-harness';
import { startCluster, streamChat, waitForOutcome, waitUntil, type Cluster, type RoleProcess } from '../support/zumik-cluster';

// `zumik --role api` and `zumik --role worker` as two real processes on one Postgres, one Temporal task
// queue and the Redis stream bus (DESIGN.md §1, §4.7): answers cross the process boundary, and a worker
// that dies mid-attempt costs the request time, not its answer.
const ALIAS = 'mp.chat';
const REPLY = 'Hello from the emulator.';
const EVENT_INTERVAL_MS = 150;

describe('API and worker in separate processes', () => {
  let cluster: Cluster;
  let api: RoleProcess;
  let worker: RoleProcess;
  let temporal: Connection;
  let client: Client;

  beforeAll(async () => {
    cluster = await startCluster({ emulator: { eventIntervalMs: EVENT_INTERVAL_MS } });
    [api, worker] = await Promise.all([cluster.spawn('api'), cluster.spawn('worker')]);
    await cluster.installAlias(api, ALIAS, [target('openai', 'gpt-4o-mini')]);
    temporal = await Connection.connect({ address: process.env.ZUMIK_TEST_TEMPORAL_ADDRESS! });
    client = new Client({ connection: temporal, dataConverter: { payloadCodecs: [cluster.codec] } });
  }, 120_000);
  afterAll(async () => {
    await temporal?.close();
    await cluster?.stop();
  });
  beforeEach(() => {
    cluster.openai.reset();
    cluster.openai.options.latencyMs = 0;
  });

  const chatCalls = () => cluster.openai.requests.filter((request) => request.path.endsWith('/chat/completions'));

  describe('delivery over the Redis bus', () => {
    it('streams chunk by chunk from the worker process to the client of the API process', async () => {
      const stream = await streamChat(api, cluster.adminKey, {
        model: ALIAS, messages: [{ role: 'user', content: 'Say hi' }], stream_options: { include_usage: true },
      });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('x-zumik-provider')).toBe('openai');
      const requestId = stream.headers.get('x-zumik-request-id')!;
      const chunks = stream.events.filter((event) => event.data !== undefined && event.data !== '[DONE]')
        .map((event) => ({ ...JSON.parse(event.data!), atMs: event.atMs }));
      expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set([requestId]));
      const content = chunks.filter((chunk) => chunk.choices?.[0]?.delta?.content);
      expect(content.length).toBeGreaterThan(1);
      expect(content.map((chunk) => chunk.choices[0].delta.content).join('')).toBe(REPLY); // in order
      expect(chunks.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
      // Chunk by chunk: the emulator paces its events, and the client sees them spread out in time the
      // same way (an answer replayed from the workflow result would arrive as one burst at the end).
      expect(content.at(-1)!.atMs - content[0]!.atMs).toBeGreaterThanOrEqual((content.length - 1) * EVENT_INTERVAL_MS * 0.5);
      // ends with the outcome comment, then [DONE]
      const tail = stream.events.slice(-2);
      expect(tail[0]!.comment).toMatch(/^zumik-outcome \{.*"completion":"completed".*\}$/);
      expect(tail[1]!.data).toBe('[DONE]');
      expect(stream.text.endsWith('data: [DONE]\n\n')).toBe(true);
      const outcome = await waitForOutcome(api, requestId);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok' });
    });

    it('answers a plain completion from the worker process', async () => {
      const response = await api.call('POST', '/v1/chat/completions', { body: { model: ALIAS, messages: [{ role: 'user', content: 'Say hi' }] } });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: REPLY } }] });
      expect(response.body.id).toBe(response.headers.get('x-zumik-request-id'));
      expect(response.headers.get('x-zumik-completion')).toBe('completed');
      expect(response.headers.get('x-zumik-provider')).toBe('openai');
      expect(chatCalls()).toHaveLength(1);
    });
  });

  describe('durability: the worker process is SIGKILLed after the attempt started', () => {
    // The first attempt is a local activity in the first workflow task: the dead worker's task times out
    // (10 s), moves to the shared queue, and the new worker runs it again, knowing that it was lost.
    const LATENCY_MS = 3_000;

    async function killWorkerOnceTheAttemptArrives(started: number) {
      await waitUntil(() => chatCalls().length >= 1, 30_000, 'the first attempt to reach the emulator');
      const attemptAt = Date.now() - started;
      await worker.kill('SIGKILL');
      const killedAt = Date.now() - started;
      worker = await cluster.spawn('worker');
      const workerBackAt = Date.now() - started;
      return { attemptAt, killedAt, workerBackAt };
    }

    /** A lost local first attempt: the task timed out, the next worker ran the attempt again, the record says why. */
    async function expectLostTaskThenSuccess(requestId: string) {
      const outcome = await waitForOutcome(api, requestId);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok' });
      expect(outcome.attempts).toHaveLength(1);
      expect(outcome.attempts[0]).toMatchObject({ n: 1, provider: 'openai', status: 'succeeded', retry_cause: 'worker_lost' });
      // The lost call's answer never reached anyone; the one the client got is the second call's.
      expect(chatCalls()).toHaveLength(2);
      // The record is written by the attempt itself, before its workflow task completes: wait for the history to close.
      const handle = client.workflow.getHandle(outcome.workflow.id);
      await handle.result();
      const history = await handle.fetchHistory();
      expect(eventTypes(history)).toContain('WorkflowTaskTimedOut');
      expect(attemptsInHistory(history, cluster.codec)).toEqual([
        { via: 'local', id: expect.any(String), summary: expect.stringMatching(/^attempt 1: openai\/gpt-4o-mini @default \(primary, worker_lost\)$/) },
      ]);
      return outcome;
    }

    it('a plain completion still completes with 200 once a new worker is up', async () => {
      // The first attempt of a plain completion is a local activity in the first workflow task: the dead worker's
      // task times out (10 s), the new worker runs the task again and, knowing the first was lost, calls again.
      cluster.openai.options.latencyMs = LATENCY_MS;
      const started = Date.now();
      const pending = api.call('POST', '/v1/chat/completions', { body: { model: ALIAS, messages: [{ role: 'user', content: 'Say hi' }] } });
      const marks = await killWorkerOnceTheAttemptArrives(started);
      const response = await pending;
      const totalMs = Date.now() - started;
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: REPLY } }] });
      expect(response.body.id).toBe(response.headers.get('x-zumik-request-id'));
      await expectLostTaskThenSuccess(response.body.id);
      expect(response.headers.get('x-zumik-attempts')).toBe('1');
      console.info(`durability (plain): ${JSON.stringify({ ...marks, totalMs })}`);
      expect(totalMs).toBeLessThan(90_000); // a behaviour bound, not a benchmark
    }, 120_000);

    it('a stream whose worker dies before the first token still completes for the client', async () => {
      cluster.openai.options.latencyMs = LATENCY_MS; // the emulator answers nothing (not even headers) for 3 s
      const started = Date.now();
      const pending = streamChat(api, cluster.adminKey, { model: ALIAS, messages: [{ role: 'user', content: 'Say hi' }] });
      const marks = await killWorkerOnceTheAttemptArrives(started);
      const stream = await pending;
      const totalMs = Date.now() - started;
      expect(stream.status).toBe(200);
      const requestId = stream.headers.get('x-zumik-request-id')!;
      const chunks = stream.events.filter((event) => event.data !== undefined && event.data !== '[DONE]').map((event) => JSON.parse(event.data!));
      expect(chunks.some((chunk) => chunk.error)).toBe(false);
      expect(chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('')).toBe(REPLY);
      expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set([requestId]));
      expect(stream.events.at(-2)!.comment).toMatch(/"completion":"completed"/);
      expect(stream.events.at(-1)!.data).toBe('[DONE]');
      await expectLostTaskThenSuccess(requestId);
      expect(stream.headers.get('x-zumik-attempts')).toBe('1');
      console.info(`durability (stream): ${JSON.stringify({ ...marks, totalMs })}`);
      expect(totalMs).toBeLessThan(90_000);
    }, 120_000);

    it('a stream whose worker dies after the first token is continued from the front door\'s checkpoint: the client gets one whole answer', async () => {
      cluster.openai.options.eventIntervalMs = 2_000; // the client has the first words long before the last
      try {
        const started = Date.now();
        let contentChunks = 0;
        const pending = streamChat(api, cluster.adminKey, { model: ALIAS, messages: [{ role: 'user', content: 'Say hi' }] }, (event) => {
          if (event.data && event.data !== '[DONE]' && JSON.parse(event.data).choices?.[0]?.delta?.content) contentChunks += 1;
        });
        // Mid-answer: the client has had content for one event interval.
        await waitUntil(() => contentChunks >= 2, 30_000, 'two content chunks at the client');
        await worker.kill('SIGKILL');
        worker = await cluster.spawn('worker');
        const stream = await pending;
        const totalMs = Date.now() - started;
        expect(stream.status).toBe(200);
        const requestId = stream.headers.get('x-zumik-request-id')!;
        const payloads = stream.events.filter((event) => event.data !== undefined).map((event) => event.data!);
        expect(payloads.at(-1)).toBe('[DONE]');
        const chunks = payloads.slice(0, -1).map((data) => JSON.parse(data));
        expect(chunks.some((chunk) => chunk.error)).toBe(false);
        // One answer: the words the client had, then only the rest (the re-run regenerated it and checked the prefix).
        expect(chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('')).toBe(REPLY);
        expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set([requestId]));
        expect(new Set(chunks.map((chunk) => chunk.created)).size).toBe(1);
        expect(chunks.filter((chunk) => chunk.choices?.[0]?.delta?.role)).toHaveLength(1);
        expect(stream.events.find((event) => event.comment)?.comment).toMatch(/"completion":"completed"/);
        const outcome = await waitForOutcome(api, requestId);
        expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume' });
        expect(outcome.attempts).toHaveLength(1);
        // The lost local attempt ran again on the new worker and continued from what the front door had sent.
        expect(outcome.attempts[0]).toMatchObject({
          n: 1, status: 'succeeded', retry_cause: 'worker_lost', continuation: { from_attempt: 1, mode: 'regenerate', offset_chunks: expect.any(Number) },
        });
        expect(outcome.attempts[0].continuation.offset_chunks).toBeGreaterThanOrEqual(3); // the role chunk and two words at least
        expect(chatCalls()).toHaveLength(2);
        console.info(`durability (stream, after first token): ${JSON.stringify({ totalMs })}`);
      } finally {
        cluster.openai.options.eventIntervalMs = EVENT_INTERVAL_MS;
      }
    }, 120_000);
  });
});

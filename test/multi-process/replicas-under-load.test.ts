/**
 * Replicas under steady load: two API processes and two workers on one Temporal server (Redis bus,
 * real PostgreSQL), each SIGKILLed in turn and restarted, then the Temporal server too. Clients spread
 * over both front doors, plain and streamed, each with an Idempotency-Key, and resend a broken
 * request to the *other* front door. Then:
 * - no request is lost: every one got its 200 (a stream: whole, ending in `[DONE]`, no error event);
 * - none is answered twice with different answers: every plain answer is unique and names its prompt
 *   (a stream's names its prompt and is the same on every call, as a deterministic model's, so that a
 *   stream cut by a killed worker can be continued by regeneration), what the client got is what
 *   Postgres kept, and a prompt reached the provider more than once only where its record says why (a
 *   failed attempt, a worker lost under it);
 * - any front door serves a reattach for a request another one started: resends that crossed to the
 *   other replica got their answer, and `GET /v2/requests/{id}` answers on both;
 * - live streams (chunk by chunk over the bus, not a replay) reached whichever front door held the
 *   client, from whichever worker ran the attempt: both front doors and both workers served some.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DedicatedTemporal } from '../support/dedicated-temporal';
import { freeStablePorts } from '../support/ports';
import { target } from '../support/zumik-harness';
import { sleep, sseEvents, startCluster, waitForOutcome, type Cluster, type RoleProcess } from '../support/zumik-cluster';

const ALIAS = 'replicas.chat';
const CLIENTS = 6;
const DOWN_MS = 4_000;
const RESEND_DELAY_MS = 300;

function promptOf(body: unknown): string {
  const messages = (body as { messages?: Array<{ content?: unknown }> })?.messages ?? [];
  return String(messages.at(-1)?.content ?? '');
}

interface Entry {
  stream: boolean;
  id?: string;
  text?: string;
  /** The front door of the first send and of the answer. */
  firstVia?: number;
  answeredVia?: number;
  /** The answer came chunk by chunk over the bus (not replayed whole from the record). */
  live?: boolean;
  sends: number;
  broken: number;
  /** The last answer that was not taken (status and the start of its body), for a failure's message. */
  last?: string;
}

describe('two API processes and two workers on one Temporal server, each killed in turn under load', () => {
  let dir: string;
  let temporal: DedicatedTemporal;
  let cluster: Cluster;
  const apis: RoleProcess[] = [];
  const workers: RoleProcess[] = [];
  let ports: number[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-replicas-'));
    temporal = await DedicatedTemporal.create(dir);
    await temporal.start();
    ports = await freeStablePorts(2);
    cluster = await startCluster({
      temporalAddress: temporal.address,
      // Plain answers are unique per provider call (a second answer for one prompt would show); a stream's answer is the
      // same for every call of its prompt, as from a deterministic model: a worker killed mid-stream is continued by
      // regenerating and verifying the delivered prefix, which a different answer would (rightly) refuse to splice.
      emulator: {
        latencyMs: 150, eventIntervalMs: 60,
        replyFor: (body, callNumber) => ({ text: (body as { stream?: boolean }).stream ? `answer to ${promptOf(body)}` : `answer to ${promptOf(body)} #${callNumber}` }),
      },
    });
    apis.push(...await Promise.all(ports.map((port) => cluster.spawn('api', { PORT: String(port) }))));
    workers.push(...await Promise.all([cluster.spawn('worker'), cluster.spawn('worker')]));
    await cluster.installAlias(apis[0]!, ALIAS, [target('openai', 'gpt-4o-mini')]);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    await temporal?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses no request, answers none twice, serves reattaches on either replica and streams through whichever holds the client', async () => {
    const run = randomBytes(4).toString('hex');
    const results = new Map<string, Entry>();
    /** Workers' pids over the run (restarted ones included): which one served a live stream. */
    const workerPids = new Set<number>(workers.map((worker) => worker.process.child.pid!));
    let next = 0;
    let loading = true;

    const oneRequest = async (prompt: string, client: number) => {
      const entry: Entry = { stream: client % 2 === 1, sends: 0, broken: 0 };
      results.set(prompt, entry);
      const until = Date.now() + 120_000;
      while (Date.now() < until) {
        // Alternate front doors per send: a resend goes to the other replica.
        const via = (client + entry.sends) % 2;
        entry.firstVia ??= via;
        entry.sends += 1;
        try {
          const response = await fetch(`http://127.0.0.1:${ports[via]}/v1/chat/completions`, {
            method: 'POST', signal: AbortSignal.timeout(60_000),
            headers: { authorization: `Bearer ${cluster.adminKey}`, 'content-type': 'application/json', 'idempotency-key': `replicas-${run}-${prompt}` },
            body: JSON.stringify({ model: ALIAS, messages: [{ role: 'user', content: prompt }], ...(entry.stream ? { stream: true } : {}) }),
          });
          const text = await response.text();
          entry.last = `${response.status} via ${via}: ${text.slice(-300)}`;
          if (response.status === 200 && !entry.stream) {
            const body = JSON.parse(text);
            Object.assign(entry, { id: body.id, text: body.choices[0].message.content, answeredVia: via });
            return;
          }
          if (response.status === 200 && entry.stream) {
            const events = sseEvents(text);
            const data = events.filter((event) => event.data !== undefined).map((event) => event.data!);
            // A stream counts as answered only whole: its [DONE], and no error event.
            if (data.at(-1) === '[DONE]' && !data.some((payload) => payload.includes('"error"'))) {
              const chunks = data.slice(0, -1).map((payload) => JSON.parse(payload));
              Object.assign(entry, {
                id: response.headers.get('x-zumik-request-id')!, answeredVia: via, live: !response.headers.has('x-zumik-completion'),
                text: chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join(''),
              });
              return;
            }
          }
        } catch (error) {
          // a broken connection (the front door died under it): resend to the other one
          entry.last = `broken via ${via}: ${(error as Error).message}`;
        }
        entry.broken += 1;
        await sleep(RESEND_DELAY_MS);
      }
    };
    const clients = Array.from({ length: CLIENTS }, async (_unused, client) => {
      while (loading) await oneRequest(`req-${next++}`, client);
    });

    const marks: Record<string, number> = {};
    const started = Date.now();
    const killInTurn = async (name: string, list: RoleProcess[], index: number) => {
      await sleep(DOWN_MS);
      const role = list[index]!.role;
      await list[index]!.kill('SIGKILL');
      marks[`${name}Killed`] = Date.now() - started;
      await sleep(DOWN_MS); // the other replica carries the load meanwhile
      list[index] = await cluster.spawn(role, role === 'api' ? { PORT: String(ports[index]) } : {});
      if (role === 'worker') workerPids.add(list[index]!.process.child.pid!);
    };
    await killInTurn('api1', apis, 0);
    await killInTurn('worker1', workers, 0);
    await killInTurn('api2', apis, 1);
    await killInTurn('worker2', workers, 1);
    await sleep(DOWN_MS);
    await temporal.kill();
    marks.temporalKilled = Date.now() - started;
    await sleep(DOWN_MS); // the front doors answer 503 engine_unavailable with Retry-After; clients resend
    await temporal.start();
    await sleep(DOWN_MS);
    loading = false;
    await Promise.all(clients);

    const unanswered = [...results].filter(([, entry]) => entry.text === undefined);
    for (const [prompt, entry] of unanswered) {
      // The recorded outcome of a request that never got its 200, for the failure's message.
      const id = /request id (chatcmpl-[a-z0-9]+)/.exec(entry.last ?? '')?.[1];
      if (id) console.error(`unanswered ${prompt}: ${JSON.stringify((await apis[0]!.call('GET', `/v2/requests/${id}`)).body)}`);
    }
    if (unanswered.length > 0) {
      // What the engine still runs: the history of every open request workflow, for the failure's message.
      const connection = await Connection.connect({ address: temporal.address });
      const open = new Client({ connection }).workflow.list({ query: 'ExecutionStatus="Running"' });
      for await (const workflow of open) {
        const history = await new Client({ connection }).workflow.getHandle(workflow.workflowId).fetchHistory();
        console.error(`still running: ${workflow.workflowId}\n${(history.events ?? []).map((event) => `${event.eventId} ${event.eventType} ${JSON.stringify(
          event.workflowTaskFailedEventAttributes?.failure?.message ?? event.activityTaskFailedEventAttributes?.failure?.message
          ?? event.workflowTaskTimedOutEventAttributes ?? event.activityTaskTimedOutEventAttributes?.failure?.message ?? '')}`).join('\n')}`);
      }
      await connection.close();
    }
    // No request lost.
    expect([...results].filter(([, entry]) => entry.text === undefined).map(([prompt, entry]) => ({ prompt, ...entry }))).toEqual([]);

    const calls = new Map<string, number>();
    for (const request of cluster.openai.requests) {
      if (request.path.endsWith('/chat/completions')) calls.set(promptOf(request.body), (calls.get(promptOf(request.body)) ?? 0) + 1);
    }
    const connection = await Connection.connect({ address: temporal.address });
    const temporalClient = new Client({ connection });
    const liveVia = new Set<number>();
    const liveFrom = new Set<string>();
    let crossed = 0;
    try {
      for (const [prompt, entry] of results) {
        expect(entry.text).toMatch(new RegExp(entry.stream ? `^answer to ${prompt}$` : `^answer to ${prompt} #\\d+$`));
        // Either replica answers GET /v2/requests/{id}, with what Postgres kept: the answer this client got.
        const records = await Promise.all(apis.map((api) => waitForOutcome(api, entry.id!, 60_000)));
        for (const record of records) {
          expect(record).toMatchObject({ id: entry.id, completion: 'completed' });
          expect({ prompt, kept: record.response?.choices?.[0]?.message?.content }).toEqual({ prompt, kept: entry.text });
        }
        const record = records[0];
        const made = calls.get(prompt) ?? 0;
        const lost = record.attempts[0]?.retry_cause === 'worker_lost' ? 1 : 0;
        expect(made).toBeGreaterThanOrEqual(1);
        expect({ prompt, made }).toEqual({ prompt, made: Math.min(made, record.attempts.length + lost) });
        if (entry.answeredVia !== entry.firstVia) crossed += 1;
        if (entry.stream && entry.live) {
          liveVia.add(entry.answeredVia!);
          const history = await temporalClient.workflow.getHandle(record.workflow.id).fetchHistory();
          const first = history.events?.find((event) => event.workflowTaskCompletedEventAttributes)?.workflowTaskCompletedEventAttributes?.identity;
          if (first) liveFrom.add(first);
        }
      }
    } finally {
      await connection.close();
    }
    console.info(`replicas under load: ${JSON.stringify({
      ...marks, requests: results.size, streams: [...results.values()].filter((entry) => entry.stream).length,
      liveStreams: [...results.values()].filter((entry) => entry.live).length, crossedToTheOtherReplica: crossed,
      sends: [...results.values()].reduce((sum, entry) => sum + entry.sends, 0), providerCalls: [...calls.values()].reduce((sum, n) => sum + n, 0),
    })}`);
    expect(results.size).toBeGreaterThan(40);
    // Resends after a front door died were answered by the other one (reattach across replicas).
    expect(crossed).toBeGreaterThan(0);
    // Live streams were delivered through both front doors, from at least two worker processes.
    expect(liveVia).toEqual(new Set([0, 1]));
    expect([...liveFrom].filter((identity) => workerPids.has(Number(identity.split('@')[0]))).length).toBeGreaterThanOrEqual(2);
  }, 300_000);
});

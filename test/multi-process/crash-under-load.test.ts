/**
 * Durability under crashes, with the API, the worker and the Temporal server as separate processes
 * under steady load (Redis bus, real PostgreSQL): each is SIGKILLed in turn and restarted. Clients
 * resend a broken request with its Idempotency-Key until they get an answer. Then:
 * - no request is lost: every one got its 200;
 * - none is answered twice with different answers, and a resend gets the original: every provider
 *   call's answer text is unique (the emulator numbers them), and what each client got is what
 *   Postgres recorded for its request;
 * - no provider call is duplicated: a prompt reaches the provider more than once only when its record
 *   says why (a failed attempt, or a first attempt lost with its worker: `retry_cause: worker_lost`).
 * The API and the worker stay down for 10 s each, the Temporal server for 20 s — longer than a start's own
 * retries, so that some keys are claimed by a request whose workflow never started (answered 503 with
 * Retry-After): their resend starts it. A dedicated Temporal dev server (killing the
 * suite's would break other test files).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DedicatedTemporal } from '../support/dedicated-temporal';
import { freeStablePorts } from '../support/ports';
import { target } from '../support/zumik-harness';
import { sleep, startCluster, waitForOutcome, type Cluster, type RoleProcess } from '../support/zumik-cluster';

const ALIAS = 'crash.chat';
const CLIENTS = 5;
const DOWN_MS = 10_000;
const TEMPORAL_DOWN_MS = 20_000;
const RESEND_DELAY_MS = 300;

/** The prompt of a chat body (its last user message). */
function promptOf(body: unknown): string {
  const messages = (body as { messages?: Array<{ content?: unknown }> })?.messages ?? [];
  return String(messages.at(-1)?.content ?? '');
}

describe('crashes under steady load: API, worker and Temporal server each SIGKILLed in turn', () => {
  let dir: string;
  let temporal: DedicatedTemporal;
  let cluster: Cluster;
  let api: RoleProcess;
  let worker: RoleProcess;
  let apiPort: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-crash-'));
    [apiPort] = (await freeStablePorts(1)) as [number];
    temporal = await DedicatedTemporal.create(dir);
    await temporal.start();
    cluster = await startCluster({
      temporalAddress: temporal.address,
      // Calls are in flight when a kill lands; every call's answer is unique and names its prompt.
      emulator: { latencyMs: 150, replyFor: (body, callNumber) => ({ text: `answer to ${promptOf(body)} #${callNumber}` }) },
    });
    [api, worker] = await Promise.all([cluster.spawn('api', { PORT: String(apiPort) }), cluster.spawn('worker')]);
    await cluster.installAlias(api, ALIAS, [target('openai', 'gpt-4o-mini')]);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await temporal?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses no request, answers none twice, duplicates no provider call, and every resend gets its original answer', async () => {
    const run = randomBytes(4).toString('hex');
    const results = new Map<string, { id?: string; text?: string; sends: number; broken: number }>();
    let next = 0;
    let loading = true;
    /** Every non-200 answer: status, code and Retry-After. The engine down is a 503 with Retry-After, never a 500. */
    const refusals: Array<{ status: number; code?: string; retryAfter: string | null }> = [];

    const oneRequest = async (prompt: string) => {
      const entry = { sends: 0, broken: 0 } as { id?: string; text?: string; sends: number; broken: number };
      results.set(prompt, entry);
      const until = Date.now() + 150_000;
      while (Date.now() < until) {
        entry.sends += 1;
        try {
          const response = await fetch(`http://127.0.0.1:${apiPort}/v1/chat/completions`, {
            method: 'POST', signal: AbortSignal.timeout(60_000),
            headers: { authorization: `Bearer ${cluster.adminKey}`, 'content-type': 'application/json', 'idempotency-key': `crash-${run}-${prompt}` },
            body: JSON.stringify({ model: ALIAS, messages: [{ role: 'user', content: prompt }] }),
          });
          const text = await response.text();
          if (response.status === 200) {
            const body = JSON.parse(text);
            entry.id = body.id;
            entry.text = body.choices[0].message.content;
            return;
          }
          let code: string | undefined;
          try { code = (JSON.parse(text) as { error?: { code?: string } }).error?.code; } catch { /* not JSON */ }
          refusals.push({ status: response.status, code, retryAfter: response.headers.get('retry-after') });
        } catch {
          // a broken connection (the API died under it): resend with the same key
        }
        entry.broken += 1;
        await sleep(RESEND_DELAY_MS);
      }
    };
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (loading) await oneRequest(`req-${next++}`);
    });

    const marks: Record<string, number> = {};
    const started = Date.now();
    await sleep(5_000);
    await api.kill('SIGKILL');
    marks.apiKilled = Date.now() - started;
    await sleep(DOWN_MS); // no front door: clients' connections are refused, and they resend
    api = await cluster.spawn('api', { PORT: String(apiPort) });
    await sleep(7_000);
    await worker.kill('SIGKILL');
    marks.workerKilled = Date.now() - started;
    await sleep(DOWN_MS); // no worker: started requests wait in their workflows
    worker = await cluster.spawn('worker');
    await sleep(7_000);
    await temporal.kill();
    marks.temporalKilled = Date.now() - started;
    // One more client that starts now, so that requests certainly arrive while the engine is down (the five may all be
    // waiting on workflows that started before the kill, on a loaded machine): its first send is refused, and resent.
    const outageClient = (async () => {
      while (loading) await oneRequest(`req-${next++}`);
    })();
    // Down longer than the client's own retries of a start (≈ 6 s): requests arriving now get a 503 and are resent,
    // and a resend must start the workflow their first send never could (the key is claimed, no workflow exists).
    await sleep(TEMPORAL_DOWN_MS);
    await temporal.start();
    marks.temporalBack = Date.now() - started;
    await sleep(6_000);
    loading = false;
    await Promise.all([...clients, outageClient]);
    marks.loadEnded = Date.now() - started;

    // While the engine was down, requests were refused honestly: a 503 engine_unavailable with Retry-After, never a 500.
    expect(refusals.filter((refusal) => refusal.status >= 500 && !(refusal.status === 503 && refusal.code === 'engine_unavailable' && refusal.retryAfter === '5')))
      .toEqual([]);
    expect(refusals.filter((refusal) => refusal.code === 'engine_unavailable').length).toBeGreaterThan(0);

    // No request lost.
    const unanswered = [...results].filter(([, entry]) => entry.text === undefined).map(([prompt]) => prompt);
    expect(unanswered).toEqual([]);

    const calls = new Map<string, string[]>();
    for (const request of cluster.openai.requests) {
      if (!request.path.endsWith('/chat/completions')) continue;
      const prompt = promptOf(request.body);
      calls.set(prompt, [...(calls.get(prompt) ?? []), prompt]);
    }
    const temporalClient = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    let recalls = 0;
    let resent = 0;
    for (const [prompt, entry] of results) {
      // The answer is one the provider gave for this very prompt, and the one Postgres kept for the request.
      expect(entry.text).toMatch(new RegExp(`^answer to ${prompt} #\\d+$`));
      const record = await waitForOutcome(api, entry.id!, 60_000);
      expect(record).toMatchObject({ completion: 'completed' });
      expect({ prompt, kept: record.response?.choices?.[0]?.message?.content }).toEqual({ prompt, kept: entry.text });
      // A second provider call only with its reason on record.
      const made = calls.get(prompt)?.length ?? 0;
      const lost = record.attempts[0]?.retry_cause === 'worker_lost' ? 1 : 0;
      expect(made).toBeGreaterThanOrEqual(1);
      expect({ prompt, made }).toEqual({ prompt, made: Math.min(made, record.attempts.length + lost) });
      recalls += made - 1;
      if (entry.broken > 0) resent += 1;
      const description = await temporalClient.workflow.getHandle(record.workflow.id).describe();
      expect(description.status.name).toBe('COMPLETED');
    }
    await temporalClient.connection.close();
    console.info(`crash under load: ${JSON.stringify({
      ...marks, requests: results.size, resent, sends: [...results.values()].reduce((sum, entry) => sum + entry.sends, 0),
      providerCalls: [...calls.values()].reduce((sum, list) => sum + list.length, 0), recallsExplainedByRecord: recalls,
    })}`);
    expect(results.size).toBeGreaterThan(30);
  }, 300_000);
});

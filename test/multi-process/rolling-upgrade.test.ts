/**
 * A rolling deploy with requests in flight (docs/operations.md): requests start on a worker running a
 * real earlier build of the workflow code (EARLIER_RELEASE, taken from git and bundled like `npm run
 * build` does: before the queue loop's continue-as-new and the bridge-verified-outage patch), that
 * worker is drained with SIGTERM, and a worker of today's build takes over. Some requests are waiting
 * in a retry backoff (a durable timer) at the swap, so today's code replays history the earlier code
 * wrote and carries on. Every request finishes with a correct outcome: the answer the provider gave
 * for its own prompt, once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowsAt } from '../support/earlier-workflow-bundle';
import { target } from '../support/zumik-harness';
import { sleep, startCluster, waitForOutcome, type Cluster, type RoleProcess } from '../support/zumik-cluster';

/** The last release before chatRequestWorkflow's current shape (no patch markers, no continue-as-new in its queue loop). */
const EARLIER_RELEASE = 'fa7a1cdd31e13abe5e6157fb8242f8952e2297f6';
/** The patch id today's chatRequestWorkflow has and the earlier release lacks (workflows/chat-request-workflow.ts). */
const BRIDGE_VERIFIED_OUTAGE_PATCH = 'bridge-verified-outage';
const ALIAS = 'upgrade.chat';
const REQUESTS = 12;
const FAULTED = 4;

function promptOf(body: unknown): string {
  const messages = (body as { messages?: Array<{ content?: unknown }> })?.messages ?? [];
  return String(messages.at(-1)?.content ?? '');
}

describe('rolling upgrade of the workers with requests in flight', () => {
  let dir: string;
  let earlierBundle: string;
  let cluster: Cluster;
  let api: RoleProcess;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-upgrade-'));
    [earlierBundle, cluster] = await Promise.all([
      bundleWorkflowsAt(EARLIER_RELEASE, path.join(dir, 'earlier-workflow-bundle.js')),
      startCluster({ emulator: { latencyMs: 1_000, replyFor: (body, callNumber) => ({ text: `answer to ${promptOf(body)} #${callNumber}` }) } }),
    ]);
    api = await cluster.spawn('api');
    await cluster.installAlias(api, ALIAS, [target('openai', 'gpt-4o-mini')]);
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs an earlier build of the workflow code: a different shape from today\'s', () => {
    const earlier = fs.readFileSync(earlierBundle, 'utf8');
    expect(earlier).toContain('chatRequestWorkflow');
    expect(earlier).not.toContain(BRIDGE_VERIFIED_OUTAGE_PATCH);
    expect(fs.readFileSync(process.env.ZUMIK_TEST_WORKFLOW_BUNDLE!, 'utf8')).toContain(BRIDGE_VERIFIED_OUTAGE_PATCH);
  });

  it('finishes every request started on the old build, once and correctly, after the new build takes over', async () => {
    const old = await cluster.spawn('worker', { ZUMIK_WORKFLOW_BUNDLE: earlierBundle, ZUMIK_SHUTDOWN_GRACE_MS: '30000' });
    // The first calls answer 503 with Retry-After: their requests wait in a durable backoff timer across the swap.
    cluster.openai.inject(...Array.from({ length: FAULTED }, () => ({ kind: 'status' as const, status: 503, retryAfterSeconds: 4 })));
    const run = Date.now().toString(36);
    const prompts = Array.from({ length: REQUESTS }, (_unused, index) => `upgrade-${run}-${index}`);
    const answers = prompts.map((prompt, index) => index % 3 === 2
      ? streamText(prompt)
      : api.call('POST', '/v1/chat/completions', { body: { model: ALIAS, messages: [{ role: 'user', content: prompt }] }, headers: { 'idempotency-key': prompt } })
        .then((response) => ({ status: response.status, id: response.body.id as string, text: response.body.choices?.[0]?.message?.content as string })));
    // Every request has reached the provider once on the old build before it is stopped.
    while (cluster.openai.requests.filter((request) => request.path.endsWith('/chat/completions')).length < REQUESTS) await sleep(20);
    expect(old.process.output()).toContain(`"workflowBundle":"${earlierBundle}"`);
    const stopped = old.kill('SIGTERM');
    const replacement = await cluster.spawn('worker');
    expect(await stopped).toBe(0);

    const results = await Promise.all(answers);
    const calls = cluster.openai.requests.filter((request) => request.path.endsWith('/chat/completions'));
    const connection = await Connection.connect({ address: process.env.ZUMIK_TEST_TEMPORAL_ADDRESS! });
    const temporal = new Client({ connection });
    let crossedBuilds = 0;
    try {
      for (const [index, result] of results.entries()) {
        const prompt = prompts[index]!;
        expect({ prompt, status: result.status }).toEqual({ prompt, status: 200 });
        expect(result.text).toMatch(new RegExp(`^answer to ${prompt} #\\d+$`));
        const outcome = await waitForOutcome(api, result.id, 30_000);
        expect(outcome).toMatchObject({ completion: 'completed' });
        const made = calls.filter((call) => promptOf(call.body) === prompt).length;
        expect({ prompt, made }).toEqual({ prompt, made: outcome.attempts.length });
        expect(outcome.reason_code).toBe(outcome.attempts.length === 1 ? 'ok' : 'ok_after_retry');
        // Which builds completed this workflow's tasks: the old worker's and then the new one's, for those that crossed.
        const history = await temporal.workflow.getHandle(outcome.workflow.id).fetchHistory();
        const identities = new Set((history.events ?? []).map((event) => event.workflowTaskCompletedEventAttributes?.identity).filter(Boolean));
        if (identities.has(`${old.process.child.pid}@${os.hostname()}`) && identities.has(`${replacement.process.child.pid}@${os.hostname()}`)) crossedBuilds += 1;
      }
    } finally {
      await connection.close();
    }
    expect(results.filter((result) => result.status === 200)).toHaveLength(REQUESTS);
    expect(calls).toHaveLength(REQUESTS + FAULTED);
    // The requests that waited out their backoff across the swap were replayed and finished by the new build.
    expect(crossedBuilds).toBeGreaterThanOrEqual(FAULTED);
  }, 240_000);

  async function streamText(prompt: string): Promise<{ status: number; id: string; text: string }> {
    const response = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${cluster.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: ALIAS, messages: [{ role: 'user', content: prompt }], stream: true }),
    });
    const body = await response.text();
    const chunks = body.split('\n\n').filter((block) => block.startsWith('data: ') && block !== 'data: [DONE]').map((block) => JSON.parse(block.slice(6)));
    return { status: response.status, id: response.headers.get('x-zumik-request-id')!, text: chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('') };
  }
});

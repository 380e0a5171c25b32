/**
 * Replay and replay-gated activation end to end (real Temporal, Postgres, emulators; issue 12): prompts
 * retained by policy, a new BYOC endpoint refused until activated, a replay of recorded traffic against it
 * in shadow (continuing as new past its page size), a passing report that activates it, a failing or stale
 * report that does not, the operator's audited override, and retention off leaving nothing to replay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, resetCircuits, setPolicy, sleep, waitForRecorded } from '../request-path/request-path-helpers';

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');
const RECORD = process.env.ZUMIK_RECORD_HISTORIES === '1';
const LANE_MODEL = 'meta-llama/Llama-3.3-70B-Instruct';
const lane = (id: string) => target(id, LANE_MODEL, 1, { execution_profile: 'byoc_dynamo' });

describe('replay-gated BYOC activation end to end', () => {
  let harness: Harness;
  let dynamo: OpenAICompatibleEmulator;
  let tenantAdmin: string;

  beforeAll(async () => {
    dynamo = await new OpenAICompatibleEmulator({ flavour: 'byoc', apiKey: EMULATOR_KEY }).start();
    // A page of 2 requests per run: a sample of 3 continues as new once. A recorded history must replay without the payload key.
    harness = await startHarness({ env: { ZUMIK_EGRESS_ALLOW: '127.0.0.1/32,http', ZUMIK_REPLAY_PAGE_SIZE: '2', ...(RECORD ? { ZUMIK_PAYLOAD_ENCRYPTION: 'off' } : {}) } });
    const key = await harness.call('POST', '/v2/api-keys', { body: { name: 'tenant admin', scopes: ['admin'] } });
    expect(key.status).toBe(201);
    tenantAdmin = key.body.key;
    await setPolicy(harness, { prompt_retention: { enabled: true, days: 7 } });
    await harness.installAlias('replay.chat', [target('openai', 'gpt-4o-mini')]);
    // Recorded traffic, served by a managed target with retention on: two plain answers and a stream.
    const served: string[] = [];
    for (const stream of [false, true, false]) {
      const response = await chat(harness, { model: 'replay.chat', stream, messages: [{ role: 'user', content: `question ${served.length}` }] });
      expect(response.status).toBe(200);
      served.push(response.headers.get('x-zumik-request-id')!);
    }
    await eventually(async () => (await harness.database.pool.query('SELECT 1 FROM retained_prompts WHERE request_id = ANY($1)', [served])).rows.length === 3,
      10_000, 'the three prompts to be retained');
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await dynamo?.close();
  });
  beforeEach(async () => {
    dynamo.reset();
    dynamo.resetReply();
    await resetCircuits(harness);
  });

  const register = async (id: string) => {
    const response = await harness.call('PUT', `/v2/byoc-endpoints/${id}`, { body: { profile: 'byoc_dynamo', base_url: dynamo.baseUrl, api_key: EMULATOR_KEY } });
    expect(response.status).toBe(200);
    return response.body;
  };
  const chatCalls = () => dynamo.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
  /** Start a replay of replay.chat's traffic against an endpoint and wait for its report. */
  const replay = async (endpoint: string, extra: Record<string, unknown> = {}) => {
    const started = await harness.call('POST', '/v2/replays', {
      body: { selection: { alias: 'replay.chat', sample_size: 3 }, candidate: { byoc_endpoint: endpoint, model: LANE_MODEL }, ...extra },
    });
    expect([started.status, started.body.error]).toEqual([202, undefined]);
    expect(started.body).toMatchObject({ object: 'replay', status: 'running', candidate: { byoc_endpoint: endpoint } });
    let report: any;
    await eventually(async () => {
      report = (await harness.call('GET', `/v2/replays/${started.body.id}`)).body;
      return report.status === 'completed';
    }, 30_000, `replay ${started.body.id} to complete`);
    return report;
  };

  it('retains the prompts of the Anthropic Messages and Responses doors too, in the chat form a replay sends', async () => {
    const messages = await fetch(`${harness.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': harness.adminKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'replay.chat', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'via messages' }] }),
    });
    expect(messages.status).toBe(200);
    const responses = await fetch(`${harness.url}/v1/responses`, {
      method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'replay.chat', stream: true, input: 'via responses' }),
    });
    expect(responses.status).toBe(200);
    await responses.text();
    const ids = [messages.headers.get('x-zumik-request-id'), responses.headers.get('x-zumik-request-id')];
    expect(ids).toEqual([expect.any(String), expect.any(String)]);
    let rows: Array<{ request_id: string; request: any; answer: any }> = [];
    await eventually(async () => {
      rows = (await harness.database.pool.query('SELECT request_id, request, answer FROM retained_prompts WHERE request_id = ANY($1) ORDER BY created_at', [ids])).rows;
      return rows.length === 2;
    }, 10_000, 'both prompts to be retained');
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    expect(byId.get(ids[0]!)!.request.messages).toEqual([
      { role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'via messages' }] },
    ]);
    expect(byId.get(ids[1]!)!.request.messages).toEqual([{ role: 'user', content: 'via responses' }]);
    expect(byId.get(ids[1]!)!.request.stream).toBeUndefined();
    for (const id of ids) expect(byId.get(id!)!.answer).toMatchObject({ text: expect.stringMatching(/\S/), finish_reason: 'stop', provider: 'openai' });
  });

  it('refuses a new endpoint, replays recorded traffic against it in shadow, activates it on a passing report, then serves with it', async () => {
    const registered = await register('acme-gpu');
    expect(registered).toMatchObject({ status: 'pending', activation: null });
    const release = await harness.installAlias('replay.lane', [lane('acme-gpu')]);

    const refused = await chat(harness, { model: 'replay.lane' });
    expect([refused.status, refused.body.error.code, refused.headers.get('x-zumik-reason-code')]).toEqual([409, 'endpoint_pending', 'endpoint_pending']);
    expect(refused.body.error.message).toMatch(/pending activation/);
    expect(chatCalls()).toBe(0);

    const report = await replay('acme-gpu');
    expect(report).toMatchObject({
      verdict: 'pass', sample_count: 3, similarity: 'token_overlap',
      report: {
        count: 3, succeeded: 3, success_rate: 1, verdict: 'pass', agreement: { similarity: 'token_overlap', exact_match_rate: 1, mean_similarity: 1 },
        usage: { prompt_tokens: 48, completion_tokens: 18, total_tokens: 66 },
      },
    });
    expect(report.report.checks.map((check: { name: string; pass: boolean }) => [check.name, check.pass]))
      .toEqual([['min_sample', true], ['min_success_rate', true], ['min_agreement', true]]);
    expect(report.report.ttft_ms.p95).toEqual(expect.any(Number));
    expect(report.report.latency_ms.p50).toEqual(expect.any(Number));
    // Shadow: the candidate got every sampled request, and no client got its answers (nothing recorded as a request).
    expect(chatCalls()).toBe(3);
    const requests = await harness.database.pool.query("SELECT count(*)::int AS n FROM requests WHERE alias = 'replay.lane' AND completion = 'completed'");
    expect(requests.rows[0].n).toBe(0);
    // Still pending: a report alone activates nothing.
    expect((await chat(harness, { model: 'replay.lane' })).status).toBe(409);

    // Past the page size of 2, the run continued as new: two runs, one report; progress visible by query.
    const handle = harness.zumik.client.workflow.getHandle(report.workflow_id);
    const description = await handle.describe();
    expect(description.runId).not.toBe(description.raw.workflowExecutionInfo?.firstRunId);
    expect(await handle.query('progress')).toMatchObject({ status: 'completed', count: 3, done: 3, succeeded: 3, runs: 2, verdict: 'pass' });
    await replayFirstRun(report.workflow_id, description.raw.workflowExecutionInfo!.firstRunId!);

    const activated = await harness.call('POST', '/v2/byoc-endpoints/acme-gpu/activate', { key: tenantAdmin, body: { report_id: report.id } });
    expect([activated.status, activated.body.error]).toEqual([200, undefined]);
    expect(activated.body).toMatchObject({ status: 'active', activation: { report_id: report.id, override: false, reason: null } });
    // The release that introduced the endpoint records its activation beside it (the release itself is unchanged).
    const releaseNow = (await harness.call('GET', `/v2/model-alias-releases/${release.id}`)).body;
    expect(releaseNow).toMatchObject({ id: release.id, targets: release.targets, activations: [{ endpoint_id: 'acme-gpu', report_id: report.id, override: false }] });

    // Every process forgot the endpoint's pending state at once (change feed): it serves now.
    const servedNow = await chat(harness, { model: 'replay.lane' });
    expect([servedNow.status, servedNow.headers.get('x-zumik-provider')]).toEqual([200, 'acme-gpu']);
    expect((await waitForRecorded(harness, servedNow.body.id)).attempts[0]).toMatchObject({ provider: 'acme-gpu', status: 'succeeded' });
  });

  it('keeps an endpoint pending after a failing replay and refuses activation with that report, naming the failing thresholds', async () => {
    await register('acme-bad');
    await harness.installAlias('replay.bad', [lane('acme-bad')]);
    // Different answers, and one call in three fails.
    dynamo.setReply({ text: 'Completely unrelated words instead' });
    dynamo.inject({ kind: 'status', status: 500 });
    const report = await replay('acme-bad', { similarity: 'edit_distance' });
    expect(report).toMatchObject({ verdict: 'fail', report: { count: 3, succeeded: 2, failed: 1, failure_kinds: { upstream_unavailable: 1 }, agreement: { exact_match_rate: 0 } } });
    const failing = report.report.checks.filter((check: { pass: boolean }) => !check.pass).map((check: { name: string }) => check.name);
    expect(failing).toEqual(['min_success_rate', 'min_agreement']);

    const refused = await harness.call('POST', '/v2/byoc-endpoints/acme-bad/activate', { body: { report_id: report.id } });
    expect([refused.status, refused.body.error.code, refused.body.error.param]).toEqual([422, 'replay_report_failed', 'report_id']);
    expect(refused.body.error.message).toMatch(/min_success_rate.*min_agreement/);
    expect((await harness.call('GET', '/v2/byoc-endpoints/acme-bad')).body.status).toBe('pending');
    expect((await chat(harness, { model: 'replay.bad' })).body.error.code).toBe('endpoint_pending');
    // A report of another endpoint does not activate this one either.
    const passing = (await harness.call('GET', '/v2/replays')).body.data.find((entry: any) => entry.verdict === 'pass');
    const mismatch = await harness.call('POST', '/v2/byoc-endpoints/acme-bad/activate', { body: { report_id: passing.id } });
    expect([mismatch.status, mismatch.body.error.code]).toEqual([422, 'replay_report_mismatch']);
  });

  it('replays against a candidate release through its plan, failing over as a served request would', async () => {
    const standby = await new OpenAICompatibleEmulator({ flavour: 'byoc', apiKey: EMULATOR_KEY }).start();
    try {
      await register('acme-first');
      const second = await harness.call('PUT', '/v2/byoc-endpoints/acme-second', { body: { profile: 'byoc_dynamo', base_url: standby.baseUrl, api_key: EMULATOR_KEY } });
      expect(second.status).toBe(200);
      const release = await harness.installAlias('replay.candidate', [lane('acme-first'), target('acme-second', LANE_MODEL, 0, { execution_profile: 'byoc_dynamo' })]);
      // The primary is down for every sampled request: each one is answered by the standby.
      dynamo.inject({ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
      const started = await harness.call('POST', '/v2/replays', {
        body: { selection: { alias: 'replay.chat', sample_size: 3 }, candidate: { release_id: release.id }, similarity: 'exact' },
      });
      expect([started.status, started.body.error]).toEqual([202, undefined]);
      let report: any;
      await eventually(async () => {
        report = (await harness.call('GET', `/v2/replays/${started.body.id}`)).body;
        return report.status === 'completed';
      }, 30_000, 'the release replay to complete');
      expect(report).toMatchObject({ verdict: 'pass', report: { count: 3, succeeded: 3, success_rate: 1 } });
      expect(chatCalls()).toBe(3);
      expect(standby.requests.filter((request) => request.path.endsWith('/chat/completions')).length).toBe(3);
    } finally {
      await standby.close();
    }
  });

  it('refuses a stale report; the operator override works and is audited; a tenant admin cannot override', async () => {
    await register('acme-old');
    await harness.installAlias('replay.old', [lane('acme-old')]);
    const report = await replay('acme-old');
    expect(report.verdict).toBe('pass');
    await setPolicy(harness, { prompt_retention: { enabled: true }, replay: { max_report_age_s: 60 } });
    await harness.database.pool.query("UPDATE replays SET completed_at = now() - interval '2 minutes' WHERE id = $1", [report.id]);
    const stale = await harness.call('POST', '/v2/byoc-endpoints/acme-old/activate', { body: { report_id: report.id } });
    expect([stale.status, stale.body.error.code, stale.body.error.param]).toEqual([422, 'replay_report_stale', 'report_id']);
    expect(stale.body.error.message).toMatch(/max_report_age_s \(60 s\)/);

    const byAdmin = await harness.call('POST', '/v2/byoc-endpoints/acme-old/activate', { key: tenantAdmin, body: { override: true, reason: 'trust me' } });
    expect([byAdmin.status, byAdmin.body.error.code, byAdmin.body.error.param]).toEqual([403, 'insufficient_scope', 'override']);
    const noReason = await harness.call('POST', '/v2/byoc-endpoints/acme-old/activate', { body: { override: true } });
    expect([noReason.status, noReason.body.error.param]).toEqual([400, 'reason']);
    expect((await harness.call('GET', '/v2/byoc-endpoints/acme-old')).body.status).toBe('pending');

    const before = Math.floor(Date.now() / 1000);
    const overridden = await harness.call('POST', '/v2/byoc-endpoints/acme-old/activate', { body: { override: true, reason: 'capacity emergency, INC-42' } });
    expect(overridden.status).toBe(200);
    const operatorKey = (await harness.database.pool.query<{ id: string }>("SELECT id FROM api_keys WHERE 'operator' = ANY(scopes) LIMIT 1")).rows[0]!.id;
    expect(overridden.body).toMatchObject({
      status: 'active', activation: { report_id: null, override: true, reason: 'capacity emergency, INC-42', activated_by: operatorKey },
    });
    expect(overridden.body.activation.activated_at).toBeGreaterThanOrEqual(before);
    expect((await harness.call('GET', '/v2/byoc-endpoints/acme-old')).body.activation).toEqual(overridden.body.activation);
    expect((await chat(harness, { model: 'replay.old' })).status).toBe(200);
    await setPolicy(harness, { prompt_retention: { enabled: true } });
  });

  it('stores nothing with retention off, and a replay then finds no sample (a clear 422)', async () => {
    await setPolicy(harness, {});
    try {
      await harness.installAlias('quiet.chat', [target('openai', 'gpt-4o-mini')]);
      const response = await chat(harness, { model: 'quiet.chat' });
      expect(response.status).toBe(200);
      await waitForRecorded(harness, response.body.id);
      await sleep(300);
      expect((await harness.database.pool.query("SELECT 1 FROM retained_prompts WHERE alias = 'quiet.chat'")).rows).toHaveLength(0);
      const refused = await harness.call('POST', '/v2/replays', {
        body: { selection: { alias: 'quiet.chat', sample_size: 5 }, candidate: { byoc_endpoint: 'acme-gpu', model: LANE_MODEL } },
      });
      expect([refused.status, refused.body.error.code, refused.body.error.param]).toEqual([422, 'replay_no_sample', 'selection']);
      expect(refused.body.error.message).toMatch(/prompt_retention off/);
    } finally {
      await setPolicy(harness, { prompt_retention: { enabled: true } });
    }
  });

  it('validates a replay request (the field named), and keeps replays per tenant (another tenant gets 404)', async () => {
    const badSimilarity = await harness.call('POST', '/v2/replays', {
      body: { selection: { alias: 'replay.chat', sample_size: 1 }, candidate: { byoc_endpoint: 'acme-gpu', model: LANE_MODEL }, similarity: 'vibes' },
    });
    expect([badSimilarity.status, badSimilarity.body.error.param]).toEqual([400, 'similarity']);
    const noEndpoint = await harness.call('POST', '/v2/replays', { body: { selection: { alias: 'replay.chat', sample_size: 1 }, candidate: { byoc_endpoint: 'nope', model: 'm' } } });
    expect([noEndpoint.status, noEndpoint.body.error.param]).toEqual([404, 'candidate.byoc_endpoint']);
    const mine = (await harness.call('GET', '/v2/replays')).body.data[0];
    const other = await harness.call('POST', '/v2/api-keys?tenant=globex', { body: { name: 'globex admin', scopes: ['admin'] } });
    expect(other.status).toBe(201);
    expect((await harness.call('GET', `/v2/replays/${mine.id}`, { key: other.body.key })).status).toBe(404);
    expect((await harness.call('GET', '/v2/replays', { key: other.body.key })).body.data).toEqual([]);
    expect((await harness.call('POST', '/v2/byoc-endpoints/acme-gpu/activate', { key: other.body.key, body: { report_id: mine.id } })).status).toBe(404);
  });

  /** The first run's history (the one that continued as new) replays on today's workflow code; kept as a fixture when recording. */
  async function replayFirstRun(workflowId: string, runId: string): Promise<void> {
    const history = await harness.zumik.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const codec = harness.zumik.codec;
    await Worker.runReplayHistory({
      workflowBundle: { codePath: process.env.ZUMIK_TEST_WORKFLOW_BUNDLE! }, ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
    }, history, workflowId);
    if (RECORD) {
      const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, enums: String, bytes: String });
      fs.writeFileSync(path.join(HISTORIES, 'replay-v1-continue-as-new.json'), JSON.stringify(json));
    }
  }
});

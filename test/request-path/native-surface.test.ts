/**
 * The rest of the request path's contract: the last-resort OpenRouter bridge (only with the policy
 * flag, pinned, no fallbacks), Idempotency-Key replays, the native /v2 surface (outcome in the body,
 * background requests), and the records an operator relies on (Postgres rows, search attributes).
 */
import { createHash } from 'node:crypto';
import { chatRequestSchema, withoutNulls } from '../../src/contract/chat-request-schema';
import { SearchAttributes } from '../../src/temporal/search-attributes';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, MESSAGES, requestIdOf, resetCircuits, setPolicy, waitForRecorded } from './request-path-helpers';

const INTERACTIVE = { 'x-zumik-qos-class': 'interactive' };
const QOS = { interactive: { first_token_timeout_ms: 500, stall_timeout_ms: 500, deadline_ms: 8_000 } };

describe('bridge, idempotency, /v2 and records', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('native.pair', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await harness.installAlias('native.single', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    for (const emulator of [harness.openai, harness.anthropic, harness.openrouter]) emulator.reset();
    await resetCircuits(harness);
    await setPolicy(harness, { qos: QOS, max_attempts: 3 });
  });

  const calls = (emulator: Harness['openai'] | Harness['anthropic']) =>
    emulator.requests.filter((request) => request.path.endsWith('/chat/completions') || request.path === '/v1/messages');

  describe('the OpenRouter bridge', () => {
    const outage = () => {
      harness.openai.inject({ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
      harness.anthropic.inject({ kind: 'status', status: 529 }, { kind: 'status', status: 529 }, { kind: 'status', status: 529 });
    };

    it('serves after a total outage of every target when the policy allows brokered execution, pinned and without fallbacks', async () => {
      await setPolicy(harness, { qos: QOS, max_attempts: 3, allow_brokered_execution: true });
      outage();
      const response = await chat(harness, { model: 'native.pair' }, { headers: INTERACTIVE });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-reason-code')).toBe('ok_via_bridge');
      expect(response.headers.get('x-zumik-provider')).toBe('openrouter');
      expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
      expect(response.body.choices[0].message.content).toEqual(expect.any(String));
      const bridged = calls(harness.openrouter);
      expect(bridged).toHaveLength(1);
      expect(bridged[0]!.body).toMatchObject({ model: 'openai/gpt-4o-mini', provider: { order: ['openai'], allow_fallbacks: false } });
      const outcome = await waitForRecorded(harness, response.body.id);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_via_bridge', fallback_used: true, degraded: true });
      expect(outcome.attempts.map((attempt: any) => attempt.provider)).toEqual(['openai', 'anthropic', 'anthropic', 'openrouter']);
      expect(outcome.attempts.at(-1)).toMatchObject({ status: 'succeeded', retry_cause: expect.stringMatching(/^bridge:/) });
    });

    it('is never called without the policy flag', async () => {
      outage();
      const response = await chat(harness, { model: 'native.pair' }, { headers: INTERACTIVE });
      expect(response.status).toBe(503);
      expect(response.headers.get('x-zumik-completion')).toBe('failed');
      expect(calls(harness.openrouter)).toHaveLength(0);
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      expect(outcome.attempts.map((attempt: any) => attempt.provider)).toEqual(['openai', 'anthropic', 'anthropic']);
    });

    it('is not used when a target failed for a reason other than an outage', async () => {
      await setPolicy(harness, { qos: QOS, max_attempts: 3, allow_brokered_execution: true });
      harness.openai.inject({ kind: 'status', status: 401 });
      harness.anthropic.inject({ kind: 'status', status: 529 }, { kind: 'status', status: 529 });
      const response = await chat(harness, { model: 'native.pair' }, { headers: INTERACTIVE });
      expect(response.status).toBe(503);
      expect(calls(harness.openrouter)).toHaveLength(0);
    });
  });

  describe('Idempotency-Key', () => {
    it('answers the same key and body with the same id and body, calling the provider once', async () => {
      const headers = { 'idempotency-key': `key-${Date.now()}` };
      const first = await chat(harness, { model: 'native.single' }, { headers });
      const second = await chat(harness, { model: 'native.single' }, { headers });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('x-zumik-request-id')).toBe(first.body.id);
      expect(calls(harness.openai)).toHaveLength(1);
    });

    it('answers two concurrent requests with the same key from one workflow', async () => {
      const headers = { 'idempotency-key': `concurrent-${Date.now()}` };
      harness.openai.options.latencyMs = 300;
      try {
        const [first, second] = await Promise.all([chat(harness, { model: 'native.single' }, { headers }), chat(harness, { model: 'native.single' }, { headers })]);
        expect([first.status, second.status]).toEqual([200, 200]);
        expect(second.body).toEqual(first.body);
        expect(calls(harness.openai)).toHaveLength(1);
      } finally {
        harness.openai.options.latencyMs = 0;
      }
    });

    it('replays a streamed request as a stream with the same id', async () => {
      const headers = { 'idempotency-key': `stream-${Date.now()}` };
      const first = await chat(harness, { model: 'native.single', stream: true }, { headers });
      const second = await chat(harness, { model: 'native.single', stream: true }, { headers });
      expect(second.status).toBe(200);
      expect(second.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const id = first.headers.get('x-zumik-request-id');
      expect(second.headers.get('x-zumik-request-id')).toBe(id);
      expect(second.text).toContain(`"id":"${id}"`);
      expect(second.text).toMatch(/data: \[DONE\]\n\n$/);
      expect(calls(harness.openai)).toHaveLength(1);
    });

    it('resumes a request whose key was claimed but whose workflow never started (its process died, or the engine was down)', async () => {
      const key = `burnt-${Date.now()}`;
      const body = withoutNulls(chatRequestSchema.parse({ model: 'native.single', messages: MESSAGES }));
      const bodyHash = createHash('sha256').update(JSON.stringify({ surface: 'v1', body })).digest('hex');
      const requestId = `chatcmpl-burnt${Date.now()}`;
      // What the first request left behind when it died between claiming the key and starting its workflow.
      await harness.database.pool.query('INSERT INTO idempotency_keys (tenant_id, key, body_hash, request_id) VALUES ($1, $2, $3, $4)',
        ['default', key, bodyHash, requestId]);
      const resent = await chat(harness, { model: 'native.single' }, { headers: { 'idempotency-key': key } });
      expect(resent.status).toBe(200);
      expect(resent.body).toMatchObject({ id: requestId, object: 'chat.completion' });
      expect(calls(harness.openai)).toHaveLength(1);
      const again = await chat(harness, { model: 'native.single' }, { headers: { 'idempotency-key': key } });
      expect(again.body).toEqual(resent.body);
      expect(calls(harness.openai)).toHaveLength(1);
    });

    it('rejects the same key with a different body: 422 idempotency_key_reused', async () => {
      const headers = { 'idempotency-key': `reused-${Date.now()}` };
      expect((await chat(harness, { model: 'native.single' }, { headers })).status).toBe(200);
      const reused = await chat(harness, { model: 'native.single', messages: [{ role: 'user', content: 'something else' }] }, { headers });
      expect(reused.status).toBe(422);
      expect(reused.body.error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key' });
      expect(calls(harness.openai)).toHaveLength(1);
    });
  });

  describe('/v2', () => {
    it('POST /v2/chat/completions returns the body plus the zumik outcome', async () => {
      const response = await chat(harness, { model: 'native.single' }, { path: '/v2/chat/completions' });
      expect(response.status).toBe(200);
      const { zumik, ...body } = response.body;
      expect(body).toMatchObject({ id: expect.stringMatching(/^chatcmpl-/), object: 'chat.completion' });
      expect(zumik).toMatchObject({
        id: body.id, object: 'request_outcome', tenant: 'default', alias: 'native.single', admission: 'admitted', completion: 'completed',
        reason_code: 'ok', attempts: [expect.objectContaining({ n: 1, provider: 'openai', status: 'succeeded' })],
        usage: expect.objectContaining({ total_tokens: expect.any(Number) }),
        workflow: { id: expect.any(String), run_id: expect.any(String), ui_url: expect.stringContaining('/namespaces/default/workflows/') },
      });
      expect(zumik).toHaveProperty('cost_usd');
      expect(zumik.cost_usd === null || typeof zumik.cost_usd === 'number').toBe(true);
    });

    it('background: true answers 202 at once; GET /v2/requests/{id} later shows the completed outcome and response', async () => {
      harness.openai.options.latencyMs = 500;
      try {
        const accepted = await chat(harness, { model: 'native.single', background: true }, { path: '/v2/chat/completions' });
        expect(accepted.status).toBe(202);
        expect(accepted.ms).toBeLessThan(500);
        expect(accepted.body).toMatchObject({ id: expect.stringMatching(/^chatcmpl-/), completion: null });
        const outcome = await waitForRecorded(harness, accepted.body.id);
        expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok' });
        expect(outcome.response).toMatchObject({ id: accepted.body.id, object: 'chat.completion' });
      } finally {
        harness.openai.options.latencyMs = 0;
      }
    });

    it('background on /v1 is a 400 naming the parameter', async () => {
      const response = await chat(harness, { model: 'native.single', background: true });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ param: 'background', type: 'invalid_request_error' });
      expect(calls(harness.openai)).toHaveLength(0);
    });
  });

  describe('records', () => {
    it('keeps one requests row, one request_attempts row per attempt, and searchable attributes', async () => {
      harness.openai.inject({ kind: 'status', status: 503 });
      const response = await chat(harness, { model: 'native.pair' }, { headers: INTERACTIVE });
      expect(response.status).toBe(200);
      const id: string = response.body.id;
      const outcome = await waitForRecorded(harness, id);

      const rows = await harness.database.pool.query('SELECT * FROM requests WHERE id = $1', [id]);
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]).toMatchObject({
        tenant_id: 'default', alias: 'native.pair', release_id: outcome.release_id, admission: 'admitted', completion: 'completed',
        reason_code: 'ok_after_failover', fallback_used: true, provider: 'anthropic', attempt_count: 2,
      });
      const attempts = await harness.database.pool.query('SELECT n, provider, status, failure_kind, retry_cause FROM request_attempts WHERE request_id = $1 ORDER BY n', [id]);
      expect(attempts.rows).toEqual([
        { n: 1, provider: 'openai', status: 'failed', failure_kind: 'upstream_unavailable', retry_cause: null },
        { n: 2, provider: 'anthropic', status: 'succeeded', failure_kind: null, retry_cause: 'failover:upstream_unavailable' },
      ]);

      const client = harness.zumik.client;
      const handle = client.workflow.getHandle(outcome.workflow.id);
      await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 5_000, 'the workflow to complete');
      const attributes = (await handle.describe()).typedSearchAttributes;
      expect(attributes.get(SearchAttributes.tenant)).toBe('default');
      expect(attributes.get(SearchAttributes.alias)).toBe('native.pair');
      expect(attributes.get(SearchAttributes.release)).toBe(outcome.release_id);
      expect(attributes.get(SearchAttributes.qosClass)).toBe('interactive');
      expect(attributes.get(SearchAttributes.completion)).toBe('completed');
      expect(attributes.get(SearchAttributes.reasonCode)).toBe('ok_after_failover');
      expect(attributes.get(SearchAttributes.provider)).toBe('anthropic');
      expect(attributes.get(SearchAttributes.fallbackUsed)).toBe(true);
      // Written once each (four at start, four with the outcome): the first shape's extra attributes are gone.
      expect(attributes.get(SearchAttributes.admission)).toBeUndefined();
      expect(attributes.get(SearchAttributes.attempts)).toBeUndefined();

      // An operator finds it by tenant, alias, release, outcome, reason and provider (visibility is eventually consistent).
      const query = `ZumikTenant = 'default' AND ZumikAlias = 'native.pair' AND ZumikRelease = '${outcome.release_id}' AND ZumikCompletion = 'completed'`
        + ` AND ZumikReasonCode = 'ok_after_failover' AND ZumikProvider = 'anthropic'`;
      await eventually(async () => {
        for await (const execution of client.workflow.list({ query })) if (execution.workflowId === outcome.workflow.id) return true;
        return false;
      }, 10_000, 'the workflow to be found by its search attributes');
    });
  });
});

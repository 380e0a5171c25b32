/**
 * Issue 10's routing and outcome promises through the whole Zumik (real Temporal, real Postgres, the
 * emulators): OpenRouter never an ordinary target and bridged only after a verified total outage
 * (every target tried, outage kinds only, or every circuit open), the outage recorded on the bridge's
 * attempt; `degraded` for a lower served tier, carried in /v1's headers; a failed /v2 request answers
 * the error envelope and the full outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { CircuitBreakerStore } from '../../src/store/circuit-breaker-store';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, requestIdOf, resetCircuits, setPolicy, waitForRecorded, type TimedResponse } from './request-path-helpers';

const INTERACTIVE = { 'x-zumik-qos-class': 'interactive' };
const QOS = { interactive: { first_token_timeout_ms: 500, stall_timeout_ms: 500, deadline_ms: 8_000 } };
/** Where the replay test finds histories of the workflow's paths (written when ZUMIK_RECORD_HISTORIES=1). */
const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

describe('contract promises on the request path', () => {
  let harness: Harness;
  beforeAll(async () => {
    // A recorded history must replay without the deployment's payload key: record it unencrypted.
    harness = await startHarness(process.env.ZUMIK_RECORD_HISTORIES === '1' ? { env: { ZUMIK_PAYLOAD_ENCRYPTION: 'off' } } : {});
    await harness.installAlias('promise.pair', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await harness.installAlias('promise.trio', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0), target('xai', 'grok-4', 0)]);
    await harness.installAlias('promise.single', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    for (const emulator of [harness.openai, harness.anthropic, harness.xai, harness.openrouter]) emulator.reset();
    harness.openai.resetReply();
    await resetCircuits(harness);
    await setPolicy(harness, { qos: QOS, max_attempts: 4 });
  });

  async function recordHistory(workflowId: string, file: string): Promise<void> {
    if (process.env.ZUMIK_RECORD_HISTORIES !== '1') return;
    const handle = harness.zumik.client.workflow.getHandle(workflowId);
    await handle.result();
    const history = await handle.fetchHistory();
    const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, enums: String, bytes: String });
    fs.writeFileSync(path.join(HISTORIES, file), JSON.stringify(json));
  }

  const bridgeCalls = () => harness.openrouter.requests.filter((request) => request.path.endsWith('/chat/completions'));

  describe('OpenRouter', () => {
    beforeEach(async () => { await setPolicy(harness, { qos: QOS, max_attempts: 4, allow_brokered_execution: true }); });

    it('is refused as an ordinary release target with a 400 naming the target', async () => {
      const response = await harness.call('PUT', '/v2/model-aliases/promise.broker', {
        body: { targets: [target('openrouter', 'openai/gpt-4o-mini')] },
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ param: 'targets[0].provider', message: expect.stringContaining('last-resort outage bridge') });
      expect((await harness.call('GET', '/v2/model-aliases/promise.broker')).status).toBe(404);
    });

    it('bridges after every target failed with an outage, and the bridge attempt records the verified outage', async () => {
      harness.openai.inject({ kind: 'status', status: 503 });
      harness.anthropic.inject({ kind: 'status', status: 529 }, { kind: 'status', status: 529 }, { kind: 'status', status: 529 });
      const response = await chat(harness, { model: 'promise.pair' }, { headers: INTERACTIVE });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-reason-code')).toBe('ok_via_bridge');
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      const bridge = outcome.attempts.at(-1);
      expect(bridge).toMatchObject({ provider: 'openrouter', model: 'openai/gpt-4o-mini', status: 'succeeded' });
      expect(bridge.verified_outage).toEqual([
        { provider: 'openai', model: 'gpt-4o-mini', region: 'default', failure_kind: 'upstream_unavailable' },
        { provider: 'anthropic', model: 'claude-haiku-4-5', region: 'default', failure_kind: 'overloaded' },
      ]);
      await recordHistory(outcome.workflow.id, 'v3-bridge-verified-outage.json');
    });

    it('does not count provider rate limits as an outage', async () => {
      harness.openai.inject(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 429 })));
      harness.anthropic.inject(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 529 })));
      const response = await chat(harness, { model: 'promise.pair' }, { headers: INTERACTIVE });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(bridgeCalls()).toHaveLength(0);
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      expect(outcome.attempts.map((attempt: any) => attempt.failure_kind)).toContain('rate_limit');
      expect(outcome.completion).toBe('failed');
    });

    it('does not bridge when the attempt budget ran out with a target never tried', async () => {
      await setPolicy(harness, { qos: QOS, max_attempts: 2, allow_brokered_execution: true });
      harness.openai.inject({ kind: 'status', status: 503 });
      harness.anthropic.inject({ kind: 'status', status: 529 });
      const response = await chat(harness, { model: 'promise.trio' }, { headers: INTERACTIVE });
      expect(response.status).toBe(503);
      expect(bridgeCalls()).toHaveLength(0);
      expect(harness.xai.requests).toHaveLength(0);
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      expect(outcome.attempts.map((attempt: any) => attempt.provider)).toEqual(['openai', 'anthropic']);
    });

  });

  describe('degraded', () => {
    it('is set, and sent as x-zumik-degraded on /v1, when a lower tier than requested served', async () => {
      harness.openai.setReply({ serviceTier: 'default' });
      const response = await chat(harness, { model: 'promise.single', service_tier: 'priority' });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-degraded')).toBe('true');
      expect(response.headers.get('x-zumik-fallback-used')).toBe('false');
      const outcome = await waitForRecorded(harness, response.body.id);
      expect(outcome).toMatchObject({ degraded: true, reason_code: 'ok' });
      expect(outcome.attempts[0].service_tier).toBe('default');
    });

    it('is not set when the requested tier served', async () => {
      const response = await chat(harness, { model: 'promise.single', service_tier: 'priority' });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-zumik-degraded')).toBe('false');
    });
  });

  describe('a failed /v2 request', () => {
    it('answers the error envelope and the full zumik outcome; /v1 keeps the bare envelope', async () => {
      harness.openai.inject({ kind: 'status', status: 400 }, { kind: 'status', status: 400 });
      const native = await chat(harness, { model: 'promise.single' }, { path: '/v2/chat/completions' });
      expect(native.status).toBe(400);
      expect(native.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      expect(native.body.zumik).toMatchObject({
        object: 'request_outcome', id: native.headers.get('x-zumik-request-id'), completion: 'failed', reason_code: 'provider_invalid_request',
        attempts: [expect.objectContaining({ provider: 'openai', failure_kind: 'invalid_request', http_status: 400 })],
      });
      const plain = await chat(harness, { model: 'promise.single' });
      expect(plain.status).toBe(400);
      expect(Object.keys(plain.body)).toEqual(['error']);
    });

    it('answers a refusal before any workflow with the outcome too', async () => {
      const native = await chat(harness, { model: 'promise.nowhere' }, { path: '/v2/chat/completions' });
      expect(native.status).toBe(404);
      expect(native.body.zumik).toMatchObject({ reason_code: 'unknown_alias', completion: null, attempts: [] });
    });
  });

  // Last: the front door's circuit cache may keep these circuits open a moment after the rows are gone.
  describe('OpenRouter with every circuit open', () => {
    it('bridges when every circuit of the release is open (and only with the policy flag)', async () => {
      const circuits = new CircuitBreakerStore(harness.database.pool);
      for (const key of ['openai|default|gpt-4o-mini', 'anthropic|default|claude-haiku-4-5']) {
        for (let failure = 0; failure < circuits.settings.failureThreshold; failure += 1) await circuits.recordFailure(key, 'upstream_unavailable');
      }
      await setPolicy(harness, { qos: QOS, max_attempts: 4 });
      let refused: TimedResponse | undefined;
      await eventually(async () => {
        refused = await chat(harness, { model: 'promise.pair' }, { headers: INTERACTIVE });
        return refused.headers.get('x-zumik-reason-code') === 'no_eligible_target';
      }, 5_000, 'the open circuits to reach the front door');
      expect(refused!.status).toBe(503);
      expect(bridgeCalls()).toHaveLength(0);

      await setPolicy(harness, { qos: QOS, max_attempts: 4, allow_brokered_execution: true });
      let bridged: TimedResponse | undefined;
      await eventually(async () => {
        bridged = await chat(harness, { model: 'promise.pair' }, { headers: INTERACTIVE });
        return bridged.status === 200;
      }, 5_000, 'the policy flag to reach the front door');
      expect(bridged!.headers.get('x-zumik-reason-code')).toBe('ok_via_bridge');
      expect(harness.openai.requests).toHaveLength(0);
      expect(harness.anthropic.requests).toHaveLength(0);
      const outcome = await waitForRecorded(harness, requestIdOf(bridged!));
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_via_bridge', fallback_used: true });
      expect(outcome.attempts).toHaveLength(1);
      expect(outcome.attempts[0].verified_outage.map((evidence: any) => [evidence.provider, evidence.failure_kind]))
        .toEqual([['openai', 'circuit_open'], ['anthropic', 'circuit_open']]);
    });
  });
});

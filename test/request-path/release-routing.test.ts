/**
 * Routing on evidence through the whole Zumik (real Temporal, Postgres, emulators; issue 12): releases
 * a client pins, a canary that splits an alias between two releases (the split recorded per request in
 * the workflow input and the outcome), a rollback that mints a copy, session- and prefix-sticky hot
 * lanes, and overflow from a BYOC lane that is full or whose circuit is open.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { circuitKey } from '../../src/domain/attempt-plan';
import { drawsCanary } from '../../src/domain/request-planning';
import { CircuitBreakerStore } from '../../src/store/circuit-breaker-store';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, resetCircuits, waitForRecorded } from './request-path-helpers';

/** Where the replay test finds histories of the workflow's paths and the releases they ran on (written when ZUMIK_RECORD_HISTORIES=1). */
const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');
const RECORD = process.env.ZUMIK_RECORD_HISTORIES === '1';

const LANE_MODEL = 'meta-llama/Llama-3.3-70B-Instruct';
const lane = (weight: number) => target('acme-lane', LANE_MODEL, weight, { execution_profile: 'byoc_dynamo' });

describe('release routing end to end', () => {
  let harness: Harness;
  let dynamo: OpenAICompatibleEmulator;

  beforeAll(async () => {
    dynamo = await new OpenAICompatibleEmulator({ flavour: 'byoc', apiKey: EMULATOR_KEY }).start();
    // A recorded history must replay without the deployment's payload key: record it unencrypted.
    harness = await startHarness({ env: { ZUMIK_EGRESS_ALLOW: '127.0.0.1/32,http', ...(RECORD ? { ZUMIK_PAYLOAD_ENCRYPTION: 'off' } : {}) } });
    // Registered endpoints start pending (replay-gated activation, test/replay): activated at once here.
    const endpoint = await harness.registerEndpoint('acme-lane', { profile: 'byoc_dynamo', base_url: dynamo.baseUrl, api_key: EMULATOR_KEY });
    expect(endpoint.status).toBe('active');
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await dynamo?.close();
  });
  beforeEach(async () => {
    for (const emulator of [harness.openai, harness.anthropic, dynamo]) emulator.reset();
    dynamo.options.latencyMs = 0;
    await resetCircuits(harness);
  });

  /** The decoded input of a request's workflow, as history holds it (payloads are encrypted unless recording). */
  const workflowInput = async (id: string) => {
    const history = await harness.zumik.client.workflow.getHandle(`req:default:${id}`).fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]! as Payload;
    return JSON.parse(Buffer.from((harness.zumik.codec ? harness.zumik.codec.decrypt(payload) : payload).data!).toString());
  };
  /** Keep a request's history and the release it ran on, for the replay test (only with ZUMIK_RECORD_HISTORIES=1). */
  const recordHistory = async (id: string, file: string) => {
    if (!RECORD) return;
    const handle = harness.zumik.client.workflow.getHandle(`req:default:${id}`);
    await handle.result();
    const history = await handle.fetchHistory();
    const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, enums: String, bytes: String });
    fs.writeFileSync(path.join(HISTORIES, file), JSON.stringify(json));
    const { decision } = await workflowInput(id);
    const release = await harness.call('GET', `/v2/model-alias-releases/${decision.release.id}`);
    fs.mkdirSync(path.join(HISTORIES, 'releases'), { recursive: true });
    fs.writeFileSync(path.join(HISTORIES, 'releases', `${decision.release.id}.json`), `${JSON.stringify(release.body, null, 2)}\n`);
  };
  const served = async (model: string, headers: Record<string, string> = {}, messages?: unknown[]) => {
    const response = await chat(harness, { model, ...(messages ? { messages } : {}) }, { headers });
    expect([response.status, response.body?.error]).toEqual([200, undefined]);
    return waitForRecorded(harness, response.headers.get('x-zumik-request-id')!);
  };

  describe('pinned releases', () => {
    it('serves model "alias@alr_…" from that release, retired or not, and refuses a release that is not readable or not of that alias', async () => {
      const first = await harness.installAlias('pin.chat', [target('openai', 'gpt-4o-mini')]);
      const second = await harness.installAlias('pin.chat', [target('anthropic', 'claude-haiku-4-5')]);
      const other = await harness.installAlias('pin.other', [target('openai', 'gpt-4o-mini')]);

      const live = await served('pin.chat');
      expect(live).toMatchObject({ alias: 'pin.chat', release_id: second.id, routing: { release_id: second.id, pinned: false, canary: false } });
      const pinned = await chat(harness, { model: `pin.chat@${first.id}` });
      expect(pinned.status).toBe(200);
      expect(pinned.headers.get('x-zumik-alias-release')).toBe(first.id);
      expect(pinned.headers.get('x-zumik-provider')).toBe('openai');
      const outcome = await waitForRecorded(harness, pinned.body.id);
      expect(outcome).toMatchObject({ alias: 'pin.chat', release_id: first.id, routing: { release_id: first.id, pinned: true, canary: false } });
      expect((await workflowInput(pinned.body.id))).toMatchObject({ alias: 'pin.chat', pinnedReleaseId: first.id, decision: { release: { id: first.id }, routing: { pinned: true } } });

      const mismatch = await chat(harness, { model: `pin.chat@${other.id}` });
      expect([mismatch.status, mismatch.body.error.param, mismatch.headers.get('x-zumik-reason-code')]).toEqual([400, 'model', 'release_alias_mismatch']);
      const unknown = await chat(harness, { model: 'pin.chat@alr_00000000000000000000000000' });
      expect([unknown.status, unknown.body.error.param, unknown.headers.get('x-zumik-reason-code')]).toEqual([404, 'model', 'unknown_release']);
      // Another tenant's release of the same alias name is not readable: as if it did not exist.
      const acme = await harness.call('PUT', '/v2/model-aliases/pin.chat?tenant=acme', { body: { targets: [target('openai', 'gpt-4o-mini')] } });
      expect(acme.status).toBe(200);
      const foreign = await chat(harness, { model: `pin.chat@${acme.body.id}` });
      expect([foreign.status, foreign.body.error.param]).toEqual([404, 'model']);
    });
  });

  describe('canary and rollback', () => {
    it('splits requests between the live release and the candidate by weight, each request recording its side', async () => {
      const stable = await harness.installAlias('canary.chat', [target('openai', 'gpt-4o-mini')]);
      const candidate = await harness.installAlias('canary.chat', [target('anthropic', 'claude-haiku-4-5')]);
      // The candidate is the newest release; make the stable one live again and canary the candidate at 30 %.
      const live = await harness.call('POST', '/v2/model-aliases/canary.chat/rollback', { body: { release_id: stable.id } });
      expect(live.status).toBe(200);
      const started = await harness.call('PUT', '/v2/model-aliases/canary.chat/canary', { body: { release_id: candidate.id, weight: 30 } });
      expect(started.body).toMatchObject({ object: 'model_alias_canary', alias: 'canary.chat', live_release_id: live.body.id, release_id: candidate.id, weight: 30 });
      expect((await harness.call('GET', '/v2/model-aliases/canary.chat')).body.canary).toMatchObject({ release_id: candidate.id, weight: 30 });

      const outcomes = [];
      for (let index = 0; index < 30; index += 1) outcomes.push(await served('canary.chat'));
      const onCandidate = outcomes.filter((outcome) => outcome.release_id === candidate.id);
      const onLive = outcomes.filter((outcome) => outcome.release_id === live.body.id);
      expect(onCandidate.length + onLive.length).toBe(30);
      // Both sides served (the chance that 30 draws at 30 % all land on one side is below 1 in 40,000), and
      // each request's side is the recorded draw seeded with its id: reproducible, so exact, not statistical.
      expect(onCandidate.length).toBeGreaterThan(0);
      expect(onLive.length).toBeGreaterThan(0);
      expect(outcomes.map((outcome) => outcome.release_id === candidate.id)).toEqual(outcomes.map((outcome) => drawsCanary(outcome.id, 30)));
      for (const outcome of onCandidate) {
        expect(outcome.routing).toMatchObject({ canary: true, release_id: candidate.id, live_release_id: live.body.id, canary_weight: 30 });
        expect(outcome.attempts[0].provider).toBe('anthropic');
      }
      for (const outcome of onLive) expect(outcome.routing).toMatchObject({ canary: false, release_id: live.body.id, canary_weight: 30 });
      // The workflow input carries the same choice: history proves which release served.
      expect((await workflowInput(onCandidate[0].id)).decision).toMatchObject({ release: { id: candidate.id }, routing: { canary: true } });
      await recordHistory(onCandidate[0].id, 'v4-canary.json');

      // Ending the canary sends everything to the live release again.
      expect((await harness.call('DELETE', '/v2/model-aliases/canary.chat/canary')).status).toBe(200);
      for (let index = 0; index < 5; index += 1) expect(await served('canary.chat')).toMatchObject({ release_id: live.body.id, routing: { canary: false } });
    });

    it('keeps one session on one side of the split when the live release is sticky', async () => {
      const candidate = await harness.installAlias('canary.sticky', [target('anthropic', 'claude-haiku-4-5')], { sticky: { by: 'session' } });
      const live = await harness.installAlias('canary.sticky', [target('openai', 'gpt-4o-mini')], { sticky: { by: 'session' } });
      await harness.call('PUT', '/v2/model-aliases/canary.sticky/canary', { body: { release_id: candidate.id, weight: 50 } });
      const sides = new Set<string>();
      for (let session = 0; session < 8; session += 1) {
        const headers = { 'x-zumik-session-id': `canary-${session}` };
        const first = await served('canary.sticky', headers);
        expect(first.routing.canary_key_hash).toBe(first.routing.sticky.key_hash);
        for (let again = 0; again < 2; again += 1) expect((await served('canary.sticky', headers)).release_id).toBe(first.release_id);
        sides.add(first.release_id);
      }
      expect([...sides].sort()).toEqual([candidate.id, live.id].sort());
    });

    it('refuses a canary that is not a release of the alias, the live release itself, or a weight outside 1-99', async () => {
      const live = await harness.installAlias('canary.bad', [target('openai', 'gpt-4o-mini')]);
      const foreign = await harness.installAlias('canary.elsewhere', [target('openai', 'gpt-4o-mini')]);
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ release_id: foreign.id, weight: 10 }, 404, 'release_id'],
        [{ release_id: live.id, weight: 10 }, 400, 'release_id'],
        [{ release_id: live.id, weight: 0 }, 400, 'weight'],
        [{ release_id: 'alr_nope', weight: 10 }, 400, 'release_id'],
      ];
      for (const [body, status, param] of cases) {
        const response = await harness.call('PUT', '/v2/model-aliases/canary.bad/canary', { body });
        expect([status, param, response.body.error?.type]).toEqual([response.status, response.body.error?.param, 'invalid_request_error']);
      }
      expect((await harness.call('PUT', '/v2/model-aliases/no.such.alias/canary', { body: { release_id: live.id, weight: 10 } })).status).toBe(404);
    });

    it('rolls back by minting a new release that copies the old one; history keeps every release', async () => {
      const first = await harness.installAlias('rollback.chat', [target('openai', 'gpt-4o-mini')], { sticky: { by: 'session' } });
      const second = await harness.installAlias('rollback.chat', [target('anthropic', 'claude-haiku-4-5')]);
      await harness.call('PUT', '/v2/model-aliases/rollback.chat/canary', { body: { release_id: first.id, weight: 50 } });
      const rolled = await harness.call('POST', '/v2/model-aliases/rollback.chat/rollback', { body: { release_id: first.id } });
      expect(rolled.status).toBe(200);
      expect(rolled.body).toMatchObject({ status: 'active', copied_from: first.id, targets: first.targets, sticky: { by: 'session' } });
      expect(rolled.body.id).not.toBe(first.id);
      const history = await harness.call('GET', '/v2/model-aliases/rollback.chat/releases');
      expect(history.body.data.map((release: { id: string; status: string }) => [release.id, release.status]))
        .toEqual([[rolled.body.id, 'active'], [second.id, 'retired'], [first.id, 'retired']]);
      expect((await harness.call('GET', `/v2/model-alias-releases/${first.id}`)).body).toEqual({ ...first, status: 'retired' });
      // The rollback ended the canary: every request runs on the copy.
      expect((await harness.call('GET', '/v2/model-aliases/rollback.chat')).body.canary).toBeUndefined();
      expect(await served('rollback.chat')).toMatchObject({ release_id: rolled.body.id, attempts: [{ provider: 'openai' }] });

      const bad = await harness.call('POST', '/v2/model-aliases/rollback.chat/rollback', { body: { release_id: 'alr_00000000000000000000000000' } });
      expect([bad.status, bad.body.error.param]).toEqual([404, 'release_id']);
      const missing = await harness.call('POST', '/v2/model-aliases/rollback.chat/rollback', { body: {} });
      expect([missing.status, missing.body.error.param]).toEqual([400, 'release_id']);
    });
  });

  describe('sticky hot lanes', () => {
    it('sends one session to one target every time, and spreads sessions over the targets by weight', async () => {
      const release = await harness.installAlias('hot.session', [lane(2), target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 1)],
        { sticky: { by: 'session' } });
      expect(release.sticky).toEqual({ by: 'session' });
      const firstTarget: Record<string, string> = {};
      for (let session = 0; session < 24; session += 1) {
        const outcome = await served('hot.session', { 'x-zumik-session-id': `user-${session}` });
        expect(outcome.routing).toMatchObject({ sticky: { by: 'session', key_hash: expect.stringMatching(/^[0-9a-f]{16}$/) }, overflow: false });
        expect(JSON.stringify(outcome.routing)).not.toContain(`user-${session}`);
        firstTarget[`user-${session}`] = outcome.attempts[0].provider;
      }
      // The same sessions again, with other prompts: each lands where it did before.
      for (const [session, provider] of Object.entries(firstTarget).slice(0, 8)) {
        const outcome = await served('hot.session', { 'x-zumik-session-id': session }, [{ role: 'user', content: `a later turn of ${session}` }]);
        expect(outcome.attempts[0].provider).toBe(provider);
      }
      const counts = Object.values(firstTarget).reduce<Record<string, number>>((all, provider) => ({ ...all, [provider]: (all[provider] ?? 0) + 1 }), {});
      expect(Object.keys(counts).sort()).toEqual(['acme-lane', 'anthropic', 'openai']);
      expect(counts['acme-lane']).toBeGreaterThan(Math.min(counts.openai!, counts.anthropic!));
      // Without the header: a plain weighted draw, recorded as such.
      expect((await served('hot.session')).routing).toMatchObject({ sticky: { by: 'session', key_hash: null } });
    });

    it('keys prefix-sticky releases on the prompt prefix: requests that share it share a target', async () => {
      await harness.installAlias('hot.prefix', [lane(1), target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 1)],
        { sticky: { by: 'prefix', prefix_chars: 64 } });
      for (let corpus = 0; corpus < 4; corpus += 1) {
        const system = { role: 'system', content: `Shared corpus ${corpus}: ${'lorem ipsum '.repeat(10)}` };
        const providers = new Set<string>();
        const hashes = new Set<string>();
        for (let question = 0; question < 3; question += 1) {
          const outcome = await served('hot.prefix', {}, [system, { role: 'user', content: `question ${question}` }]);
          providers.add(outcome.attempts[0].provider);
          hashes.add(outcome.routing.sticky.key_hash);
        }
        expect([providers.size, hashes.size]).toEqual([1, 1]);
      }
    });

    it('overflows a full BYOC lane (its max_concurrency) to the managed targets, and returns when it has room', async () => {
      expect((await harness.call('PUT', '/v2/byoc-endpoints/acme-lane', {
        body: { profile: 'byoc_dynamo', base_url: dynamo.baseUrl, max_concurrency: 1 },
      })).body.max_concurrency).toBe(1);
      await harness.installAlias('hot.overflow', [lane(1), target('openai', 'gpt-4o-mini', 1)], { sticky: { by: 'session' } });
      // A session whose pick is the lane.
      let session = 0;
      for (; ; session += 1) {
        const outcome = await served('hot.overflow', { 'x-zumik-session-id': `s-${session}` });
        if (outcome.attempts[0].provider === 'acme-lane') break;
      }
      const headers = { 'x-zumik-session-id': `s-${session}` };
      dynamo.reset(); // the search above reached the lane: only the request below may count
      dynamo.options.latencyMs = 1_500;
      const inFlight = chat(harness, { model: 'hot.overflow' }, { headers });
      await eventually(() => dynamo.requests.length > 0, 10_000, 'the first request to reach the lane');
      const overflowed = await served('hot.overflow', headers);
      expect(overflowed.attempts[0].provider).toBe('openai');
      expect(overflowed.routing).toMatchObject({ lane: 'managed', overflow: true, overflow_reason: 'lane_saturated', overflow_from: 'acme-lane' });
      const first = await inFlight;
      expect(first.status).toBe(200);
      const firstOutcome = await waitForRecorded(harness, first.body.id);
      expect(firstOutcome).toMatchObject({ attempts: [{ provider: 'acme-lane' }], routing: { lane: 'byoc', overflow: false } });
      // The finished request gave its slot back: the session is on its lane again.
      dynamo.options.latencyMs = 0;
      expect(await served('hot.overflow', headers)).toMatchObject({ attempts: [{ provider: 'acme-lane' }], routing: { lane: 'byoc', overflow: false } });
      await harness.call('PUT', '/v2/byoc-endpoints/acme-lane', { body: { profile: 'byoc_dynamo', base_url: dynamo.baseUrl, api_key: EMULATOR_KEY } });
    });

    it('overflows an unhealthy BYOC lane (its circuit open) to the managed targets, recorded in the outcome', async () => {
      await harness.call('PUT', '/v2/byoc-endpoints/acme-lane', { body: { profile: 'byoc_dynamo', base_url: dynamo.baseUrl, api_key: EMULATOR_KEY } });
      await harness.installAlias('hot.circuit', [lane(1), target('openai', 'gpt-4o-mini', 1)], { sticky: { by: 'session' } });
      let session = 0;
      for (; ; session += 1) {
        const outcome = await served('hot.circuit', { 'x-zumik-session-id': `c-${session}` });
        if (outcome.attempts[0].provider === 'acme-lane') break;
      }
      const circuits = new CircuitBreakerStore(harness.database.pool);
      for (let failure = 0; failure < circuits.settings.failureThreshold; failure += 1) {
        // The endpoint is the default tenant's own (BYOC): its circuit is the tenant's.
        await circuits.recordFailure(circuitKey('acme-lane', 'default', LANE_MODEL, 'default'), 'upstream_unavailable');
      }
      let outcome: any;
      await eventually(async () => {
        outcome = await served('hot.circuit', { 'x-zumik-session-id': `c-${session}` });
        return outcome.routing.overflow === true;
      }, 5_000, 'the open circuit to reach the front door');
      expect(outcome).toMatchObject({ attempts: [{ provider: 'openai', status: 'succeeded' }], routing: { lane: 'managed', overflow: true, overflow_reason: 'circuit_open', overflow_from: 'acme-lane' } });
      await recordHistory(outcome.id, 'v4-sticky-overflow.json');
    });
  });
});

/**
 * Broader coverage through Bifrost, and Bifrost's own circuits, through the whole Zumik (issue 12):
 * ZUMIK_PROVIDERS_FILE names a Bifrost deployment (the emulator's `bifrost` flavour) serving `openai`.
 * - A model outside the capability manifest installs only for a tenant whose policy (operator-set
 *   `allow_bifrost_broader_coverage`) allows it; that tenant is served through Bifrost, recorded as
 *   `coverage: bifrost_broader` with an unknown cost; another tenant never reaches such a target (a
 *   shared alias skips it, or refuses with `rejected_coverage` when nothing else is left).
 * - Failures through Bifrost open the circuit `openai|bifrost|<model>`, shown by GET /v2/circuits,
 *   never the provider's direct circuit; a direct circuit open does not stop Bifrost calls, and a
 *   tenant's own (BYOK) OpenAI target still goes direct while Bifrost's circuit is open.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CircuitBreakerStore } from '../../src/store/circuit-breaker-store';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, requestIdOf, resetCircuits, sleep, waitForRecorded } from './request-path-helpers';

const VIRTUAL_KEY = 'sk-bf-virtual-key-coverage-0001';
/** Bifrost knows it; Zumik's built-in capability manifest does not. */
const BROADER = 'gpt-oss-bifrost-only';

const completions = (emulator: OpenAICompatibleEmulator) => emulator.requests.filter((request) => request.path.endsWith('/chat/completions'));

describe('Bifrost: broader coverage where policy allows, and circuits of its own', () => {
  let harness: Harness;
  let bifrost: OpenAICompatibleEmulator;
  let directory: string;
  const keys: Record<'wide' | 'narrow', { admin: string; inference: string }> = {} as never;

  const createKey = async (tenant: string, scopes: string[]) => {
    const response = await harness.call('POST', '/v2/api-keys', { body: { name: `${tenant} ${scopes[0]}`, tenant, scopes } });
    if (response.status !== 201) throw new Error(`key: ${response.status} ${JSON.stringify(response.body)}`);
    return (response.body as { key: string }).key;
  };
  const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
  /** A tenant's request outcome, read as the operator does (`?tenant=`). */
  const recorded = async (tenant: string, id: string) => {
    await eventually(async () => (await harness.call('GET', `/v2/requests/${id}?tenant=${tenant}`)).body.attempts !== undefined, 10_000, `request ${id} recorded`);
    return (await harness.call('GET', `/v2/requests/${id}?tenant=${tenant}`)).body;
  };

  beforeAll(async () => {
    bifrost = await new OpenAICompatibleEmulator({ flavour: 'bifrost', apiKey: VIRTUAL_KEY }).start();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-bifrost-coverage-'));
    const file = path.join(directory, 'providers.json');
    fs.writeFileSync(file, JSON.stringify({ bifrost: { baseUrl: bifrost.baseUrl, providers: ['openai'] } }));
    // Two counted failures open a circuit (default 5): the circuit test needs only a request or two.
    harness = await startHarness({ env: { ZUMIK_PROVIDERS_FILE: file, ZUMIK_BIFROST_VIRTUAL_KEY: VIRTUAL_KEY, ZUMIK_CIRCUIT_FAILURE_THRESHOLD: '2' } });
    for (const tenant of ['wide', 'narrow'] as const) keys[tenant] = { admin: await createKey(tenant, ['admin']), inference: await createKey(tenant, ['inference']) };
    // The operator's switch: only `wide` may reach models outside the manifest through Bifrost.
    expect((await harness.call('PUT', '/v2/tenants/wide/policy', { body: { allow_bifrost_broader_coverage: true } })).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await bifrost?.close();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const emulator of [bifrost, harness.openai, harness.anthropic]) emulator.reset();
    bifrost.endOutage();
    await resetCircuits(harness);
  });

  describe('broader coverage', () => {
    it("refuses the install for a tenant whose policy does not allow it, naming targets[0].model", async () => {
      const response = await harness.call('PUT', '/v2/model-aliases/narrow.oss', { key: keys.narrow.admin, body: { targets: [target('openai', BROADER)] } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param: 'targets[0].model' });
      expect(response.body.error.message).toContain("allow_bifrost_broader_coverage, which is off for tenant 'narrow'");
    });

    it('serves the allowed tenant through Bifrost, recorded as broader coverage with an unknown cost', async () => {
      const installed = await harness.call('PUT', '/v2/model-aliases/wide.oss', { key: keys.wide.admin, body: { targets: [target('openai', BROADER)] } });
      expect(installed.status).toBe(200);
      expect(installed.body.targets[0].coverage).toBe('bifrost_broader');

      const response = await chat(harness, { model: 'wide.oss' }, as(keys.wide.inference));
      expect(response.status).toBe(200);
      expect(response.body.choices[0].message.content.length).toBeGreaterThan(0);
      const calls = completions(bifrost);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.headers['x-bf-vk']).toBe(VIRTUAL_KEY);
      expect((calls[0]!.body as { model: string }).model).toBe(`openai/${BROADER}`);
      expect(completions(harness.openai)).toHaveLength(0);

      const outcome = await recorded('wide', requestIdOf(response));
      expect(outcome.attempts).toEqual([expect.objectContaining({
        provider: 'openai', model: BROADER, status: 'succeeded', via: 'bifrost', region: 'bifrost', coverage: 'bifrost_broader',
      })]);
      expect(outcome.usage.total_tokens).toBeGreaterThan(0);
      // No price is known for it: the cost says so, it is not 0.
      expect(outcome.cost_usd).toBeNull();
      expect(outcome.cost_reason).toBe('unpriced_model');
    });

    it('claims no tools for it: a request with tools is refused before any call (unsupported_capability)', async () => {
      const response = await chat(harness, {
        model: 'wide.oss', tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
      }, as(keys.wide.inference));
      expect(response.status).toBe(400);
      expect(response.headers.get('x-zumik-reason-code')).toBe('unsupported_capability');
      expect(response.body.error).toMatchObject({ code: 'model_not_supported', param: 'model' });
      expect(completions(bifrost)).toHaveLength(0);
    });

    it("a shared alias holding one: the allowed tenant reaches it, another tenant falls to the standby, or is refused when there is none", async () => {
      await harness.installAlias('shared.oss', [target('openai', BROADER, 1), target('anthropic', 'claude-haiku-4-5', 0)]);
      await harness.installAlias('shared.oss-only', [target('openai', BROADER)]);

      const wide = await chat(harness, { model: 'shared.oss' }, as(keys.wide.inference));
      expect(wide.status).toBe(200);
      expect(wide.headers.get('x-zumik-provider')).toBe('openai');
      expect(completions(bifrost)).toHaveLength(1);

      const narrow = await chat(harness, { model: 'shared.oss' }, as(keys.narrow.inference));
      expect(narrow.status).toBe(200);
      expect(narrow.headers.get('x-zumik-provider')).toBe('anthropic');
      const outcome = await recorded('narrow', requestIdOf(narrow));
      expect(outcome.attempts.map((attempt: { provider: string }) => attempt.provider)).toEqual(['anthropic']);

      const refused = await chat(harness, { model: 'shared.oss-only' }, as(keys.narrow.inference));
      expect(refused.status).toBe(403);
      expect(refused.headers.get('x-zumik-reason-code')).toBe('rejected_coverage');
      expect(refused.body.error).toMatchObject({ code: 'broader_coverage_not_allowed', param: 'model', message: expect.stringContaining('allow_bifrost_broader_coverage') });
      // The narrow tenant's requests never reached Bifrost.
      expect(completions(bifrost)).toHaveLength(1);
    });
  });

  describe("Bifrost's own circuit", () => {
    beforeAll(async () => {
      await harness.installAlias('bifrost.mini', [target('openai', 'gpt-4o-mini')]);
      // The default tenant's own OpenAI key (BYOK) goes to OpenAI itself, never through Bifrost.
      expect((await harness.call('PUT', '/v2/credentials/openai', { body: { api_key: EMULATOR_KEY } })).status).toBe(200);
      await harness.installAlias('direct.mini', [target('openai', 'gpt-4o-mini', 1, { execution_profile: 'byok' })]);
    });

    it('a Bifrost outage opens openai|bifrost|<model> (GET /v2/circuits), not the direct one; direct calls still go', async () => {
      bifrost.startOutage({ kind: 'status', status: 503 });
      const circuits = async () => (await harness.call('GET', '/v2/circuits')).body.data as Array<Record<string, unknown>>;
      await eventually(async () => {
        await chat(harness, { model: 'bifrost.mini' });
        return (await circuits()).some((circuit) => circuit.key === 'openai|bifrost|gpt-4o-mini' && circuit.state === 'open');
      }, 30_000, "Bifrost's circuit to open");
      const listed = await circuits();
      expect(listed).toContainEqual(expect.objectContaining({ key: 'openai|bifrost|gpt-4o-mini', provider: 'openai', region: 'bifrost', tenant: null, state: 'open' }));
      expect(listed.some((circuit) => String(circuit.key).endsWith('openai|default|gpt-4o-mini'))).toBe(false);
      expect(completions(harness.openai)).toHaveLength(0);

      // The tenant's own OpenAI key still reaches OpenAI directly while Bifrost's circuit is open.
      const direct = await chat(harness, { model: 'direct.mini' });
      expect(direct.status).toBe(200);
      const outcome = await waitForRecorded(harness, requestIdOf(direct));
      expect(outcome.attempts).toEqual([expect.objectContaining({ provider: 'openai', region: 'default', status: 'succeeded' })]);
      expect(outcome.attempts[0].via).toBeUndefined();
    }, 60_000);

    it("a direct circuit of the provider open does not stop calls through Bifrost", async () => {
      const store = new CircuitBreakerStore(harness.database.pool, { failureThreshold: 1, openMs: 60_000, maxOpenMs: 60_000 });
      await store.recordFailure('openai|default|gpt-4o-mini', 'upstream_unavailable');
      expect((await harness.call('GET', '/v2/circuits')).body.data).toContainEqual(expect.objectContaining({ key: 'openai|default|gpt-4o-mini', state: 'open' }));
      await sleep(1_100); // past the circuit cache's TTL: the front door sees the opening
      const response = await chat(harness, { model: 'bifrost.mini' });
      expect(response.status).toBe(200);
      const outcome = await waitForRecorded(harness, requestIdOf(response));
      expect(outcome.attempts).toEqual([expect.objectContaining({ provider: 'openai', region: 'bifrost', via: 'bifrost', status: 'succeeded' })]);
      expect(completions(bifrost)).toHaveLength(1);
    });
  });
});

/**
 * Every execution profile through the whole Zumik (real Temporal, Postgres, emulators): managed
 * (Zumik's key), BYOK (the tenant's sealed key, used instead of Zumik's), BYOC Dynamo and BYOC EPP
 * (the tenant's OpenAI-compatible endpoint, its own key, its own scheduler), and subscription (a
 * Fireworks dedicated deployment reached through the tenant's reserved-capacity endpoint). Zumik's
 * own OpenAI key is deliberately wrong here, so an answer through OpenAI proves the tenant's key served.
 */
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import type { ReceivedRequest } from '../emulators/emulator-kit';
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, sseData, waitForRecorded } from './request-path-helpers';

const TENANT_OPENAI_KEY = EMULATOR_KEY; // the OpenAI emulator accepts only this key
const DYNAMO_KEY = 'sk-tenant-dynamo-key';
const EPP_KEY = 'sk-tenant-epp-key';
const DEPLOYMENT = 'accounts/acme/deployments/dep-7f3a';

const completions = (requests: readonly ReceivedRequest[]) => requests.filter((request) => request.path.endsWith('/chat/completions'));

describe('every execution profile end to end through the workflow', () => {
  let harness: Harness;
  let dynamo: OpenAICompatibleEmulator;
  let epp: OpenAICompatibleEmulator;
  const logs: string[] = [];

  beforeAll(async () => {
    dynamo = await new OpenAICompatibleEmulator({ flavour: 'byoc', apiKey: DYNAMO_KEY }).start();
    epp = await new OpenAICompatibleEmulator({ flavour: 'byoc', apiKey: EPP_KEY }).start();
    // Customer endpoints on loopback over http: the operator opens that range for this deployment.
    harness = await startHarness({ env: { ZUMIK_EGRESS_ALLOW: '127.0.0.1/32,http', OPENAI_API_KEY: 'sk-zumik-managed-key-the-emulator-refuses' }, logs });
    const put = async (path: string, body: Record<string, unknown>) => {
      const response = await harness.call('PUT', path, { body });
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(response.body)}`);
    };
    await put('/v2/credentials/openai', { api_key: TENANT_OPENAI_KEY });
    // Registered endpoints start pending (replay-gated activation, test/replay): activated at once here.
    await harness.registerEndpoint('acme-dynamo', { profile: 'byoc_dynamo', base_url: dynamo.baseUrl, api_key: DYNAMO_KEY });
    await harness.registerEndpoint('acme-epp', { profile: 'byoc_epp', base_url: epp.baseUrl, api_key: EPP_KEY });
    await harness.registerEndpoint('acme-fireworks-dedicated', {
      profile: 'subscription', base_url: harness.fireworks.baseUrl, api_key: EMULATOR_KEY, metadata: { deployment: DEPLOYMENT },
    });
    await harness.installAlias('profile.managed', [target('anthropic', 'claude-haiku-4-5')]);
    await harness.installAlias('profile.byok', [target('openai', 'gpt-4o-mini', 1, { execution_profile: 'byok' })]);
    await harness.installAlias('profile.managed-openai', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('profile.dynamo', [target('acme-dynamo', 'meta-llama/Llama-3.3-70B-Instruct', 1, { execution_profile: 'byoc_dynamo' })]);
    await harness.installAlias('profile.epp', [target('acme-epp', 'qwen3-32b', 1, { execution_profile: 'byoc_epp' })]);
    await harness.installAlias('profile.subscription', [target('acme-fireworks-dedicated', DEPLOYMENT, 1, { execution_profile: 'subscription' })]);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await Promise.all([dynamo?.close(), epp?.close()]);
  });
  beforeEach(() => {
    for (const emulator of [harness.openai, harness.anthropic, harness.fireworks, dynamo, epp]) emulator.reset();
  });

  const served = async (alias: string, stream = false) => {
    const response = await chat(harness, { model: alias, stream });
    expect(response.status).toBe(200);
    const id = response.headers.get('x-zumik-request-id')!;
    if (stream) expect(sseData(response.text).at(-1)).toBe('[DONE]');
    const outcome = await waitForRecorded(harness, id);
    expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok' });
    return { response, outcome };
  };

  it('managed: Zumik\'s own key from the environment', async () => {
    const { outcome } = await served('profile.managed');
    expect(outcome.attempts[0]).toMatchObject({ execution_profile: 'managed_provider', provider: 'anthropic', status: 'succeeded' });
    expect(harness.anthropic.requests[0]!.headers['x-api-key']).toBe(EMULATOR_KEY);
  });

  it("byok: the tenant's sealed key is sent, not Zumik's", async () => {
    const { outcome } = await served('profile.byok');
    expect(outcome.attempts[0]).toMatchObject({ execution_profile: 'byok', provider: 'openai', status: 'succeeded' });
    expect(completions(harness.openai.requests)[0]!.headers.authorization).toBe(`Bearer ${TENANT_OPENAI_KEY}`);
    // The same model on the managed profile goes out with Zumik's (here refused) key: the profiles are not interchangeable.
    const managed = await chat(harness, { model: 'profile.managed-openai' });
    expect(managed.status).toBeGreaterThanOrEqual(400);
    expect(completions(harness.openai.requests).at(-1)!.headers.authorization).not.toBe(`Bearer ${TENANT_OPENAI_KEY}`);
    // Neither key appears in anything Zumik logged.
    expect(logs.join('\n')).not.toContain(TENANT_OPENAI_KEY);
  });

  it.each([
    ['byoc_dynamo', 'profile.dynamo', () => dynamo, DYNAMO_KEY, 'meta-llama/Llama-3.3-70B-Instruct'],
    ['byoc_epp', 'profile.epp', () => epp, EPP_KEY, 'qwen3-32b'],
  ] as const)('%s: the tenant\'s own endpoint with its own key, plain and streamed', async (profile, alias, emulator, key, model) => {
    const plain = await served(alias);
    expect(plain.outcome.attempts[0]).toMatchObject({ execution_profile: profile, model, status: 'succeeded' });
    await served(alias, true);
    const calls = completions(emulator().requests);
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.headers.authorization).toBe(`Bearer ${key}`);
      expect(call.body).toMatchObject({ model });
    }
    expect(logs.join('\n')).not.toContain(key);
  });

  it('subscription: a Fireworks dedicated deployment through the reserved-capacity endpoint', async () => {
    const { outcome } = await served('profile.subscription');
    expect(outcome.attempts[0]).toMatchObject({ execution_profile: 'subscription', provider: 'acme-fireworks-dedicated', model: DEPLOYMENT, status: 'succeeded' });
    const calls = completions(harness.fireworks.requests);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.path).toBe('/inference/v1/chat/completions');
    expect(calls[0]!.body).toMatchObject({ model: DEPLOYMENT });
    // Billed per GPU hour, not per token: no list price is invented for the deployment.
    expect(outcome.cost_usd).toBeNull();
  });
});

/**
 * Releases served by the revisions they pin (issue 10), through a whole Zumik: a request priced and
 * planned with the capability manifest revision its release names even after a newer one is current,
 * and a release's routing policy revision overriding the tenant policy's routing fields.
 */
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, resetCircuits, setPolicy, waitForRecorded } from './request-path-helpers';

const QOS = { interactive: { first_token_timeout_ms: 500, stall_timeout_ms: 500, deadline_ms: 8_000 } };
const INTERACTIVE = { 'x-zumik-qos-class': 'interactive' };

describe('releases pin their revisions', () => {
  let harness: Harness;
  beforeAll(async () => { harness = await startHarness(); }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    harness.openai.reset();
    harness.anthropic.reset();
    await resetCircuits(harness);
    await setPolicy(harness, { qos: QOS, max_attempts: 3 });
  });

  const installManifest = async (input: number, output: number, contextWindow = 128_000): Promise<string> => {
    const response = await harness.call('POST', '/v2/capability-manifests', {
      body: { models: { 'openai/gpt-4o-mini': { context_window: contextWindow, price: { input, output } }, 'anthropic/claude-haiku-4-5': { context_window: 200_000 } } },
    });
    expect(response.status).toBe(200);
    return response.body.id;
  };

  it('prices and plans a request with the older manifest revision its release pins, not the current one', async () => {
    const older = await installManifest(1_000, 2_000);
    const pinned = await harness.installAlias('rev.pinned', [target('openai', 'gpt-4o-mini')], { capability_manifest_revision: older });
    const newer = await installManifest(1, 1, 16);
    const current = await harness.installAlias('rev.current', [target('openai', 'gpt-4o-mini')]);
    expect([pinned.capability_manifest_revision, current.capability_manifest_revision]).toEqual([older, newer]);

    const served = await chat(harness, { model: 'rev.pinned', messages: [{ role: 'user', content: 'Say hi, and say it with a few more words than usual please' }] });
    expect(served.status).toBe(200);
    const outcome = await waitForRecorded(harness, served.body.id);
    const { prompt_tokens: prompt, completion_tokens: completion } = outcome.usage;
    expect(prompt).toBeGreaterThan(0);
    expect(outcome.cost_usd).toBeCloseTo((prompt * 1_000 + completion * 2_000) / 1e6, 9);
    expect(outcome.release_id).toBe(pinned.id);

    // The newer revision gives the model a 16-token window: the same prompt has no eligible target there.
    const refused = await chat(harness, { model: 'rev.current', messages: [{ role: 'user', content: 'Say hi, and say it with a few more words than usual please' }] });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-zumik-reason-code')).toBe('no_eligible_target');
  });

  it("serves a release's requests with its routing policy revision over the tenant policy", async () => {
    const policy = await harness.call('POST', '/v2/routing-policies', { body: { max_attempts: 1 } });
    expect(policy.status).toBe(200);
    const targets = [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)];
    await harness.installAlias('rev.policy', targets, { capability_manifest_revision: 'cap_custom', policy_revision: policy.body.id });
    await harness.installAlias('rev.tenant', targets, { capability_manifest_revision: 'cap_custom' });

    harness.openai.inject({ kind: 'status', status: 503 });
    const tenantPolicy = await chat(harness, { model: 'rev.tenant' }, { headers: INTERACTIVE });
    expect(tenantPolicy.status).toBe(200);
    expect(tenantPolicy.headers.get('x-zumik-attempts')).toBe('2');

    await resetCircuits(harness);
    harness.openai.inject({ kind: 'status', status: 503 });
    const releasePolicy = await chat(harness, { model: 'rev.policy' }, { headers: INTERACTIVE });
    expect(releasePolicy.status).toBe(503);
    expect(releasePolicy.headers.get('x-zumik-attempts')).toBe('1');
  });
});

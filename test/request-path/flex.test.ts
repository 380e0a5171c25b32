import { costUsd, manifestFor } from '../../src/domain/capabilities';
import { startHarness, target, type Harness } from '../support/zumik-harness';

// service_tier "flex" (or x-zumik-qos-class: flex): the provider's flex tier where the target has one,
// standard elsewhere only when the tenant's policy allows, and the cost of the tier actually served.
describe('flex tier', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    // Anthropic has no flex tier; gpt-5.4-mini does (the built-in capability manifest).
    await harness.installAlias('flex.mixed', [target('anthropic', 'claude-haiku-4-5', 1), target('openai', 'gpt-5.4-mini', 0)]);
    await harness.installAlias('flex.none', [target('anthropic', 'claude-haiku-4-5', 1)]);
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(async () => {
    harness.openai.reset();
    harness.anthropic.reset();
    await harness.call('PUT', '/v2/tenants/default/policy', { body: {} });
  });

  const chat = (alias: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    harness.call('POST', '/v2/chat/completions', { body: { model: alias, messages: [{ role: 'user', content: 'summarise' }], ...extra }, headers });

  it('runs a service_tier flex request on a target with a flex tier, asks the provider for flex, and prices it at flex', async () => {
    const response = await chat('flex.mixed', { service_tier: 'flex' });
    expect(response.status).toBe(200);
    expect(response.body.service_tier).toBe('flex');
    expect(harness.anthropic.requests).toHaveLength(0);
    expect((harness.openai.requests[0]!.body as { service_tier?: string }).service_tier).toBe('flex');
    const outcome = response.body.zumik;
    expect(outcome).toMatchObject({ qos_class: 'flex', completion: 'completed' });
    expect(outcome.attempts[0]).toMatchObject({ provider: 'openai', service_tier: 'flex' });
    const manifest = manifestFor('cap_custom');
    const standard = costUsd(manifest, 'openai', 'gpt-5.4-mini', outcome.usage, 'default')!;
    expect(outcome.cost_usd).toBeCloseTo(standard / 2, 10);
  });

  it('uses the provider flex tier for x-zumik-qos-class: flex too', async () => {
    const response = await chat('flex.mixed', {}, { 'x-zumik-qos-class': 'flex' });
    expect(response.status).toBe(200);
    expect((harness.openai.requests[0]!.body as { service_tier?: string }).service_tier).toBe('flex');
  });

  it('falls back to standard on a target without flex only when the policy allows it', async () => {
    expect((await chat('flex.none', { service_tier: 'flex' })).body.error).toMatchObject({ code: 'no_eligible_target' });
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { flex: { fallback_to_standard: true } } });
    const response = await chat('flex.none', { service_tier: 'flex' });
    expect(response.status).toBe(200);
    expect(response.body.zumik.attempts[0]).toMatchObject({ provider: 'anthropic' });
    const sent = harness.anthropic.requests.at(-1)!.body as { service_tier?: string };
    expect(sent.service_tier).not.toBe('flex');
  });
});

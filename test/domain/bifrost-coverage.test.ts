/**
 * Broader coverage through Bifrost and Bifrost's own region (issue 12), as pure rules: which release
 * targets outside the capability manifest an install allows and how it marks them (`releaseProblem`,
 * `markCoverage`); which tenants' requests reach them and with what refusal otherwise (`planRequest`);
 * and that every target the Bifrost deployment serves plans in the region `bifrost`, so its circuits are
 * Bifrost's own.
 */
import { builtInManifest, type CapabilityManifest } from '../../src/domain/capabilities';
import { markCoverage, releaseProblem, type BroaderCoverage, type ModelAliasRelease, type ReleaseTarget } from '../../src/domain/model-alias';
import { outcomeErrorShape } from '../../src/domain/reason-code-errors';
import { planRequest, policySnapshot } from '../../src/domain/request-planning';
import { DEFAULT_TENANT_POLICY } from '../../src/domain/tenant-policy';

const target = (overrides: Partial<ReleaseTarget> = {}): ReleaseTarget =>
  ({ execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4', model_revision: '1', weight: 1, ...overrides });
/** A model Bifrost knows and Zumik's built-in manifest does not. */
const OUTSIDE = { model: 'gpt-oss-bifrost-only' };
const servesOpenai = (provider: string) => provider === 'openai';
const noEndpoints = () => false;

describe('releaseProblem with broader coverage through Bifrost', () => {
  const tenant = (allowed: boolean): BroaderCoverage => ({ viaBifrost: servesOpenai, owner: { tenant: 'acme', allowed } });

  it('allows a managed model outside the manifest for a tenant whose policy allows it, when Bifrost serves the provider', () => {
    expect(releaseProblem({ targets: [target(), target(OUTSIDE)] }, builtInManifest(), noEndpoints, tenant(true))).toBeUndefined();
  });

  it("allows it in the operator's shared catalogue (owner null) when Bifrost serves the provider", () => {
    expect(releaseProblem({ targets: [target(OUTSIDE)] }, builtInManifest(), noEndpoints, { viaBifrost: servesOpenai, owner: null })).toBeUndefined();
  });

  it("refuses it, naming targets[i].model and the policy switch, for a tenant whose policy does not allow it", () => {
    const problem = releaseProblem({ targets: [target(), target(OUTSIDE)] }, builtInManifest(), noEndpoints, tenant(false));
    expect(problem?.param).toBe('targets[1].model');
    expect(problem?.message).toMatch(/allow_bifrost_broader_coverage, which is off for tenant 'acme'/);
  });

  it('refuses it, naming the model and saying why, when Bifrost does not serve the provider (for the operator too)', () => {
    const problem = releaseProblem({ targets: [target({ provider: 'anthropic', model: 'claude-bifrost-only' })] }, builtInManifest(), noEndpoints,
      { viaBifrost: servesOpenai, owner: null });
    expect(problem).toEqual({ param: 'targets[0].model', message: expect.stringMatching(/anthropic is not served through a Bifrost deployment/) });
  });

  it('refuses it without any Bifrost (no broader facts), as before', () => {
    expect(releaseProblem({ targets: [target(OUTSIDE)] }, builtInManifest(), noEndpoints)).toEqual({
      param: 'targets[0].model', message: "targets[0].model: 'openai/gpt-oss-bifrost-only' is not in capability manifest cap_custom.",
    });
  });

  it('never opens it to a byok target: the tenant key goes to the provider, not through Bifrost', () => {
    expect(releaseProblem({ targets: [target({ ...OUTSIDE, execution_profile: 'byok' })] }, builtInManifest(), noEndpoints, tenant(true))?.param)
      .toBe('targets[0].model');
  });

  it("accepts a Bifrost-served provider the manifest revision does not list at all", () => {
    const anthropicOnly: CapabilityManifest = { revision: 'cap_x', models: { 'anthropic/claude-haiku-4-5': { contextWindow: 200_000 } } };
    expect(releaseProblem({ targets: [target()] }, anthropicOnly, noEndpoints, tenant(true))).toBeUndefined();
    expect(releaseProblem({ targets: [target()] }, anthropicOnly, noEndpoints)?.param).toBe('targets[0].provider');
  });

  it("does not hold a broader model to min_context_window (its window is unknown), but still the manifest's models", () => {
    expect(releaseProblem({ min_context_window: 300_000, targets: [target(OUTSIDE)] }, builtInManifest(), noEndpoints, tenant(true))).toBeUndefined();
    expect(releaseProblem({ min_context_window: 300_000, targets: [target(OUTSIDE), target({ model: 'gpt-4o' })] }, builtInManifest(), noEndpoints,
      tenant(true))?.param).toBe('targets[1].model');
  });
});

describe('markCoverage', () => {
  it('marks exactly the managed targets outside the manifest, and drops a mark a client or an older copy carried', () => {
    const marked = markCoverage([target(), target(OUTSIDE), target({ coverage: 'bifrost_broader' }), target({ provider: 'acme-gpu', execution_profile: 'byoc_epp' })],
      builtInManifest());
    expect(marked.map((entry) => entry.coverage)).toEqual([undefined, 'bifrost_broader', undefined, undefined]);
    expect(marked[1]).toEqual({ ...target(OUTSIDE), coverage: 'bifrost_broader' });
    expect('coverage' in marked[0]!).toBe(false);
  });
});

describe('planRequest with broader-coverage targets', () => {
  const release = (...targets: ReleaseTarget[]): ModelAliasRelease => ({
    id: 'alr_test', object: 'model_alias_release', alias: 'wide', status: 'active', policy_revision: 'policy_custom',
    capability_manifest_revision: 'cap_custom', targets, created_at: 0,
  });
  const broader = target({ ...OUTSIDE, coverage: 'bifrost_broader' });
  const known = target({ provider: 'anthropic', model: 'claude-haiku-4-5' });
  const input = { requestId: 'chatcmpl-1', alias: 'wide', qosClass: 'standard' as const, body: { model: 'wide', messages: [{ role: 'user' as const, content: 'hi' }] } };
  const context = {
    policy: policySnapshot(DEFAULT_TENANT_POLICY, 'standard', 'wide'), regions: () => ['default', 'eu'], openCircuits: new Set<string>(),
    viaBifrost: servesOpenai,
  };

  it('serves it to a tenant whose policy allows it: region bifrost, marked in the plan', () => {
    const planned = planRequest(input, { ...context, release: release(broader), broaderCoverage: true });
    expect('plan' in planned && planned.plan).toEqual([expect.objectContaining({
      provider: 'openai', model: OUTSIDE.model, region: 'bifrost', role: 'primary', coverage: 'bifrost_broader',
    })]);
  });

  it("leaves it out for a tenant whose policy does not allow it, and plans the rest without it", () => {
    const planned = planRequest(input, { ...context, release: release(broader, known) });
    expect('plan' in planned && planned.plan.map((candidate) => candidate.provider)).toEqual(['anthropic', 'anthropic']);
    expect(planned.skipped).toEqual([expect.objectContaining({ provider: 'openai', reason: 'coverage_not_allowed' })]);
  });

  it('refuses with rejected_coverage (403 naming model) when nothing else is left for that tenant', () => {
    expect(planRequest(input, { ...context, release: release(broader), broaderCoverage: false })).toEqual({ refusal: 'rejected_coverage' });
    expect(outcomeErrorShape({ id: 'chatcmpl-1', reason_code: 'rejected_coverage' })).toMatchObject({
      status: 403, code: 'broader_coverage_not_allowed', param: 'model', message: expect.stringContaining('allow_bifrost_broader_coverage'),
    });
  });

  it('refuses with coverage_unavailable (424) once Bifrost no longer serves the provider, even for an allowed tenant', () => {
    expect(planRequest(input, { ...context, release: release(broader), broaderCoverage: true, viaBifrost: () => false }))
      .toEqual({ refusal: 'coverage_unavailable' });
    expect(planRequest(input, { ...context, release: release(broader), broaderCoverage: true, viaBifrost: undefined }))
      .toEqual({ refusal: 'coverage_unavailable' });
    expect(outcomeErrorShape({ id: 'chatcmpl-1', reason_code: 'coverage_unavailable' })).toMatchObject({ status: 424, code: 'bifrost_not_configured' });
  });

  it('claims no tools and no image input for it: such a request skips it (unsupported_capability when it is all there is)', () => {
    const tools = { ...input, body: { ...input.body, tools: [{ type: 'function' as const, function: { name: 'f', parameters: {} } }] } };
    const image = { ...input, body: { ...input.body, messages: [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: 'https://x.test/a.png' } }] }] } };
    for (const request of [tools, image]) {
      expect(planRequest(request, { ...context, release: release(broader), broaderCoverage: true })).toEqual({ refusal: 'unsupported_capability' });
      const planned = planRequest(request, { ...context, release: release(broader, known), broaderCoverage: true });
      expect('plan' in planned && planned.plan.every((candidate) => candidate.provider === 'anthropic')).toBe(true);
      expect(planned.skipped).toEqual([expect.objectContaining({ reason: 'coverage_capability' })]);
    }
  });

  it('keeps no_eligible_target when an open circuit stood in the way as well', () => {
    expect(planRequest(input, {
      ...context, release: release(broader, known), openCircuits: new Set(['anthropic|default|claude-haiku-4-5', 'anthropic|eu|claude-haiku-4-5']),
    })).toEqual({ refusal: 'no_eligible_target' });
  });

  it('changes nothing for a release without broader targets (the coverage rule is never asked)', () => {
    const asked: string[] = [];
    const planned = planRequest(input, { ...context, viaBifrost: (provider) => { asked.push(provider); return false; }, release: release(known) });
    expect('plan' in planned && planned.plan.map((candidate) => candidate.region)).toEqual(['default', 'eu']);
    expect(asked).toEqual(['anthropic']); // the region rule only
  });
});

describe("Bifrost's own region", () => {
  const release = (...targets: ReleaseTarget[]): ModelAliasRelease => ({
    id: 'alr_test', object: 'model_alias_release', alias: 'a', status: 'active', policy_revision: 'policy_custom',
    capability_manifest_revision: 'cap_custom', targets, created_at: 0,
  });
  const input = { requestId: 'chatcmpl-2', alias: 'a', qosClass: 'standard' as const, body: { model: 'a', messages: [{ role: 'user' as const, content: 'hi' }] } };
  const context = { policy: policySnapshot(DEFAULT_TENANT_POLICY, 'standard', 'a'), regions: () => ['default', 'eu'], viaBifrost: servesOpenai };

  it("plans a Bifrost-served managed target once, in region bifrost, whatever the provider's own regions", () => {
    const planned = planRequest(input, { ...context, release: release(target()), openCircuits: new Set<string>() });
    expect('plan' in planned && planned.plan.map((candidate) => candidate.region)).toEqual(['bifrost']);
  });

  it("skips it on Bifrost's open circuit, not on the direct provider's, and vice versa", () => {
    const direct = planRequest(input, { ...context, release: release(target()), openCircuits: new Set(['openai|default|gpt-5.4']) });
    expect('plan' in direct && direct.plan.map((candidate) => candidate.region)).toEqual(['bifrost']);
    expect(planRequest(input, { ...context, release: release(target()), openCircuits: new Set(['openai|bifrost|gpt-5.4']) }))
      .toEqual({ refusal: 'no_eligible_target' });
    // A byok target of the same provider goes to the provider itself: its regions, not Bifrost's circuit.
    const byok = planRequest(input, { ...context, release: release(target({ execution_profile: 'byok' })), openCircuits: new Set(['openai|bifrost|gpt-5.4']) });
    expect('plan' in byok && byok.plan.map((candidate) => candidate.region)).toEqual(['default', 'eu']);
  });
});

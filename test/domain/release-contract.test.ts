import { builtInManifest } from '../../src/domain/capabilities';
import { capabilityFromJson, capabilityToJson } from '../../src/domain/capability-manifest';
import { releaseProblem, type ReleaseTarget } from '../../src/domain/model-alias';
import { withRoutingPolicy } from '../../src/domain/routing-policy';
import { parseTenantPolicy } from '../../src/domain/tenant-policy';

const target = (overrides: Partial<ReleaseTarget> = {}): ReleaseTarget =>
  ({ execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4', model_revision: '1', weight: 1, ...overrides });

describe('releaseProblem', () => {
  const noEndpoints = () => false;

  it('accepts known models and their dated snapshots', () => {
    expect(releaseProblem({ targets: [target(), target({ model: 'gpt-5.4-2026-03-05' })] }, builtInManifest(), noEndpoints)).toBeUndefined();
  });

  it('names the first target at fault: provider, model, or a window below the declared minimum', () => {
    const manifest = builtInManifest();
    expect(releaseProblem({ targets: [target(), target({ provider: 'nimbus' })] }, manifest, noEndpoints)?.param).toBe('targets[1].provider');
    expect(releaseProblem({ targets: [target({ model: 'gpt-5' }), target({ model: 'gpt-5.4x' })] }, manifest, noEndpoints)?.param).toBe('targets[1].model');
    expect(releaseProblem({ min_context_window: 500_000, targets: [target(), target({ model: 'gpt-5.4-mini' })] }, manifest, noEndpoints)?.param).toBe('targets[1].model');
  });

  it('checks endpoint profiles against the registered endpoints, not the manifest', () => {
    const byoc = target({ execution_profile: 'byoc_dynamo', provider: 'lab', model: 'llama' });
    expect(releaseProblem({ targets: [byoc] }, builtInManifest(), noEndpoints)?.param).toBe('targets[0].provider');
    expect(releaseProblem({ targets: [byoc] }, builtInManifest(), (provider) => provider === 'lab')).toBeUndefined();
    // An endpoint profile may not borrow a manifest provider's name without a registered endpoint of that id.
    expect(releaseProblem({ targets: [target({ execution_profile: 'byoc_epp' })] }, builtInManifest(), noEndpoints)?.param).toBe('targets[0].provider');
  });
});

describe('capability manifest JSON', () => {
  it('round-trips every built-in model through the wire form', () => {
    for (const capability of Object.values(builtInManifest().models)) expect(capabilityFromJson(capabilityToJson(capability))).toEqual(capability);
  });
});

describe('withRoutingPolicy', () => {
  it("overrides only the fields the revision sets, keeping the tenant's others", () => {
    const tenant = parseTenantPolicy({ max_attempts: 6, failover: true, flex: { fallback_to_standard: true }, max_hedges: 2 });
    const effective = withRoutingPolicy(tenant, { max_attempts: 1, failover: false });
    expect(effective).toMatchObject({ max_attempts: 1, failover: false, max_hedges: 2, flex: { fallback_to_standard: true } });
    expect(withRoutingPolicy(tenant, { flex: { fallback_to_standard: false } }).flex.fallback_to_standard).toBe(false);
    expect(withRoutingPolicy(tenant, undefined)).toBe(tenant);
  });
});

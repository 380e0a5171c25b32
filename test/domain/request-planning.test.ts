import type { ModelAliasRelease, ReleaseTarget } from '../../src/domain/model-alias';
import { drawsCanary, planRequest, policySnapshot } from '../../src/domain/request-planning';
import { outcomeErrorShape } from '../../src/domain/reason-code-errors';
import { DEFAULT_TENANT_POLICY } from '../../src/domain/tenant-policy';

const target = (provider: string, weight: number, profile: ReleaseTarget['execution_profile'] = 'managed_provider'): ReleaseTarget =>
  ({ execution_profile: profile, provider, model: `${provider}-model`, model_revision: 'r1', weight });
const release = (...targets: ReleaseTarget[]): ModelAliasRelease => ({
  id: 'alr_test', object: 'model_alias_release', alias: 'code.fast', status: 'active', policy_revision: 'policy_custom',
  capability_manifest_revision: 'cap_custom', targets, created_at: 0,
});

describe('planRequest', () => {
  const input = { requestId: 'chatcmpl-1', alias: 'code.fast', qosClass: 'standard' as const, body: { model: 'code.fast', messages: [] } };
  const context = { policy: policySnapshot(DEFAULT_TENANT_POLICY, 'standard', 'code.fast'), regions: () => ['default'], openCircuits: new Set<string>() };
  /** Only openai has a managed key; BYOK is looked up by the attempt. */
  const hasCredential = (candidate: ReleaseTarget) => candidate.execution_profile !== 'managed_provider' || candidate.provider === 'openai';

  describe('with targets whose credential is known to be missing', () => {
    it('skips them and plans the rest, saying why', () => {
      const planned = planRequest(input, { ...context, release: release(target('fireworks', 1), target('openai', 0)), hasCredential });
      expect('plan' in planned && planned.plan.map((candidate) => candidate.provider)).toEqual(['openai']);
      expect(planned.skipped).toEqual([expect.objectContaining({ provider: 'fireworks', reason: 'no_credentials', execution_profile: 'managed_provider' })]);
    });

    it('refuses with no_credentials, listing them, when nothing else stood in the way', () => {
      const planned = planRequest(input, { ...context, release: release(target('fireworks', 1), target('xai', 1)), hasCredential });
      expect(planned).toMatchObject({ refusal: 'no_credentials' });
      expect(planned.skipped?.map((entry) => entry.provider).sort()).toEqual(['fireworks', 'xai']);
    });

    it('keeps no_eligible_target when an open circuit also stood in the way', () => {
      expect(planRequest(input, {
        ...context, release: release(target('fireworks', 1), target('openai', 1)), hasCredential, openCircuits: new Set(['openai|default|openai-model']),
      })).toEqual({ refusal: 'no_eligible_target' });
    });

    it('leaves BYOK targets to the attempt (no lookup here)', () => {
      const planned = planRequest(input, { ...context, release: release(target('anthropic', 1, 'byok')), hasCredential });
      expect('plan' in planned && planned.plan).toHaveLength(1);
    });
  });
});

describe('outcomeErrorShape for no_credentials', () => {
  it('names each provider and where its credential comes from, without any secret', () => {
    const shape = outcomeErrorShape({
      id: 'chatcmpl-1', reason_code: 'no_credentials',
      attempts: [{ execution_profile: 'byok', provider: 'openai', failure_kind: 'no_credentials' }],
    }, [{ execution_profile: 'managed_provider', provider: 'fireworks' }]);
    expect(shape).toMatchObject({ status: 424, code: 'no_credentials', param: 'model' });
    expect(shape.message).toContain("fireworks (managed_provider): set FIREWORKS_API_KEY in Zumik's environment");
    expect(shape.message).toContain("openai (byok): store the tenant's key with PUT /v2/credentials/openai");
  });
});

describe('drawsCanary', () => {
  const seeds = Array.from({ length: 10_000 }, (_, index) => `chatcmpl-${index.toString(36)}`);
  const share = (weight: number) => seeds.filter((seed) => drawsCanary(seed, weight)).length / seeds.length;

  it('sends the weight\'s share of request ids to the candidate', () => {
    // Fixed seeds: the same share on every run. A fair draw is within ±1.5 points of the weight at 10,000.
    for (const weight of [1, 10, 30, 50, 90]) expect(Math.abs(share(weight) * 100 - weight)).toBeLessThan(1.5);
    expect(share(0)).toBe(0);
    expect(share(100)).toBe(1);
  });

  it('is the same draw for the same seed, and a higher weight keeps every request a lower one sent', () => {
    for (const seed of seeds.slice(0, 500)) {
      expect(drawsCanary(seed, 30)).toBe(drawsCanary(seed, 30));
      if (drawsCanary(seed, 30)) expect(drawsCanary(seed, 60)).toBe(true);
    }
  });
});

import { aliasAllowed, providerAllowed, restrictsProviders } from '../../src/domain/allow-list';
import { buildAttemptPlan, seededRandom } from '../../src/domain/attempt-plan';
import type { ModelAliasRelease, ReleaseTarget } from '../../src/domain/model-alias';
import { planRequest, policySnapshot } from '../../src/domain/request-planning';
import { DEFAULT_TENANT_POLICY } from '../../src/domain/tenant-policy';

const target = (provider: string, weight: number): ReleaseTarget =>
  ({ execution_profile: 'managed_provider', provider, model: `${provider}-model`, model_revision: 'r1', weight });
const release = (...targets: ReleaseTarget[]): ModelAliasRelease => ({
  id: 'alr_test', object: 'model_alias_release', alias: 'code.fast', status: 'active', policy_revision: 'policy_custom',
  capability_manifest_revision: 'cap_custom', targets, created_at: 0,
});

describe('allow-lists', () => {
  it('restrict only where a list is given: null or absent allows everything, an empty list nothing', () => {
    expect(aliasAllowed([undefined, { aliases: null }], 'a')).toBe(true);
    expect(aliasAllowed([{ aliases: ['a'] }, { aliases: ['a', 'b'] }], 'a')).toBe(true);
    expect(aliasAllowed([{ aliases: ['a'] }, { aliases: ['b'] }], 'a')).toBe(false);
    expect(aliasAllowed([{ aliases: [] }], 'a')).toBe(false);
    expect(providerAllowed([{ providers: ['openai'] }, undefined], 'anthropic')).toBe(false);
    expect(restrictsProviders([{ aliases: ['a'] }, undefined])).toBe(false);
    expect(restrictsProviders([undefined, { providers: [] }])).toBe(true);
  });

  describe('buildAttemptPlan with allowedProvider', () => {
    const pair = release(target('openai', 1), target('anthropic', 1), target('gemini', 0));

    it('never draws, fails over to or keeps as standby a refused provider, and says why it left each out', () => {
      for (const seed of ['a', 'b', 'c', 'd', 'e', 'f']) {
        const plan = buildAttemptPlan(pair, {
          random: seededRandom(seed), regions: {}, openCircuits: new Set(), contextWindow: () => undefined,
          allowedProvider: (provider) => provider !== 'openai',
        });
        expect(plan.candidates.map((candidate) => [candidate.provider, candidate.role])).toEqual([['anthropic', 'primary'], ['gemini', 'standby']]);
        expect(plan.candidates[0]!.targetIndex).toBe(1); // the release's own index: history still names the right target
        expect(plan.skipped).toEqual([{ targetIndex: 0, provider: 'openai', model: 'openai-model', region: 'default', reason: 'not_allowed' }]);
      }
    });
  });

  describe('planRequest', () => {
    const input = { requestId: 'chatcmpl-1', alias: 'code.fast', qosClass: 'standard' as const, body: { model: 'code.fast', messages: [] } };
    const context = { policy: policySnapshot(DEFAULT_TENANT_POLICY, 'standard', 'code.fast'), regions: () => ['default'], openCircuits: new Set<string>() };

    it('refuses with rejected_allow_list when no target of the release is on the lists (not no_eligible_target)', () => {
      expect(planRequest(input, { ...context, release: release(target('openai', 1)), allowedProvider: (provider) => provider === 'anthropic' }))
        .toEqual({ refusal: 'rejected_allow_list' });
    });

    it('never plans openrouter as an ordinary target, even in a release stored before installs refused it', () => {
      const planned = planRequest(input, { ...context, release: release(target('openrouter', 1), target('openai', 1)) });
      expect('plan' in planned && planned.plan.map((candidate) => [candidate.provider, candidate.targetIndex])).toEqual([['openai', 1]]);
      expect('plan' in planned && planned.skipped).toEqual([expect.objectContaining({ provider: 'openrouter', reason: 'not_allowed' })]);
      expect(planRequest(input, { ...context, release: release(target('openrouter', 1)) })).toEqual({ refusal: 'no_eligible_target' });
    });

    it('keeps no_eligible_target for an allowed target whose circuit is open', () => {
      expect(planRequest(input, {
        ...context, release: release(target('openai', 1), target('anthropic', 1)), allowedProvider: (provider) => provider === 'anthropic',
        openCircuits: new Set(['anthropic|default|anthropic-model']),
      })).toEqual({ refusal: 'no_eligible_target' });
    });
  });
});

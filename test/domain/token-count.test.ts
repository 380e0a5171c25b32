import type { ModelAliasRelease, ReleaseTarget } from '../../src/domain/model-alias';
import { tokenCountRoute } from '../../src/domain/token-count';

const target = (provider: string, model: string, weight: number, profile: ReleaseTarget['execution_profile'] = 'managed_provider'): ReleaseTarget =>
  ({ execution_profile: profile, provider, model, model_revision: model, weight });
const release = (...targets: ReleaseTarget[]): ModelAliasRelease => ({
  id: 'alr_1', object: 'model_alias_release', alias: 'a', status: 'active', policy_revision: 'policy_custom', capability_manifest_revision: 'cap_custom', targets, created_at: 1,
});

describe('tokenCountRoute', () => {
  it('counts on the highest-weight Anthropic target (first listed on a tie); a weight-0 standby elsewhere does not matter', () => {
    expect(tokenCountRoute('a', release(target('anthropic', 'claude-a', 1), target('anthropic', 'claude-b', 3), target('openai', 'gpt', 0)), []))
      .toEqual({ target: target('anthropic', 'claude-b', 3) });
    expect(tokenCountRoute('a', release(target('anthropic', 'claude-a', 2), target('anthropic', 'claude-b', 2, 'byok')), []))
      .toEqual({ target: target('anthropic', 'claude-a', 2) });
  });

  it('refuses (400 naming model) when a weighted target cannot count: another provider, or a tenant endpoint', () => {
    const mixed = tokenCountRoute('a', release(target('anthropic', 'claude-a', 1), target('gemini', 'gemini-2.5-flash', 1)), []);
    expect(mixed).toEqual({ refusal: { status: 400, message: expect.stringMatching(/^model: .*gemini\/gemini-2\.5-flash.*does not estimate$/) } });
    expect(tokenCountRoute('a', release(target('anthropic', 'x', 1, 'byoc_dynamo')), [])).toMatchObject({ refusal: { status: 400 } });
  });

  it('answers an unknown alias with 404 and an alias or provider outside the allow-lists with 403', () => {
    expect(tokenCountRoute('a', undefined, [])).toMatchObject({ refusal: { status: 404 } });
    expect(tokenCountRoute('a', release(target('anthropic', 'c', 1)), [{ aliases: ['b'] }])).toMatchObject({ refusal: { status: 403 } });
    expect(tokenCountRoute('a', release(target('anthropic', 'c', 1)), [{ providers: ['openai'] }])).toMatchObject({ refusal: { status: 403 } });
  });
});

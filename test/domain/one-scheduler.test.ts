/**
 * The one-scheduler rules when an endpoint changes (issue 12): the releases already installed that name it
 * are checked with the endpoint as it would become; a change that makes one break a rule is answered with
 * that release and the rule, one that leaves them valid (or finds them already broken) is not.
 */
import type { ReleaseTarget } from '../../src/domain/model-alias';
import { endpointChangeProblem, type EndpointFacts } from '../../src/domain/one-scheduler';

const target = (provider: string, execution_profile: ReleaseTarget['execution_profile'], model = 'llama'): ReleaseTarget =>
  ({ execution_profile, provider, model, model_revision: '1', weight: 1 });
const endpoint = (id: string, profile: string, baseUrl: string, replicaOf?: string): EndpointFacts =>
  ({ id, profile, baseUrl, ...(replicaOf ? { replicaOf } : {}) });

describe('endpointChangeProblem', () => {
  const registered = new Map([
    ['front', endpoint('front', 'byoc_dynamo', 'https://dynamo.test/v1')],
    ['gateway', endpoint('gateway', 'byoc_epp', 'https://gateway.test/v1')],
  ]);
  const current = (provider: string) => registered.get(provider);
  const releases = [
    { id: 'alr_a', alias: 'plain', targets: [target('gateway', 'byoc_epp')] },
    { id: 'alr_b', alias: 'dynamo', targets: [target('front', 'byoc_dynamo'), target('gateway', 'byoc_epp')] },
  ];

  it('finds nothing wrong with a change that keeps every release valid (a new URL, the same profile)', () => {
    expect(endpointChangeProblem(releases, current, endpoint('front', 'byoc_dynamo', 'https://dynamo2.test/v1'))).toBeUndefined();
  });

  it('names the release and the profile rule when the profile changes under a target', () => {
    expect(endpointChangeProblem(releases, current, endpoint('front', 'byoc_epp', 'https://dynamo.test/v1'))).toEqual({
      release: releases[1],
      problem: { rule: 'profile', param: 'targets[0].execution_profile', message: expect.stringMatching(/registered as byoc_epp, not byoc_dynamo/) },
    });
  });

  it('names the replica rule when the endpoint becomes a replica behind a picker', () => {
    const found = endpointChangeProblem(releases, current, endpoint('gateway', 'byoc_epp', 'https://gateway.test/v1', 'front'));
    expect(found?.release.id).toBe('alr_a');
    expect(found?.problem).toMatchObject({ rule: 'replica', param: 'targets[0].provider' });
    expect(found?.problem.message).toMatch(/replica behind the byoc_dynamo endpoint 'front'/);
  });

  it('names the same-scheduler rule when a URL change makes two targets one scheduler', () => {
    const twoIds = [{ id: 'alr_c', alias: 'split', targets: [target('front', 'byoc_dynamo'), target('other', 'byoc_dynamo')] }];
    const withOther = (provider: string) => (provider === 'other' ? endpoint('other', 'byoc_dynamo', 'https://other.test/v1') : current(provider));
    expect(endpointChangeProblem(twoIds, withOther, endpoint('other', 'byoc_dynamo', 'https://dynamo.test/v1/'))?.problem)
      .toMatchObject({ rule: 'same_scheduler', param: 'targets[1].provider' });
  });

  it('judges a re-registered endpoint (deleted since the install) by what it becomes', () => {
    const gone = (provider: string) => (provider === 'front' ? undefined : current(provider));
    expect(endpointChangeProblem(releases, gone, endpoint('front', 'subscription', 'https://dynamo.test/v1'))?.problem.rule).toBe('profile');
    expect(endpointChangeProblem(releases, gone, endpoint('front', 'byoc_dynamo', 'https://dynamo.test/v1'))).toBeUndefined();
  });

  it('does not block a change because of a release that already broke a rule before it', () => {
    const broken = [{ id: 'alr_d', alias: 'old', targets: [target('front', 'byoc_epp')] }];
    expect(endpointChangeProblem(broken, current, endpoint('front', 'byoc_dynamo', 'https://dynamo3.test/v1'))).toBeUndefined();
  });
});

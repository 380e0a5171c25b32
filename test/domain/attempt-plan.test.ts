import { buildAttemptPlan, circuitKey, seededRandom, type PlanContext } from '../../src/domain/attempt-plan';
import type { ModelAliasRelease, ReleaseTarget } from '../../src/domain/model-alias';

const target = (provider: string, model: string, weight: number): ReleaseTarget =>
  ({ execution_profile: 'managed_provider', provider, model, model_revision: `${model}@r1`, weight });

const release = (...targets: ReleaseTarget[]): ModelAliasRelease => ({
  id: 'alr_test', object: 'model_alias_release', alias: 'code.fast', status: 'active', policy_revision: 'policy_custom',
  capability_manifest_revision: 'cap_custom', targets, created_at: 0,
});

const context = (overrides: Partial<PlanContext> = {}): PlanContext => ({
  random: seededRandom('chatcmpl-1'), regions: {}, openCircuits: new Set(), contextWindow: () => undefined, ...overrides,
});

/** A "random" that returns the given values in turn. */
const sequence = (...values: number[]) => {
  let index = 0;
  return () => values[index++ % values.length]!;
};

const summary = (plan: ReturnType<typeof buildAttemptPlan>) => plan.candidates.map((candidate) => `${candidate.provider}:${candidate.region}:${candidate.role}`);

describe('seededRandom', () => {
  it('gives the same sequence for the same seed', () => {
    const a = seededRandom('chatcmpl-abc');
    const b = seededRandom('chatcmpl-abc');
    const first = Array.from({ length: 50 }, a);
    expect(Array.from({ length: 50 }, b)).toEqual(first);
  });

  it('gives different sequences for different seeds', () => {
    expect(Array.from({ length: 5 }, seededRandom('chatcmpl-abc'))).not.toEqual(Array.from({ length: 5 }, seededRandom('chatcmpl-abd')));
  });

  it('returns values in [0, 1) spread evenly over the interval', () => {
    const random = seededRandom('uniformity');
    const buckets = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let index = 0; index < 100_000; index += 1) {
      const value = random();
      if (!(value >= 0 && value < 1)) outOfRange += 1;
      else buckets[Math.floor(value * 10)]! += 1;
    }
    expect(outOfRange).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('draws evenly even for seeds that differ in one character (first value)', () => {
    let low = 0;
    for (let index = 0; index < 10_000; index += 1) if (seededRandom(`chatcmpl-${index}`)() < 0.5) low += 1;
    expect(Math.abs(low - 5_000)).toBeLessThan(250);
  });
});

describe('circuitKey', () => {
  it('joins provider, region and model', () => {
    expect(circuitKey('openai', 'us', 'gpt-5.4')).toBe('openai|us|gpt-5.4');
  });
});

describe('buildAttemptPlan', () => {
  it('puts the weighted pick first as primary and the others after it as failovers', () => {
    const plan = buildAttemptPlan(release(target('openai', 'gpt-5.4', 1), target('anthropic', 'claude-sonnet-5', 1)), context({ random: sequence(0.9, 0) }));
    expect(summary(plan)).toEqual(['anthropic:default:primary', 'openai:default:failover']);
    expect(plan.candidates[0]).toEqual({
      targetIndex: 1, execution_profile: 'managed_provider', provider: 'anthropic', model: 'claude-sonnet-5',
      model_revision: 'claude-sonnet-5@r1', region: 'default', role: 'primary',
    });
    expect(plan.skipped).toEqual([]);
  });

  it('draws the first choice in proportion to the weights', () => {
    const plan = (value: number) => buildAttemptPlan(
      release(target('a', 'm', 8), target('b', 'm', 2)), context({ random: sequence(value, 0) })).candidates[0]!.provider;
    expect(plan(0)).toBe('a');
    expect(plan(0.79)).toBe('a');
    expect(plan(0.8)).toBe('b');
    expect(plan(0.999)).toBe('b');
  });

  it('follows 80/20 weights over 10,000 request ids', () => {
    const aliasRelease = release(target('a', 'm', 80), target('b', 'm', 20));
    let picksOfA = 0;
    for (let index = 0; index < 10_000; index += 1) {
      const plan = buildAttemptPlan(aliasRelease, context({ random: seededRandom(`chatcmpl-${index}`) }));
      if (plan.candidates[0]!.provider === 'a') picksOfA += 1;
    }
    expect(picksOfA / 10_000).toBeGreaterThan(0.78);
    expect(picksOfA / 10_000).toBeLessThan(0.82);
  });

  it('orders the remaining weighted targets by weighted draws without replacement', () => {
    const aliasRelease = release(target('a', 'm', 1), target('b', 'm', 1), target('c', 'm', 2));
    // total 4: 0.6 → c (2..4); then a,b (total 2): 0.75 → b; then a.
    expect(summary(buildAttemptPlan(aliasRelease, context({ random: sequence(0.6, 0.75, 0) }))))
      .toEqual(['c:default:primary', 'b:default:failover', 'a:default:failover']);
  });

  it('gives the same plan for the same release and request id', () => {
    const aliasRelease = release(target('a', 'm', 3), target('b', 'm', 2), target('c', 'm', 5), target('d', 'm', 0));
    const plan = (seed: string) => buildAttemptPlan(aliasRelease, context({ random: seededRandom(seed), regions: { a: ['us', 'eu'] } }));
    expect(plan('chatcmpl-42')).toEqual(plan('chatcmpl-42'));
    const distinct = new Set(Array.from({ length: 50 }, (_, index) => summary(plan(`chatcmpl-${index}`)).join(',')));
    expect(distinct.size).toBeGreaterThan(1);
  });

  it('never picks a weight-0 standby first, and puts standbys last in listed order', () => {
    const aliasRelease = release(target('s1', 'm', 0), target('a', 'm', 1), target('s2', 'm', 0), target('b', 'm', 1));
    for (let index = 0; index < 200; index += 1) {
      const roles = summary(buildAttemptPlan(aliasRelease, context({ random: seededRandom(`chatcmpl-${index}`) })));
      expect(roles[0]).toMatch(/^(a|b):default:primary$/);
      expect(roles.slice(2)).toEqual(['s1:default:standby', 's2:default:standby']);
    }
  });

  it('expands each target over its provider regions in order', () => {
    const plan = buildAttemptPlan(release(target('openai', 'gpt-5.4', 1), target('gemini', 'gemini-3.5-flash', 0)),
      context({ regions: { openai: ['us', 'eu'], gemini: ['europe-west4', 'us-central1'] } }));
    expect(summary(plan)).toEqual(['openai:us:primary', 'openai:eu:failover', 'gemini:europe-west4:standby', 'gemini:us-central1:standby']);
  });

  it('uses the single region "default" for a provider without regions (or with an empty list)', () => {
    const plan = buildAttemptPlan(release(target('xai', 'grok-4.3', 1)), context({ regions: { xai: [] } }));
    expect(plan.candidates.map((candidate) => candidate.region)).toEqual(['default']);
  });

  it('skips candidates whose circuit is open and reports them', () => {
    const plan = buildAttemptPlan(release(target('openai', 'gpt-5.4', 1), target('anthropic', 'claude-sonnet-5', 0)), context({
      regions: { openai: ['us', 'eu'] }, openCircuits: new Set([circuitKey('openai', 'us', 'gpt-5.4')]),
    }));
    expect(summary(plan)).toEqual(['openai:eu:failover', 'anthropic:default:standby']);
    expect(plan.skipped).toEqual([{ targetIndex: 0, provider: 'openai', model: 'gpt-5.4', region: 'us', reason: 'circuit_open' }]);
  });

  it('skips every region of a target whose known context window is smaller than the prompt', () => {
    const windows: Record<string, number> = { 'openai/gpt-4o-mini': 128_000, 'gemini/gemini-3.5-flash': 1_048_576 };
    const plan = buildAttemptPlan(release(target('openai', 'gpt-4o-mini', 1), target('gemini', 'gemini-3.5-flash', 1), target('xai', 'grok-x', 1)), context({
      random: sequence(0), regions: { openai: ['us', 'eu'] }, promptTokens: 200_000,
      contextWindow: (provider, model) => windows[`${provider}/${model}`],
    }));
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['gemini', 'xai']);
    expect(plan.skipped).toEqual([
      { targetIndex: 0, provider: 'openai', model: 'gpt-4o-mini', region: 'us', reason: 'context_window' },
      { targetIndex: 0, provider: 'openai', model: 'gpt-4o-mini', region: 'eu', reason: 'context_window' },
    ]);
  });

  it('keeps a target whose prompt exactly fills the window, and ignores windows when no estimate is given', () => {
    const aliasRelease = release(target('openai', 'gpt-4o-mini', 1));
    const contextWindow = () => 1_000;
    expect(buildAttemptPlan(aliasRelease, context({ contextWindow, promptTokens: 1_000 })).candidates).toHaveLength(1);
    expect(buildAttemptPlan(aliasRelease, context({ contextWindow })).candidates).toHaveLength(1);
  });

  it('returns no candidates when every target is skipped', () => {
    const plan = buildAttemptPlan(release(target('openai', 'gpt-5.4', 1)),
      context({ openCircuits: new Set([circuitKey('openai', 'default', 'gpt-5.4')]) }));
    expect(plan.candidates).toEqual([]);
    expect(plan.skipped).toHaveLength(1);
  });

  it('keeps duplicated identical targets as separate candidates', () => {
    const plan = buildAttemptPlan(release(target('openai', 'gpt-5.4', 1), target('openai', 'gpt-5.4', 1)), context());
    expect(plan.candidates.map((candidate) => candidate.targetIndex).sort()).toEqual([0, 1]);
    expect(plan.candidates.map((candidate) => candidate.role)).toEqual(['primary', 'failover']);
  });
});

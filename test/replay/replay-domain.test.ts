/**
 * The pure parts of replay (README "Replay"): answer similarities, the report and its threshold checks,
 * what prompt retention keeps of a request and its answer, and the plan leaving pending endpoints out.
 */
import { buildAttemptPlan, seededRandom } from '../../src/domain/attempt-plan';
import type { ModelAliasRelease } from '../../src/domain/model-alias';
import { failingChecks, percentile, replayReport, type ReplayItemResult } from '../../src/domain/replay-report';
import { ANSWER_SIMILARITIES, similarityByName } from '../../src/domain/replay-similarity';
import { planRequest, policySnapshot } from '../../src/domain/request-planning';
import { retainedAnswer, retainedRequestBody } from '../../src/domain/retained-prompt';
import { parseTenantPolicy } from '../../src/domain/tenant-policy';

describe('answer similarities', () => {
  it('offers exact, token_overlap and edit_distance by name, each 1 for the same answer', () => {
    expect(Object.keys(ANSWER_SIMILARITIES)).toEqual(['exact', 'token_overlap', 'edit_distance']);
    for (const similarity of Object.values(ANSWER_SIMILARITIES)) expect(similarity.score('Paris is the capital.', 'Paris is the capital.')).toBe(1);
    expect(() => similarityByName('vibes')).toThrow(/unknown similarity/);
  });

  it('exact counts formatting; token_overlap and edit_distance forgive case and punctuation, and rank closeness', () => {
    expect(similarityByName('exact').score('Paris.', 'paris')).toBe(0);
    expect(similarityByName('token_overlap').score('Paris.', 'paris')).toBe(1);
    expect(similarityByName('edit_distance').score('Paris!', 'PARIS')).toBe(1);
    const overlap = similarityByName('token_overlap');
    expect(overlap.score('the capital of France is Paris', 'Paris is the capital of France')).toBe(1);
    const close = overlap.score('the capital of France is Paris', 'the capital of France is Lyon');
    const far = overlap.score('the capital of France is Paris', 'I cannot help with that');
    expect(close).toBeGreaterThan(0.8);
    expect(far).toBe(0);
    const edit = similarityByName('edit_distance');
    expect(edit.score('kitten', 'sitting')).toBeCloseTo(1 - 3 / 7);
    expect(edit.score('', '')).toBe(1);
    expect(overlap.score('', 'something')).toBe(0);
  });
});

const item = (overrides: Partial<ReplayItemResult> = {}): ReplayItemResult => ({
  ok: true, failure_kind: null, ttft_ms: 100, latency_ms: 400, usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }, cost_usd: 0.001,
  exact: true, similarity: 1, finish_reason: 'stop', served_finish_reason: 'stop', ...overrides,
});

describe('replayReport', () => {
  const thresholds = parseTenantPolicy({}).replay;

  it('sums, takes nearest-rank percentiles and passes when every threshold does', () => {
    const items = [item({ ttft_ms: 50, latency_ms: 200 }), item({ ttft_ms: 100, latency_ms: 300 }), item({ ttft_ms: 900, latency_ms: 1_000, exact: false, similarity: 0.7 })];
    const report = replayReport(items, 'token_overlap', { ...thresholds, max_p95_ttft_ms: 1_000 });
    expect(report).toMatchObject({
      count: 3, succeeded: 3, failed: 0, success_rate: 1, ttft_ms: { p50: 100, p95: 900 }, latency_ms: { p50: 300, p95: 1_000 },
      usage: { prompt_tokens: 30, completion_tokens: 15, total_tokens: 45 }, cost_usd: 0.003,
      agreement: { similarity: 'token_overlap', exact_match_rate: 0.6667, mean_similarity: 0.9 }, verdict: 'pass',
    });
    expect(report.checks.map((check) => check.name)).toEqual(['min_sample', 'min_success_rate', 'min_agreement', 'max_p95_ttft_ms']);
    expect(percentile([], 95)).toBeNull();
    expect(percentile([5], 50)).toBe(5);
  });

  it('fails on each threshold missed, naming them; an empty sample fails min_sample and measures nothing', () => {
    const items = [item(), item({ ok: false, failure_kind: 'upstream_unavailable', usage: null, cost_usd: null, exact: false, similarity: null, ttft_ms: null }),
      item({ exact: false, similarity: 0.1, latency_ms: 9_000 })];
    const report = replayReport(items, 'exact', { ...thresholds, min_agreement: 0.6, max_p95_latency_ms: 5_000, min_exact_match_rate: 0.9 });
    expect(report.verdict).toBe('fail');
    expect(report.failure_kinds).toEqual({ upstream_unavailable: 1 });
    expect(report.checks.filter((check) => !check.pass).map((check) => check.name))
      .toEqual(['min_success_rate', 'min_agreement', 'min_exact_match_rate', 'max_p95_latency_ms']);
    expect(failingChecks(report)[0]).toBe('min_success_rate (0.6667 against 0.95)');
    const empty = replayReport([], 'exact', thresholds);
    expect(empty).toMatchObject({ count: 0, success_rate: null, cost_usd: null, verdict: 'fail' });
    expect(empty.checks.every((check) => !check.pass)).toBe(true);
  });
});

describe('prompt retention', () => {
  it('keeps messages and parameters, never transport options or credential-like fields', () => {
    expect(retainedRequestBody({
      model: 'chat', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, stream: true, stream_options: { include_usage: true }, api_key: 'sk-secret',
    })).toEqual({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 });
  });

  it('reads the served answer from a completion or from the chunks of a stream, with the outcome timing', () => {
    const outcome = {
      timing: { queued_ms: 0, ttft_ms: 120, total_ms: 480 },
      attempts: [{ status: 'succeeded', provider: 'openai', model: 'gpt-4o-mini', served_model: 'gpt-4o-mini-2024', usage: null }],
    } as never;
    expect(retainedAnswer(outcome, { body: { choices: [{ message: { content: 'Hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } } }))
      .toEqual({ text: 'Hello', finish_reason: 'stop', usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }, ttft_ms: 120, latency_ms: 480, provider: 'openai', model: 'gpt-4o-mini-2024' });
    expect(retainedAnswer(outcome, { chunks: [
      { choices: [{ index: 0, delta: { content: 'Hel' } }] }, { choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'length' }] },
      { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
    ] })).toMatchObject({ text: 'Hello', finish_reason: 'length', usage: { total_tokens: 5 } });
  });

  it('is off by default and bounded in days', () => {
    expect(parseTenantPolicy({}).prompt_retention).toEqual({ enabled: false, days: 7 });
    expect(() => parseTenantPolicy({ prompt_retention: { enabled: true, days: 0 } })).toThrow();
  });
});

describe('pending BYOC endpoints in the plan', () => {
  const release: ModelAliasRelease = {
    id: 'alr_test', object: 'model_alias_release', alias: 'lane.chat', status: 'active', policy_revision: 'policy_custom', capability_manifest_revision: 'cap_custom',
    targets: [
      { execution_profile: 'byoc_dynamo', provider: 'acme-gpu', model: 'm', model_revision: '1', weight: 3 },
      { execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-4o-mini', model_revision: '1', weight: 1 },
    ],
    created_at: 0,
  };
  const base = { regions: {}, openCircuits: new Set<string>(), contextWindow: () => undefined };

  it('leaves a pending endpoint out before the draw: every request goes to the others, recorded as endpoint_pending', () => {
    for (let index = 0; index < 20; index += 1) {
      const plan = buildAttemptPlan(release, { ...base, random: seededRandom(`r-${index}`), pending: (provider) => provider === 'acme-gpu' });
      expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['openai']);
      expect(plan.skipped).toEqual([{ targetIndex: 0, provider: 'acme-gpu', model: 'm', region: 'default', reason: 'endpoint_pending' }]);
    }
  });

  it('refuses with endpoint_pending when only pending endpoints could serve', () => {
    const policy = policySnapshot(parseTenantPolicy({}), 'standard', 'lane.chat');
    const input = { requestId: 'r-1', alias: 'lane.chat', qosClass: 'standard' as const, body: { model: 'lane.chat', messages: [{ role: 'user' as const, content: 'hi' }] } };
    const onlyLane = { ...release, targets: [release.targets[0]!] };
    expect(planRequest(input, { release: onlyLane, policy, regions: () => ['default'], openCircuits: new Set(), pending: () => true })).toEqual({ refusal: 'endpoint_pending' });
    expect(planRequest(input, { release: onlyLane, policy, regions: () => ['default'], openCircuits: new Set(), pending: () => false })).toMatchObject({ plan: [{ provider: 'acme-gpu' }] });
  });
});

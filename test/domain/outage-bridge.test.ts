import { installReleaseSchema } from '../../src/domain/model-alias';
import { bridgeAfterOutage, bridgeForOpenCircuits } from '../../src/domain/outage-bridge';
import type { AttemptRecord, PlannedAttempt } from '../../src/domain/request-outcome';
import type { FailureKind } from '../../src/domain/failure-kinds';
import type { SkippedCandidate } from '../../src/domain/attempt-plan';

const candidate = (provider: string, model: string, region = 'default', targetIndex = 0): PlannedAttempt =>
  ({ targetIndex, execution_profile: 'managed_provider', provider, model, model_revision: '1', region, role: 'failover' });
const failedOn = (n: number, where: PlannedAttempt, kind: FailureKind, extra: Partial<AttemptRecord> = {}): AttemptRecord => ({
  n, execution_profile: 'managed_provider', provider: where.provider, model: where.model, model_revision: '1', region: where.region,
  started_at: '2026-01-01T00:00:00.000Z', ended_at: '2026-01-01T00:00:01.000Z', latency_ms: 1_000, ttft_ms: null, status: 'failed',
  http_status: 503, failure_kind: kind, retry_cause: null, service_tier: null, usage: null, ...extra,
});

const east = candidate('openai', 'gpt-4o-mini', 'us-east');
const west = candidate('openai', 'gpt-4o-mini', 'us-west');
const claude = candidate('anthropic', 'claude-haiku-4-5', 'default', 1);
const plan = { candidates: [east, west, claude], skipped: [] as SkippedCandidate[] };

describe('bridgeAfterOutage', () => {
  it('bridges the first candidate once every target and region failed with an outage, recording how each failed', () => {
    const attempts = [failedOn(1, east, 'upstream_unavailable'), failedOn(2, west, 'timeout'), failedOn(3, claude, 'overloaded')];
    const bridge = bridgeAfterOutage(plan, attempts, attempts[2]!, true, false);
    expect(bridge).toMatchObject({ provider: 'openrouter', model: 'openai/gpt-4o-mini', role: 'bridge' });
    expect(bridge!.verified_outage).toEqual([
      { provider: 'openai', model: 'gpt-4o-mini', region: 'us-east', failure_kind: 'upstream_unavailable' },
      { provider: 'openai', model: 'gpt-4o-mini', region: 'us-west', failure_kind: 'timeout' },
      { provider: 'anthropic', model: 'claude-haiku-4-5', region: 'default', failure_kind: 'overloaded' },
    ]);
  });

  it('does not bridge when the attempt budget ran out before every candidate was tried', () => {
    const attempts = [failedOn(1, east, 'upstream_unavailable'), failedOn(2, west, 'upstream_unavailable')];
    expect(bridgeAfterOutage(plan, attempts, attempts[1]!, true, false)).toBeUndefined();
  });

  it('does not count provider rate limits as an outage', () => {
    const attempts = [failedOn(1, east, 'rate_limit'), failedOn(2, west, 'upstream_unavailable'), failedOn(3, claude, 'overloaded')];
    expect(bridgeAfterOutage(plan, attempts, attempts[2]!, true, false)).toBeUndefined();
  });

  it('never runs without the policy flag, after content reached the client, past the deadline, or a second time', () => {
    const attempts = [failedOn(1, east, 'network'), failedOn(2, west, 'network'), failedOn(3, claude, 'network')];
    expect(bridgeAfterOutage(plan, attempts, attempts[2]!, false, false)).toBeUndefined();
    expect(bridgeAfterOutage(plan, attempts, { ...attempts[2]!, after_first_token: true }, true, false)).toBeUndefined();
    expect(bridgeAfterOutage(plan, attempts, attempts[2]!, true, true)).toBeUndefined();
    const bridged = failedOn(4, candidate('openrouter', 'openai/gpt-4o-mini'), 'network', { verified_outage: [] });
    expect(bridgeAfterOutage(plan, [...attempts, bridged], bridged, true, false)).toBeUndefined();
  });

  it('counts candidates skipped for an open circuit as failed, and records them', () => {
    const skipped: SkippedCandidate[] = [{ targetIndex: 1, provider: 'anthropic', model: 'claude-haiku-4-5', region: 'default', reason: 'circuit_open' }];
    const attempts = [failedOn(1, east, 'network'), failedOn(2, west, 'circuit_open')];
    const bridge = bridgeAfterOutage({ candidates: [east, west], skipped }, attempts, attempts[1]!, true, false);
    expect(bridge!.verified_outage!.map((evidence) => evidence.failure_kind)).toEqual(['network', 'circuit_open', 'circuit_open']);
  });
});

describe('bridgeForOpenCircuits', () => {
  const release = { targets: [{ model_revision: 'r7' }, { model_revision: 'r8' }] };
  const open = (provider: string, model: string, targetIndex: number): SkippedCandidate => ({ targetIndex, provider, model, region: 'default', reason: 'circuit_open' });

  it('bridges when every candidate was skipped because its circuit is open', () => {
    const bridge = bridgeForOpenCircuits([open('openai', 'gpt-4o-mini', 0), open('anthropic', 'claude-haiku-4-5', 1)], release, true);
    expect(bridge).toMatchObject({ provider: 'openrouter', model: 'openai/gpt-4o-mini', model_revision: 'r7', role: 'bridge' });
    expect(bridge!.verified_outage).toHaveLength(2);
  });

  it('does not bridge without the flag, or when a candidate was skipped for another reason than an outage', () => {
    expect(bridgeForOpenCircuits([open('openai', 'gpt-4o-mini', 0)], release, false)).toBeUndefined();
    expect(bridgeForOpenCircuits([open('openai', 'gpt-4o-mini', 0), { ...open('anthropic', 'claude-haiku-4-5', 1), reason: 'context_window' }], release, true))
      .toBeUndefined();
  });
});

describe('installReleaseSchema', () => {
  it('refuses openrouter as an ordinary release target, naming the target', () => {
    const targets = [{ provider: 'openai', model: 'm' }, { provider: 'OpenRouter', model: 'openai/m' }]
      .map((target) => ({ execution_profile: 'managed_provider', ...target, model_revision: '1', weight: 1 }));
    const parsed = installReleaseSchema.safeParse({ targets });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]).toMatchObject({ path: ['targets', 1, 'provider'], message: expect.stringContaining('last-resort outage bridge') });
  });
});

import type { CapabilityManifest } from '../../src/domain/capabilities';
import { computeOutcome, servedBelowRequestedTier } from '../../src/domain/outcome';
import type { AttemptRecord, OutcomeFacts } from '../../src/domain/request-outcome';
import type { ChatUsage } from '../../src/contract/chat';

const RECEIVED = Date.parse('2026-09-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(RECEIVED + offsetMs).toISOString();

const manifest: CapabilityManifest = {
  revision: 'cap_test',
  models: {
    'openai/gpt-5.4': { price: { input: 2, cachedInput: 0.2, output: 10 }, tiers: { flex: 0.5, priority: 2 } },
    'anthropic/claude-sonnet-5': { price: { input: 3, output: 15 } },
  },
};

const usage = (prompt: number, completion: number): ChatUsage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

const attempt = (n: number, overrides: Partial<AttemptRecord> = {}): AttemptRecord => ({
  n, execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4', model_revision: 'r1', region: 'default',
  started_at: at(100), ended_at: at(1_100), latency_ms: 1_000, ttft_ms: null, status: 'succeeded', http_status: 200,
  failure_kind: null, retry_cause: n === 1 ? null : 'retry:rate_limit', service_tier: 'default', usage: usage(1_000, 100), ...overrides,
});
const failed = (n: number, overrides: Partial<AttemptRecord> = {}) =>
  attempt(n, { status: 'failed', http_status: 503, failure_kind: 'upstream_unavailable', usage: null, ...overrides });

const facts = (overrides: Omit<Partial<OutcomeFacts>, 'input'> & { input?: Partial<OutcomeFacts['input']> } = {}): OutcomeFacts => {
  const { input, ...rest } = overrides;
  return {
    input: { requestId: 'chatcmpl-1', tenantId: 'tnt_1', alias: 'code.fast', qosClass: 'interactive', receivedAt: RECEIVED, deadlineAt: RECEIVED + 60_000, stream: false, ...input },
    release: { id: 'alr_1', capability_manifest_revision: 'cap_test' },
    admission: 'admitted', admittedAt: RECEIVED + 5, attempts: [attempt(1)], endedAt: RECEIVED + 1_200,
    cancelled: false, deadlineExpired: false, bridged: false,
    targets: { ttftTargetMs: 2_000, totalTargetMs: 30_000 },
    workflow: { id: 'chat-chatcmpl-1', run_id: 'run-1', ui_url: null },
    ...rest,
  };
};

describe('computeOutcome', () => {
  describe('a request completed on the first attempt', () => {
    const outcome = computeOutcome(facts(), manifest);

    it('names the request, tenant, alias, release and workflow', () => {
      expect(outcome).toMatchObject({
        id: 'chatcmpl-1', object: 'request_outcome', tenant: 'tnt_1', alias: 'code.fast', release_id: 'alr_1', qos_class: 'interactive',
        workflow: { id: 'chat-chatcmpl-1', run_id: 'run-1', ui_url: null },
      });
    });

    it('is completed, ok, on target, not degraded and without fallback', () => {
      expect(outcome).toMatchObject({ admission: 'admitted', completion: 'completed', reason_code: 'ok', target_met: true, degraded: false, fallback_used: false });
    });

    it('reports timings from receipt, the winning usage and the cost', () => {
      expect(outcome.timing).toEqual({ queued_ms: 5, ttft_ms: null, total_ms: 1_200 });
      expect(outcome.usage).toEqual(usage(1_000, 100));
      expect(outcome.cost_usd).toBe(0.003); // 1000·2 + 100·10 per million
      expect(outcome.attempts).toHaveLength(1);
    });
  });

  describe('success reasons', () => {
    it('is ok_after_retry when every attempt used the same provider, model and region', () => {
      const outcome = computeOutcome(facts({ attempts: [failed(1), attempt(2)] }), manifest);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_retry', fallback_used: false, degraded: false });
    });

    it('is ok_after_failover, with fallback and degraded, when another target served', () => {
      const outcome = computeOutcome(facts({ attempts: [failed(1), attempt(2, { provider: 'anthropic', model: 'claude-sonnet-5', retry_cause: 'failover:upstream_unavailable' })] }), manifest);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_failover', fallback_used: true, degraded: true, target_met: true });
    });

    it('counts another region of the same model as a failover', () => {
      const outcome = computeOutcome(facts({ attempts: [failed(1, { region: 'us' }), attempt(2, { region: 'eu' })] }), manifest);
      expect(outcome).toMatchObject({ reason_code: 'ok_after_failover', fallback_used: true });
    });

    it('is ok_after_failover but without fallback when the failover came back to the first target', () => {
      const outcome = computeOutcome(facts({ attempts: [failed(1), failed(2, { provider: 'anthropic' }), attempt(3)] }), manifest);
      expect(outcome).toMatchObject({ reason_code: 'ok_after_failover', fallback_used: false });
    });

    it('is ok_via_bridge, with fallback and degraded, when the bridge served', () => {
      const outcome = computeOutcome(facts({ bridged: true, attempts: [failed(1), attempt(2, { provider: 'openrouter', model: 'openai/gpt-5.4' })] }), manifest);
      expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_via_bridge', fallback_used: true, degraded: true });
    });
  });

  describe('refusals', () => {
    it.each(['rejected_concurrency_limit', 'rejected_rate_limit', 'rejected_queue_full', 'rejected_policy'] as const)('reports %s with no completion', (refusal) => {
      const outcome = computeOutcome(facts({ admission: 'rejected', refusal, admittedAt: null, attempts: [], endedAt: RECEIVED + 3 }), manifest);
      expect(outcome).toMatchObject({ admission: 'rejected', completion: null, reason_code: refusal, target_met: false, degraded: false, fallback_used: false, usage: null, cost_usd: null });
      expect(outcome.timing).toEqual({ queued_ms: 3, ttft_ms: null, total_ms: 3 });
    });

    it('reports a deadline passed in the queue as expired_before_start, queued until the end', () => {
      const outcome = computeOutcome(facts({ admission: 'expired_before_start', refusal: 'expired_before_start', admittedAt: null, attempts: [], endedAt: RECEIVED + 2_000 }), manifest);
      expect(outcome).toMatchObject({ admission: 'expired_before_start', completion: null, reason_code: 'expired_before_start' });
      expect(outcome.timing.queued_ms).toBe(2_000);
    });

    it('reports an unknown alias with no completion and no release', () => {
      const outcome = computeOutcome(facts({ refusal: 'unknown_alias', release: null, attempts: [] }), manifest);
      expect(outcome).toMatchObject({ admission: 'admitted', completion: null, reason_code: 'unknown_alias', release_id: null });
    });

    it('reads rejected_policy when a rejection names no reason', () => {
      expect(computeOutcome(facts({ admission: 'rejected', admittedAt: null, attempts: [] }), manifest)).toMatchObject({ completion: null, reason_code: 'rejected_policy' });
    });

    it('reports no_eligible_target as a failed request', () => {
      const outcome = computeOutcome(facts({ refusal: 'no_eligible_target', attempts: [] }), manifest);
      expect(outcome).toMatchObject({ admission: 'admitted', completion: 'failed', reason_code: 'no_eligible_target', target_met: false });
    });
  });

  describe('requests that did not complete', () => {
    it('is cancelled when the client went away', () => {
      const outcome = computeOutcome(facts({ cancelled: true, attempts: [failed(1, { status: 'cancelled', failure_kind: 'cancelled' })] }), manifest);
      expect(outcome).toMatchObject({ completion: 'cancelled', reason_code: 'cancelled', target_met: false, degraded: false });
    });

    it('is expired_during_execution when the deadline fired', () => {
      const outcome = computeOutcome(facts({ deadlineExpired: true, attempts: [failed(1), failed(2, { status: 'timed_out', failure_kind: 'timeout' })] }), manifest);
      expect(outcome).toMatchObject({ completion: 'expired_during_execution', reason_code: 'expired_during_execution' });
    });

    it('is cancelled rather than expired when both happened', () => {
      expect(computeOutcome(facts({ cancelled: true, deadlineExpired: true, attempts: [failed(1)] }), manifest).reason_code).toBe('cancelled');
    });

    it('is stream_interrupted when the last attempt failed after its first token', () => {
      const outcome = computeOutcome(facts({ input: { stream: true }, attempts: [failed(1, { failure_kind: 'stream_stalled', after_first_token: true, ttft_ms: 300 })] }), manifest);
      expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'stream_interrupted', usage: null, timing: { ttft_ms: null } });
    });

    it('carries the last failure kind as the reason', () => {
      const outcome = computeOutcome(facts({ attempts: [failed(1), failed(2, { failure_kind: 'rate_limit', http_status: 429 })] }), manifest);
      expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'provider_rate_limit', target_met: false, degraded: false, fallback_used: false });
    });

    it('is attempts_exhausted when the last attempt has no failure kind, or there was none', () => {
      expect(computeOutcome(facts({ attempts: [failed(1, { failure_kind: null })] }), manifest).reason_code).toBe('attempts_exhausted');
      expect(computeOutcome(facts({ attempts: [] }), manifest)).toMatchObject({ completion: 'failed', reason_code: 'attempts_exhausted' });
    });

    it('prefers a delivered answer over a late cancellation', () => {
      expect(computeOutcome(facts({ cancelled: true }), manifest)).toMatchObject({ completion: 'completed', reason_code: 'ok' });
    });
  });

  describe('target_met and timings', () => {
    it('misses the target, and is degraded, when the total time exceeds it', () => {
      const outcome = computeOutcome(facts({ endedAt: RECEIVED + 30_001 }), manifest);
      expect(outcome).toMatchObject({ completion: 'completed', target_met: false, degraded: true });
      expect(computeOutcome(facts({ endedAt: RECEIVED + 30_000 }), manifest).target_met).toBe(true);
    });

    it('measures a stream\'s ttft from receipt to the winning attempt\'s first token', () => {
      const outcome = computeOutcome(facts({ input: { stream: true }, attempts: [failed(1), attempt(2, { started_at: at(1_500), ttft_ms: 400 })] }), manifest);
      expect(outcome.timing.ttft_ms).toBe(1_900);
      expect(outcome.target_met).toBe(true);
    });

    it('misses the target when a stream\'s first token came after the ttft target', () => {
      const outcome = computeOutcome(facts({ input: { stream: true }, attempts: [attempt(1, { started_at: at(1_800), ttft_ms: 201 })] }), manifest);
      expect(outcome).toMatchObject({ timing: { ttft_ms: 2_001 }, target_met: false, degraded: true });
    });

    it('misses the target when a stream\'s first token time is unknown', () => {
      expect(computeOutcome(facts({ input: { stream: true }, attempts: [attempt(1, { ttft_ms: null })] }), manifest).target_met).toBe(false);
    });

    it('reports no ttft for a non-streamed request', () => {
      expect(computeOutcome(facts({ attempts: [attempt(1, { ttft_ms: 300 })] }), manifest).timing.ttft_ms).toBeNull();
    });
  });

  describe('service tier', () => {
    it('is degraded when priority was asked and default served', () => {
      const outcome = computeOutcome(facts({ input: { requestedServiceTier: 'priority' }, attempts: [attempt(1, { service_tier: 'default' })] }), manifest);
      expect(outcome).toMatchObject({ completion: 'completed', target_met: true, degraded: true, fallback_used: false });
    });

    it('is not degraded when flex was asked and default served', () => {
      expect(computeOutcome(facts({ input: { requestedServiceTier: 'flex' }, attempts: [attempt(1, { service_tier: 'default' })] }), manifest).degraded).toBe(false);
    });

    it('is not degraded when priority was served as asked, or the served tier is unknown', () => {
      expect(computeOutcome(facts({ input: { requestedServiceTier: 'priority' }, attempts: [attempt(1, { service_tier: 'priority' })] }), manifest).degraded).toBe(false);
      expect(computeOutcome(facts({ input: { requestedServiceTier: 'priority' }, attempts: [attempt(1, { service_tier: null })] }), manifest).degraded).toBe(false);
    });
  });

  describe('cost_usd', () => {
    it('sums every attempt with usage at its own served tier, rounded to 1e-8', () => {
      const outcome = computeOutcome(facts({ attempts: [
        failed(1, { usage: usage(1_000, 7), after_first_token: false }), // 0.002 + 0.00007
        attempt(2, { service_tier: 'flex', usage: usage(333, 1) }), // (0.000666 + 0.00001) · 0.5
      ] }), manifest);
      expect(outcome.cost_usd).toBe(Math.round((0.00207 + 0.000338) * 1e8) / 1e8);
      expect(outcome.usage).toEqual(usage(333, 1));
    });

    it('prices the served snapshot, falling back to the configured model when the snapshot is unknown', () => {
      expect(computeOutcome(facts({ attempts: [attempt(1, { served_model: 'gpt-5.4-2026-03-05' })] }), manifest).cost_usd).toBe(0.003);
      expect(computeOutcome(facts({ attempts: [attempt(1, { served_model: 'mystery-model' })] }), manifest).cost_usd).toBe(0.003);
    });

    it('leaves out attempts that cannot be priced', () => {
      const outcome = computeOutcome(facts({ attempts: [failed(1, { provider: 'xai', model: 'grok-9', usage: usage(5_000, 5_000) }), attempt(2)] }), manifest);
      expect(outcome.cost_usd).toBe(0.003);
    });

    it('is null when no attempt with usage could be priced', () => {
      expect(computeOutcome(facts({ attempts: [attempt(1, { provider: 'xai', model: 'grok-9' })] }), manifest).cost_usd).toBeNull();
      expect(computeOutcome(facts({ attempts: [attempt(1, { usage: null })] }), manifest)).toMatchObject({ cost_usd: null, usage: null });
    });
  });
});

describe('servedBelowRequestedTier', () => {
  it.each([
    ['priority', 'default', true], ['priority', 'standard', true], ['fast', 'default', true], ['default', 'flex', true],
    ['flex', 'default', false], ['priority', 'priority', false], ['auto', 'flex', false], [undefined, 'flex', false], ['priority', null, false],
  ] as const)('asked %s, served %s → %s', (requested, served, expected) => {
    expect(servedBelowRequestedTier(requested, served)).toBe(expected);
  });
});

describe('computeOutcome of continued and hedged streams', () => {
  const continued = (overrides: Partial<AttemptRecord> = {}) => attempt(2, {
    retry_cause: 'resume:stream_truncated', usage: usage(1_200, 60),
    continuation: { from_attempt: 1, offset_chars: 120, offset_chunks: 21, mode: 'prefill' }, ...overrides,
  });

  it('reads ok_after_resume for a stream completed by a continuation, with the usage summed over the attempts the answer is made of', () => {
    const outcome = computeOutcome(facts({
      input: { stream: true },
      attempts: [failed(1, { failure_kind: 'stream_truncated', after_first_token: true, ttft_ms: 200, usage: usage(1_000, 40) }), continued()],
    }), manifest);
    expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_resume', fallback_used: false });
    expect(outcome.usage).toMatchObject({ prompt_tokens: 2_200, completion_tokens: 100, total_tokens: 2_300 });
  });

  it('takes the continuation\'s own usage when the broken attempt reported none', () => {
    const outcome = computeOutcome(facts({
      input: { stream: true }, attempts: [failed(1, { failure_kind: 'stream_stalled', after_first_token: true }), continued()],
    }), manifest);
    expect(outcome.usage).toEqual(usage(1_200, 60));
  });

  it('reads ok_after_hedge when the hedge won, with the loser recorded before it', () => {
    const outcome = computeOutcome(facts({
      attempts: [attempt(1, { status: 'cancelled', failure_kind: 'hedge_lost', usage: null }),
        attempt(2, { provider: 'anthropic', model: 'claude-sonnet-5', retry_cause: 'hedge:ttft' })],
    }), manifest);
    expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok_after_hedge', fallback_used: true });
  });

  it('reads ok when the first target won the race after the hedge started, its loser recorded after it', () => {
    const outcome = computeOutcome(facts({
      attempts: [attempt(1), attempt(2, { provider: 'anthropic', model: 'claude-sonnet-5', retry_cause: 'hedge:ttft', status: 'cancelled', failure_kind: 'hedge_lost', usage: null })],
    }), manifest);
    expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok', fallback_used: false });
    expect(outcome.usage).toEqual(usage(1_000, 100));
  });

  it('reads ok when the hedge failed before any content and the first target answered', () => {
    const outcome = computeOutcome(facts({
      attempts: [attempt(1), failed(2, { provider: 'anthropic', model: 'claude-sonnet-5', retry_cause: 'hedge:ttft' })],
    }), manifest);
    expect(outcome).toMatchObject({ completion: 'completed', reason_code: 'ok', fallback_used: false });
  });

  it('is not completed when an attempt after the last success is not a hedge side', () => {
    const outcome = computeOutcome(facts({ attempts: [attempt(1), failed(2)] }), manifest);
    expect(outcome.completion).toBe('failed');
  });
});

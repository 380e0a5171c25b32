import type { FailureKind } from '../../src/domain/failure-kinds';
import {
  backoffMs, DEFAULT_RETRY_POLICY, decideNextStep, type RequestState, type RetryPolicy,
} from '../../src/domain/retry-decision';

const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY }; // 4 attempts, 2 same-target retries, 250 ms base, 8 s cap, 5 s Retry-After
const NOW = 1_000_000;
const state = (overrides: Partial<RequestState> = {}): RequestState =>
  ({ attemptsMade: 1, sameCandidateAttempts: 1, candidatesLeft: 1, now: NOW, deadlineAt: NOW + 60_000, ...overrides });
const middle = () => 0.5; // no jitter
const noRandom = () => {
  throw new Error('random must not be drawn');
};

describe('backoffMs', () => {
  it('doubles from the base per retry and caps at the maximum', () => {
    expect([1, 2, 3, 4, 6, 10].map((retry) => backoffMs(retry, policy, middle))).toEqual([250, 500, 1_000, 2_000, 8_000, 8_000]);
  });

  it('jitters by at most ±20 %, deterministically from random', () => {
    expect(backoffMs(3, policy, () => 0)).toBe(800);
    expect(backoffMs(3, policy, () => 0.999999)).toBe(1_200);
    expect(backoffMs(3, policy, () => 0.25)).toBe(900);
  });
});

describe('decideNextStep', () => {
  describe('stops', () => {
    it('with stream_interrupted when the stream had delivered content, whatever the kind', () => {
      expect(decideNextStep({ kind: 'stream_stalled', afterFirstToken: true }, state(), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'stream_interrupted' });
      expect(decideNextStep({ kind: 'rate_limit', retryAfterMs: 10, afterFirstToken: true }, state({ candidatesLeft: 3 }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'stream_interrupted' });
    });

    it('with stream_interrupted when a resumable stream can neither be retried nor failed over, or ran out of attempts', () => {
      expect(decideNextStep({ kind: 'content_filter', afterFirstToken: true, resumable: true }, state(), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'stream_interrupted' });
      expect(decideNextStep({ kind: 'stream_truncated', afterFirstToken: true, resumable: true }, state({ attemptsMade: 4 }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'stream_interrupted' });
      expect(decideNextStep({ kind: 'resume_mismatch', afterFirstToken: true, resumable: true }, state({ candidatesLeft: 0 }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'stream_interrupted' });
    });

    it('with cancelled when the call was cancelled', () => {
      expect(decideNextStep({ kind: 'cancelled' }, state(), policy, noRandom)).toEqual({ action: 'stop', reason: 'cancelled' });
    });

    it.each<[FailureKind, string]>([['invalid_request', 'provider_invalid_request'], ['content_filter', 'provider_content_filter']])(
      'at once on %s, even with candidates and budget left', (kind, reason) => {
        expect(decideNextStep({ kind }, state({ candidatesLeft: 5 }), policy, noRandom)).toEqual({ action: 'stop', reason });
      });

    it('on content_filter by default, and when the policy routes round it but no candidate is left or failover is off', () => {
      const stop = { action: 'stop', reason: 'provider_content_filter' };
      expect(decideNextStep({ kind: 'content_filter' }, state({ candidatesLeft: 2 }), { ...policy, contentFilterFailover: false }, noRandom)).toEqual(stop);
      const routed = { ...policy, contentFilterFailover: true };
      expect(decideNextStep({ kind: 'content_filter' }, state({ candidatesLeft: 0 }), routed, noRandom)).toEqual(stop);
      expect(decideNextStep({ kind: 'content_filter' }, state({ candidatesLeft: 2 }), { ...routed, failover: false }, noRandom)).toEqual(stop);
      expect(decideNextStep({ kind: 'content_filter' }, state({ attemptsMade: 4, candidatesLeft: 2 }), routed, noRandom)).toEqual(stop);
    });

    it('with the kind\'s reason when the attempt budget is spent', () => {
      expect(decideNextStep({ kind: 'upstream_unavailable' }, state({ attemptsMade: 4, candidatesLeft: 2 }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'provider_upstream_unavailable' });
      expect(decideNextStep({ kind: 'auth' }, state({ attemptsMade: 5, candidatesLeft: 2 }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'provider_auth' });
    });

    it('with attempts_exhausted when the budget is spent on an unclassified failure', () => {
      expect(decideNextStep({ kind: 'unknown' }, state({ attemptsMade: 4 }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'attempts_exhausted' });
    });

    it.each<[FailureKind, string]>([
      ['auth', 'provider_auth'], ['quota', 'provider_quota'], ['model_not_found', 'provider_model_not_found'], ['context_length', 'provider_context_length'],
      ['circuit_open', 'no_eligible_target'],
    ])('on %s when no candidate is left (waiting would not help)', (kind, reason) => {
      expect(decideNextStep({ kind, retryAfterMs: 100 }, state({ candidatesLeft: 0 }), policy, noRandom)).toEqual({ action: 'stop', reason });
    });

    it('on quota when the policy forbids failover, even with candidates left', () => {
      expect(decideNextStep({ kind: 'quota' }, state({ candidatesLeft: 2 }), { ...policy, failover: false }, noRandom))
        .toEqual({ action: 'stop', reason: 'provider_quota' });
    });

    it('on a transient kind when the candidate has used its retries and none is left', () => {
      expect(decideNextStep({ kind: 'overloaded' }, state({ attemptsMade: 3, sameCandidateAttempts: 3, candidatesLeft: 0 }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'provider_overloaded' });
    });

    it('with expired_during_execution when the backoff would end at or after the deadline', () => {
      expect(decideNextStep({ kind: 'rate_limit', retryAfterMs: 3_000 }, state({ candidatesLeft: 0, deadlineAt: NOW + 3_000 }), policy, middle))
        .toEqual({ action: 'stop', reason: 'expired_during_execution' });
    });

    it('with expired_during_execution when a failover would start after the deadline', () => {
      expect(decideNextStep({ kind: 'timeout' }, state({ deadlineAt: NOW }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'expired_during_execution' });
    });
  });

  describe('fails over', () => {
    it.each<FailureKind>(['auth', 'quota', 'model_not_found', 'context_length', 'circuit_open'])('at once on %s when a candidate is left', (kind) => {
      expect(decideNextStep({ kind, retryAfterMs: 1_000 }, state(), policy, noRandom)).toEqual({ action: 'failover', delayMs: 0, cause: `failover:${kind}` });
    });

    it.each<FailureKind>(['rate_limit', 'overloaded', 'upstream_unavailable', 'timeout', 'stream_stalled', 'stream_truncated', 'network', 'bad_response', 'unknown'])(
      'at once on %s without Retry-After when a candidate is left', (kind) => {
        expect(decideNextStep({ kind }, state(), policy, noRandom)).toEqual({ action: 'failover', delayMs: 0, cause: `failover:${kind}` });
      });

    it('at once on content_filter when the policy routes round it, never retrying the same target', () => {
      expect(decideNextStep({ kind: 'content_filter', retryAfterMs: 1_000 }, state({ candidatesLeft: 1 }), { ...policy, contentFilterFailover: true }, noRandom))
        .toEqual({ action: 'failover', delayMs: 0, cause: 'failover:content_filter' });
    });

    it('rather than wait out a Retry-After longer than the policy allows', () => {
      expect(decideNextStep({ kind: 'rate_limit', retryAfterMs: 30_000 }, state(), policy, noRandom))
        .toEqual({ action: 'failover', delayMs: 0, cause: 'failover:rate_limit' });
    });

    it('on a short Retry-After once the candidate has used its retries', () => {
      expect(decideNextStep({ kind: 'rate_limit', retryAfterMs: 1_000 }, state({ attemptsMade: 3, sameCandidateAttempts: 3 }), policy, noRandom))
        .toEqual({ action: 'failover', delayMs: 0, cause: 'failover:rate_limit' });
    });
  });

  describe('retries the same candidate', () => {
    it('after a short Retry-After even when a candidate is left', () => {
      expect(decideNextStep({ kind: 'rate_limit', retryAfterMs: 2_000 }, state(), policy, middle))
        .toEqual({ action: 'retry_same', delayMs: 2_000, cause: 'retry:rate_limit' });
    });

    it('waiting the backoff when it is longer than the Retry-After', () => {
      expect(decideNextStep({ kind: 'overloaded', retryAfterMs: 100 }, state({ attemptsMade: 2, sameCandidateAttempts: 2 }), policy, middle))
        .toEqual({ action: 'retry_same', delayMs: 500, cause: 'retry:overloaded' });
    });

    it('with exponential backoff when no candidate is left', () => {
      const step = (attempts: number) => decideNextStep({ kind: 'upstream_unavailable' },
        state({ attemptsMade: attempts, sameCandidateAttempts: attempts, candidatesLeft: 0 }), { ...policy, maxSameTargetRetries: 3, maxAttempts: 9 }, middle);
      expect([1, 2, 3].map(step)).toEqual([250, 500, 1_000].map((delayMs) => ({ action: 'retry_same', delayMs, cause: 'retry:upstream_unavailable' })));
      expect(step(4)).toEqual({ action: 'stop', reason: 'provider_upstream_unavailable' });
    });

    it('when the policy forbids failover, with jittered backoff', () => {
      expect(decideNextStep({ kind: 'network' }, state({ candidatesLeft: 3 }), { ...policy, failover: false }, () => 0))
        .toEqual({ action: 'retry_same', delayMs: 200, cause: 'retry:network' });
    });

    it('honouring a long Retry-After when no candidate is left and the deadline allows it', () => {
      expect(decideNextStep({ kind: 'rate_limit', retryAfterMs: 20_000 }, state({ candidatesLeft: 0 }), policy, middle))
        .toEqual({ action: 'retry_same', delayMs: 20_000, cause: 'retry:rate_limit' });
    });

    it('only once for an unclassified failure', () => {
      const alone = { candidatesLeft: 0 };
      expect(decideNextStep({ kind: 'unknown' }, state(alone), policy, middle)).toEqual({ action: 'retry_same', delayMs: 250, cause: 'retry:unknown' });
      expect(decideNextStep({ kind: 'unknown' }, state({ ...alone, attemptsMade: 2, sameCandidateAttempts: 2 }), policy, middle))
        .toEqual({ action: 'stop', reason: 'provider_unknown' });
    });

    it('up to maxSameTargetRetries times', () => {
      const alone = (attempts: number) => state({ candidatesLeft: 0, attemptsMade: attempts, sameCandidateAttempts: attempts });
      expect(decideNextStep({ kind: 'timeout' }, alone(1), { ...policy, maxSameTargetRetries: 0 }, middle)).toEqual({ action: 'stop', reason: 'provider_timeout' });
      expect(decideNextStep({ kind: 'timeout' }, alone(2), policy, middle).action).toBe('retry_same');
      expect(decideNextStep({ kind: 'timeout' }, alone(3), policy, middle)).toEqual({ action: 'stop', reason: 'provider_timeout' });
    });

    it('while the delay ends just before the deadline', () => {
      expect(decideNextStep({ kind: 'rate_limit', retryAfterMs: 3_000 }, state({ candidatesLeft: 0, deadlineAt: NOW + 3_001 }), policy, middle))
        .toEqual({ action: 'retry_same', delayMs: 3_000, cause: 'retry:rate_limit' });
    });
  });
});

describe('decideNextStep for a stream that broke after content and may be continued (resumable)', () => {
  it('continues on the next target at once, its cause resume:<kind>', () => {
    expect(decideNextStep({ kind: 'stream_truncated', afterFirstToken: true, resumable: true }, state(), policy, noRandom))
      .toEqual({ action: 'failover', delayMs: 0, cause: 'resume:stream_truncated' });
  });

  it('continues on the same target after the backoff when no other is left', () => {
    expect(decideNextStep({ kind: 'stream_stalled', afterFirstToken: true, resumable: true }, state({ candidatesLeft: 0 }), policy, middle))
      .toEqual({ action: 'retry_same', delayMs: 250, cause: 'resume:stream_stalled' });
  });

  it('moves a continuation that could not be honest (resume_mismatch) to the next target, never back to the same', () => {
    expect(decideNextStep({ kind: 'resume_mismatch', afterFirstToken: true, resumable: true }, state(), policy, noRandom))
      .toEqual({ action: 'failover', delayMs: 0, cause: 'resume:resume_mismatch' });
  });

  it('still stops at the deadline with expired_during_execution', () => {
    expect(decideNextStep({ kind: 'stream_stalled', afterFirstToken: true, resumable: true }, state({ candidatesLeft: 0, deadlineAt: NOW + 100 }), policy, middle))
      .toEqual({ action: 'stop', reason: 'expired_during_execution' });
  });

  describe('worker_shutdown (the attempt ended with its draining worker)', () => {
    it('runs the same target again at once, without backoff or failover, even with candidates left', () => {
      expect(decideNextStep({ kind: 'worker_shutdown' }, state({ candidatesLeft: 3, sameCandidateAttempts: 3 }), policy, noRandom))
        .toEqual({ action: 'retry_same', delayMs: 0, cause: 'retry:worker_shutdown' });
    });

    it('continues a resumable stream from what the client has, and refuses to splice one that is not', () => {
      expect(decideNextStep({ kind: 'worker_shutdown', afterFirstToken: true, resumable: true }, state(), policy, noRandom))
        .toEqual({ action: 'retry_same', delayMs: 0, cause: 'resume:worker_shutdown' });
      expect(decideNextStep({ kind: 'worker_shutdown', afterFirstToken: true }, state(), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'stream_interrupted' });
    });

    it('stops with worker_shutdown once the attempt budget is spent, and at the deadline', () => {
      expect(decideNextStep({ kind: 'worker_shutdown' }, state({ attemptsMade: 4 }), policy, noRandom)).toEqual({ action: 'stop', reason: 'worker_shutdown' });
      expect(decideNextStep({ kind: 'worker_shutdown' }, state({ deadlineAt: NOW }), policy, noRandom))
        .toEqual({ action: 'stop', reason: 'expired_during_execution' });
    });
  });
});

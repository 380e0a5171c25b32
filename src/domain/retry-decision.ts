/**
 * What the workflow does after a failed attempt: retry the same target after a durable backoff,
 * fail over to the next candidate, or stop — a pure function of the failure, the request's state
 * and the policy (DESIGN.md §4.3).
 */
import { FAILURE_KINDS, type FailureKind } from './failure-kinds';
import { providerFailureReason, type ReasonCode } from './reason-codes';

export interface RetryPolicy {
  /** One attempt budget per request (all targets, retries and failovers together). */
  maxAttempts: number;
  /** Retries of the same candidate before giving up on it (used when no other candidate is left, or for kinds that favour retry). */
  maxSameTargetRetries: number;
  /** Exponential backoff: base * 2^(retry-1), capped, with deterministic jitter. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** A Retry-After longer than this makes the workflow fail over instead of waiting (when a candidate is left). */
  maxRetryAfterWaitMs: number;
  /** Policy switch: may the request move to other targets? */
  failover: boolean;
  /**
   * Policy switch: may a content-filter refusal move to other targets (when `failover` allows)? Off
   * (absent) by default: the refusal stops the request with `provider_content_filter`.
   */
  contentFilterFailover?: boolean;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4, maxSameTargetRetries: 2, baseBackoffMs: 250, maxBackoffMs: 8_000, maxRetryAfterWaitMs: 5_000, failover: true,
};

/** Backoff jitter: ±20 % of the capped exponential delay. */
export const BACKOFF_JITTER = 0.2;

/** A content-filter refusal when the policy routes round it: the same target would refuse again, another may not. */
const ROUTED_CONTENT_FILTER = { retryable: false, failover: true } as const;

/** `unknown` failures are "treated as transient once" (provider-error.ts): at most one retry of the same target. */
const MAX_SAME_TARGET_RETRIES_UNKNOWN = 1;

export interface FailureFacts {
  kind: FailureKind;
  retryAfterMs?: number | null;
  /** The stream had already delivered content to the client. */
  afterFirstToken?: boolean;
  /** Content was delivered, and the request may continue it from the delivered text (stream resume). */
  resumable?: boolean;
}

export interface RequestState {
  /** Attempts made so far, including the one that just failed. */
  attemptsMade: number;
  /** Attempts made on the current candidate, including the one that just failed. */
  sameCandidateAttempts: number;
  /** Candidates after the current one in the plan. */
  candidatesLeft: number;
  now: number;
  deadlineAt: number;
}

export type NextStep =
  | { action: 'retry_same'; delayMs: number; cause: string }
  | { action: 'failover'; delayMs: number; cause: string }
  | { action: 'stop'; reason: ReasonCode };

/**
 * The delay before retry number `retry` (1 for the first retry) of the same candidate:
 * min(maxBackoffMs, baseBackoffMs · 2^(retry−1)), then ±20 % jitter drawn from `random` (the
 * workflow's deterministic random, so a replay waits exactly as long), rounded to whole ms.
 */
export function backoffMs(retry: number, policy: Pick<RetryPolicy, 'baseBackoffMs' | 'maxBackoffMs'>, random: () => number): number {
  const capped = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** Math.max(0, retry - 1));
  const jitter = 1 + (random() * 2 - 1) * BACKOFF_JITTER;
  return Math.max(0, Math.round(capped * jitter));
}

/**
 * The rules, first match wins:
 * 1. the stream had delivered content (`afterFirstToken`) and may not be continued (`resumable`) →
 *    stop `stream_interrupted`: a partial answer is never silently replaced by another one. A
 *    resumable one goes on through the rules below (a continuation: the same target again or the
 *    next one, after the same backoff), its cause `resume:<kind>`; a kind that can never be
 *    continued (`content_filter`, `invalid_request`) still stops `stream_interrupted`;
 * 2. `cancelled` → stop `cancelled`; `worker_shutdown` (the attempt's worker was drained) → the same
 *    target again at once while the attempt budget lasts (else stop `worker_shutdown`): the target did
 *    not fail, so neither backoff nor failover;
 * 3. kinds that neither retry nor failover can help (`invalid_request`, `content_filter`) → stop
 *    with the kind's reason — except `content_filter` when the policy's `contentFilterFailover` is
 *    on: then it is routed round like the kinds of rule 5;
 * 4. the request's attempt budget is spent (`attemptsMade >= maxAttempts`) → stop with the kind's
 *    reason, or `attempts_exhausted` for an unclassified (`unknown`) failure;
 * 5. kinds where waiting does not help but another target may (`auth`, `quota`, `model_not_found`,
 *    `context_length`, and a routed-round `content_filter`) → fail over at once when the policy allows it and a candidate is left,
 *    else stop with the kind's reason;
 * 6. transient kinds: fail over at once when allowed and a candidate is left, unless the provider
 *    asked for a short wait (Retry-After ≤ `maxRetryAfterWaitMs`) and the candidate still has
 *    retries; otherwise retry the same candidate while it has retries (at most
 *    `maxSameTargetRetries`, only one for `unknown`), after max(Retry-After, backoff); otherwise
 *    stop with the kind's reason;
 * 7. a retry or failover that would start at or after the deadline → stop `expired_during_execution`.
 *
 * `cause` is recorded as the next attempt's `retry_cause`: `retry:<kind>` or `failover:<kind>`.
 * `random` is called only when a backoff is computed.
 */
export function decideNextStep(failure: FailureFacts, state: RequestState, policy: RetryPolicy, random: () => number): NextStep {
  const { kind } = failure;
  const meaning = kind === 'content_filter' && policy.contentFilterFailover ? ROUTED_CONTENT_FILTER : FAILURE_KINDS[kind];
  if (failure.afterFirstToken && !failure.resumable) return { action: 'stop', reason: 'stream_interrupted' };
  if (kind === 'cancelled') return { action: 'stop', reason: 'cancelled' };
  if (kind === 'worker_shutdown') {
    if (state.attemptsMade >= policy.maxAttempts) return { action: 'stop', reason: 'worker_shutdown' };
    const cause = failure.afterFirstToken ? 'resume:worker_shutdown' : 'retry:worker_shutdown';
    return withinDeadline({ action: 'retry_same', delayMs: 0, cause }, state);
  }
  if (failure.afterFirstToken) {
    const next = decideNextStep({ ...failure, afterFirstToken: false, resumable: false }, state, policy, random);
    if (next.action === 'stop') return { action: 'stop', reason: next.reason === 'expired_during_execution' ? next.reason : 'stream_interrupted' };
    return { ...next, cause: next.cause.replace(/^(retry|failover):/, 'resume:') };
  }
  if (!meaning.failover) return { action: 'stop', reason: providerFailureReason(kind) };
  if (state.attemptsMade >= policy.maxAttempts) {
    return { action: 'stop', reason: kind === 'unknown' ? 'attempts_exhausted' : providerFailureReason(kind) };
  }

  const canFailover = policy.failover && state.candidatesLeft > 0;
  const failover = (): NextStep => withinDeadline({ action: 'failover', delayMs: 0, cause: `failover:${kind}` }, state);
  if (!meaning.retryable) return canFailover ? failover() : { action: 'stop', reason: providerFailureReason(kind) };

  const retryLimit = kind === 'unknown' ? Math.min(policy.maxSameTargetRetries, MAX_SAME_TARGET_RETRIES_UNKNOWN) : policy.maxSameTargetRetries;
  const canRetrySame = state.sameCandidateAttempts <= retryLimit;
  const retryAfterMs = failure.retryAfterMs ?? null;
  const askedForShortWait = retryAfterMs !== null && retryAfterMs <= policy.maxRetryAfterWaitMs;
  if (canFailover && !(askedForShortWait && canRetrySame)) return failover();
  if (canRetrySame) {
    const delayMs = Math.max(retryAfterMs ?? 0, backoffMs(state.sameCandidateAttempts, policy, random));
    return withinDeadline({ action: 'retry_same', delayMs, cause: `retry:${kind}` }, state);
  }
  return { action: 'stop', reason: providerFailureReason(kind) };
}

function withinDeadline(step: NextStep & { delayMs: number }, state: RequestState): NextStep {
  return state.now + step.delayMs >= state.deadlineAt ? { action: 'stop', reason: 'expired_during_execution' } : step;
}

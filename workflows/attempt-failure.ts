/** How chatRequestWorkflow (both shapes) reads a failed attempt. Deterministic: no I/O. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import { buildAttemptRecord } from '../src/domain/attempt-record';
import type { AttemptRecord, PlannedAttempt } from '../src/domain/request-outcome';


/** The attempt record of a failed attempt: the activity's own (in the failure details) or, for timeouts and cancellation, the workflow's view. */
export function attemptFromFailure(error: unknown, candidate: PlannedAttempt, n: number, retryCause: string | null, startedAt: number, endedAt: number): AttemptRecord {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type?.startsWith('Provider.') && cause.details?.[0]) {
    return cause.details[0] as AttemptRecord;
  }
  const timedOut = cause instanceof TimeoutFailure;
  // A worker that died mid-stream told in its last heartbeat whether the client already had content.
  const beat = timedOut ? (cause.lastHeartbeatDetails as { firstTokenAt?: unknown } | undefined) : undefined;
  const firstTokenAt = typeof beat?.firstTokenAt === 'number' ? beat.firstTokenAt : null;
  const cancelled = isCancellation(error);
  return buildAttemptRecord({ n, attempt: candidate, retryCause, startedAt, endedAt, firstTokenAt }, {
    status: cancelled ? 'cancelled' : timedOut ? 'timed_out' : 'failed',
    failure_kind: cancelled ? 'cancelled' : timedOut ? 'timeout' : 'unknown',
    ...(firstTokenAt === null ? {} : { after_first_token: true }),
  });
}

/** The other attempts a failed attempt activity ran beside it (a hedge's other side), from its failure details. */
export function otherAttemptsOfFailure(error: unknown): AttemptRecord[] {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (!(cause instanceof ApplicationFailure) || !cause.type?.startsWith('Provider.')) return [];
  const others = cause.details?.[1];
  return Array.isArray(others) ? others as AttemptRecord[] : [];
}

/** The outage kinds of the first bridge rules (rate limits counted), frozen: histories recorded under them replay with them. */
const LEGACY_OUTAGE_KINDS: ReadonlySet<string> = new Set([
  'rate_limit', 'overloaded', 'upstream_unavailable', 'timeout', 'stream_stalled', 'stream_truncated', 'network', 'bad_response',
]);

/**
 * The first bridge rules, kept only for histories recorded before the verified-outage rules
 * (src/domain/outage-bridge.ts; the `bridge-verified-outage` patch): every attempt failed with a
 * (then) outage kind, nothing reached the client and the deadline still held — untried candidates
 * and rate limits did not stop it. Never used for new requests.
 */
export function legacyBridgeCandidate(first: PlannedAttempt, attempts: readonly AttemptRecord[], last: AttemptRecord, allowBrokered: boolean,
  deadlineExpired: boolean): PlannedAttempt | undefined {
  const allOutages = attempts.every((attempt) => attempt.failure_kind !== null && LEGACY_OUTAGE_KINDS.has(attempt.failure_kind));
  if (!allowBrokered || !allOutages || last.after_first_token || deadlineExpired) return undefined;
  return {
    targetIndex: first.targetIndex, execution_profile: 'managed_provider', provider: 'openrouter',
    model: `${first.provider}/${first.model}`, model_revision: first.model_revision, region: 'default', role: 'bridge',
  };
}

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

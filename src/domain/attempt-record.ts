/**
 * The one attempt-record builder: the attempt activity (success and failure) and the workflow (an
 * attempt it only saw time out or be cancelled) describe an attempt the same way.
 */
import type { AttemptRecord, PlannedAttempt } from './request-outcome';

export interface AttemptTiming {
  n: number;
  attempt: PlannedAttempt;
  retryCause: string | null;
  startedAt: number;
  endedAt: number;
  /** Epoch ms of the first token (streams) or of the answer; null when none came. */
  firstTokenAt: number | null;
}

export function buildAttemptRecord(timing: AttemptTiming, result: Pick<AttemptRecord, 'status'> & Partial<AttemptRecord>): AttemptRecord {
  const { n, attempt, startedAt, endedAt, firstTokenAt } = timing;
  return {
    n, execution_profile: attempt.execution_profile, provider: attempt.provider, model: attempt.model,
    model_revision: attempt.model_revision, region: attempt.region, started_at: new Date(startedAt).toISOString(),
    ended_at: new Date(endedAt).toISOString(), latency_ms: endedAt - startedAt,
    ttft_ms: firstTokenAt === null ? null : Math.max(0, firstTokenAt - startedAt),
    http_status: null, failure_kind: null, retry_cause: timing.retryCause, service_tier: null, usage: null,
    ...(attempt.verified_outage ? { verified_outage: attempt.verified_outage } : {}),
    ...(attempt.coverage ? { coverage: attempt.coverage } : {}), ...result,
  };
}

/**
 * The last-resort OpenRouter bridge (DESIGN.md §4.5): "only as an explicit last-resort outage bridge
 * when a required model path has a verified total outage … never used for routine price
 * arbitration". Pure rules, shared by the front door (every circuit open: the plan is the bridge
 * alone) and the workflow (every candidate tried and failed with an outage).
 */
import type { SkippedCandidate } from './attempt-plan';
import { OUTAGE_FAILURE_KINDS, type FailureKind } from './failure-kinds';
import type { AttemptRecord, OutageEvidence, PlannedAttempt } from './request-outcome';

/** The provider of the bridge; never an ordinary release target. */
export const BRIDGE_PROVIDER = 'openrouter';

type Place = Pick<PlannedAttempt, 'provider' | 'model' | 'region'>;
const samePlace = (a: Place, b: Place): boolean => a.provider === b.provider && a.model === b.model && a.region === b.region;

/** The bridge's stand-in for a target: the same model through OpenRouter, pinned to its provider, carrying the evidence. */
function bridgeOf(target: Pick<PlannedAttempt, 'targetIndex' | 'provider' | 'model' | 'model_revision'>, evidence: OutageEvidence[]): PlannedAttempt {
  return {
    targetIndex: target.targetIndex, execution_profile: 'managed_provider', provider: BRIDGE_PROVIDER,
    model: `${target.provider}/${target.model}`, model_revision: target.model_revision, region: 'default', role: 'bridge',
    verified_outage: evidence,
  };
}

/**
 * The front door's case: no candidate is left because every circuit of the release is open (circuit
 * state is itself the verified outage). A skip for another reason (context window, allow-list) is
 * not an outage and keeps the bridge shut. Undefined when the bridge may not run.
 */
export function bridgeForOpenCircuits(skipped: readonly SkippedCandidate[], release: { targets: ReadonlyArray<{ model_revision: string }> },
  allowBrokered: boolean): PlannedAttempt | undefined {
  if (!allowBrokered || skipped.length === 0 || skipped.some((skip) => skip.reason !== 'circuit_open')) return undefined;
  const first = skipped[0]!;
  const evidence = skipped.map(({ provider, model, region }) => ({ provider, model, region, failure_kind: 'circuit_open' as FailureKind }));
  return bridgeOf({ ...first, model_revision: release.targets[first.targetIndex]?.model_revision ?? '' }, evidence);
}

/**
 * The workflow's case, after the last planned attempt failed: the bridge runs only when
 * - the tenant's policy allows brokered execution (`allowBrokered`), the deadline holds and the
 *   client has nothing yet (`last.after_first_token`);
 * - every candidate of the plan (each target in each region) was tried — a request that ran out of
 *   attempt budget with candidates never tried has no verified outage;
 * - every attempt failed with an outage kind (FAILURE_KINDS' `outage` column: not rate limits, not
 *   quota, auth or request errors; a hedge's lost side is no evidence either way);
 * - no bridge ran yet.
 * Candidates skipped at planning because their circuit was open count as failed with `circuit_open`.
 * The bridge stands in for the plan's first candidate and carries the evidence (`verified_outage`).
 */
export function bridgeAfterOutage(plan: { candidates: readonly PlannedAttempt[]; skipped: readonly SkippedCandidate[] }, attempts: readonly AttemptRecord[],
  last: AttemptRecord, allowBrokered: boolean, deadlineExpired: boolean): PlannedAttempt | undefined {
  if (!allowBrokered || last.after_first_token || deadlineExpired) return undefined;
  const evidence = attempts.filter((attempt) => attempt.failure_kind !== 'hedge_lost');
  if (evidence.some((attempt) => attempt.provider === BRIDGE_PROVIDER && attempt.verified_outage)) return undefined;
  if (!evidence.every((attempt) => attempt.failure_kind !== null && OUTAGE_FAILURE_KINDS.has(attempt.failure_kind))) return undefined;
  const untried = plan.candidates.filter((candidate) => !evidence.some((attempt) => samePlace(attempt, candidate)));
  if (untried.length > 0 || plan.candidates.length === 0) return undefined;
  const outage: OutageEvidence[] = [
    ...plan.candidates.map((candidate) => ({
      provider: candidate.provider, model: candidate.model, region: candidate.region,
      failure_kind: evidence.findLast((attempt) => samePlace(attempt, candidate))!.failure_kind!,
    })),
    ...plan.skipped.filter((skip) => skip.reason === 'circuit_open')
      .map(({ provider, model, region }) => ({ provider, model, region, failure_kind: 'circuit_open' as FailureKind })),
  ];
  return bridgeOf(plan.candidates[0]!, outage);
}

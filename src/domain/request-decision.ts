/**
 * What the front door decides before a request's workflow (DESIGN.md §4.1), as the workflow receives
 * it: the release, the plan, the policy snapshot and the admission state — ids and facts, nothing
 * sized by a user but the plan. Imported by workflow code: keep it free of schemas and tables (the
 * SDK evaluates a workflow's modules for every workflow it starts). How a decision is made:
 * request-planning.ts.
 */
import type { SkippedCandidate } from './attempt-plan';
import type { QosProfile } from './qos';
import type { ReasonCode } from './reason-codes';
import type { ChatRequestInput, PlannedAttempt, RoutingRecord } from './request-outcome';
import type { RetryPolicy } from './retry-decision';
import type { ModelAliasRelease } from './model-alias';

/** The tenant policy as the workflow needs it for one request. */
export interface PolicySnapshot {
  qos: QosProfile;
  retry: RetryPolicy;
  allowBrokered: boolean;
  flexFallbackToStandard: boolean;
  leaseMs: number;
  /**
   * A stream broken after content may be continued (policy, alias, the request's `x-zumik-stream-resume`,
   * and a request that can be continued honestly: one choice, no tools). Absent in older histories: off.
   */
  streamResume?: boolean;
  /** Hedges a request may start when the TTFT target passes without a first token (0 or absent: none). */
  maxHedges?: number;
}

/** How the request entered: no limit applies (`none`), a lease is held (`leased`), or it waits in the queue (`queued`). */
export type AdmissionState = 'none' | 'leased' | 'queued';

/** What the front door (or, for a batch line, the request's first local activity) decided. Small: ids and facts only. */
export interface RequestDecision {
  release: Pick<ModelAliasRelease, 'id' | 'capability_manifest_revision'>;
  /** The attempt order: weighted pick, failovers, standbys; open circuits and too-small windows already skipped. */
  plan: PlannedAttempt[];
  /** Candidates left out of the plan, and why (the audit of an open circuit). */
  skipped: SkippedCandidate[];
  policy: PolicySnapshot;
  admission: AdmissionState;
  /** Queue position at the front door when `queued`. */
  position?: number;
  /** How the release and the first target were chosen (pin, canary, sticky key, overflow); absent in older histories. */
  routing?: RoutingRecord;
}

/**
 * How a refusal before any attempt reads as admission: no eligible target (or none with a credential)
 * was admitted but could not be served.
 */
export function admissionOfRefusal(reason: ReasonCode): 'admitted' | 'rejected' | 'expired_before_start' {
  if (reason === 'no_eligible_target' || reason === 'no_credentials' || reason === 'coverage_unavailable') return 'admitted';
  return reason === 'expired_before_start' ? 'expired_before_start' : 'rejected';
}

/**
 * Where an attempt runs (measured in bench/README.md): the first attempt of a request that is not flex
 * is a local activity in the first workflow task — its marker is the per-attempt audit, and the happy
 * path costs the engine one workflow task. A stream's live checkpoint is the front door that holds its
 * client (it answers a re-run attempt's `probe` with what it sent), so streams need no heartbeats.
 * Flex runs as a regular activity because it may wait long for the provider's flex capacity, and every
 * later attempt because it follows a failure (often after a durable backoff timer): failing-over work
 * is resumable and visible as its own activity.
 */
export function attemptRunsLocally(request: Pick<ChatRequestInput, 'qosClass'>, n: number): boolean {
  return n === 1 && request.qosClass !== 'flex';
}

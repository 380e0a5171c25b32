/**
 * Deciding a request before its workflow (DESIGN.md §4.1): from the tenant's policy, the alias's live
 * release, the regions and the open circuits — all read from per-process caches — pure functions
 * either refuse the request (no workflow is started) or build the plan the workflow will follow.
 */
import { buildAttemptPlan, circuitKey, seededRandom, type CoverageSkipReason, type SkippedCandidate } from './attempt-plan';
import type { ChatRequest } from '../contract/chat';
import { estimatePromptTokens, manifestFor, modelCapability, supportsFlex } from './capabilities';
import type { ModelAliasRelease, ReleaseTarget } from './model-alias';
import { BRIDGE_PROVIDER, bridgeForOpenCircuits } from './outage-bridge';
import type { QosClass } from './qos';
import type { ReasonCode } from './reason-codes';
import type { PolicySnapshot } from './request-decision';
import type { ChatRequestInput, PlannedAttempt, RoutingRecord } from './request-outcome';
import { operationIneligibility } from './request-operation';
import { streamResume, tenantQosProfile, tenantRetryPolicy, type TenantPolicy } from './tenant-policy';

export function policySnapshot(policy: TenantPolicy, qosClass: QosClass, alias: string, stream = true): PolicySnapshot {
  const qos = tenantQosProfile(policy, qosClass);
  return {
    qos,
    retry: tenantRetryPolicy(policy, alias),
    allowBrokered: policy.allow_brokered_execution,
    flexFallbackToStandard: policy.flex.fallback_to_standard,
    // The workflow releases the lease when it ends; the expiry only guards against a workflow that never does.
    leaseMs: qos.deadlineMs + 60_000,
    streamResume: streamResume(policy, alias),
    // Batch work has hours: racing a second provider for its first token would only spend money. A plain
    // completion has no first token to watch: hedged only when the tenant asks (`hedge_non_streaming`).
    maxHedges: qosClass === 'batch' || (!stream && !policy.hedge_non_streaming) ? 0 : policy.max_hedges,
  };
}

/** True when any admission limit applies to the tenant or its keys: only then is shared state touched. */
export function hasAdmissionLimits(policy: TenantPolicy): boolean {
  const { limits } = policy;
  return limits.concurrency !== undefined || limits.key_concurrency !== undefined
    || limits.requests_per_minute !== undefined || limits.key_requests_per_minute !== undefined;
}

/** Policy refusals that need no shared state: a QoS class the tenant may not use. */
export function policyRefusal(policy: TenantPolicy, qosClass: QosClass): ReasonCode | undefined {
  return policy.allowed_qos_classes.includes(qosClass) ? undefined : 'rejected_policy';
}

/**
 * The plan for one request: refused when the alias has no live release or no target is eligible.
 * Same release, request id, circuits and prompt ⇒ same plan (a PRNG seeded with the request id).
 */
export function planRequest(input: Pick<ChatRequestInput, 'requestId' | 'alias' | 'qosClass' | 'body' | 'operation'> & { tenantId?: string }, context: {
  release: ModelAliasRelease | undefined;
  policy: PolicySnapshot;
  regions: (provider: string) => readonly string[];
  openCircuits: ReadonlySet<string>;
  /** The allow-lists' verdict on a provider (absent: every provider allowed). */
  allowedProvider?: (provider: string) => boolean;
  /** What the front door knows without I/O about a target's credential (see PlanContext.hasCredential). */
  hasCredential?: (target: ReleaseTarget) => boolean;
  /** A sticky release's key hash (PlanContext.stickyKeyHash). */
  stickyKeyHash?: string | null;
  /** BYOC lanes at their concurrency cap (PlanContext.saturated). */
  saturated?: (provider: string) => boolean;
  /** Managed providers the Bifrost deployment serves (PlanContext.viaBifrost; absent: none). */
  viaBifrost?: (provider: string) => boolean;
  /** The tenant policy's `allow_bifrost_broader_coverage` (absent: false). */
  broaderCoverage?: boolean;
  /** Registered BYOC endpoints awaiting activation (PlanContext.pending). */
  pending?: (provider: string) => boolean;
}): { refusal: ReasonCode; skipped?: SkippedCandidate[] } | { plan: PlannedAttempt[]; skipped: SkippedCandidate[]; lane: LaneChoice } {
  const { release } = context;
  if (!release) return { refusal: 'unknown_alias' };
  const manifest = manifestFor(release.capability_manifest_revision);
  const regions = Object.fromEntries(release.targets.map((target) => [target.provider, context.regions(target.provider)]));
  const { candidates, skipped, pick } = buildAttemptPlan(release, {
    random: seededRandom(input.requestId), regions, openCircuits: context.openCircuits, tenantId: input.tenantId,
    // A chat model's context window says nothing about an embeddings model's input limit.
    promptTokens: input.operation === 'embeddings' ? undefined : estimatePromptTokens(input.body),
    contextWindow: (provider, model) => modelCapability(manifest, provider, model)?.contextWindow,
    // OpenRouter is only ever the bridge: a release stored before installs refused it as an ordinary target
    // still never routes to it as one.
    allowedProvider: (provider) => provider !== BRIDGE_PROVIDER && (context.allowedProvider?.(provider) ?? true),
    unsupported: input.operation ? (provider) => operationIneligibility(input, provider) : undefined,
    hasCredential: context.hasCredential,
    stickyKeyHash: context.stickyKeyHash, saturated: context.saturated, viaBifrost: context.viaBifrost, pending: context.pending,
    // Called only for a target the install marked broader coverage: nothing runs for any other release.
    coverage: (target) => coverageIneligibility(target, input, context.broaderCoverage === true, context.viaBifrost),
  });
  if (context.allowedProvider && !release.targets.some((target) => context.allowedProvider!(target.provider))) {
    return { refusal: 'rejected_allow_list' };
  }
  // Flex runs at the provider's flex tier; targets without one serve it only where policy lets flex fall back to standard.
  const plan = input.qosClass === 'flex' && !context.policy.flexFallbackToStandard
    ? candidates.filter((candidate) => supportsFlex(manifest, candidate.provider, candidate.model))
    : candidates;
  if (plan.length === 0) {
    // Every target was left out because none can do this operation at all: the request is wrong for this alias, not unlucky.
    if (skipped.length > 0 && skipped.every((skip) => skip.reason === 'operation_unsupported')) return { refusal: 'unsupported_operation' };
    const coverageRefusal = candidates.length === 0 ? coverageRefusalOf(skipped) : undefined;
    if (coverageRefusal) return { refusal: coverageRefusal };
    // Only missing credentials stood in the way: say so (and which), not "no eligible target".
    const unconfigured = skipped.filter((entry) => entry.reason === 'no_credentials');
    if (candidates.length === 0 && unconfigured.length > 0 && skipped.every((entry) => entry.reason === 'no_credentials' || entry.reason === 'not_allowed' || entry.reason === 'operation_unsupported')) {
      return { refusal: 'no_credentials', skipped: unconfigured };
    }
    // Only BYOC endpoints still waiting for their replay-gated activation could have served: say so.
    if (candidates.length === 0 && skipped.some((entry) => entry.reason === 'endpoint_pending')
      && skipped.every((entry) => entry.reason === 'endpoint_pending' || entry.reason === 'not_allowed' || entry.reason === 'operation_unsupported')) {
      return { refusal: 'endpoint_pending' };
    }
    // Every circuit of the release open is a verified total outage: the plan is the bridge alone, when the policy allows it.
    const bridge = candidates.length === 0 ? bridgeForOpenCircuits(skipped, release, context.policy.allowBrokered) : undefined;
    if (bridge && !context.openCircuits.has(circuitKey(bridge.provider, bridge.region, bridge.model))) {
      return { plan: [bridge], skipped, lane: laneChoice([bridge], skipped, pick) };
    }
    return { refusal: 'no_eligible_target' };
  }
  return { plan, skipped, lane: laneChoice(plan, skipped, pick) };
}

/**
 * Whether a request runs on the canary's candidate release: a draw seeded with the request's sticky key
 * hash (a session stays on one side of the split) or else its request id, below `weight` percent.
 * Deterministic: the recorded request id (or key hash) and weight reproduce the choice.
 */
export function drawsCanary(seed: string, weight: number): boolean {
  return seededRandom(`canary:${seed}`)() * 100 < weight;
}

/** Profiles served by the tenant's own capacity: the hot lanes. */
const BYOC_LANE_PROFILES: ReadonlySet<string> = new Set(['byoc_dynamo', 'byoc_epp', 'subscription']);

/** Which lane a profile is: the tenant's own capacity (`byoc`), or a provider's (`managed`, BYOK included). */
export function laneOf(profile: string): 'byoc' | 'managed' {
  return BYOC_LANE_PROFILES.has(profile) ? 'byoc' : 'managed';
}

export type LaneChoice = Pick<RoutingRecord, 'lane' | 'overflow' | 'overflow_reason' | 'overflow_from'>;

/**
 * The lane of the plan's first attempt, and whether it is there because the pick — a BYOC lane — could
 * not take the request (its circuit open, at its concurrency cap, no credential, too small a window).
 */
export function laneChoice(plan: readonly PlannedAttempt[], skipped: readonly SkippedCandidate[], pick: { targetIndex: number; target: ReleaseTarget } | undefined): LaneChoice {
  const lane = laneOf(plan[0]?.execution_profile ?? 'managed_provider');
  if (!pick || laneOf(pick.target.execution_profile) !== 'byoc' || plan[0]?.targetIndex === pick.targetIndex) return { lane, overflow: false };
  const why = skipped.find((skip) => skip.targetIndex === pick.targetIndex)?.reason;
  if (why !== 'circuit_open' && why !== 'lane_saturated' && why !== 'no_credentials' && why !== 'context_window') return { lane, overflow: false };
  return { lane, overflow: true, overflow_reason: why, overflow_from: pick.target.provider };
}

const COVERAGE_REFUSALS: Record<CoverageSkipReason, ReasonCode> = {
  coverage_not_allowed: 'rejected_coverage',
  bifrost_unavailable: 'coverage_unavailable',
  coverage_capability: 'unsupported_capability',
};

/**
 * The refusal of a plan left empty by broader-coverage targets (with, at most, targets the allow-lists or
 * the operation excluded): the tenant's policy first, then a Bifrost that no longer serves the provider,
 * then a request needing what Zumik does not claim for such a model. Undefined when anything else
 * (an open circuit, a missing credential, a small window) stood in the way as well.
 */
function coverageRefusalOf(skipped: readonly SkippedCandidate[]): ReasonCode | undefined {
  const reasons = new Set(skipped.map((skip) => skip.reason));
  for (const reason of ['coverage_not_allowed', 'bifrost_unavailable', 'coverage_capability'] as const) {
    if (!reasons.has(reason)) continue;
    const other = [...reasons].some((entry) => !(entry in COVERAGE_REFUSALS) && entry !== 'not_allowed' && entry !== 'operation_unsupported');
    return other ? undefined : COVERAGE_REFUSALS[reason];
  }
  return undefined;
}

/**
 * Why a broader-coverage target (`coverage: bifrost_broader`: a model outside the capability manifest,
 * through Bifrost) may not serve this request, or undefined. The tenant's policy must allow broader
 * coverage, and the Bifrost deployment must still serve the provider. Its capabilities are conservative:
 * Zumik claims nothing its manifest does not say, so a request that needs tools or non-text input (images,
 * audio, files) does not go to it; nor is a stream continued by assistant prefill on it (stream resume
 * regenerates), nor is a flex tier or a context window assumed; its price is unknown (cost_usd null).
 */
export function coverageIneligibility(target: { coverage?: string; provider: string }, input: Pick<ChatRequestInput, 'body' | 'operation'>,
  allowed: boolean, viaBifrost: ((provider: string) => boolean) | undefined): CoverageSkipReason | undefined {
  if (target.coverage === undefined) return undefined;
  if (!allowed) return 'coverage_not_allowed';
  if (!viaBifrost?.(target.provider)) return 'bifrost_unavailable';
  return input.operation !== 'embeddings' && needsClaimedCapability(input.body) ? 'coverage_capability' : undefined;
}

/** The request needs a capability a manifest would have to claim: tools, or a content part that is not text. */
function needsClaimedCapability(body: ChatRequest): boolean {
  if (body.tools && body.tools.length > 0) return true;
  return body.messages.some((message) => Array.isArray(message.content) && message.content.some((part) => part.type !== 'text'));
}

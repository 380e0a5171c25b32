/**
 * The QoS outcome: a pure function of the attempts, timings and admission (DESIGN.md §3 "The QoS
 * outcome", §4.5). The same facts always give the same outcome, so a replayed workflow and the
 * Postgres row agree.
 */
import { costUsd, manifestFor, type CapabilityManifest } from './capabilities';
import { providerFailureReason, type ReasonCode } from './reason-codes';
import { admissionOfRefusal } from './request-decision';
import type { AttemptRecord, Completion, OutcomeFacts, RequestOutcome, WorkflowRef } from './request-outcome';

/**
 * How much a service tier promises, for "served lower than requested". Flex and batch are the
 * cheap, sheddable tiers; `default`/`standard` (Anthropic's name) the normal one; `scale`,
 * `priority` and `fast` (served as priority) the premium ones. `auto` asks for nothing in particular.
 */
const TIER_RANK: Readonly<Record<string, number>> = { flex: 0, batch: 0, default: 1, standard: 1, scale: 2, priority: 2, fast: 2 };

/** True when the winning attempt's tier is known and promises less than the tier the client asked for. */
export function servedBelowRequestedTier(requested: string | null | undefined, served: string | null | undefined): boolean {
  const wanted = requested == null ? undefined : TIER_RANK[requested];
  const got = served == null ? undefined : TIER_RANK[served];
  return wanted !== undefined && got !== undefined && got < wanted;
}

const sameTarget = (a: AttemptRecord, b: AttemptRecord): boolean => a.provider === b.provider && a.model === b.model && a.region === b.region;

/**
 * The cost of every attempt that reported usage (failed ones included: providers bill partial
 * streams), each at its own provider, served model (else the configured model) and served tier,
 * rounded to 1e-8 USD. Attempts that cannot be priced add nothing; the total is null only when no
 * attempt with usage could be priced (or none reported usage).
 */
export function attemptsCostUsd(attempts: readonly AttemptRecord[], manifest: CapabilityManifest): number | null {
  let total: number | null = null;
  for (const attempt of attempts) {
    if (!attempt.usage) continue;
    const cost = (attempt.served_model ? costUsd(manifest, attempt.provider, attempt.served_model, attempt.usage, attempt.service_tier) : null)
      ?? costUsd(manifest, attempt.provider, attempt.model, attempt.usage, attempt.service_tier);
    if (cost !== null) total = (total ?? 0) + cost;
  }
  return total === null ? null : Math.round(total * 1e8) / 1e8;
}

/**
 * The rules (first match wins for completion and reason):
 * - a refusal before any attempt: admission `rejected` → completion null, reason = the refusal;
 *   admission `expired_before_start` → completion null, reason `expired_before_start`;
 *   `unknown_alias` → completion null (admission as given); any other refusal (`no_eligible_target`, `no_credentials`)
 *   → `failed` with that reason. A `rejected` admission without a refusal reads `rejected_policy`.
 * - the last attempt succeeded (or the last success is followed only by a hedge's other side) →
 *   `completed`: `ok_via_bridge` when bridged; `ok_after_resume` when an attempt continued a broken
 *   stream (its record has `continuation`); when a hedge ran, `ok` if the first attempt won it, else
 *   `ok_after_hedge`; `ok` for a single attempt, `ok_after_retry` when every attempt used the same
 *   provider, model and region, else `ok_after_failover`;
 * - cancelled → `cancelled`; the deadline fired → `expired_during_execution`;
 * - otherwise `failed`: `stream_interrupted` when the last attempt had streamed content, else the
 *   last attempt's failure kind (`attempts_exhausted` when it has none, or there was no attempt).
 *
 * `fallback_used`: completed by the bridge or by a provider/model/region other than attempt 1's.
 * `target_met`: completed within the total target and, for a stream, with a known first token
 * within the TTFT target. `degraded`: fallback used, or completed but the target missed, or served
 * at a tier below the requested one (`default` for `priority` is; `default` for `flex` is not; an
 * unreported served tier is not). Timings are measured from receipt: `queued_ms` to admission (to
 * the end when never admitted), `ttft_ms` to the winning streamed attempt's first token. `usage` is
 * the winner's; for a continued stream, summed with the usage of the broken attempts it continued.
 */
export function computeOutcome(facts: OutcomeFacts, manifest: CapabilityManifest): RequestOutcome {
  const { input, attempts } = facts;
  const last = attempts.at(-1);
  // The other side of a hedge is numbered after the attempt it raced, and may end after the winner (lost or failed).
  const succeeded = attempts.findLast((attempt) => attempt.status === 'succeeded');
  const winner = succeeded && !facts.refusal && attempts.slice(attempts.indexOf(succeeded) + 1).every(isHedgeSide) ? succeeded : undefined;
  const { completion, reason } = completionAndReason(facts, winner, last);
  const completed = completion === 'completed' && winner !== undefined;

  const totalMs = facts.endedAt - input.receivedAt;
  const ttftMs = completed && input.stream && winner.ttft_ms !== null
    ? Date.parse(winner.started_at) + winner.ttft_ms - input.receivedAt
    : null;
  const targetMet = completed && totalMs <= facts.targets.totalTargetMs
    && (!input.stream || (ttftMs !== null && ttftMs <= facts.targets.ttftTargetMs));
  const first = attempts[0];
  const fallbackUsed = completed && (facts.bridged || (first !== undefined && !sameTarget(first, winner)));
  const degraded = fallbackUsed || (completed && !targetMet)
    || (completed && servedBelowRequestedTier(input.requestedServiceTier, winner.service_tier));

  return {
    id: input.requestId,
    object: 'request_outcome',
    tenant: input.tenantId,
    alias: input.alias,
    release_id: facts.release?.id ?? null,
    qos_class: input.qosClass,
    admission: facts.admission,
    completion,
    target_met: targetMet,
    degraded,
    fallback_used: fallbackUsed,
    reason_code: reason,
    timing: { queued_ms: (facts.admittedAt ?? facts.endedAt) - input.receivedAt, ttft_ms: ttftMs, total_ms: totalMs },
    attempts,
    usage: winner ? summedUsage(attempts, winner) : null,
    cost_usd: attemptsCostUsd(attempts, manifest),
    workflow: facts.workflow,
    ...(input.ingress ? { ingress: input.ingress } : {}),
    ...(facts.routing ? { routing: facts.routing } : {}),
  };
}

function completionAndReason(facts: OutcomeFacts, winner: AttemptRecord | undefined, last: AttemptRecord | undefined): { completion: Completion | null; reason: ReasonCode } {
  if (facts.admission === 'expired_before_start') return { completion: null, reason: 'expired_before_start' };
  if (facts.admission === 'rejected') return { completion: null, reason: facts.refusal ?? 'rejected_policy' };
  if (facts.refusal === 'unknown_alias') return { completion: null, reason: 'unknown_alias' };
  if (facts.refusal) return { completion: 'failed', reason: facts.refusal };
  if (winner) return { completion: 'completed', reason: successReason(facts) };
  if (facts.cancelled) return { completion: 'cancelled', reason: 'cancelled' };
  if (facts.deadlineExpired) return { completion: 'expired_during_execution', reason: 'expired_during_execution' };
  if (last?.after_first_token) return { completion: 'failed', reason: 'stream_interrupted' };
  return { completion: 'failed', reason: last?.failure_kind ? providerFailureReason(last.failure_kind) : 'attempts_exhausted' };
}

/** A hedge's side: the attempt started beside a slow first token, or the side that lost the race. */
function isHedgeSide(attempt: AttemptRecord): boolean {
  return attempt.failure_kind === 'hedge_lost' || attempt.retry_cause?.startsWith('hedge:') === true;
}

function successReason(facts: OutcomeFacts): ReasonCode {
  const [first, ...rest] = facts.attempts;
  if (facts.bridged) return 'ok_via_bridge';
  if (facts.attempts.some((attempt) => attempt.continuation)) return 'ok_after_resume';
  if (facts.attempts.some(isHedgeSide)) {
    // The hedge fired, but the first target answered first after all: as good as a first-attempt answer.
    const winner = facts.attempts.find((attempt) => attempt.status === 'succeeded');
    return winner === first && rest.every(isHedgeSide) ? 'ok' : 'ok_after_hedge';
  }
  if (!first || rest.length === 0) return 'ok';
  return rest.every((attempt) => sameTarget(first, attempt)) ? 'ok_after_retry' : 'ok_after_failover';
}

/**
 * The usage of a completed request: the winner's, plus every continued attempt's before it (a
 * continuation's answer is theirs and its together: the client was billed for both), plus what
 * a hedge's loser reported. Attempts that reported no usage add nothing.
 */
function summedUsage(attempts: readonly AttemptRecord[], winner: AttemptRecord): RequestOutcome['usage'] {
  const parts = attempts.filter((attempt) => attempt === winner || (attempt.usage && (attempt.after_first_token || attempt.failure_kind === 'hedge_lost')));
  if (parts.length === 1 || !winner.continuation) return winner.usage;
  return addUsage(parts.map((attempt) => attempt.usage));
}

/** The sum of OpenAI usage objects (token counts and their details); null when none is known. */
export function addUsage(usages: ReadonlyArray<RequestOutcome['usage'] | undefined>): RequestOutcome['usage'] {
  const known = usages.filter((usage): usage is NonNullable<RequestOutcome['usage']> => usage != null);
  if (known.length === 0) return null;
  if (known.length === 1) return known[0]!;
  const sum = (pick: (usage: NonNullable<RequestOutcome['usage']>) => number | undefined) => known.reduce((total, usage) => total + (pick(usage) ?? 0), 0);
  return {
    prompt_tokens: sum((usage) => usage.prompt_tokens),
    completion_tokens: sum((usage) => usage.completion_tokens),
    total_tokens: sum((usage) => usage.total_tokens),
    prompt_tokens_details: { cached_tokens: sum((usage) => usage.prompt_tokens_details?.cached_tokens) },
    completion_tokens_details: { reasoning_tokens: sum((usage) => usage.completion_tokens_details?.reasoning_tokens) },
  };
}

/** The outcome's link to its workflow (and the Temporal UI page of its history, when the UI is known). */
export function workflowRefFor(workflow: { workflowId: string; runId: string; namespace: string }, uiBaseUrl: string | null | undefined): WorkflowRef {
  const { workflowId, runId, namespace } = workflow;
  return {
    id: workflowId, run_id: runId,
    ui_url: uiBaseUrl ? `${uiBaseUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}/${runId}/history` : null,
  };
}

/** The outcome of a request refused before any attempt (at the front door, or in a batch line's first task). */
export function refusedOutcome(input: OutcomeFacts['input'], refusal: ReasonCode, context: {
  release: OutcomeFacts['release']; targets: OutcomeFacts['targets']; endedAt: number; workflow: WorkflowRef | null;
}): RequestOutcome {
  return computeOutcome({
    input, release: context.release, admission: admissionOfRefusal(refusal), refusal, admittedAt: null, attempts: [], endedAt: context.endedAt,
    cancelled: false, deadlineExpired: false, bridged: false, targets: context.targets, workflow: context.workflow,
  }, manifestFor(context.release?.capability_manifest_revision ?? 'cap_custom'));
}

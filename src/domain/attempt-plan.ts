/**
 * The attempt plan: which targets a request tries, in which order (DESIGN.md §4.2). A pure function
 * of the release, the request id's seeded random and what is known about targets (open circuits,
 * context windows, regions): the same release and request id always give the same plan.
 */
import type { ModelAliasRelease, ReleaseTarget } from './model-alias';
import type { PlannedAttempt } from './request-outcome';
import { rendezvousOrder } from './sticky-routing';

export interface PlanContext {
  /** Deterministic random in [0, 1): `seededRandom(requestId)`. */
  random: () => number;
  /** Regions per provider name, preferred first; a provider not listed has the single region `default`. */
  regions: Readonly<Record<string, readonly string[]>>;
  /** `circuitKey(provider, region, model, scope)` of circuits that are open: those candidates are skipped. */
  openCircuits: ReadonlySet<string>;
  /** The requesting tenant: a target on the tenant's own key or endpoint is judged by the tenant's circuit (circuitScope). */
  tenantId?: string;
  /** Estimated prompt tokens; targets whose known context window is smaller are skipped. */
  promptTokens?: number;
  /** Known context window of a provider's model, if any. */
  contextWindow: (provider: string, model: string) => number | undefined;
  /** The allow-lists' verdict on a provider (absent: every provider); a refused target is not drawn at all. */
  allowedProvider?: (provider: string) => boolean;
  /**
   * False when the front door already knows a target has no credential (a managed provider without a
   * key, or not a built-in provider): it is skipped like an open circuit. Absent: every target may have one.
   */
  hasCredential?: (target: ReleaseTarget) => boolean;
  /** Why a provider cannot perform the request's operation (Anthropic has no embeddings), or undefined. */
  unsupported?: (provider: string) => string | undefined;
  /** A sticky release's key hash: the weighted order is the key's rendezvous order instead of draws of `random`. */
  stickyKeyHash?: string | null;
  /** True for a BYOC lane at its concurrency cap: skipped like an open circuit (the request overflows). */
  saturated?: (provider: string) => boolean;
  /**
   * Managed providers served through the Bifrost deployment: their managed targets have the one region
   * `bifrost` (BIFROST_REGION), so Bifrost's failures count toward circuits of their own, apart from the
   * provider's direct ones. Absent: none is.
   */
  viaBifrost?: (provider: string) => boolean;
  /**
   * Why a broader-coverage target (release target `coverage: bifrost_broader`) may not serve this request,
   * or undefined when it may; it is then left out before the weighted draw, like a refused provider.
   * Absent: such targets are judged like any other (only the front door marks them ineligible).
   */
  coverage?: (target: ReleaseTarget) => CoverageSkipReason | undefined;
  /**
   * True for a registered BYOC endpoint not yet activated (README "Replay-gated activation"): left out before
   * the draw, like a provider the allow-list refuses, so the other targets share its weight.
   */
  pending?: (provider: string) => boolean;
}

/** Why a broader-coverage target was left out (request-planning.ts `coverageIneligibility`). */
export type CoverageSkipReason = 'coverage_not_allowed' | 'bifrost_unavailable' | 'coverage_capability';

/** The region of every managed target the Bifrost deployment serves: its own circuits, apart from the provider's regions. */
export const BIFROST_REGION = 'bifrost';

export interface SkippedCandidate {
  targetIndex: number;
  provider: string;
  model: string;
  region: string;
  reason: 'circuit_open' | 'context_window' | 'not_allowed' | 'operation_unsupported' | 'no_credentials' | 'lane_saturated' | 'endpoint_pending'
    | CoverageSkipReason;
  /** Set for `no_credentials`: the target's execution profile (the message names where its credential comes from). */
  execution_profile?: ReleaseTarget['execution_profile'];
}

export interface AttemptPlan {
  candidates: PlannedAttempt[];
  skipped: SkippedCandidate[];
  /** The weighted (or sticky) pick before eligibility: the target the request was meant for first. */
  pick?: { targetIndex: number; target: ReleaseTarget };
}

/** The region of a provider that lists none. */
export const DEFAULT_REGION = 'default';

/** The circuit breaker's key for one provider, region and model. */
/**
 * The circuit of a provider's model in a region. A managed provider account is shared by every tenant,
 * and so is its circuit (`scope` null). A tenant's own key or endpoint (BYOK, BYOC, subscription) fails
 * for that tenant only: its circuit is the tenant's (`tenant:<id>|…`), so one tenant's broken key or
 * endpoint never opens a circuit for another tenant — endpoint ids are per tenant, and two tenants may
 * name theirs alike.
 */
export function circuitKey(provider: string, region: string, model: string, scope: string | null = null): string {
  const key = `${provider}|${region}|${model}`;
  return scope === null ? key : `${TENANT_CIRCUIT_PREFIX}${scope}|${key}`;
}

export const TENANT_CIRCUIT_PREFIX = 'tenant:';

/** Whose circuit a target's failures count toward: null (shared) for managed accounts, else the tenant's. */
export function circuitScope(executionProfile: string, tenantId: string | undefined): string | null {
  return executionProfile === 'managed_provider' || tenantId === undefined ? null : tenantId;
}

interface IndexedTarget {
  targetIndex: number;
  target: ReleaseTarget;
}

/**
 * Draws weighted targets one by one without replacement, each draw proportional to the weights
 * still in the pool: the first draw is the weighted first choice, the later draws order the
 * failovers so that heavier targets tend to come first without starving lighter ones.
 */
function weightedOrder(pool: IndexedTarget[], random: () => number): IndexedTarget[] {
  const remaining = [...pool];
  const ordered: IndexedTarget[] = [];
  while (remaining.length > 0) {
    const total = remaining.reduce((sum, entry) => sum + entry.target.weight, 0);
    const point = random() * total;
    let chosen = remaining.length - 1; // floating-point guard: a point at the very top falls on the last target
    let cumulative = 0;
    for (let index = 0; index < remaining.length; index += 1) {
      cumulative += remaining[index]!.target.weight;
      if (point < cumulative) {
        chosen = index;
        break;
      }
    }
    ordered.push(...remaining.splice(chosen, 1));
  }
  return ordered;
}

/**
 * Order: the weighted first choice (weights > 0, drawn with `random` in proportion to weight), then
 * the other weighted targets drawn the same way without replacement, then weight-0 standbys in
 * listed order; each target expanded over its provider's regions in order. Duplicated identical
 * targets are kept (each has its own `targetIndex`).
 *
 * Roles say why a candidate is in the plan and are assigned before eligibility: the first region of
 * the weighted pick is `primary`, every other weighted candidate `failover`, weight-0 candidates
 * `standby`. When the primary is skipped (open circuit, context window too small) the plan therefore
 * starts with a `failover`, and `skipped` says why. An empty `candidates` means no eligible target.
 */
export function buildAttemptPlan(release: ModelAliasRelease, context: PlanContext): AttemptPlan {
  const skipped: SkippedCandidate[] = [];
  const indexed = release.targets.map((target, targetIndex) => ({ targetIndex, target })).filter(({ targetIndex, target }) => {
    const where = { targetIndex, provider: target.provider, model: target.model, region: DEFAULT_REGION };
    if (context.unsupported?.(target.provider) !== undefined) {
      skipped.push({ ...where, reason: 'operation_unsupported' });
      return false;
    }
    const coverage = target.coverage === undefined ? undefined : context.coverage?.(target);
    if (coverage !== undefined) {
      skipped.push({ ...where, reason: coverage });
      return false;
    }
    if (context.allowedProvider && !context.allowedProvider(target.provider)) {
      skipped.push({ ...where, reason: 'not_allowed' });
      return false;
    }
    if (context.pending?.(target.provider) === true) {
      skipped.push({ ...where, reason: 'endpoint_pending' });
      return false;
    }
    return true;
  });
  const pool = indexed.filter((entry) => entry.target.weight > 0);
  const weighted = context.stickyKeyHash ? rendezvousOrder(pool, context.stickyKeyHash) : weightedOrder(pool, context.random);
  const standbys = indexed.filter((entry) => entry.target.weight <= 0);

  const candidates: PlannedAttempt[] = [];
  let first = true;
  for (const { targetIndex, target } of [...weighted, ...standbys]) {
    const standby = target.weight <= 0;
    const regions = target.execution_profile === 'managed_provider' && context.viaBifrost?.(target.provider) ? [BIFROST_REGION] : context.regions[target.provider];
    const window = context.contextWindow(target.provider, target.model);
    const tooSmall = window !== undefined && context.promptTokens !== undefined && window < context.promptTokens;
    const unconfigured = context.hasCredential ? !context.hasCredential(target) : false;
    const saturated = context.saturated?.(target.provider) === true;
    for (const region of regions && regions.length > 0 ? regions : [DEFAULT_REGION]) {
      const role: PlannedAttempt['role'] = standby ? 'standby' : first ? 'primary' : 'failover';
      first = false;
      const where = { targetIndex, provider: target.provider, model: target.model, region };
      if (unconfigured) {
        skipped.push({ ...where, reason: 'no_credentials', execution_profile: target.execution_profile });
      } else if (context.openCircuits.has(circuitKey(target.provider, region, target.model, circuitScope(target.execution_profile, context.tenantId)))) {
        skipped.push({ ...where, reason: 'circuit_open' });
      } else if (saturated) {
        skipped.push({ ...where, reason: 'lane_saturated' });
      } else if (tooSmall) {
        skipped.push({ ...where, reason: 'context_window' });
      } else {
        candidates.push({
          ...where, execution_profile: target.execution_profile, model_revision: target.model_revision, role,
          ...(target.coverage ? { coverage: target.coverage } : {}),
        });
      }
    }
  }
  const pick = weighted[0];
  return { candidates, skipped, ...(pick ? { pick: { targetIndex: pick.targetIndex, target: pick.target } } : {}) };
}

/** cyrb128: a fast 128-bit string hash, used only to seed the generator below (not cryptographic). */
function cyrb128(seed: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let index = 0; index < seed.length; index += 1) {
    const code = seed.charCodeAt(index);
    h1 = h2 ^ Math.imul(h1 ^ code, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ code, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ code, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ code, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * A small, fast, deterministic PRNG seeded from a string (e.g. the request id): same seed, same
 * sequence, on every worker and on every replay. cyrb128 seeds sfc32; values are in [0, 1).
 * Not for secrets.
 */
export function seededRandom(seed: string): () => number {
  let [a, b, c, d] = cyrb128(seed);
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // sfc32 mixes poorly in its first outputs for similar seeds: discard a few, as its authors advise.
  for (let index = 0; index < 12; index += 1) next();
  return next;
}

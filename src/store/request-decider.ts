/**
 * RequestDecider: everything a request needs decided before a workflow exists (DESIGN.md §4.1), from
 * per-process caches — the tenant's policy, the alias's live release, the open circuits — and, only
 * when the tenant or key has a limit, one admission round trip (lease, queue ticket or refusal). The
 * front door uses it for every request; a batch line's workflow uses it in its first local activity.
 */
import { aliasAllowed, providerAllowed, restrictsProviders, type AllowList } from '../domain/allow-list';
import type { ReleaseTarget } from '../domain/model-alias';
import type { MissingCredential } from '../domain/reason-code-errors';
import type { ReasonCode } from '../domain/reason-codes';
import type { PolicySnapshot, RequestDecision } from '../domain/request-decision';
import { hasAdmissionLimits, planRequest, policyRefusal, policySnapshot } from '../domain/request-planning';
import type { ChatRequestInput, PlannedAttempt } from '../domain/request-outcome';
import { withRoutingPolicy, type RoutingPolicy } from '../domain/routing-policy';
import { DEFAULT_POLICY_REVISION } from '../domain/model-alias';
import type { TenantPolicy } from '../domain/tenant-policy';
import type { AdmissionStore } from './admission-store';
import type { BudgetRepository } from './budget-repository';
import { budgetApplies, maxRequestCostUsd, type Budget } from '../domain/budget';
import { manifestFor } from '../domain/capabilities';
import type { PriceManifest } from '../domain/price-manifest';
import type { CircuitCache, ReleaseCache } from './hot-config';
import { TtlCache } from './ttl-cache';
import type { EndpointState, LaneLeaseStore } from './lane-lease-store';
import { drawsCanary, laneOf } from '../domain/request-planning';
import { stickyKeyOf } from '../domain/sticky-routing';
import type { ModelAliasRelease } from '../domain/model-alias';
import type { RoutingRecord } from '../domain/request-outcome';

export type DecideInput = Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'apiKeyId' | 'alias' | 'qosClass' | 'body' | 'bodyRef' | 'operation'>
  /** The pinned release, and when the request's deadline passes (a budget reservation or lane lease never recorded stops counting after it; unknown: a day from now). */
  & Partial<Pick<ChatRequestInput, 'pinnedReleaseId' | 'deadlineAt'>>;

/** What the front door knows of the HTTP request beyond its body: a session-sticky release reads its key from a header. */
export interface DecideContext {
  header(name: string): string | undefined;
}

export type DecideResult =
  /** `softBudgets`: the soft budgets already spent that this request was admitted past (it is flagged). */
  | { decision: RequestDecision; softBudgets?: string[] }
  /**
   * Refused before any attempt; `release` when the alias resolved (so the record names it);
   * `retryAfterSeconds` when waiting helps (a spent budget: until its period ends).
   */
  | { refusal: ReasonCode; policy: PolicySnapshot; release?: RequestDecision['release']; missing?: MissingCredential[]; retryAfterSeconds?: number };

/** What budget enforcement reports (metrics): a refusal by a hard budget, a soft one passed, each budget's committed share. */
export interface BudgetObserver {
  budgetRefused(budget: Budget): void;
  budgetSoftExceeded(budget: Budget): void;
  budgetUtilisationAt(budget: Budget, committedUsd: number): void;
}

export interface RequestDeciderDeps {
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  releases: ReleaseCache;
  circuits: CircuitCache;
  /** Regions per provider, preferred first (the provider directory's). */
  regions: (provider: string) => readonly string[];
  admission: Pick<AdmissionStore, 'tryAdmit' | 'release'>;
  /**
   * A key's allow-list by key id, for callers that have no authenticated principal (a batch line's
   * first activity); cached here for the keys' TTL (10 s), like the authenticator's cache.
   */
  keyAllowList?: (keyId: string) => Promise<AllowList | undefined>;
  /**
   * What is known without I/O about a target's credential: a managed provider has a key in the
   * environment (or not). BYOK and endpoint credentials are looked up by the attempt (no SQL here).
   */
  hasCredential?: (target: ReleaseTarget) => boolean;
  /**
   * Whether the Bifrost deployment serves a managed provider (ProviderDirectory.viaBifrost): its targets plan in the
   * region `bifrost` (their own circuits), and broader-coverage targets need it. Absent: no Bifrost.
   */
  viaBifrost?: (provider: string) => boolean;
  /** Loads a manifest revision into this process once (immutable; absent: the built-in manifest serves all). */
  manifests?: { load(revision: string): Promise<unknown> };
  /** A release's routing policy revision, cached per process (immutable; absent: releases' revisions are ignored). */
  routingPolicies?: { find(revision: string): Promise<{ policy: RoutingPolicy } | undefined> };
  /**
   * BYOC lanes: their endpoints' state (concurrency cap, pending activation) and lane leases (absent:
   * lanes are never saturated and never pending). Read only for releases that name a BYOC target, and cached.
   */
  lanes?: Pick<LaneLeaseStore, 'states' | 'tryTake' | 'release'>;
  /**
   * Budgets (issue 14): a tenant's budgets from a per-process cache; only a request that one applies
   * to reserves (one transaction). Absent: no budgets are enforced.
   */
  budgets?: Pick<BudgetRepository, 'ofTenant' | 'reserve' | 'release'>;
  /** The current price manifest: what a reservation is priced with. */
  prices?: { current(): Promise<PriceManifest> };
  budgetObserver?: BudgetObserver;
}

/** How long a lane lease outlives its request's deadline when its record never comes. */
const LANE_LEASE_GRACE_MS = 60_000;

export class RequestDecider {
  private readonly keyAllowLists = new TtlCache<string, AllowList | undefined>(10_000);
  /**
   * The state (cap, pending) of a release's BYOC endpoints, per tenant and set of endpoint ids (5 s, like
   * releases; the change feed drops an entry at once when one of its endpoints is registered or activated).
   */
  private readonly endpointStates = new TtlCache<string, Map<string, EndpointState>>(5_000);

  constructor(private readonly deps: RequestDeciderDeps) {}

  /**
   * `tenantPolicy` when the caller has already read it (the front door reads it for the QoS class);
   * `keyAllowList` when the caller holds the key (the front door's principal), else it is looked up.
   */
  /**
   * `context`: the HTTP request's headers (a session-sticky release reads its key there). `cached`: looks
   * the request up in the response cache once its release is resolved and the plan allowed (allow-lists,
   * eligible targets); a hit is answered with no budget reservation, admission or lane lease (it calls no
   * provider): `{ decision, cached }` with admission `none`.
   */
  async decide<Cached = never>(input: DecideInput, tenantPolicy?: TenantPolicy, keyAllowList?: AllowList, context?: DecideContext,
    cached?: (releaseId: string) => Promise<Cached | undefined>): Promise<DecideResult | { decision: RequestDecision; cached: Cached }> {
    tenantPolicy ??= await this.deps.policies.get(input.tenantId);
    const lists = [{ aliases: tenantPolicy.allowed_aliases, providers: tenantPolicy.allowed_providers }, keyAllowList ?? await this.keyAllowList(input.apiKeyId)];
    const snapshotOf = (effective: TenantPolicy): PolicySnapshot => {
      const snapshot = policySnapshot(effective, input.qosClass, input.alias, input.body.stream === true);
      // The bridge is a provider too: a list without openrouter never reaches it.
      return snapshot.allowBrokered && !providerAllowed(lists, 'openrouter') ? { ...snapshot, allowBrokered: false } : snapshot;
    };
    let policy = snapshotOf(tenantPolicy);
    const refused = policyRefusal(tenantPolicy, input.qosClass) ?? (aliasAllowed(lists, input.alias) ? undefined : 'rejected_allow_list');
    if (refused) return { refusal: refused, policy };
    const [chosen, circuits] = await Promise.all([this.chooseRelease(input, context), this.deps.circuits.get()]);
    if ('refusal' in chosen) return { refusal: chosen.refusal, policy };
    const { release } = chosen;
    if (release) {
      // Both immutable and cached per process: no SQL after a revision's first request here.
      await this.deps.manifests?.load(release.capability_manifest_revision);
      if (release.policy_revision !== DEFAULT_POLICY_REVISION && this.deps.routingPolicies) {
        const routing = await this.deps.routingPolicies.find(release.policy_revision);
        if (routing) policy = snapshotOf(withRoutingPolicy(tenantPolicy, routing.policy));
      }
    }
    const stickyKeyHash = release?.sticky ? stickyKeyOf(release.sticky, { body: input.body, header: (name) => context?.header(name) }) : null;
    const saturated = new Set<string>();
    // Only a release with BYOC targets looks its endpoints up (from the cache): a managed-only one costs nothing here.
    const byocIds = release ? byocEndpointIdsOf(release) : NO_IDS;
    const endpoints = byocIds.length > 0 ? await this.endpointsOf(input.tenantId, byocIds) : undefined;
    const pending = endpoints && [...endpoints.values()].some((state) => state.pending)
      ? (provider: string) => endpoints.get(provider)?.pending === true : undefined;
    const plan = () => planRequest(input, {
      release, policy, regions: (provider) => this.regions(provider), openCircuits: circuits.open,
      allowedProvider: restrictsProviders(lists) ? (provider) => providerAllowed(lists, provider) : undefined,
      hasCredential: this.deps.hasCredential, stickyKeyHash, saturated: (provider) => saturated.has(provider), pending,
      viaBifrost: this.deps.viaBifrost, broaderCoverage: tenantPolicy.allow_bifrost_broader_coverage,
    });
    let planned = plan();
    // A capped BYOC lane first in the plan takes a lease, or overflows: planned again without it, until a lane has room.
    while (!('refusal' in planned) && release && await this.laneFull(input, planned.plan[0], endpoints)) {
      saturated.add(planned.plan[0]!.provider);
      planned = plan();
    }
    const releaseRef = release && { id: release.id, capability_manifest_revision: release.capability_manifest_revision };
    if ('refusal' in planned) {
      const missing = planned.skipped?.map(({ execution_profile, provider }) => ({ execution_profile: execution_profile ?? 'managed_provider', provider }));
      return { refusal: planned.refusal, policy, release: releaseRef, ...(missing ? { missing } : {}) };
    }
    const routing: RoutingRecord = {
      release_id: release!.id, pinned: chosen.pinned, canary: chosen.canary,
      ...(chosen.liveReleaseId !== undefined ? { live_release_id: chosen.liveReleaseId, canary_weight: chosen.canaryWeight } : {}),
      ...(chosen.canaryKeyHash !== undefined ? { canary_key_hash: chosen.canaryKeyHash } : {}),
      ...(release!.sticky ? { sticky: { by: release!.sticky.by, key_hash: stickyKeyHash } } : {}),
      ...planned.lane,
    };
    const decision: RequestDecision = { release: releaseRef!, plan: planned.plan, skipped: planned.skipped, policy, admission: 'none', routing };
    // A lane lease the planning took goes back when nothing will be called (a cache hit) or the request is refused.
    const tookLane = saturated.size > 0 || laneOf(planned.plan[0]!.execution_profile) === 'byoc';
    const releaseLane = async () => { if (tookLane) await this.deps.lanes?.release(input.requestId); };
    const hit = cached ? await cached(release!.id) : undefined;
    if (hit !== undefined) {
      await releaseLane();
      return { decision, cached: hit };
    }
    const budgeted = await this.reserveBudget(input, planned.plan, release!.capability_manifest_revision);
    if ('refused' in budgeted) {
      await releaseLane();
      return { refusal: 'rejected_budget', policy, release: releaseRef, retryAfterSeconds: budgeted.refused.retryAfterSeconds };
    }
    const softBudgets = budgeted.softBudgets.length > 0 ? { softBudgets: budgeted.softBudgets } : {};
    if (!hasAdmissionLimits(tenantPolicy)) return { decision, ...softBudgets };

    const { limits } = tenantPolicy;
    const admitted = await this.deps.admission.tryAdmit({
      requestId: input.requestId, tenantId: input.tenantId, apiKeyId: input.apiKeyId, priority: policy.qos.priority,
      leaseMs: policy.leaseMs, queue: policy.qos.maxQueueWaitMs > 0,
      limits: {
        tenantConcurrency: limits.concurrency, keyConcurrency: limits.key_concurrency,
        tenantRequestsPerMinute: limits.requests_per_minute, keyRequestsPerMinute: limits.key_requests_per_minute,
        maxQueueLength: limits.max_queue,
      },
    });
    if (admitted.state === 'rejected') {
      await releaseLane();
      if (budgeted.reserved) await this.deps.budgets!.release(input.requestId);
      return { refusal: admitted.reason, policy, release: releaseRef };
    }
    if (admitted.state === 'queued') return { decision: { ...decision, admission: 'queued', position: admitted.position }, ...softBudgets };
    return { decision: { ...decision, admission: 'leased' }, ...softBudgets };
  }

  /** Forget the cached state of one endpoint (every tenant's of that id: the feed names the id), or of all. */
  forgetLanes(endpointId?: string): void {
    if (endpointId === undefined) this.endpointStates.invalidate();
    else this.endpointStates.invalidateWhere((key) => key.slice(key.indexOf('\u0000') + 1).split('\u0000').includes(endpointId));
  }

  /** The state of a release's BYOC endpoints (`ids`: byocEndpointIdsOf; undefined without a lane store). */
  private async endpointsOf(tenantId: string, ids: readonly string[]): Promise<Map<string, EndpointState> | undefined> {
    const lanes = this.deps.lanes;
    if (!lanes) return undefined;
    return this.endpointStates.get(`${tenantId}\u0000${ids.join('\u0000')}`, () => lanes.states(tenantId, ids));
  }

  /** Give back what the decision took (admission lease or ticket, BYOC lane, budget reservation) when its workflow could not be started. */
  async release(requestId: string): Promise<void> {
    await Promise.all([this.deps.admission.release(requestId), this.deps.lanes?.release(requestId), this.deps.budgets?.release(requestId)]);
  }

  /**
   * The release a request runs on: the pinned one (`model: "alias@alr_…"`: it must be a release of that
   * alias the tenant may read, retired ones included), else the live one or — for the canary's share of
   * requests — the canary's candidate. The canary draw is seeded with the sticky key when the live
   * release is sticky (a session stays on one side of the split), else with the request id.
   */
  private async chooseRelease(input: DecideInput, context: DecideContext | undefined): Promise<
    { refusal: 'unknown_release' | 'release_alias_mismatch' }
    | { release: ModelAliasRelease | undefined; pinned: boolean; canary: boolean; liveReleaseId?: string; canaryWeight?: number; canaryKeyHash?: string }> {
    if (input.pinnedReleaseId) {
      const pinned = await this.deps.releases.pinned(input.tenantId, input.pinnedReleaseId);
      if (!pinned) return { refusal: 'unknown_release' };
      if (pinned.alias !== input.alias) return { refusal: 'release_alias_mismatch' };
      return { release: pinned, pinned: true, canary: false };
    }
    const routing = await this.deps.releases.resolve(input.tenantId, input.alias);
    if (!routing?.canary) return { release: routing?.live, pinned: false, canary: false };
    const { live, canary } = routing;
    const key = live.sticky ? stickyKeyOf(live.sticky, { body: input.body, header: (name) => context?.header(name) }) : null;
    const drawn = drawsCanary(key ?? input.requestId, canary.weight);
    return {
      release: drawn ? canary.release : live, pinned: false, canary: drawn, liveReleaseId: live.id, canaryWeight: canary.weight,
      ...(key !== null ? { canaryKeyHash: key } : {}),
    };
  }

  /** True when `first` is a capped BYOC lane with no free slot; otherwise a slot is taken for the request (if capped). */
  private async laneFull(input: DecideInput, first: { execution_profile: string; provider: string } | undefined,
    endpoints: Map<string, EndpointState> | undefined): Promise<boolean> {
    if (!this.deps.lanes || !first || laneOf(first.execution_profile) !== 'byoc') return false;
    const lanes = this.deps.lanes;
    const cap = endpoints?.get(first.provider)?.maxConcurrency ?? null;
    if (cap === null) return false;
    return !(await lanes.tryTake(input.tenantId, first.provider, input.requestId, cap, (input.deadlineAt ?? Date.now() + 600_000) + LANE_LEASE_GRACE_MS));
  }

  /**
   * The budgets that apply to this key and alias, from the per-process cache (none: no I/O at all);
   * when some do, the request's maximum cost is reserved against them in one transaction.
   */
  private async reserveBudget(input: DecideInput, plan: readonly PlannedAttempt[], manifestRevision: string):
    Promise<{ refused: { retryAfterSeconds: number } } | { reserved: boolean; softBudgets: string[] }> {
    const { budgets: store, prices } = this.deps;
    if (!store || !prices) return { reserved: false, softBudgets: [] };
    const applicable = (await store.ofTenant(input.tenantId)).filter((budget) => budgetApplies(budget, input.apiKeyId, input.alias));
    if (applicable.length === 0) return { reserved: false, softBudgets: [] };
    const capabilities = manifestFor(manifestRevision);
    const amountUsd = maxRequestCostUsd(input.body, plan, await prices.current(), capabilities, capabilities, input.operation);
    const reserved = await store.reserve({ requestId: input.requestId, budgets: applicable, amountUsd, expiresAt: input.deadlineAt ?? Date.now() + 24 * 3_600_000 });
    const observer = this.deps.budgetObserver;
    if (!reserved.admitted) {
      observer?.budgetRefused(reserved.budget);
      return { refused: { retryAfterSeconds: reserved.retryAfterSeconds } };
    }
    for (const { budget, committedUsd } of reserved.utilisation) observer?.budgetUtilisationAt(budget, committedUsd);
    for (const budget of reserved.softExceeded) observer?.budgetSoftExceeded(budget);
    return { reserved: true, softBudgets: reserved.softExceeded.map((budget) => budget.id) };
  }

  private async keyAllowList(keyId: string): Promise<AllowList | undefined> {
    const lookup = this.deps.keyAllowList;
    if (!lookup || !keyId) return undefined;
    return this.keyAllowLists.get(keyId, lookup);
  }

  private regions(provider: string): readonly string[] {
    try {
      return this.deps.regions(provider);
    } catch {
      return ['default']; // a tenant's own endpoint (registered through the API) has one region
    }
  }
}

const NO_IDS: readonly string[] = Object.freeze([]);
/** Releases are immutable: each one's BYOC endpoint ids (sorted, distinct) are worked out once, not on every request. */
const byocIdsByRelease = new WeakMap<ModelAliasRelease, readonly string[]>();
function byocEndpointIdsOf(release: ModelAliasRelease): readonly string[] {
  let ids = byocIdsByRelease.get(release);
  if (!ids) {
    const found = [...new Set(release.targets.filter((target) => laneOf(target.execution_profile) === 'byoc').map((target) => target.provider))].sort();
    ids = found.length === 0 ? NO_IDS : Object.freeze(found);
    byocIdsByRelease.set(release, ids);
  }
  return ids;
}

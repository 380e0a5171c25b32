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

export type DecideInput = Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'apiKeyId' | 'alias' | 'qosClass' | 'body' | 'bodyRef' | 'operation'>
  /** When the request's deadline passes (a budget reservation never recorded stops counting after it); unknown: a day from now. */
  & Partial<Pick<ChatRequestInput, 'deadlineAt'>>;

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
  /** Loads a manifest revision into this process once (immutable; absent: the built-in manifest serves all). */
  manifests?: { load(revision: string): Promise<unknown> };
  /** A release's routing policy revision, cached per process (immutable; absent: releases' revisions are ignored). */
  routingPolicies?: { find(revision: string): Promise<{ policy: RoutingPolicy } | undefined> };
  /**
   * Budgets (issue 14): a tenant's budgets from a per-process cache; only a request that one applies
   * to reserves (one transaction). Absent: no budgets are enforced.
   */
  budgets?: Pick<BudgetRepository, 'ofTenant' | 'reserve' | 'release'>;
  /** The current price manifest: what a reservation is priced with. */
  prices?: { current(): Promise<PriceManifest> };
  budgetObserver?: BudgetObserver;
}

export class RequestDecider {
  private readonly keyAllowLists = new TtlCache<string, AllowList | undefined>(10_000);

  constructor(private readonly deps: RequestDeciderDeps) {}

  /**
   * `tenantPolicy` when the caller has already read it (the front door reads it for the QoS class);
   * `keyAllowList` when the caller holds the key (the front door's principal), else it is looked up.
   */
  /**
   * `cached`: looks the request up in the response cache once its release is resolved and the plan
   * allowed (allow-lists, eligible targets); a hit is answered with no budget reservation and no
   * admission lease (it calls no provider): `{ decision, cached }` with admission `none`.
   */
  async decide<Cached = never>(input: DecideInput, tenantPolicy?: TenantPolicy, keyAllowList?: AllowList,
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
    const [release, circuits] = await Promise.all([this.deps.releases.get(input.tenantId, input.alias), this.deps.circuits.get()]);
    if (release) {
      // Both immutable and cached per process: no SQL after a revision's first request here.
      await this.deps.manifests?.load(release.capability_manifest_revision);
      if (release.policy_revision !== DEFAULT_POLICY_REVISION && this.deps.routingPolicies) {
        const routing = await this.deps.routingPolicies.find(release.policy_revision);
        if (routing) policy = snapshotOf(withRoutingPolicy(tenantPolicy, routing.policy));
      }
    }
    const planned = planRequest(input, {
      release, policy, regions: (provider) => this.regions(provider), openCircuits: circuits.open,
      allowedProvider: restrictsProviders(lists) ? (provider) => providerAllowed(lists, provider) : undefined,
      hasCredential: this.deps.hasCredential,
    });
    const releaseRef = release && { id: release.id, capability_manifest_revision: release.capability_manifest_revision };
    if ('refusal' in planned) {
      const missing = planned.skipped?.map(({ execution_profile, provider }) => ({ execution_profile: execution_profile ?? 'managed_provider', provider }));
      return { refusal: planned.refusal, policy, release: releaseRef, ...(missing ? { missing } : {}) };
    }
    const decision: RequestDecision = { release: releaseRef!, plan: planned.plan, skipped: planned.skipped, policy, admission: 'none' };
    const hit = cached ? await cached(release!.id) : undefined;
    if (hit !== undefined) return { decision, cached: hit };
    const budgeted = await this.reserveBudget(input, planned.plan, release!.capability_manifest_revision);
    if ('refused' in budgeted) {
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
      if (budgeted.reserved) await this.deps.budgets!.release(input.requestId);
      return { refusal: admitted.reason, policy, release: releaseRef };
    }
    if (admitted.state === 'queued') return { decision: { ...decision, admission: 'queued', position: admitted.position }, ...softBudgets };
    return { decision: { ...decision, admission: 'leased' }, ...softBudgets };
  }

  /** Give back a lease or ticket and a budget reservation the decision took, when its workflow could not be started. */
  async release(requestId: string): Promise<void> {
    await Promise.all([this.deps.admission.release(requestId), this.deps.budgets?.release(requestId)]);
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

/**
 * Per-process caches the request path decides from (DESIGN.md §4.1): the aliases' live releases and
 * the set of open circuits. Staleness is bounded twice: the `zumik_config` feed (ConfigFeed) drops an
 * entry as soon as any process changes it, and each entry also expires after its TTL — the bound that
 * holds while the feed is down (releases 5 s, circuits 1 s). An open circuit also leaves the set at its
 * `open_until` (it turns half-open without any write to announce it).
 */
import type { ModelAliasRelease } from '../domain/model-alias';
import type { AliasRouting } from './model-alias-repository';
import type { FailureKind } from '../domain/failure-kinds';
import type { CircuitBreakerStore } from './circuit-breaker-store';
import { TtlCache } from './ttl-cache';

/**
 * What a tenant resolves for an alias (its own live release, else the shared one, and that owner's
 * canary), per tenant and alias; and releases by id for pinned requests (`model: "alias@alr_…"`).
 */
export class ReleaseCache {
  private readonly entries: TtlCache<string, AliasRouting | undefined>;
  private readonly byId: TtlCache<string, ModelAliasRelease | undefined>;

  constructor(private readonly aliases: {
    findRouting(tenantId: string | null, alias: string): Promise<AliasRouting | undefined>;
    findById(id: string, viewer: string): Promise<ModelAliasRelease | undefined>;
  }, ttlMs = 5_000) {
    this.entries = new TtlCache(ttlMs);
    this.byId = new TtlCache(ttlMs);
  }

  async get(tenantId: string, alias: string): Promise<ModelAliasRelease | undefined> {
    return (await this.resolve(tenantId, alias))?.live;
  }

  /** The live release and the canary's candidate of an alias, as a tenant resolves them. */
  resolve(tenantId: string, alias: string): Promise<AliasRouting | undefined> {
    return this.entries.get(`${tenantId}\u0000${alias}`, () => this.aliases.findRouting(tenantId, alias));
  }

  /** A release by id when the tenant may read it (its own or a shared one); its content is immutable. */
  pinned(tenantId: string, id: string): Promise<ModelAliasRelease | undefined> {
    return this.byId.get(`${tenantId}\u0000${id}`, () => this.aliases.findById(id, tenantId));
  }

  /** Forget one alias for every tenant (a shared release changes what all of them resolve), or all. */
  invalidate(alias?: string): void {
    if (alias === undefined) {
      this.entries.invalidate();
      this.byId.invalidate();
    } else {
      this.entries.invalidateWhere((key) => key.slice(key.indexOf('\u0000') + 1) === alias);
    }
  }
}

export interface CircuitView {
  /** Keys the plan skips now: open circuits, and half-open ones whose probe slots are all taken. */
  open: ReadonlySet<string>;
  /** Keys with counted failures or an opening: a success on one of them must be reported (it resets them). */
  dirty: ReadonlySet<string>;
}

export class CircuitCache {
  private current?: CircuitView & { expiresAt: number };
  private refreshing?: Promise<CircuitView>;
  private generation = 0;

  constructor(private readonly circuits: { snapshot(): Promise<{ skip: Map<string, number | null>; dirty: Set<string> }> }, private readonly ttlMs = 1_000) {}

  /** At most the TTL old. One query per TTL per process, shared by concurrent callers. */
  async get(): Promise<CircuitView> {
    if (this.current && this.current.expiresAt > Date.now()) return this.current;
    this.refreshing ??= this.refresh().finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  invalidate(): void {
    this.current = undefined;
    this.generation += 1;
  }

  private async refresh(): Promise<CircuitView> {
    const generation = this.generation;
    const started = Date.now();
    const snapshot = await this.circuits.snapshot();
    let expiresAt = started + this.ttlMs;
    for (const remainingMs of snapshot.skip.values()) if (remainingMs !== null) expiresAt = Math.min(expiresAt, started + remainingMs);
    const view = { open: new Set(snapshot.skip.keys()), dirty: snapshot.dirty };
    // A change announced while this query ran may not be in its answer: use it once, do not keep it.
    if (generation === this.generation) this.current = { ...view, expiresAt };
    return view;
  }
}

/**
 * The attempt's circuit checks and reports through the cache: only a key with counted failures or an
 * opening (seen by any process within the cache's TTL — an opening is announced at once — or by this
 * one since) is asked at call time (`tryAcquireProbe`) and reset on success, so the common case — a
 * healthy target — costs no round trip.
 */
export function circuitRecorder(store: Pick<CircuitBreakerStore, 'recordSuccess' | 'recordFailure' | 'tryAcquireProbe' | 'releaseProbe'>,
  cache: CircuitCache) {
  const failedHere = new Set<string>();
  return {
    async guarded(key: string): Promise<boolean> {
      return failedHere.has(key) || (await cache.get()).dirty.has(key);
    },
    tryAcquireProbe: (key: string) => store.tryAcquireProbe(key),
    releaseProbe: (key: string, probeId: string) => store.releaseProbe(key, probeId),
    async recordSuccess(key: string): Promise<unknown> {
      failedHere.delete(key);
      return store.recordSuccess(key);
    },
    async recordFailure(key: string, kind: FailureKind): Promise<unknown> {
      failedHere.add(key);
      return store.recordFailure(key, kind);
    },
  };
}

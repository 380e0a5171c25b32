/**
 * A bounded per-process cache whose entries live for a TTL (the bound on staleness while the change
 * feed is down) and can be dropped at once (the feed says the entry changed). The request path's
 * releases and tenant policies use it. Oldest entries go first when full.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(private readonly ttlMs: number, private readonly maxEntries = 10_000, private readonly now: () => number = Date.now) {}

  /** The cached value, or `load`'s (cached for the TTL). */
  async get(key: K, load: (key: K) => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.value;
    const value = await load(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    return value;
  }

  /** Forget one key (it changed), or all. */
  invalidate(key?: K): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  /** Forget every key that matches (one change that several keys depend on). */
  invalidateWhere(matches: (key: K) => boolean): void {
    for (const key of this.entries.keys()) if (matches(key)) this.entries.delete(key);
  }
}

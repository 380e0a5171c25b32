/**
 * Tenant policies. The JSON is stored as the admin wrote it and parsed (defaults applied) when read,
 * so a default Zumik changes later reaches every tenant that did not set that field. `get` is on the
 * request hot path, so it is cached per process: a change made through another process reaches this
 * one at once over the `zumik_config` feed (ConfigFeed), and within the TTL while the feed is down.
 */
import type { Pool } from 'pg';
import { TtlCache } from './ttl-cache';
import { DEFAULT_TENANT_POLICY, parseTenantPolicy, type TenantPolicy, type TenantPolicyInput } from '../domain/tenant-policy';

export interface StoredTenantPolicy {
  tenantId: string;
  policy: TenantPolicy;
  /** The policy as it was written (`{}` when none is stored). */
  written: Record<string, unknown>;
  /** null for a tenant that has no stored policy (the defaults). */
  updatedAt: Date | null;
}

export interface TenantPolicyRepositoryOptions {
  /** How long `get` trusts its cache. */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export class TenantPolicyRepository {
  private readonly cache: TtlCache<string, TenantPolicy>;

  constructor(private readonly pool: Pool, options: TenantPolicyRepositoryOptions = {}) {
    this.cache = new TtlCache(options.ttlMs ?? 5_000, options.maxEntries ?? 10_000, options.now ?? Date.now);
  }

  /** The tenant's effective policy (DEFAULT_TENANT_POLICY when none is stored), cached for the TTL. */
  get(tenantId: string): Promise<TenantPolicy> {
    return this.cache.get(tenantId, async (key) => (await this.find(key)).policy);
  }

  /** Forget a tenant's cached policy (it changed in another process), or every tenant's. */
  invalidate(tenantId?: string): void {
    this.cache.invalidate(tenantId);
  }

  /** The stored policy with defaults applied, read from Postgres (no cache). */
  async find(tenantId: string): Promise<StoredTenantPolicy> {
    const result = await this.pool.query<{ policy: unknown; updated_at: Date }>(
      'SELECT policy, updated_at FROM tenant_policies WHERE tenant_id = $1', [tenantId]);
    const row = result.rows[0];
    if (!row) return { tenantId, policy: DEFAULT_TENANT_POLICY, written: {}, updatedAt: null };
    return { tenantId, policy: parseTenantPolicy(row.policy), written: (row.policy ?? {}) as Record<string, unknown>, updatedAt: row.updated_at };
  }

  /** Replace the tenant's policy; throws the ZodError of an invalid one before anything is written. */
  async put(tenantId: string, input: TenantPolicyInput): Promise<StoredTenantPolicy> {
    const policy = parseTenantPolicy(input);
    await this.pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [tenantId]);
    const result = await this.pool.query<{ updated_at: Date }>(
      `INSERT INTO tenant_policies (tenant_id, policy) VALUES ($1, $2::jsonb)
       ON CONFLICT (tenant_id) DO UPDATE SET policy = EXCLUDED.policy, updated_at = now()
       RETURNING updated_at`,
      [tenantId, JSON.stringify(input ?? {})]);
    this.cache.invalidate(tenantId);
    return { tenantId, policy, written: { ...(input ?? {}) } as Record<string, unknown>, updatedAt: result.rows[0]!.updated_at };
  }
}

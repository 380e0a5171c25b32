/**
 * Routing policy revisions in Postgres (issue 10): immutable `pol_…` JSON owned by a tenant or shared
 * (tenant null, the operator's). Immutable, so each process keeps those it has read.
 */
import type { Pool } from 'pg';
import type { RoutingPolicy } from '../domain/routing-policy';
import { newPolicyRevision } from '../ids';

export interface StoredRoutingPolicy { revision: string; tenantId: string | null; policy: RoutingPolicy; createdAt: number }

interface PolicyRow { revision: string; tenant_id: string | null; policy: RoutingPolicy; created_at: Date }

const toStored = (row: PolicyRow): StoredRoutingPolicy =>
  ({ revision: row.revision, tenantId: row.tenant_id, policy: row.policy, createdAt: Math.floor(row.created_at.getTime() / 1000) });

export class RoutingPolicyRepository {
  /** Revisions read in this process; null for one the store lacks (ids are minted here, so it never appears later). */
  private readonly cache = new Map<string, StoredRoutingPolicy | null>();

  constructor(private readonly pool: Pool) {}

  async install(policy: RoutingPolicy, tenantId: string | null): Promise<StoredRoutingPolicy> {
    if (tenantId !== null) await this.pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [tenantId]);
    const result = await this.pool.query<PolicyRow>(
      'INSERT INTO routing_policies (revision, tenant_id, policy) VALUES ($1, $2, $3) RETURNING revision, tenant_id, policy, created_at',
      [newPolicyRevision(), tenantId, JSON.stringify(policy)]);
    const stored = toStored(result.rows[0]!);
    this.cache.set(stored.revision, stored);
    return stored;
  }

  /** A revision any owner's (from memory after the first read in this process). */
  async find(revision: string): Promise<StoredRoutingPolicy | undefined> {
    const cached = this.cache.get(revision);
    if (cached !== undefined) return cached ?? undefined;
    const result = await this.pool.query<PolicyRow>('SELECT revision, tenant_id, policy, created_at FROM routing_policies WHERE revision = $1', [revision]);
    const stored = result.rows[0] && toStored(result.rows[0]);
    this.cache.set(revision, stored ?? null);
    return stored;
  }

  /** A revision `viewer` may use: shared ones, its own, every one for `all` (the operator). */
  async findVisible(revision: string, viewer: string | null | 'all'): Promise<StoredRoutingPolicy | undefined> {
    const stored = await this.find(revision);
    if (!stored || viewer === 'all' || stored.tenantId === null || stored.tenantId === viewer) return stored;
    return undefined;
  }

  async list(viewer: string | null | 'all'): Promise<StoredRoutingPolicy[]> {
    const result = await this.pool.query<PolicyRow>(
      `SELECT revision, tenant_id, policy, created_at FROM routing_policies
       WHERE $1::boolean OR tenant_id IS NULL OR tenant_id = $2 ORDER BY created_at, revision`, [viewer === 'all', viewer === 'all' ? null : viewer]);
    return result.rows.map(toStored);
  }
}

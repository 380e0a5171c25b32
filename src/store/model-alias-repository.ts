/**
 * Alias releases in Postgres. Installing is one transaction under a per-alias advisory lock: the
 * previous active release is retired and the new one inserted, so concurrent installs on one alias
 * serialise and never leave two active releases (a partial unique index backs this up).
 *
 * Ownership: a release belongs to a tenant, or (tenant null) is shared by every tenant — the
 * operator's catalogue. A tenant sees the shared releases and its own; its own release of an alias
 * shadows the shared one for that tenant only. Another tenant's releases are invisible (not found).
 */
import type { Pool } from 'pg';
import {
  DEFAULT_CAPABILITY_MANIFEST_REVISION, DEFAULT_POLICY_REVISION, type InstallReleaseInput, type ModelAliasRelease, type ReleaseTarget,
} from '../domain/model-alias';
import { newReleaseId } from '../ids';
import { CapabilityManifestRepository } from './capability-manifest-repository';
import { RoutingPolicyRepository } from './routing-policy-repository';

interface ReleaseRow {
  id: string;
  alias: string;
  status: 'active' | 'retired';
  policy_revision: string;
  capability_manifest_revision: string;
  targets: ReleaseTarget[];
  min_context_window: number | null;
  created_at: Date;
}

const COLUMNS = 'id, alias, status, policy_revision, capability_manifest_revision, targets, min_context_window, created_at';

/** Thrown by `install` when the alias is frozen for that owner (the route answers 409). */
export class AliasFrozenError extends Error {
  constructor(readonly alias: string) {
    super(`The model alias '${alias}' is frozen: unfreeze it before installing a new release.`);
    this.name = 'AliasFrozenError';
  }
}

function toRelease(row: ReleaseRow): ModelAliasRelease {
  return {
    id: row.id,
    object: 'model_alias_release',
    alias: row.alias,
    status: row.status,
    policy_revision: row.policy_revision,
    capability_manifest_revision: row.capability_manifest_revision,
    targets: row.targets.map((target) => ({
      execution_profile: target.execution_profile, provider: target.provider, model: target.model,
      model_revision: target.model_revision, weight: target.weight,
    })),
    ...(row.min_context_window !== null ? { min_context_window: row.min_context_window } : {}),
    created_at: Math.floor(row.created_at.getTime() / 1000),
  };
}

/** Whose releases a call sees: a tenant (its own and the shared ones), only the shared ones (null), or every release (`all`: the operator's reads by id). */
export type ReleaseViewer = string | null | 'all';

/** A tenant id, or null for the shared namespace; tenant ids never contain a NUL, so this key is unambiguous. */
const ownerKey = (tenantId: string | null) => tenantId ?? '';

export class ModelAliasRepository {
  /** The revisions a release names: capability manifests and routing policies (same database). */
  readonly manifests: CapabilityManifestRepository;
  readonly routingPolicies: RoutingPolicyRepository;

  constructor(private readonly pool: Pool) {
    this.manifests = new CapabilityManifestRepository(pool);
    this.routingPolicies = new RoutingPolicyRepository(pool);
  }

  /** Whether `provider` is a registered endpoint id of the owning tenant (shared releases: of any tenant). */
  async isEndpoint(tenantId: string | null, provider: string): Promise<boolean> {
    const result = await this.pool.query('SELECT 1 FROM byoc_endpoints WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2) LIMIT 1', [provider, tenantId]);
    return (result.rowCount ?? 0) > 0;
  }

  async isFrozen(tenantId: string | null, alias: string): Promise<boolean> {
    const result = await this.pool.query('SELECT 1 FROM model_alias_freezes WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Freeze (or unfreeze) an owner's alias: while frozen, installs are refused and the live release stays.
   * Under the install's advisory lock, so an install racing a freeze either lands before it or is refused.
   */
  async setFrozen(tenantId: string | null, alias: string, frozen: boolean): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model_alias:${ownerKey(tenantId)}:${alias}`]);
      await client.query(frozen
        ? 'INSERT INTO model_alias_freezes (owner, alias) VALUES ($1, $2) ON CONFLICT DO NOTHING'
        : 'DELETE FROM model_alias_freezes WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The live releases a tenant resolves (its own shadowing shared ones), or the shared ones (`null`), sorted by alias. */
  async listActive(tenantId: string | null = null): Promise<ModelAliasRelease[]> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT DISTINCT ON (alias) ${COLUMNS} FROM model_alias_releases
       WHERE status = 'active' AND (tenant_id IS NULL OR tenant_id = $1) ORDER BY alias, tenant_id NULLS LAST`, [tenantId]);
    return result.rows.map(toRelease);
  }

  /** The live release a tenant's request for `alias` resolves: its own, else the shared one (`null`: shared only). */
  async findActive(tenantId: string | null, alias: string): Promise<ModelAliasRelease | undefined> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT ${COLUMNS} FROM model_alias_releases WHERE alias = $1 AND status = 'active' AND (tenant_id IS NULL OR tenant_id = $2)
       ORDER BY tenant_id NULLS LAST LIMIT 1`, [alias, tenantId]);
    return result.rows[0] && toRelease(result.rows[0]);
  }

  /** The live release of `alias` owned by exactly this owner (a tenant's own, or the shared one for `null`). */
  async findOwnActive(tenantId: string | null, alias: string): Promise<ModelAliasRelease | undefined> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT ${COLUMNS} FROM model_alias_releases WHERE alias = $1 AND status = 'active' AND tenant_id IS NOT DISTINCT FROM $2`, [alias, tenantId]);
    return result.rows[0] && toRelease(result.rows[0]);
  }

  /** A release by id, when `viewer` may see it (another tenant's is undefined, as if it did not exist). */
  async findById(id: string, viewer: ReleaseViewer = 'all'): Promise<ModelAliasRelease | undefined> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT ${COLUMNS} FROM model_alias_releases WHERE id = $1 AND ($2::boolean OR tenant_id IS NULL OR tenant_id = $3)`,
      [id, viewer === 'all', viewer === 'all' ? null : viewer]);
    return result.rows[0] && toRelease(result.rows[0]);
  }

  /** The history, newest first, of the alias as `tenantId` resolves it: its own releases if it has any, else the shared ones. */
  async history(tenantId: string | null, alias: string): Promise<ModelAliasRelease[]> {
    const result = await this.pool.query<ReleaseRow & { tenant_id: string | null }>(
      `SELECT ${COLUMNS}, tenant_id FROM model_alias_releases WHERE alias = $1 AND (tenant_id IS NULL OR tenant_id = $2) ORDER BY seq DESC`,
      [alias, tenantId]);
    const own = result.rows.filter((row) => row.tenant_id !== null);
    return (own.length > 0 ? own : result.rows).map(toRelease);
  }

  /** Install a new immutable release of `alias` for a tenant (or shared: `null`), retiring that owner's active one. */
  async install(alias: string, input: InstallReleaseInput, tenantId: string | null = null): Promise<ModelAliasRelease> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (tenantId !== null) await client.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [tenantId]);
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model_alias:${ownerKey(tenantId)}:${alias}`]);
      const frozen = await client.query('SELECT 1 FROM model_alias_freezes WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
      if ((frozen.rowCount ?? 0) > 0) throw new AliasFrozenError(alias);
      await client.query(
        `UPDATE model_alias_releases SET status = 'retired', retired_at = now()
         WHERE alias = $1 AND status = 'active' AND tenant_id IS NOT DISTINCT FROM $2`, [alias, tenantId]);
      const result = await client.query<ReleaseRow>(
        `INSERT INTO model_alias_releases (id, alias, status, policy_revision, capability_manifest_revision, targets, tenant_id, min_context_window)
         VALUES ($1, $2, 'active', $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [newReleaseId(), alias, input.policy_revision ?? DEFAULT_POLICY_REVISION,
          input.capability_manifest_revision ?? DEFAULT_CAPABILITY_MANIFEST_REVISION, JSON.stringify(input.targets), tenantId,
          input.min_context_window ?? null]);
      await client.query('COMMIT');
      return toRelease(result.rows[0]!);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

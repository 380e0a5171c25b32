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
  type StickyRouting,
} from '../domain/model-alias';
import type { EndpointFacts } from '../domain/one-scheduler';
import { newReleaseId } from '../ids';
import { CapabilityManifestRepository } from './capability-manifest-repository';
import { RoutingPolicyRepository } from './routing-policy-repository';
import { inTransaction } from './transaction';

interface ReleaseRow {
  id: string;
  alias: string;
  status: 'active' | 'retired';
  policy_revision: string;
  capability_manifest_revision: string;
  targets: ReleaseTarget[];
  min_context_window: number | null;
  sticky: StickyRouting | null;
  copied_from: string | null;
  created_at: Date;
}

const COLUMNS = 'id, alias, status, policy_revision, capability_manifest_revision, targets, min_context_window, sticky, copied_from, created_at';

/** An alias's canary: `weight` percent of its requests go to the candidate release. */
export interface AliasCanary {
  release_id: string;
  weight: number;
  created_at: number;
}

/** What a request for an alias resolves: the live release and, when the alias has one, its canary's candidate. */
export interface AliasRouting {
  live: ModelAliasRelease;
  canary?: { release: ModelAliasRelease; weight: number };
}

/** A BYOC target's activation recorded beside a release. */
export interface ReleaseActivation {
  endpoint_id: string;
  report_id: string | null;
  override: boolean;
  reason: string | null;
  activated_by: string | null;
  activated_at: number;
}

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
      model_revision: target.model_revision, weight: target.weight, ...(target.coverage ? { coverage: target.coverage } : {}),
    })),
    ...(row.min_context_window !== null ? { min_context_window: row.min_context_window } : {}),
    ...(row.sticky !== null ? { sticky: row.sticky } : {}),
    ...(row.copied_from !== null ? { copied_from: row.copied_from } : {}),
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

  /**
   * The registered endpoints among `providers` that a release of this owner may name (shared releases:
   * any tenant's), with what the one-scheduler check needs; a `replica_of` names its picker, which is
   * looked up too.
   */
  async endpointFacts(tenantId: string | null, providers: readonly string[]): Promise<Map<string, EndpointFacts>> {
    const facts = new Map<string, EndpointFacts>();
    let wanted = [...new Set(providers)];
    for (let round = 0; round < 2 && wanted.length > 0; round += 1) {
      const result = await this.pool.query<{ id: string; profile: string; base_url: string; replica_of: string | null }>(
        `SELECT DISTINCT ON (id) id, profile, base_url, metadata ->> 'replica_of' AS replica_of FROM byoc_endpoints
         WHERE id = ANY($1::text[]) AND ($2::text IS NULL OR tenant_id = $2) ORDER BY id, tenant_id`, [wanted, tenantId]);
      for (const row of result.rows) {
        facts.set(row.id, { id: row.id, profile: row.profile, baseUrl: row.base_url, ...(row.replica_of ? { replicaOf: row.replica_of } : {}) });
      }
      wanted = result.rows.map((row) => row.replica_of).filter((id): id is string => id !== null && !facts.has(id));
    }
    return facts;
  }

  /**
   * The releases a tenant's requests may run on that name `endpointId` as a target's provider: the live releases
   * of the tenant and of the shared catalogue, and the candidates of their canaries. One query (jsonb containment).
   */
  async releasesNaming(tenantId: string, endpointId: string): Promise<ModelAliasRelease[]> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT ${COLUMNS} FROM model_alias_releases
       WHERE (tenant_id IS NULL OR tenant_id = $1) AND targets @> jsonb_build_array(jsonb_build_object('provider', $2::text))
         AND (status = 'active' OR id IN (SELECT release_id FROM model_alias_canaries WHERE owner = '' OR owner = $1))
       ORDER BY tenant_id NULLS LAST, alias, id`, [tenantId, endpointId]);
    return result.rows.map(toRelease);
  }

  /**
   * The activations recorded beside a release (README "Replay-gated activation"): for each BYOC endpoint it
   * names that was pending when it was installed, the report (or override) that activated it, who and when.
   */
  async activations(releaseId: string): Promise<ReleaseActivation[]> {
    const result = await this.pool.query<{ endpoint_id: string; report_id: string | null; override: boolean; reason: string | null;
      activated_by: string | null; activated_at: Date }>(
      'SELECT endpoint_id, report_id, override, reason, activated_by, activated_at FROM release_activations WHERE release_id = $1 ORDER BY endpoint_id',
      [releaseId]);
    return result.rows.map((row) => ({
      endpoint_id: row.endpoint_id, report_id: row.report_id, override: row.override, reason: row.reason, activated_by: row.activated_by,
      activated_at: Math.floor(row.activated_at.getTime() / 1000),
    }));
  }

  /** The alias's canary for this owner, if it has one. */
  async findCanary(tenantId: string | null, alias: string): Promise<AliasCanary | undefined> {
    const result = await this.pool.query<{ release_id: string; weight: number; created_at: Date }>(
      'SELECT release_id, weight, created_at FROM model_alias_canaries WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
    const row = result.rows[0];
    return row && { release_id: row.release_id, weight: row.weight, created_at: Math.floor(row.created_at.getTime() / 1000) };
  }

  /** Start or change the alias's canary (the caller checked the candidate is this owner's release of the alias). */
  async setCanary(tenantId: string | null, alias: string, releaseId: string, weight: number): Promise<AliasCanary> {
    const result = await this.pool.query<{ created_at: Date }>(
      `INSERT INTO model_alias_canaries (owner, alias, release_id, weight) VALUES ($1, $2, $3, $4)
       ON CONFLICT (owner, alias) DO UPDATE SET release_id = EXCLUDED.release_id, weight = EXCLUDED.weight, created_at = now()
       RETURNING created_at`, [ownerKey(tenantId), alias, releaseId, weight]);
    return { release_id: releaseId, weight, created_at: Math.floor(result.rows[0]!.created_at.getTime() / 1000) };
  }

  /** End the alias's canary; false when it had none. */
  async clearCanary(tenantId: string | null, alias: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM model_alias_canaries WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * What a tenant's request for `alias` resolves: the live release (its own, else the shared one) and the
   * canary of the same owner. One round trip.
   */
  async findRouting(tenantId: string | null, alias: string): Promise<AliasRouting | undefined> {
    const result = await this.pool.query<ReleaseRow & { canary_weight: number | null; canary: ReleaseRow | null }>(
      `SELECT ${COLUMNS.split(', ').map((column) => `live.${column}`).join(', ')}, canary.weight AS canary_weight,
         (SELECT to_jsonb(candidate) FROM model_alias_releases candidate WHERE candidate.id = canary.release_id) AS canary
       FROM model_alias_releases live
       LEFT JOIN model_alias_canaries canary ON canary.owner = coalesce(live.tenant_id, '') AND canary.alias = live.alias
       WHERE live.alias = $1 AND live.status = 'active' AND (live.tenant_id IS NULL OR live.tenant_id = $2)
       ORDER BY live.tenant_id NULLS LAST LIMIT 1`, [alias, tenantId]);
    const row = result.rows[0];
    if (!row) return undefined;
    const live = toRelease(row);
    if (!row.canary || row.canary_weight === null || row.canary.id === live.id) return { live };
    const candidate = toRelease({ ...row.canary, created_at: new Date(row.canary.created_at) });
    return { live, canary: { release: candidate, weight: row.canary_weight } };
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
    await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model_alias:${ownerKey(tenantId)}:${alias}`]);
      await client.query(frozen
        ? 'INSERT INTO model_alias_freezes (owner, alias) VALUES ($1, $2) ON CONFLICT DO NOTHING'
        : 'DELETE FROM model_alias_freezes WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
    });
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
  async install(alias: string, input: InstallReleaseInput, tenantId: string | null = null,
    options: { copiedFrom?: string; endCanary?: boolean } = {}): Promise<ModelAliasRelease> {
    return inTransaction(this.pool, async (client) => {
      if (tenantId !== null) await client.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [tenantId]);
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model_alias:${ownerKey(tenantId)}:${alias}`]);
      const frozen = await client.query('SELECT 1 FROM model_alias_freezes WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
      if ((frozen.rowCount ?? 0) > 0) throw new AliasFrozenError(alias);
      await client.query(
        `UPDATE model_alias_releases SET status = 'retired', retired_at = now()
         WHERE alias = $1 AND status = 'active' AND tenant_id IS NOT DISTINCT FROM $2`, [alias, tenantId]);
      const result = await client.query<ReleaseRow>(
        `INSERT INTO model_alias_releases (id, alias, status, policy_revision, capability_manifest_revision, targets, tenant_id, min_context_window,
           sticky, copied_from)
         VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [newReleaseId(), alias, input.policy_revision ?? DEFAULT_POLICY_REVISION,
          input.capability_manifest_revision ?? DEFAULT_CAPABILITY_MANIFEST_REVISION, JSON.stringify(input.targets), tenantId,
          input.min_context_window ?? null, input.sticky ? JSON.stringify(input.sticky) : null, options.copiedFrom ?? null]);
      if (options.endCanary) await client.query('DELETE FROM model_alias_canaries WHERE owner = $1 AND alias = $2', [ownerKey(tenantId), alias]);
      return toRelease(result.rows[0]!);
    });
  }
}

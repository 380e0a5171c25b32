/**
 * Alias releases in Postgres. Installing is one transaction under a per-alias advisory lock: the
 * previous active release is retired and the new one inserted, so concurrent installs on one alias
 * serialise and never leave two active releases (a partial unique index backs this up).
 */
import type { Pool } from 'pg';
import {
  DEFAULT_CAPABILITY_MANIFEST_REVISION, DEFAULT_POLICY_REVISION, type InstallReleaseInput, type ModelAliasRelease, type ReleaseTarget,
} from '../domain/model-alias';
import { newReleaseId } from '../ids';

interface ReleaseRow {
  id: string;
  alias: string;
  status: 'active' | 'retired';
  policy_revision: string;
  capability_manifest_revision: string;
  targets: ReleaseTarget[];
  created_at: Date;
}

const COLUMNS = 'id, alias, status, policy_revision, capability_manifest_revision, targets, created_at';

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
    created_at: Math.floor(row.created_at.getTime() / 1000),
  };
}

export class ModelAliasRepository {
  constructor(private readonly pool: Pool) {}

  /** Every live release, sorted by alias. */
  async listActive(): Promise<ModelAliasRelease[]> {
    const result = await this.pool.query<ReleaseRow>(`SELECT ${COLUMNS} FROM model_alias_releases WHERE status = 'active' ORDER BY alias`);
    return result.rows.map(toRelease);
  }

  async findActive(alias: string): Promise<ModelAliasRelease | undefined> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT ${COLUMNS} FROM model_alias_releases WHERE alias = $1 AND status = 'active'`, [alias]);
    return result.rows[0] && toRelease(result.rows[0]);
  }

  async findById(id: string): Promise<ModelAliasRelease | undefined> {
    const result = await this.pool.query<ReleaseRow>(`SELECT ${COLUMNS} FROM model_alias_releases WHERE id = $1`, [id]);
    return result.rows[0] && toRelease(result.rows[0]);
  }

  /** An alias's releases, newest first. */
  async history(alias: string): Promise<ModelAliasRelease[]> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT ${COLUMNS} FROM model_alias_releases WHERE alias = $1 ORDER BY seq DESC`, [alias]);
    return result.rows.map(toRelease);
  }

  /** Install a new immutable release of `alias`, retiring the active one. */
  async install(alias: string, input: InstallReleaseInput): Promise<ModelAliasRelease> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model_alias:${alias}`]);
      await client.query(
        `UPDATE model_alias_releases SET status = 'retired', retired_at = now() WHERE alias = $1 AND status = 'active'`, [alias]);
      const result = await client.query<ReleaseRow>(
        `INSERT INTO model_alias_releases (id, alias, status, policy_revision, capability_manifest_revision, targets)
         VALUES ($1, $2, 'active', $3, $4, $5) RETURNING ${COLUMNS}`,
        [newReleaseId(), alias, input.policy_revision ?? DEFAULT_POLICY_REVISION,
          input.capability_manifest_revision ?? DEFAULT_CAPABILITY_MANIFEST_REVISION, JSON.stringify(input.targets)]);
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

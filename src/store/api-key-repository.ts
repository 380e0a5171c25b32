/** Tenants and API keys. Keys are stored only as hashes; the secret exists once, in the create response. */
import type { Pool } from 'pg';
import { apiKeyPrefix, hashApiKey, newApiKeyId, newApiKeySecret } from '../ids';

/**
 * `operator`: the deployment's own role — every tenant (through `?tenant=`), shared aliases, every
 * circuit; the bootstrap key holds it. `admin`: its own tenant's keys, aliases, credentials, endpoints,
 * policy and data. `inference`: requests, files and batches of its tenant. Each holds the ones after it.
 */
export const SCOPES = ['operator', 'admin', 'inference'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a key may reach beyond its tenant's policy; `null` fields restrict nothing. */
export interface KeyAllowList {
  aliases: string[] | null;
  providers: string[] | null;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  allowList: KeyAllowList;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  allowed_aliases: string[] | null;
  allowed_providers: string[] | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, prefix, scopes, allowed_aliases, allowed_providers, created_at, last_used_at, revoked_at';

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id, tenantId: row.tenant_id, name: row.name, prefix: row.prefix, scopes: row.scopes,
  allowList: { aliases: row.allowed_aliases, providers: row.allowed_providers },
  createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at,
});

export const DEFAULT_TENANT = 'default';

export class ApiKeyRepository {
  constructor(private readonly pool: Pool) {}

  async ensureTenant(tenantId: string, name = tenantId): Promise<void> {
    await this.pool.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [tenantId, name]);
  }

  /** Create a key; the returned secret is never stored. */
  async create(input: { tenantId: string; name: string; scopes: Scope[]; secret?: string; allowList?: Partial<KeyAllowList> }):
    Promise<{ record: ApiKeyRecord; secret: string }> {
    await this.ensureTenant(input.tenantId);
    const secret = input.secret ?? newApiKeySecret();
    const result = await this.pool.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, allowed_aliases, allowed_providers)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [newApiKeyId(), input.tenantId, input.name, apiKeyPrefix(secret), hashApiKey(secret), input.scopes,
        input.allowList?.aliases ?? null, input.allowList?.providers ?? null]);
    return { record: toRecord(result.rows[0]!), secret };
  }

  /** The live (not revoked) key whose secret hashes to `keyHash`. */
  async findLiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const result = await this.pool.query<ApiKeyRow>(
      `SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const result = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  async list(tenantId?: string): Promise<ApiKeyRecord[]> {
    const result = tenantId
      ? await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId])
      : await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return result.rows.map(toRecord);
  }

  /** Revoke; returns the key as it is now, or undefined when no such key exists. */
  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    const result = await this.pool.query<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** True while some live key holds the operator role (the bootstrap key is generated only when none does). */
  async hasLiveOperatorKey(): Promise<boolean> {
    const result = await this.pool.query(`SELECT 1 FROM api_keys WHERE 'operator' = ANY(scopes) AND revoked_at IS NULL LIMIT 1`);
    return (result.rowCount ?? 0) > 0;
  }

  /** Note that a key was used, at most once a minute per key (keeps writes off the hot path). */
  async touch(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [id]);
  }
}

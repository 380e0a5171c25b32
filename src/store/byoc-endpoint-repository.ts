/**
 * A tenant's own OpenAI-compatible endpoints (BYOC: `byoc_dynamo`, `byoc_epp`; reserved capacity:
 * `subscription`), named by id in release targets. The optional API key is sealed with the SecretBox;
 * reads return records without it, and only `findSealed` hands out the envelope.
 */
import type { Pool } from 'pg';
import { secretHint, type SecretBinding, type SecretBox } from '../secrets/secret-box';
import type { SealedSecret } from './credential-repository';
import { inTransaction } from './transaction';

export const ENDPOINT_PROFILES = ['byoc_dynamo', 'byoc_epp', 'subscription'] as const;
export type EndpointProfile = (typeof ENDPOINT_PROFILES)[number];

export type EndpointMetadata = Record<string, unknown>;

/** Routable (`active`) or waiting for its replay-gated activation (`pending`: the plan skips it). */
export type EndpointStatus = 'pending' | 'active';

/** Who activated an endpoint, when, and on what evidence: a passing replay report, or an operator's override with its reason. */
export interface EndpointActivation {
  report_id: string | null;
  override: boolean;
  reason: string | null;
  /** The API key id that activated it. */
  activated_by: string;
  /** Epoch seconds. */
  activated_at: number;
}

export interface ByocEndpointRecord {
  tenantId: string;
  id: string;
  profile: EndpointProfile;
  baseUrl: string;
  hasApiKey: boolean;
  apiKeyHint: string | null;
  /** Requests in flight above which the lane overflows (null: no cap). */
  maxConcurrency: number | null;
  metadata: EndpointMetadata;
  status: EndpointStatus;
  activation: EndpointActivation | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PutByocEndpointInput {
  tenantId: string;
  id: string;
  profile: EndpointProfile;
  baseUrl: string;
  /** A string sets the key, `null` removes it, `undefined` keeps the one already stored (secrets are write-only). */
  apiKey?: string | null;
  metadata?: EndpointMetadata;
  maxConcurrency?: number | null;
}

interface EndpointRow {
  tenant_id: string;
  id: string;
  profile: EndpointProfile;
  base_url: string;
  api_key_hint: string | null;
  max_concurrency: number | null;
  metadata: EndpointMetadata;
  status: EndpointStatus;
  activation: EndpointActivation | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'tenant_id, id, profile, base_url, api_key_hint, max_concurrency, metadata, status, activation, created_at, updated_at';

const toRecord = (row: EndpointRow): ByocEndpointRecord => ({
  tenantId: row.tenant_id, id: row.id, profile: row.profile, baseUrl: row.base_url, hasApiKey: row.api_key_hint !== null,
  apiKeyHint: row.api_key_hint, maxConcurrency: row.max_concurrency, metadata: row.metadata, status: row.status, activation: row.activation, createdAt: row.created_at, updatedAt: row.updated_at,
});

/** The row an endpoint's API key is bound to. */
export const byocEndpointBinding = (tenantId: string, id: string): SecretBinding => ({ tenantId, kind: 'byoc_endpoint', id });

export class ByocEndpointRepository {
  constructor(private readonly pool: Pool, private readonly secretBox: SecretBox) {}

  /**
   * Create or replace an endpoint. A new one starts `pending` (README "Replay-gated activation"); a
   * replaced one keeps its status unless its profile or base URL changed — another endpoint, whose
   * evidence is yet to be shown: then it is pending again.
   */
  async put(input: PutByocEndpointInput): Promise<ByocEndpointRecord> {
    const keepKey = input.apiKey === undefined;
    const key = typeof input.apiKey === 'string'
      ? { sealed: this.secretBox.seal(input.apiKey, byocEndpointBinding(input.tenantId, input.id)), keyId: this.secretBox.keyId, hint: secretHint(input.apiKey) }
      : { sealed: null, keyId: null, hint: null };
    await this.pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [input.tenantId]);
    const result = await this.pool.query<EndpointRow>(
      `INSERT INTO byoc_endpoints (tenant_id, id, profile, base_url, sealed_api_key, key_id, api_key_hint, metadata, max_concurrency)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $10)
       ON CONFLICT (tenant_id, id) DO UPDATE SET
         profile = EXCLUDED.profile, base_url = EXCLUDED.base_url, metadata = EXCLUDED.metadata, updated_at = now(),
         max_concurrency = EXCLUDED.max_concurrency,
         status = CASE WHEN byoc_endpoints.profile = EXCLUDED.profile AND byoc_endpoints.base_url = EXCLUDED.base_url
           THEN byoc_endpoints.status ELSE 'pending' END,
         activation = CASE WHEN byoc_endpoints.profile = EXCLUDED.profile AND byoc_endpoints.base_url = EXCLUDED.base_url
           THEN byoc_endpoints.activation ELSE NULL END,
         sealed_api_key = CASE WHEN $9::boolean THEN byoc_endpoints.sealed_api_key ELSE EXCLUDED.sealed_api_key END,
         key_id = CASE WHEN $9::boolean THEN byoc_endpoints.key_id ELSE EXCLUDED.key_id END,
         api_key_hint = CASE WHEN $9::boolean THEN byoc_endpoints.api_key_hint ELSE EXCLUDED.api_key_hint END
       RETURNING ${COLUMNS}`,
      [input.tenantId, input.id, input.profile, input.baseUrl, key.sealed, key.keyId, key.hint, JSON.stringify(input.metadata ?? {}), keepKey,
        input.maxConcurrency ?? null]);
    return toRecord(result.rows[0]!);
  }

  async list(tenantId: string): Promise<ByocEndpointRecord[]> {
    const result = await this.pool.query<EndpointRow>(`SELECT ${COLUMNS} FROM byoc_endpoints WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
    return result.rows.map(toRecord);
  }

  async find(tenantId: string, id: string): Promise<ByocEndpointRecord | undefined> {
    const result = await this.pool.query<EndpointRow>(`SELECT ${COLUMNS} FROM byoc_endpoints WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** The endpoint with its sealed key (if it has one); only the CredentialResolver should call this. */
  async findSealed(tenantId: string, id: string): Promise<{ endpoint: ByocEndpointRecord; apiKey?: SealedSecret } | undefined> {
    const result = await this.pool.query<EndpointRow & { sealed_api_key: string | null }>(
      `SELECT ${COLUMNS}, sealed_api_key FROM byoc_endpoints WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    const row = result.rows[0];
    if (!row) return undefined;
    const apiKey = row.sealed_api_key === null ? undefined : { envelope: row.sealed_api_key, binding: byocEndpointBinding(tenantId, id) };
    return { endpoint: toRecord(row), apiKey };
  }

  /**
   * Activate an endpoint and record on what evidence, on the endpoint and beside every release of the tenant
   * (or of the shared catalogue, whose releases may name a tenant's endpoint) that names it as a BYOC target (releases stay immutable: the activation is metadata next to them; the
   * first activation a release saw is kept). Undefined when the tenant has no such endpoint. The row's
   * update announces itself on the change feed (`lane:<id>`): every process routes to it at once.
   */
  async activate(tenantId: string, id: string, activation: EndpointActivation): Promise<ByocEndpointRecord | undefined> {
    return inTransaction(this.pool, async (client) => {
      const result = await client.query<EndpointRow>(
        `UPDATE byoc_endpoints SET status = 'active', activation = $3::jsonb, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [tenantId, id, JSON.stringify(activation)]);
      if (result.rows[0]) {
        await client.query(
          `INSERT INTO release_activations (release_id, endpoint_id, tenant_id, report_id, override, reason, activated_by, activated_at)
           SELECT release.id, $2, $1, $3, $4, $5, $6, to_timestamp($7)
             FROM model_alias_releases release, jsonb_array_elements(release.targets) AS target
            WHERE (release.tenant_id = $1 OR release.tenant_id IS NULL) AND target ->> 'provider' = $2 AND target ->> 'execution_profile' <> 'managed_provider'
              AND target ->> 'execution_profile' <> 'byok'
           ON CONFLICT DO NOTHING`,
          [tenantId, id, activation.report_id, activation.override, activation.reason, activation.activated_by, activation.activated_at]);
      }
      return result.rows[0] && toRecord(result.rows[0]);
    });
  }

  /** Delete; false when the tenant had no such endpoint. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM byoc_endpoints WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    return (result.rowCount ?? 0) > 0;
  }
}

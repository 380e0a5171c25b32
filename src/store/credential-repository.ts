/**
 * BYOK credentials: a tenant's own key per built-in provider, sealed with the SecretBox before it
 * reaches Postgres. Reads return records without the secret; only `findSealed` hands out the
 * envelope, for the CredentialResolver to open inside the activity that uses it.
 */
import type { Pool } from 'pg';
import type { ProviderName } from '../config';
import { secretHint, type SecretBinding, type SecretBox } from '../secrets/secret-box';

export interface CredentialRecord {
  tenantId: string;
  provider: ProviderName;
  /** `…abcd`: enough to tell keys apart, never the key. */
  hint: string;
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SealedSecret {
  envelope: string;
  binding: SecretBinding;
}

interface CredentialRow {
  tenant_id: string;
  provider: ProviderName;
  hint: string;
  key_id: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'tenant_id, provider, hint, key_id, created_at, updated_at';

const toRecord = (row: CredentialRow): CredentialRecord => ({
  tenantId: row.tenant_id, provider: row.provider, hint: row.hint, keyId: row.key_id, createdAt: row.created_at, updatedAt: row.updated_at,
});

/** The row a BYOK secret is bound to. */
export const credentialBinding = (tenantId: string, provider: string): SecretBinding => ({ tenantId, kind: 'credential', id: provider });

export class CredentialRepository {
  constructor(private readonly pool: Pool, private readonly secretBox: SecretBox) {}

  /** Store (or replace) the tenant's key for a provider. */
  async put(input: { tenantId: string; provider: ProviderName; apiKey: string }): Promise<CredentialRecord> {
    const sealed = this.secretBox.seal(input.apiKey, credentialBinding(input.tenantId, input.provider));
    await this.pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [input.tenantId]);
    const result = await this.pool.query<CredentialRow>(
      `INSERT INTO tenant_credentials (tenant_id, provider, sealed_secret, key_id, hint) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, provider) DO UPDATE
         SET sealed_secret = EXCLUDED.sealed_secret, key_id = EXCLUDED.key_id, hint = EXCLUDED.hint, updated_at = now()
       RETURNING ${COLUMNS}`,
      [input.tenantId, input.provider, sealed, this.secretBox.keyId, secretHint(input.apiKey)]);
    return toRecord(result.rows[0]!);
  }

  async list(tenantId: string): Promise<CredentialRecord[]> {
    const result = await this.pool.query<CredentialRow>(
      `SELECT ${COLUMNS} FROM tenant_credentials WHERE tenant_id = $1 ORDER BY provider`, [tenantId]);
    return result.rows.map(toRecord);
  }

  async find(tenantId: string, provider: string): Promise<CredentialRecord | undefined> {
    const result = await this.pool.query<CredentialRow>(
      `SELECT ${COLUMNS} FROM tenant_credentials WHERE tenant_id = $1 AND provider = $2`, [tenantId, provider]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** The sealed key and the binding it opens under; only the CredentialResolver should call this. */
  async findSealed(tenantId: string, provider: string): Promise<SealedSecret | undefined> {
    const result = await this.pool.query<{ sealed_secret: string }>(
      'SELECT sealed_secret FROM tenant_credentials WHERE tenant_id = $1 AND provider = $2', [tenantId, provider]);
    const row = result.rows[0];
    return row && { envelope: row.sealed_secret, binding: credentialBinding(tenantId, provider) };
  }

  /** Delete; false when the tenant had no key for that provider. */
  async delete(tenantId: string, provider: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM tenant_credentials WHERE tenant_id = $1 AND provider = $2', [tenantId, provider]);
    return (result.rowCount ?? 0) > 0;
  }
}

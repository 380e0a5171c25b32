/**
 * The exact-match response cache in Postgres (issue 14): one row per tenant, key and shape (a JSON
 * answer, or a stream's chunks). A hit is one statement (it also marks the entry used, for LRU); a
 * put writes the entry and evicts the tenant's expired entries and then its least recently used ones
 * beyond the tenant's byte cap. An answer above the per-entry cap is not kept.
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { jsonb } from './jsonb';

export interface ResponseCacheLimits {
  /** Largest answer kept (bytes of its JSON). */
  maxEntryBytes: number;
  /** Bytes of answers kept per tenant: beyond it the least recently used go. */
  maxTenantBytes: number;
}

export const DEFAULT_RESPONSE_CACHE_LIMITS: ResponseCacheLimits = { maxEntryBytes: 1_048_576, maxTenantBytes: 64 * 1_048_576 };

/** What is kept: a JSON answer (`chat.completion`), or a stream's chunks in order. */
export type CachedAnswer = { kind: 'json'; body: Record<string, unknown> } | { kind: 'stream'; chunks: Array<Record<string, unknown>> };

export class ResponseCacheStore {
  constructor(private readonly pool: Pool, readonly limits: ResponseCacheLimits = DEFAULT_RESPONSE_CACHE_LIMITS) {}

  /** The key of what `cacheKeyMaterial` answers (sha256, hex). */
  static key(material: string): string {
    return createHash('sha256').update(material).digest('hex');
  }

  /** The live entry, marked used now; undefined when there is none or it expired. */
  async get(tenantId: string, key: string, stream: boolean): Promise<CachedAnswer | undefined> {
    const result = await this.pool.query<{ body: CachedAnswer }>(
      `UPDATE response_cache SET last_hit_at = now(), hits = hits + 1
        WHERE tenant_id = $1 AND key = $2 AND stream = $3 AND expires_at > now() RETURNING body`, [tenantId, key, stream]);
    return result.rows[0]?.body;
  }

  /** Keep an answer for `ttlSeconds` (replacing the entry); false when it is above the per-entry cap. */
  async put(input: { tenantId: string; key: string; answer: CachedAnswer; ttlSeconds: number; sourceRequestId: string }): Promise<boolean> {
    const text = jsonb(input.answer);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.limits.maxEntryBytes) return false;
    await this.pool.query(
      `INSERT INTO response_cache (tenant_id, key, stream, body, bytes, source_request_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
       ON CONFLICT (tenant_id, key, stream) DO UPDATE SET body = EXCLUDED.body, bytes = EXCLUDED.bytes,
         source_request_id = EXCLUDED.source_request_id, created_at = now(), last_hit_at = now(), expires_at = EXCLUDED.expires_at, hits = 0`,
      [input.tenantId, input.key, input.answer.kind === 'stream', text, bytes, input.sourceRequestId, input.ttlSeconds]);
    await this.evict(input.tenantId);
    return true;
  }

  /** The tenant's expired entries, then its least recently used ones past the byte cap. */
  async evict(tenantId: string): Promise<void> {
    await this.pool.query(
      `WITH expired AS (DELETE FROM response_cache WHERE tenant_id = $1 AND expires_at <= now() RETURNING key)
       DELETE FROM response_cache c USING (
         SELECT key, stream, sum(bytes) OVER (ORDER BY last_hit_at DESC, created_at DESC, key) AS running
           FROM response_cache WHERE tenant_id = $1 AND expires_at > now()) ranked
        WHERE c.tenant_id = $1 AND c.key = ranked.key AND c.stream = ranked.stream AND ranked.running > $2`,
      [tenantId, this.limits.maxTenantBytes]);
  }

  /** The tenant's entries and their bytes (the admin's view, and tests). */
  async stats(tenantId: string): Promise<{ entries: number; bytes: number }> {
    const result = await this.pool.query<{ entries: string; bytes: string | null }>(
      'SELECT count(*) AS entries, sum(bytes) AS bytes FROM response_cache WHERE tenant_id = $1 AND expires_at > now()', [tenantId]);
    return { entries: Number(result.rows[0]!.entries), bytes: Number(result.rows[0]!.bytes ?? 0) };
  }
}

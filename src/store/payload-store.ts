/**
 * PayloadStore: the claim check's Postgres side. `put` keeps a large payload and returns the reference
 * history carries; `get` reads it back for the activity that needs it, checking tenant, size and
 * digest (a reference never reads another tenant's payload, and a damaged row is an error, not a
 * silently different prompt).
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { ulid } from '../ids';
import type { ChatRequest } from '../contract/chat';
import { bodyStub, PAYLOAD_REF_THRESHOLD_BYTES, type PayloadRef } from '../domain/payload-ref';

/** True when `value` as UTF-8 JSON is above the claim-check threshold. */
export function overThreshold(value: unknown): boolean {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') > PAYLOAD_REF_THRESHOLD_BYTES;
}

/** Thrown by PayloadStore.get when the reference names no live payload of the tenant, or its bytes do not match. */
export class PayloadMissingError extends Error {
  constructor(readonly ref: string, reason: string) {
    super(`payload ${ref} ${reason}`);
    this.name = 'PayloadMissingError';
  }
}

/** How long a payload outlives the `keepUntil` its writer names. */
const GRACE_MS = 24 * 3600 * 1000;

export class PayloadStore {
  private lastPurge = 0;

  constructor(private readonly pool: Pool) {}

  /** Keep `value` (as UTF-8 JSON) until `keepUntil` (epoch ms) plus a day. */
  async put(tenantId: string, value: unknown, keepUntil: number): Promise<PayloadRef> {
    await this.purgeOccasionally();
    const data = Buffer.from(JSON.stringify(value), 'utf8');
    const ref: PayloadRef = { ref: `pl_${ulid().toLowerCase()}`, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    await this.pool.query(
      'INSERT INTO payloads (id, tenant_id, bytes, sha256, data, expires_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0))',
      [ref.ref, tenantId, ref.bytes, ref.sha256, data, Math.max(keepUntil, Date.now()) + GRACE_MS]);
    return ref;
  }

  /** A chat body as a workflow input carries it: itself when small (no SQL), else its stub and a reference. */
  async keepBody(tenantId: string, body: ChatRequest, keepUntil: number): Promise<{ body: ChatRequest; bodyRef?: PayloadRef }> {
    if (!overThreshold(body)) return { body };
    return { body: bodyStub(body), bodyRef: await this.put(tenantId, body, keepUntil) };
  }

  async get<T = unknown>(tenantId: string, ref: PayloadRef): Promise<T> {
    const result = await this.pool.query<{ data: Buffer }>('SELECT data FROM payloads WHERE id = $1 AND tenant_id = $2', [ref.ref, tenantId]);
    const data = result.rows[0]?.data;
    if (!data) throw new PayloadMissingError(ref.ref, 'does not exist (expired or never stored)');
    if (data.length !== ref.bytes || createHash('sha256').update(data).digest('hex') !== ref.sha256) {
      throw new PayloadMissingError(ref.ref, 'does not match its reference (size or sha256)');
    }
    return JSON.parse(data.toString('utf8')) as T;
  }

  /** Delete expired payloads; returns how many went. */
  async purgeExpired(): Promise<number> {
    const result = await this.pool.query('DELETE FROM payloads WHERE expires_at <= now()');
    return result.rowCount ?? 0;
  }

  private async purgeOccasionally(): Promise<void> {
    if (Date.now() - this.lastPurge < 3600_000) return;
    this.lastPurge = Date.now();
    await this.purgeExpired().catch(() => undefined);
  }
}

/**
 * Per-tenant and per-API-key admission shared by every Zumik process through Postgres (DESIGN.md §1, §4.1).
 *
 * One `tryAdmit` is one SQL statement (`admission_try_admit`, migration 1732320000100): one round trip,
 * one transaction, serialised per tenant by `pg_advisory_xact_lock`. All times are the database's.
 *
 * - **Rate** (checked first, once per request, on its first arrival): requests per minute per tenant and
 *   per key, a sliding-window counter (the previous fixed minute weighted by its overlap with the last
 *   60 s, plus the current minute). Over the rate ⇒ `rejected_rate_limit`, never queued. Admitted and
 *   queued requests count; rejected ones do not.
 * - **Concurrency**: one lease per admitted request, live until `now + leaseMs`; a lapsed lease never
 *   counts, so a crashed holder cannot leak a slot. Holders `renew` long calls and `release` at the end.
 * - **Queue** (per tenant): ordered by priority (1 first), then arrival. Slots go to waiters in that
 *   order: a request is admitted only if a slot is left after every waiter ahead of it that could use
 *   one now has had its own (a waiter whose API key is at its key limit cannot use a tenant slot, so it
 *   does not block the tenant; it keeps its place for when its key frees). A newcomer never overtakes
 *   a waiter of the same or higher priority; a higher-priority newcomer does go ahead of lower ones
 *   (strict priority, no ageing). A waiter keeps its place by calling `tryAdmit` again with the same
 *   requestId within `ticketTtlMs` (default 30 s; poll at most every ttl/2); a ticket not refreshed in
 *   time is stale: skipped and deleted, so a dead waiter cannot hold the queue head.
 * - **Idempotent** per requestId: a request holding a live lease is `admitted` again without a second
 *   slot; a queued one keeps its ticket and learns its current position.
 */
import type { Pool } from 'pg';

export interface AdmissionLimits {
  /** Leases a tenant may hold at once; undefined = unlimited. */
  tenantConcurrency?: number;
  /** Leases one API key may hold at once; undefined = unlimited. */
  keyConcurrency?: number;
  tenantRequestsPerMinute?: number;
  keyRequestsPerMinute?: number;
  /** Waiters a tenant may have queued; 0 = never queue. */
  maxQueueLength: number;
}

export interface AdmitRequest {
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  /** 1 (high) … 5 (low); orders the queue before arrival time. */
  priority: number;
  limits: AdmissionLimits;
  /** How long the slot is held unless renewed or released. */
  leaseMs: number;
  /** Whether the request may wait for a slot; false ⇒ `rejected_concurrency_limit` when none is free. */
  queue: boolean;
  /** How long a queue ticket stays valid without another `tryAdmit` from its waiter (default 30 s). */
  ticketTtlMs?: number;
}

export type AdmissionRejection = 'rejected_rate_limit' | 'rejected_queue_full' | 'rejected_concurrency_limit';

export type AdmitResult =
  | { state: 'admitted' }
  | { state: 'queued'; /** 1 = next in line. */ position: number }
  | { state: 'rejected'; reason: AdmissionRejection };

export interface AdmissionStats {
  /** Live leases. */
  active: number;
  /** Live (not stale) queue tickets. */
  queued: number;
}

export const DEFAULT_TICKET_TTL_MS = 30_000;

interface AdmitRow {
  state: 'admitted' | 'queued' | 'rejected';
  reason: AdmissionRejection | null;
  queue_position: number | null;
}

export class AdmissionStore {
  constructor(private readonly pool: Pool) {}

  /** Admit, queue or reject one request; safe to call again with the same requestId (retries, polling). */
  async tryAdmit(request: AdmitRequest): Promise<AdmitResult> {
    validate(request);
    const { limits } = request;
    const result = await this.pool.query<AdmitRow>(
      'SELECT state, reason, queue_position FROM admission_try_admit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [request.requestId, request.tenantId, request.apiKeyId, request.priority,
        limits.tenantConcurrency ?? null, limits.keyConcurrency ?? null,
        limits.tenantRequestsPerMinute ?? null, limits.keyRequestsPerMinute ?? null,
        limits.maxQueueLength, request.leaseMs, request.queue, request.ticketTtlMs ?? DEFAULT_TICKET_TTL_MS]);
    const row = result.rows[0]!;
    if (row.state === 'admitted') return { state: 'admitted' };
    if (row.state === 'queued') return { state: 'queued', position: row.queue_position! };
    return { state: 'rejected', reason: row.reason! };
  }

  /** Free the request's slot and drop its queue ticket; true when it held either. Idempotent. */
  async release(requestId: string): Promise<boolean> {
    const result = await this.pool.query<{ freed: boolean }>(
      `WITH lease AS (DELETE FROM admission_leases WHERE request_id = $1 RETURNING 1),
            ticket AS (DELETE FROM admission_tickets WHERE request_id = $1 RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM lease) OR EXISTS (SELECT 1 FROM ticket) AS freed`, [requestId]);
    return result.rows[0]!.freed;
  }

  /** Give up waiting (the request's queue deadline passed); true when it had a ticket. Idempotent. */
  async abandon(requestId: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM admission_tickets WHERE request_id = $1', [requestId]);
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Extend a live lease to `now + leaseMs` for a call that runs longer than its lease. False when the
   * lease had already lapsed (its slot may have gone to another request): the caller no longer holds one.
   */
  async renew(requestId: string, leaseMs: number): Promise<boolean> {
    assertPositiveInteger('leaseMs', leaseMs);
    const result = await this.pool.query(
      `UPDATE admission_leases SET expires_at = clock_timestamp() + $2 * interval '1 millisecond'
        WHERE request_id = $1 AND expires_at > clock_timestamp()`, [requestId, leaseMs]);
    return (result.rowCount ?? 0) > 0;
  }

  /** Live leases and live queue tickets of a tenant (admin API, tests). */
  async stats(tenantId: string): Promise<AdmissionStats> {
    const result = await this.pool.query<{ active: number; queued: number }>(
      `SELECT (SELECT count(*) FROM admission_leases WHERE tenant_id = $1 AND expires_at > clock_timestamp())::integer AS active,
              (SELECT count(*) FROM admission_tickets WHERE tenant_id = $1 AND expires_at > clock_timestamp())::integer AS queued`,
      [tenantId]);
    return result.rows[0]!;
  }
}

function validate(request: AdmitRequest): void {
  if (!Number.isInteger(request.priority) || request.priority < 1 || request.priority > 5) {
    throw new RangeError(`priority must be an integer from 1 to 5, got ${request.priority}`);
  }
  assertPositiveInteger('leaseMs', request.leaseMs);
  if (request.ticketTtlMs !== undefined) assertPositiveInteger('ticketTtlMs', request.ticketTtlMs);
  const { limits } = request;
  for (const name of ['tenantConcurrency', 'keyConcurrency', 'tenantRequestsPerMinute', 'keyRequestsPerMinute', 'maxQueueLength'] as const) {
    const value = limits[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new RangeError(`limits.${name} must be a non-negative integer, got ${value}`);
    }
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new RangeError(`${name} must be a positive integer of milliseconds, got ${value}`);
  }
}

/**
 * BYOC lane concurrency (issue 12, hybrid hot lanes): an endpoint registered with `max_concurrency`
 * takes at most that many requests in flight, counted in Postgres so every Zumik process shares the
 * count. The front door takes a lease when the plan's first attempt goes to a capped lane; a full lane
 * makes the request overflow to the release's next target. The lease goes when the request's outcome
 * is recorded (RequestRepository.record), or at its expiry for a request whose record never came.
 */
import type { Pool } from 'pg';
import { inTransaction } from './transaction';

/** A registered endpoint as routing sees it. */
export interface EndpointState {
  maxConcurrency: number | null;
  /** Registered and not yet activated (README "Replay-gated activation"): the plan skips it. */
  pending: boolean;
}

export class LaneLeaseStore {
  constructor(private readonly pool: Pool) {}

  /** The concurrency caps of those of a tenant's endpoints that have one. */
  async caps(tenantId: string, endpointIds: readonly string[]): Promise<Map<string, number>> {
    if (endpointIds.length === 0) return new Map();
    const result = await this.pool.query<{ id: string; max_concurrency: number }>(
      'SELECT id, max_concurrency FROM byoc_endpoints WHERE tenant_id = $1 AND id = ANY($2::text[]) AND max_concurrency IS NOT NULL',
      [tenantId, endpointIds]);
    return new Map(result.rows.map((row) => [row.id, row.max_concurrency]));
  }

  /**
   * What the front door needs of a tenant's registered endpoints among `endpointIds`: the concurrency cap
   * (null: none) and whether the endpoint still waits for its replay-gated activation. One statement, for
   * all of a release's BYOC targets; an id without a row (an endpoint of ZUMIK_PROVIDERS_FILE) is absent.
   */
  async states(tenantId: string, endpointIds: readonly string[]): Promise<Map<string, EndpointState>> {
    if (endpointIds.length === 0) return new Map();
    const result = await this.pool.query<{ id: string; max_concurrency: number | null; status: string }>(
      'SELECT id, max_concurrency, status FROM byoc_endpoints WHERE tenant_id = $1 AND id = ANY($2::text[])', [tenantId, endpointIds]);
    return new Map(result.rows.map((row) => [row.id, { maxConcurrency: row.max_concurrency, pending: row.status === 'pending' }]));
  }

  /** Take one of the lane's `cap` slots for the request until `expiresAt`; false when the lane is full. */
  async tryTake(tenantId: string, endpointId: string, requestId: string, cap: number, expiresAt: number): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`byoc_lane:${tenantId}:${endpointId}`]);
      await client.query('DELETE FROM byoc_lane_leases WHERE tenant_id = $1 AND endpoint_id = $2 AND expires_at <= now()', [tenantId, endpointId]);
      const taken = await client.query(
        `INSERT INTO byoc_lane_leases (tenant_id, endpoint_id, request_id, expires_at)
         SELECT $1, $2, $3, to_timestamp($5 / 1000.0)
         WHERE (SELECT count(*) FROM byoc_lane_leases WHERE tenant_id = $1 AND endpoint_id = $2) < $4
         ON CONFLICT DO NOTHING`, [tenantId, endpointId, requestId, cap, expiresAt]);
      return (taken.rowCount ?? 0) > 0;
    });
  }

  /** Give back every lane lease of a request (its workflow could not start, or it was refused after the plan). */
  async release(requestId: string): Promise<void> {
    await this.pool.query('DELETE FROM byoc_lane_leases WHERE request_id = $1', [requestId]);
  }
}

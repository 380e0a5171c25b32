/**
 * Circuit breakers per `provider|region|model` (`circuitKey` in src/domain/attempt-plan.ts), shared by
 * every Zumik process through Postgres; every time is the database's clock, so processes agree.
 *
 * - closed: calls go. `failureThreshold` consecutive outage failures within `windowMs` open it.
 * - open (`open_until > now()`): calls do not go; the attempt plan skips the target, and a call that
 *   was planned before it opened is refused by `tryAcquireProbe`. Late failures of calls that started
 *   before it opened change nothing.
 * - half-open (after `open_until`): at most `maxProbes` calls at a time go as probes, each holding a
 *   slot (`tryAcquireProbe`) until it reports or releases it; a slot whose holder never comes back
 *   expires after `probeTtlMs`. While every slot is taken the target is skipped like an open one. A
 *   success closes the circuit and resets counters and backoff; a counted failure reopens it for twice
 *   the previous opening (from `openMs`, capped at `maxOpenMs`: a target that recovers is tried again
 *   within `maxOpenMs`).
 * Only the kinds the failure-kind table marks `circuit` count (CIRCUIT_FAILURE_KINDS); any other failure neither
 * counts nor resets the run.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { CIRCUIT_FAILURE_KINDS, type FailureKind } from '../domain/failure-kinds';


export interface CircuitBreakerOptions {
  /** Consecutive outage failures (within `windowMs`) that open a circuit. */
  failureThreshold?: number;
  windowMs?: number;
  /** First opening; doubles on each failed half-open probe. */
  openMs?: number;
  /** The longest opening: a target that has recovered is probed again at most this long after. */
  maxOpenMs?: number;
  /** Probes in flight at once while half-open. */
  maxProbes?: number;
  /** A probe slot whose holder never reported (a worker that died) stops counting after this long. */
  probeTtlMs?: number;
}

/**
 * The settings a deployment runs with unless configured (ZUMIK_CIRCUIT_*). Openings are short and
 * capped at 20 s because half-open lets a single probe through: checking a target often is cheap,
 * and a recovered primary is back in use within 20 s (plus one probe) of its recovery.
 */
export const DEFAULT_CIRCUIT_OPTIONS: Required<CircuitBreakerOptions> = {
  failureThreshold: 5, windowMs: 60_000, openMs: 5_000, maxOpenMs: 20_000, maxProbes: 1, probeTtlMs: 30_000,
};

/**
 * Whether a call may go to a target now. `probeId` is set when the call is a half-open probe: it
 * holds a slot until `recordSuccess`/`recordFailure` settle the circuit or `releaseProbe` frees it.
 */
export type CallPermit = { allowed: true; probeId?: string } | { allowed: false; state: 'open' | 'half_open' };

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitRecord {
  key: string;
  state: CircuitState;
  /** Outage failures since the last success. */
  failures: number;
  openUntil: Date | null;
  /** When the current (or latest) opening began; `openUntil - openedAt` is its length. */
  openedAt: Date | null;
  lastFailureAt: Date | null;
  lastFailureKind: string | null;
  /** Half-open probes holding a slot now. */
  probesInFlight: number;
}

interface CircuitRow {
  key: string;
  state: CircuitState;
  failures: number;
  open_until: Date | null;
  opened_at: Date | null;
  last_failure_at: Date | null;
  last_failure_kind: string | null;
  probes: number;
}

const STATE_SQL = `CASE WHEN open_until IS NULL THEN 'closed' WHEN open_until > now() THEN 'open' ELSE 'half_open' END`;

export class CircuitBreakerStore {
  private readonly options: Required<CircuitBreakerOptions>;
  private readonly outageKinds = new Set<string>(CIRCUIT_FAILURE_KINDS);

  constructor(private readonly pool: Pool, options: CircuitBreakerOptions = {}) {
    this.options = { ...DEFAULT_CIRCUIT_OPTIONS, ...withoutUndefined(options) };
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
        throw new RangeError(`circuit breaker option ${name} must be a positive integer, got ${value}`);
      }
    }
    if (this.options.maxOpenMs < this.options.openMs) {
      throw new RangeError(`circuit breaker option maxOpenMs (${this.options.maxOpenMs}) must not be below openMs (${this.options.openMs})`);
    }
  }

  /** The settings this store runs with (defaults applied). */
  get settings(): Readonly<Required<CircuitBreakerOptions>> {
    return this.options;
  }

  /**
   * Keys (of `keys`, or of all) the attempt plan must skip now: open circuits, and half-open ones
   * whose probe slots are all taken. A half-open circuit with a free slot is not in the set: a call
   * may go, and `tryAcquireProbe` decides at call time whether it is the probe.
   */
  async openCircuits(keys?: readonly string[]): Promise<Set<string>> {
    if (keys && keys.length === 0) return new Set();
    const skipped = `c.open_until IS NOT NULL AND (c.open_until > now() OR circuit_live_probes(c.key, c.opened_at, now()) >= $1)`;
    const result = keys
      ? await this.pool.query<{ key: string }>(`SELECT c.key FROM circuit_breakers c WHERE c.key = ANY($2::text[]) AND ${skipped}`, [this.options.maxProbes, keys])
      : await this.pool.query<{ key: string }>(`SELECT c.key FROM circuit_breakers c WHERE ${skipped}`, [this.options.maxProbes]);
    return new Set(result.rows.map((row) => row.key));
  }

  /**
   * One read of every circuit that is not plainly closed, for the per-process cache the request path
   * plans from (`openCircuits` in one query for all keys): `skip` — what the plan must skip now, each
   * with how many milliseconds it stays so (database time; null: a half-open circuit whose probe slots
   * are all taken, for as long as the cache trusts it) — and `dirty` — every key with counted failures
   * or an opening, the only ones whose calls must ask `tryAcquireProbe` and whose successes reset
   * anything: a call to any other key costs no round trip.
   */
  async snapshot(): Promise<{ skip: Map<string, number | null>; dirty: Set<string> }> {
    const result = await this.pool.query<{ key: string; skip: boolean; remaining_ms: number | null }>(
      `SELECT c.key,
              c.open_until IS NOT NULL AND (c.open_until > now() OR circuit_live_probes(c.key, c.opened_at, now()) >= $1) AS skip,
              CASE WHEN c.open_until > now() THEN ceil(extract(epoch FROM c.open_until - now()) * 1000)::float8 END AS remaining_ms
         FROM circuit_breakers c WHERE c.open_until IS NOT NULL OR c.consecutive_failures > 0`, [this.options.maxProbes]);
    const skip = new Map<string, number | null>();
    for (const row of result.rows) if (row.skip) skip.set(row.key, row.remaining_ms === null ? null : Number(row.remaining_ms));
    return { skip, dirty: new Set(result.rows.map((row) => row.key)) };
  }

  /**
   * Ask, just before calling a target, whether the call may go: always when the circuit is closed
   * (one read, no write), never while it is open, and while half-open only as one of `maxProbes`
   * probes. A probe holds its slot until `recordSuccess`/`recordFailure` settle the circuit or
   * `releaseProbe` gives it back (call that when the call ends in any other way).
   */
  async tryAcquireProbe(key: string): Promise<CallPermit> {
    const probeId = randomUUID();
    const result = await this.pool.query<{ decision: 'closed' | 'probe' | 'open' | 'busy' }>(
      'SELECT circuit_try_acquire($1, $2, $3, $4) AS decision', [key, probeId, this.options.maxProbes, this.options.probeTtlMs]);
    switch (result.rows[0]!.decision) {
      case 'closed': return { allowed: true };
      case 'probe': return { allowed: true, probeId };
      case 'open': return { allowed: false, state: 'open' };
      case 'busy': return { allowed: false, state: 'half_open' };
    }
  }

  /** Give back a probe slot whose call ended without settling the circuit (a non-outage failure, a cancellation). */
  async releaseProbe(key: string, probeId: string): Promise<void> {
    await this.pool.query('DELETE FROM circuit_probes WHERE key = $1 AND probe_id = $2', [key, probeId]);
  }

  /** Report a failed call; only outage kinds count. Returns the circuit's state after it (undefined when ignored). */
  async recordFailure(key: string, kind: FailureKind): Promise<{ state: CircuitState; failures: number; openUntil: Date | null } | undefined> {
    if (!this.outageKinds.has(kind)) return undefined;
    const { failureThreshold, windowMs, openMs, maxOpenMs } = this.options;
    const result = await this.pool.query<{ state: CircuitState; failures: number; open_until: Date | null }>(
      'SELECT state, failures, open_until FROM circuit_record_failure($1, $2, $3, $4, $5, $6)',
      [key, kind, failureThreshold, windowMs, openMs, maxOpenMs]);
    const row = result.rows[0]!;
    return { state: row.state, failures: row.failures, openUntil: row.open_until };
  }

  /**
   * Report a successful call (a probe's, or any other's): closes the circuit, frees its probe slots and
   * resets its counters and backoff. Writes only when there is something to reset, so the common case
   * (closed, no failures) is a read.
   */
  async recordSuccess(key: string): Promise<void> {
    await this.pool.query(
      `WITH closed AS (
         UPDATE circuit_breakers SET recent_failures = '{}', consecutive_failures = 0, open_until = NULL, open_ms = NULL,
                opened_at = NULL, updated_at = now()
          WHERE key = $1 AND (consecutive_failures > 0 OR open_until IS NOT NULL)
         RETURNING key)
       DELETE FROM circuit_probes p USING closed WHERE p.key = closed.key`, [key]);
  }

  /** Every circuit that has seen a counted failure, by key (admin view). */
  async list(): Promise<CircuitRecord[]> {
    const result = await this.pool.query<CircuitRow>(
      `SELECT key, ${STATE_SQL} AS state, consecutive_failures AS failures, open_until, opened_at, last_failure_at, last_failure_kind,
              CASE WHEN open_until IS NULL THEN 0 ELSE circuit_live_probes(key, opened_at, now()) END AS probes
         FROM circuit_breakers ORDER BY key`);
    return result.rows.map((row) => ({
      key: row.key, state: row.state, failures: row.failures, openUntil: row.open_until, openedAt: row.opened_at,
      lastFailureAt: row.last_failure_at, lastFailureKind: row.last_failure_kind, probesInFlight: row.probes,
    }));
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * Circuit breakers per `provider|region|model` (`circuitKey` in src/domain/attempt-plan.ts), shared by
 * every Zumik process through Postgres; every time is the database's `now()`, so processes agree.
 *
 * - closed: calls go. `failureThreshold` consecutive outage failures within `windowMs` open it.
 * - open (`open_until > now()`): the attempt plan skips the target. Late failures of calls that started
 *   before it opened change nothing.
 * - half-open (after `open_until`): calls go again as probes. A failed probe reopens it for twice the
 *   previous opening (capped at `maxOpenMs`); a success closes it and resets counters and backoff.
 * Only outage kinds count (OUTAGE_FAILURE_KINDS); any other failure neither counts nor resets the run.
 */
import type { Pool } from 'pg';
import type { FailureKind } from '../providers/provider-error';

/** Whether each failure kind is evidence that the target itself is down, and why. */
export const CIRCUIT_FAILURE_CLASSES = {
  upstream_unavailable: { counts: true, reason: '5xx or no ready endpoint: the target is down' },
  overloaded: { counts: true, reason: 'the target sheds load: sending more makes it worse' },
  timeout: { counts: true, reason: 'no headers or first token in time: the target is not answering' },
  network: { counts: true, reason: 'refused, reset or DNS failure: the target is unreachable' },
  stream_stalled: { counts: true, reason: 'the target stopped mid-answer' },
  stream_truncated: { counts: true, reason: 'the target cut the answer short' },
  bad_response: { counts: true, reason: 'the target answers garbage: broken deployment or proxy' },
  rate_limit: { counts: false, reason: 'our own quota pacing: the target is healthy; Retry-After handles it' },
  auth: { counts: false, reason: 'a credential problem of one tenant, not of the target' },
  quota: { counts: false, reason: 'one account out of credit; other accounts are served' },
  invalid_request: { counts: false, reason: 'the request is at fault, not the target' },
  content_filter: { counts: false, reason: 'a refusal of this content, not an outage' },
  context_length: { counts: false, reason: 'this prompt is too long for the model, not an outage' },
  model_not_found: { counts: false, reason: 'a configuration error of this target, not an outage' },
  cancelled: { counts: false, reason: 'the caller aborted; the target did nothing wrong' },
  unknown: { counts: false, reason: 'unclassified: not evidence enough to reroute all traffic' },
} as const satisfies Record<FailureKind, { counts: boolean; reason: string }>;

/** The failure kinds that count towards opening a circuit. */
export const OUTAGE_FAILURE_KINDS: readonly FailureKind[] = (Object.keys(CIRCUIT_FAILURE_CLASSES) as FailureKind[])
  .filter((kind) => CIRCUIT_FAILURE_CLASSES[kind].counts);

export interface CircuitBreakerOptions {
  /** Consecutive outage failures (within `windowMs`) that open a circuit. */
  failureThreshold?: number;
  windowMs?: number;
  /** First opening; doubles on each failed half-open probe. */
  openMs?: number;
  maxOpenMs?: number;
}

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
}

interface CircuitRow {
  key: string;
  state: CircuitState;
  failures: number;
  open_until: Date | null;
  opened_at: Date | null;
  last_failure_at: Date | null;
  last_failure_kind: string | null;
}

const STATE_SQL = `CASE WHEN open_until IS NULL THEN 'closed' WHEN open_until > now() THEN 'open' ELSE 'half_open' END`;

export class CircuitBreakerStore {
  private readonly options: Required<CircuitBreakerOptions>;
  private readonly outageKinds = new Set<string>(OUTAGE_FAILURE_KINDS);

  constructor(private readonly pool: Pool, options: CircuitBreakerOptions = {}) {
    this.options = { failureThreshold: 5, windowMs: 60_000, openMs: 30_000, maxOpenMs: 300_000, ...options };
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
        throw new RangeError(`circuit breaker option ${name} must be a positive integer, got ${value}`);
      }
    }
  }

  /** Keys (of `keys`, or of all) whose circuit is open now; half-open circuits are not in the set. */
  async openCircuits(keys?: readonly string[]): Promise<Set<string>> {
    if (keys && keys.length === 0) return new Set();
    const result = keys
      ? await this.pool.query<{ key: string }>('SELECT key FROM circuit_breakers WHERE key = ANY($1::text[]) AND open_until > now()', [keys])
      : await this.pool.query<{ key: string }>('SELECT key FROM circuit_breakers WHERE open_until > now()');
    return new Set(result.rows.map((row) => row.key));
  }

  /**
   * One read of every circuit that is not plainly closed: `open` with how many milliseconds each stays
   * open (database time), and `dirty` — every key with counted failures or an opening (open or
   * half-open), the only ones a success has anything to reset on.
   */
  async snapshot(): Promise<{ open: Map<string, number>; dirty: Set<string> }> {
    const result = await this.pool.query<{ key: string; remaining_ms: number | null }>(
      `SELECT key, CASE WHEN open_until > now() THEN ceil(extract(epoch FROM open_until - now()) * 1000)::float8 END AS remaining_ms
         FROM circuit_breakers WHERE open_until IS NOT NULL OR consecutive_failures > 0`);
    const open = new Map<string, number>();
    for (const row of result.rows) if (row.remaining_ms !== null) open.set(row.key, Number(row.remaining_ms));
    return { open, dirty: new Set(result.rows.map((row) => row.key)) };
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
   * Report a successful call: closes the circuit and resets its counters and backoff. Writes only when
   * there is something to reset, so the common case (closed, no failures) is a read.
   */
  async recordSuccess(key: string): Promise<void> {
    await this.pool.query(
      `UPDATE circuit_breakers SET recent_failures = '{}', consecutive_failures = 0, open_until = NULL, open_ms = NULL,
              opened_at = NULL, updated_at = now()
        WHERE key = $1 AND (consecutive_failures > 0 OR open_until IS NOT NULL)`, [key]);
  }

  /** Every circuit that has seen a counted failure, by key (admin view). */
  async list(): Promise<CircuitRecord[]> {
    const result = await this.pool.query<CircuitRow>(
      `SELECT key, ${STATE_SQL} AS state, consecutive_failures AS failures, open_until, opened_at, last_failure_at, last_failure_kind
         FROM circuit_breakers ORDER BY key`);
    return result.rows.map((row) => ({
      key: row.key, state: row.state, failures: row.failures, openUntil: row.open_until, openedAt: row.opened_at,
      lastFailureAt: row.last_failure_at, lastFailureKind: row.last_failure_kind,
    }));
  }
}

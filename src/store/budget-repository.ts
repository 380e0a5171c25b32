/**
 * Budgets and their reservations in Postgres (issue 14). The request path reads a tenant's budgets
 * from a per-process cache (forgotten at once on the zumik_config feed's `budgets:<tenant>`, else after
 * 5 s), so a tenant without budgets pays no round trip. A request a budget applies to reserves in one
 * transaction that locks those budgets' rows: concurrent reservations against one budget are
 * serialised, so a hard budget admits only while its committed spend is below its amount — the spend
 * can pass the amount by at most the last admitted request's maximum cost. The reservation becomes the
 * actual cost when the request is recorded (RequestRepository.record, same statement).
 */
import type { Pool, PoolClient } from 'pg';
import { periodEnd, periodStart, type Budget, type BudgetInput, type BudgetMode, type BudgetPeriod } from '../domain/budget';
import { newBudgetId } from '../ids';
import { inTransaction, rollback } from './transaction';
import { TtlCache } from './ttl-cache';

interface BudgetRow {
  id: string; tenant_id: string; api_key_id: string | null; alias: string | null; amount_usd: string; period: string;
  window_seconds: number | null; mode: string; created_at: Date;
}

export interface StoredBudget { budget: Budget; createdAt: number }

const toStored = (row: BudgetRow): StoredBudget => ({
  budget: {
    id: row.id, tenantId: row.tenant_id, apiKeyId: row.api_key_id, alias: row.alias, amountUsd: Number(row.amount_usd),
    period: row.period as BudgetPeriod, windowSeconds: row.window_seconds, mode: row.mode as BudgetMode,
  },
  createdAt: Math.floor(row.created_at.getTime() / 1000),
});

export interface BudgetSpend { committedUsd: number; settledUsd: number; periodStart: number; periodEnd: number }

export type ReserveResult =
  | { admitted: true; softExceeded: Budget[]; utilisation: Array<{ budget: Budget; committedUsd: number }> }
  /** A hard budget is spent: refused, with the seconds until it has room again. */
  | { admitted: false; budget: Budget; retryAfterSeconds: number };

/** How long an unsettled reservation counts past the request's deadline (its workflow records well before). */
const RESERVATION_GRACE_MS = 10 * 60_000;

/** A reservation's transaction found a hard budget spent: it rolls back, and the refusal is worked out after. */
interface HardBudgetSpent { spentBudget: Budget; spent: number; now: number }

const COLUMNS = 'id, tenant_id, api_key_id, alias, amount_usd, period, window_seconds, mode, created_at';

export class BudgetRepository {
  private readonly cache = new TtlCache<string, Budget[]>(5_000);

  constructor(private readonly pool: Pool) {}

  /** Every budget of a tenant, from this process's cache (the request path's read). */
  ofTenant(tenantId: string): Promise<Budget[]> {
    return this.cache.get(tenantId, async () => (await this.list(tenantId)).map((stored) => stored.budget));
  }

  /** A tenant's budgets changed (the feed said so), or everything. */
  invalidate(tenantId?: string): void {
    this.cache.invalidate(tenantId);
  }

  async list(tenantId: string): Promise<StoredBudget[]> {
    const result = await this.pool.query<BudgetRow>(`SELECT ${COLUMNS} FROM budgets WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
    return result.rows.map(toStored);
  }

  async find(tenantId: string, id: string): Promise<StoredBudget | undefined> {
    const result = await this.pool.query<BudgetRow>(`SELECT ${COLUMNS} FROM budgets WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return result.rows[0] && toStored(result.rows[0]);
  }

  async create(tenantId: string, input: BudgetInput): Promise<StoredBudget> {
    const result = await this.pool.query<BudgetRow>(
      `INSERT INTO budgets (id, tenant_id, api_key_id, alias, amount_usd, period, window_seconds, mode) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING ${COLUMNS}`,
      [newBudgetId(), tenantId, input.api_key_id, input.alias, input.amount_usd, input.period, input.window_seconds, input.mode]);
    this.cache.invalidate(tenantId);
    return toStored(result.rows[0]!);
  }

  /** Replace the amount, period and mode (what it limits stays: a budget of another key is another budget). */
  async update(tenantId: string, id: string, input: BudgetInput): Promise<StoredBudget | undefined> {
    const result = await this.pool.query<BudgetRow>(
      `UPDATE budgets SET amount_usd = $3, period = $4, window_seconds = $5, mode = $6, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, id, input.amount_usd, input.period, input.window_seconds, input.mode]);
    this.cache.invalidate(tenantId);
    return result.rows[0] && toStored(result.rows[0]);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM budgets WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    this.cache.invalidate(tenantId);
    return (result.rowCount ?? 0) > 0;
  }

  /** Each budget's spend in its current period. */
  async spend(budgets: readonly Budget[], now = Date.now()): Promise<Map<string, BudgetSpend>> {
    const spends = new Map<string, BudgetSpend>();
    if (budgets.length === 0) return spends;
    const rows = await this.committed(this.pool, budgets, now);
    for (const budget of budgets) {
      const row = rows.get(budget.id);
      spends.set(budget.id, { committedUsd: row?.committed ?? 0, settledUsd: row?.settled ?? 0, periodStart: periodStart(budget, now), periodEnd: periodEnd(budget, now) });
    }
    return spends;
  }

  /**
   * Reserve `amountUsd` against every budget that applies (their rows locked for the transaction), or
   * refuse when a hard one's committed spend has reached its amount. Soft budgets never refuse: the
   * ones already spent are reported (the request is flagged).
   */
  async reserve(input: { requestId: string; budgets: readonly Budget[]; amountUsd: number; expiresAt: number }): Promise<ReserveResult> {
    const outcome = await inTransaction<ReserveResult | HardBudgetSpent>(this.pool, async (client) => {
      const ids = [...input.budgets].map((budget) => budget.id).sort();
      // The rows as they are now (an update since the cache read counts), locked in one order: no deadlock between requests.
      const locked = await client.query<BudgetRow>(`SELECT ${COLUMNS} FROM budgets WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [ids]);
      const budgets = locked.rows.map((row) => toStored(row).budget);
      const now = Date.now();
      const committed = await this.committed(client, budgets, now);
      const softExceeded: Budget[] = [];
      const utilisation: Array<{ budget: Budget; committedUsd: number }> = [];
      for (const budget of budgets) {
        const spent = committed.get(budget.id)?.committed ?? 0;
        utilisation.push({ budget, committedUsd: spent + input.amountUsd });
        if (spent < budget.amountUsd) continue;
        if (budget.mode === 'soft') {
          softExceeded.push(budget);
          continue;
        }
        return rollback({ spentBudget: budget, spent, now });
      }
      if (budgets.length > 0) {
        await client.query(
          `INSERT INTO budget_reservations (request_id, budget_id, amount_usd, reserved_usd, soft_exceeded, expires_at)
           SELECT $1, b.id, $2, $2, b.id = ANY($3), to_timestamp($4 / 1000.0) FROM unnest($5::text[]) AS b(id)
           ON CONFLICT (request_id, budget_id) DO NOTHING`,
          [input.requestId, input.amountUsd, softExceeded.map((budget) => budget.id), input.expiresAt + RESERVATION_GRACE_MS, budgets.map((budget) => budget.id)]);
      }
      return { admitted: true, softExceeded, utilisation };
    });
    if (!('spentBudget' in outcome)) return outcome;
    // After the rollback, outside the transaction: the budgets' rows are no longer locked while this reads.
    const { spentBudget, spent, now } = outcome;
    return { admitted: false, budget: spentBudget, retryAfterSeconds: await this.retryAfterSeconds(spentBudget, spent, now) };
  }

  /** Give back a request's reservations (its workflow could not be started, or a cached answer served it). */
  async release(requestId: string): Promise<void> {
    await this.pool.query('DELETE FROM budget_reservations WHERE request_id = $1 AND settled_at IS NULL', [requestId]);
  }

  /** Committed (settled + open reservations) and settled spend per budget in its current period. */
  private async committed(client: Pool | PoolClient, budgets: readonly Budget[], now: number): Promise<Map<string, { committed: number; settled: number }>> {
    const result = await client.query<{ budget_id: string; committed: string; settled: string }>(
      `SELECT r.budget_id, sum(r.amount_usd) AS committed, coalesce(sum(r.amount_usd) FILTER (WHERE r.settled_at IS NOT NULL), 0) AS settled
         FROM budget_reservations r JOIN unnest($1::text[], $2::double precision[]) AS b(id, since) ON r.budget_id = b.id
        WHERE r.at >= to_timestamp(b.since / 1000.0) AND (r.settled_at IS NOT NULL OR r.expires_at > now())
        GROUP BY r.budget_id`,
      [budgets.map((budget) => budget.id), budgets.map((budget) => periodStart(budget, now))]);
    return new Map(result.rows.map((row) => [row.budget_id, { committed: Number(row.committed), settled: Number(row.settled) }]));
  }

  /**
   * Seconds until a spent hard budget has room: the period's end for a day or a month; for a rolling
   * window, when enough of the oldest spend has left the window for the rest to be below the amount.
   */
  private async retryAfterSeconds(budget: Budget, committed: number, now: number): Promise<number> {
    if (budget.period !== 'rolling') return Math.max(1, Math.ceil((periodEnd(budget, now) - now) / 1000));
    const rows = await this.pool.query<{ at: Date; amount: string }>(
      `SELECT at, amount_usd AS amount FROM budget_reservations
        WHERE budget_id = $1 AND at >= to_timestamp($2 / 1000.0) AND (settled_at IS NOT NULL OR expires_at > now()) ORDER BY at`,
      [budget.id, periodStart(budget, now)]);
    let left = committed;
    for (const row of rows.rows) {
      left -= Number(row.amount);
      if (left < budget.amountUsd) return Math.max(1, Math.ceil((row.at.getTime() + (budget.windowSeconds ?? 0) * 1000 - now) / 1000));
    }
    return Math.max(1, budget.windowSeconds ?? 1);
  }
}

/**
 * `GET /v2/spend`'s numbers (issue 14): a tenant's recorded costs in a time range, in total and broken
 * down by API key, alias, provider (the one that served, else the last tried) and UTC day — one query
 * with grouping sets over the requests table. Requests whose cost is unknown count in `unpriced_requests`.
 */
import type { Pool } from 'pg';

export interface SpendLine { requests: number; cost_usd: number; unpriced_requests: number }
export interface SpendReport {
  total: SpendLine;
  by_key: Array<SpendLine & { api_key_id: string | null }>;
  by_alias: Array<SpendLine & { alias: string }>;
  by_provider: Array<SpendLine & { provider: string | null }>;
  by_day: Array<SpendLine & { day: string }>;
}

interface Row { api_key_id: string | null; alias: string | null; provider: string | null; day: string | null; grouping: number; requests: string; cost: string | null; unpriced: string }

export async function spendReport(pool: Pool, tenantId: string, from: Date, to: Date): Promise<SpendReport> {
  const result = await pool.query<Row>(
    `SELECT api_key_id, alias, provider, to_char(date_trunc('day', ended_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
            GROUPING(api_key_id, alias, provider, date_trunc('day', ended_at AT TIME ZONE 'UTC')) AS grouping,
            count(*) AS requests, coalesce(sum(cost_usd), 0) AS cost,
            count(*) FILTER (WHERE cost_usd IS NULL AND attempt_count > 0) AS unpriced
       FROM requests WHERE tenant_id = $1 AND ended_at >= $2 AND ended_at < $3
      GROUP BY GROUPING SETS ((), (api_key_id), (alias), (provider), (date_trunc('day', ended_at AT TIME ZONE 'UTC')))`,
    [tenantId, from, to]);
  const line = (row: Row): SpendLine => ({ requests: Number(row.requests), cost_usd: Math.round(Number(row.cost ?? 0) * 1e8) / 1e8, unpriced_requests: Number(row.unpriced) });
  const report: SpendReport = { total: { requests: 0, cost_usd: 0, unpriced_requests: 0 }, by_key: [], by_alias: [], by_provider: [], by_day: [] };
  // GROUPING's bits, highest first: key, alias, provider, day (1 = rolled up).
  for (const row of result.rows) {
    switch (Number(row.grouping)) {
      case 0b1111: report.total = line(row); break;
      case 0b0111: report.by_key.push({ api_key_id: row.api_key_id, ...line(row) }); break;
      case 0b1011: report.by_alias.push({ alias: row.alias!, ...line(row) }); break;
      case 0b1101: report.by_provider.push({ provider: row.provider, ...line(row) }); break;
      case 0b1110: report.by_day.push({ day: row.day!, ...line(row) }); break;
    }
  }
  const byCost = (a: SpendLine, b: SpendLine) => b.cost_usd - a.cost_usd;
  report.by_key.sort(byCost);
  report.by_alias.sort(byCost);
  report.by_provider.sort(byCost);
  report.by_day.sort((a, b) => a.day.localeCompare(b.day));
  return report;
}

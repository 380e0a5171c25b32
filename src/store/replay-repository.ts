/**
 * Replays and their reports (README "Replay"): the request that started one (selection, candidate,
 * similarity, the tenant's thresholds at the start), its sampled request ids and each one's result, and the
 * report with its verdict. The replay workflow's activities write here; /v2/replays reads (per tenant).
 */
import type { Pool } from 'pg';
import type { ReplayItemResult, ReplayReport, ReplayThresholds } from '../domain/replay-report';
import { jsonb } from './jsonb';

/** Which retained prompts a replay draws from. */
export interface ReplaySelection {
  alias: string;
  release_id?: string;
  /** Epoch seconds. */
  from?: number;
  to?: number;
  sample_size: number;
}

/** What a replay sends the prompts to: one of the tenant's BYOC endpoints (with the model to ask it for), or a release. */
export type ReplayCandidate = { byoc_endpoint: string; model: string } | { release_id: string };

export interface ReplayRecord {
  id: string;
  tenantId: string;
  selection: ReplaySelection;
  candidate: ReplayCandidate;
  similarity: string;
  thresholds: ReplayThresholds;
  status: 'running' | 'completed';
  sampleCount: number | null;
  report: ReplayReport | null;
  verdict: 'pass' | 'fail' | null;
  createdBy: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

interface ReplayRow {
  id: string; tenant_id: string; selection: ReplaySelection; candidate: ReplayCandidate; similarity: string; thresholds: ReplayThresholds;
  status: 'running' | 'completed'; sample_count: number | null; report: ReplayReport | null; verdict: 'pass' | 'fail' | null;
  created_by: string | null; created_at: Date; completed_at: Date | null;
}

const toRecord = (row: ReplayRow): ReplayRecord => ({
  id: row.id, tenantId: row.tenant_id, selection: row.selection, candidate: row.candidate, similarity: row.similarity, thresholds: row.thresholds,
  status: row.status, sampleCount: row.sample_count, report: row.report, verdict: row.verdict, createdBy: row.created_by,
  createdAt: row.created_at, completedAt: row.completed_at,
});

export class ReplayRepository {
  constructor(private readonly pool: Pool) {}

  async create(input: Pick<ReplayRecord, 'id' | 'tenantId' | 'selection' | 'candidate' | 'similarity' | 'thresholds' | 'createdBy'>): Promise<ReplayRecord> {
    const result = await this.pool.query<ReplayRow>(
      `INSERT INTO replays (id, tenant_id, selection, candidate, similarity, thresholds, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [input.id, input.tenantId, jsonb(input.selection), jsonb(input.candidate), input.similarity, jsonb(input.thresholds), input.createdBy]);
    return toRecord(result.rows[0]!);
  }

  /** A tenant's replay (another tenant's is not found). */
  async find(tenantId: string, id: string): Promise<ReplayRecord | undefined> {
    const result = await this.pool.query<ReplayRow>('SELECT * FROM replays WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** A replay by id alone: for its workflow's activities, which carry the tenant in their input too. */
  async get(id: string): Promise<ReplayRecord> {
    const result = await this.pool.query<ReplayRow>('SELECT * FROM replays WHERE id = $1', [id]);
    if (!result.rows[0]) throw new Error(`replay ${id} does not exist`);
    return toRecord(result.rows[0]);
  }

  async list(tenantId: string, limit = 100): Promise<ReplayRecord[]> {
    const result = await this.pool.query<ReplayRow>('SELECT * FROM replays WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [tenantId, limit]);
    return result.rows.map(toRecord);
  }

  /**
   * Store the sample once: the replay's items in order. Idempotent (a retried activity keeps the first
   * sample); answers the number of items.
   */
  async setSample(id: string, requestIds: readonly string[]): Promise<number> {
    const result = await this.pool.query<{ sample_count: number }>(
      `WITH items AS (
         INSERT INTO replay_items (replay_id, seq, request_id)
         SELECT $1, ordinality - 1, request_id FROM unnest($2::text[]) WITH ORDINALITY AS sample(request_id, ordinality)
         WHERE NOT EXISTS (SELECT 1 FROM replays WHERE id = $1 AND sample_count IS NOT NULL)
         ON CONFLICT DO NOTHING)
       UPDATE replays SET sample_count = coalesce(sample_count, $3) WHERE id = $1 RETURNING sample_count`, [id, requestIds, requestIds.length]);
    return result.rows[0]!.sample_count;
  }

  async item(id: string, seq: number): Promise<{ requestId: string; status: string }> {
    const result = await this.pool.query<{ request_id: string; status: string }>('SELECT request_id, status FROM replay_items WHERE replay_id = $1 AND seq = $2', [id, seq]);
    if (!result.rows[0]) throw new Error(`replay ${id} has no item ${seq}`);
    return { requestId: result.rows[0].request_id, status: result.rows[0].status };
  }

  async saveItem(id: string, seq: number, result: ReplayItemResult): Promise<void> {
    await this.pool.query('UPDATE replay_items SET status = $3, result = $4 WHERE replay_id = $1 AND seq = $2',
      [id, seq, result.ok ? 'succeeded' : 'failed', jsonb(result)]);
  }

  async itemResults(id: string): Promise<ReplayItemResult[]> {
    const result = await this.pool.query<{ result: ReplayItemResult }>(
      'SELECT result FROM replay_items WHERE replay_id = $1 AND result IS NOT NULL ORDER BY seq', [id]);
    return result.rows.map((row) => row.result);
  }

  /** Per-item results with their request ids, for the report's detail. */
  async items(id: string): Promise<Array<{ seq: number; requestId: string; status: string; result: ReplayItemResult | null }>> {
    const result = await this.pool.query<{ seq: number; request_id: string; status: string; result: ReplayItemResult | null }>(
      'SELECT seq, request_id, status, result FROM replay_items WHERE replay_id = $1 ORDER BY seq', [id]);
    return result.rows.map((row) => ({ seq: row.seq, requestId: row.request_id, status: row.status, result: row.result }));
  }

  async complete(id: string, report: ReplayReport): Promise<void> {
    await this.pool.query(`UPDATE replays SET status = 'completed', report = $2, verdict = $3, completed_at = coalesce(completed_at, now()) WHERE id = $1`,
      [id, jsonb(report), report.verdict]);
  }
}

/**
 * The OpenAI batch object in Postgres (PROVIDERS.md §1.7): written by POST /v1/batches and by the batch
 * workflow's activities as it moves through validating → in_progress → finalizing → completed (or
 * failed, expired, cancelling → cancelled). Each status stamps its own `*_at` once.
 */
import type { Pool } from 'pg';
import { newBatchId } from './file-ids';

export const BATCH_STATUSES = ['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
/** Statuses a batch never leaves. */
export const TERMINAL_BATCH_STATUSES: readonly BatchStatus[] = ['failed', 'completed', 'expired', 'cancelled'];

/** One entry of the batch object's `errors.data` (validation failures of the input file). */
export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  /** 1-based line of the input file. */
  line: number | null;
}

export interface BatchRequestCounts {
  total: number;
  completed: number;
  failed: number;
}

export interface BatchRecord {
  id: string;
  tenantId: string;
  apiKeyId: string | null;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  status: BatchStatus;
  model: string | null;
  metadata: Record<string, string> | null;
  requestCounts: BatchRequestCounts;
  outputFileId: string | null;
  errorFileId: string | null;
  errors: BatchError[] | null;
  /** OpenAI's batch usage object (input_tokens, input_tokens_details, output_tokens, output_tokens_details, total_tokens). */
  usage: Record<string, unknown> | null;
  workflowId: string | null;
  outputExpiresAfterSeconds: number | null;
  createdAt: Date;
  expiresAt: Date | null;
  inProgressAt: Date | null;
  finalizingAt: Date | null;
  completedAt: Date | null;
  failedAt: Date | null;
  expiredAt: Date | null;
  cancellingAt: Date | null;
  cancelledAt: Date | null;
}

export interface CreateBatchInput {
  /** Default: a fresh `batch_…` id (pass one to name the workflow after it before the row exists). */
  id?: string;
  tenantId: string;
  apiKeyId?: string | null;
  endpoint: string;
  inputFileId: string;
  /** Only `24h` (OpenAI's one window); expires_at = created_at + this. */
  completionWindow?: '24h';
  metadata?: Record<string, string> | null;
  model?: string | null;
  workflowId?: string | null;
  outputExpiresAfterSeconds?: number | null;
  /** Default: validating. */
  status?: BatchStatus;
}

interface BatchRow {
  id: string; tenant_id: string; api_key_id: string | null; endpoint: string; input_file_id: string; completion_window: string;
  status: BatchStatus; model: string | null; metadata: Record<string, string> | null; total_count: number; completed_count: number;
  failed_count: number; output_file_id: string | null; error_file_id: string | null; errors: BatchError[] | null;
  usage: Record<string, unknown> | null; workflow_id: string | null; output_expires_after_seconds: number | null; created_at: Date;
  expires_at: Date | null; in_progress_at: Date | null; finalizing_at: Date | null; completed_at: Date | null; failed_at: Date | null;
  expired_at: Date | null; cancelling_at: Date | null; cancelled_at: Date | null;
}

const toRecord = (row: BatchRow): BatchRecord => ({
  id: row.id, tenantId: row.tenant_id, apiKeyId: row.api_key_id, endpoint: row.endpoint, inputFileId: row.input_file_id,
  completionWindow: row.completion_window, status: row.status, model: row.model, metadata: row.metadata,
  requestCounts: { total: row.total_count, completed: row.completed_count, failed: row.failed_count },
  outputFileId: row.output_file_id, errorFileId: row.error_file_id, errors: row.errors, usage: row.usage, workflowId: row.workflow_id,
  outputExpiresAfterSeconds: row.output_expires_after_seconds, createdAt: row.created_at, expiresAt: row.expires_at,
  inProgressAt: row.in_progress_at, finalizingAt: row.finalizing_at, completedAt: row.completed_at, failedAt: row.failed_at,
  expiredAt: row.expired_at, cancellingAt: row.cancelling_at, cancelledAt: row.cancelled_at,
});

/** The timestamp column each status stamps (validating's is created_at). */
const STATUS_COLUMN: Record<BatchStatus, string | null> = {
  validating: null, in_progress: 'in_progress_at', finalizing: 'finalizing_at', completed: 'completed_at', failed: 'failed_at',
  expired: 'expired_at', cancelling: 'cancelling_at', cancelled: 'cancelled_at',
};

const WINDOW_SECONDS: Record<string, number> = { '24h': 24 * 3600 };

export class BatchRepository {
  constructor(private readonly pool: Pool) {}

  async create(input: CreateBatchInput): Promise<BatchRecord> {
    const window = input.completionWindow ?? '24h';
    const result = await this.pool.query<BatchRow>(
      `INSERT INTO batches (id, tenant_id, api_key_id, endpoint, input_file_id, completion_window, status, model, metadata, workflow_id,
         output_expires_after_seconds, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now() + make_interval(secs => $12::integer)) RETURNING *`,
      [input.id ?? newBatchId(), input.tenantId, input.apiKeyId ?? null, input.endpoint, input.inputFileId, window, input.status ?? 'validating',
        input.model ?? null, input.metadata ? JSON.stringify(input.metadata) : null, input.workflowId ?? null,
        input.outputExpiresAfterSeconds ?? null, WINDOW_SECONDS[window]]);
    return toRecord(result.rows[0]!);
  }

  /** A tenant's batch (the API's view). */
  async get(tenantId: string, id: string): Promise<BatchRecord | undefined> {
    const result = await this.pool.query<BatchRow>('SELECT * FROM batches WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** A batch by id alone (the workflow's view: it already holds the id it was started for). */
  async getById(id: string): Promise<BatchRecord | undefined> {
    const result = await this.pool.query<BatchRow>('SELECT * FROM batches WHERE id = $1', [id]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** A tenant's batches, newest first, after the batch `after` (cursor pagination; default limit 20, at most 100). */
  async list(tenantId: string, options: { after?: string; limit?: number } = {}): Promise<{ data: BatchRecord[]; hasMore: boolean }> {
    const limit = Math.min(Math.max(options.limit ?? 20, 1), 100);
    const result = await this.pool.query<BatchRow>(
      `SELECT * FROM batches b WHERE b.tenant_id = $1
         AND ($2::text IS NULL OR (b.created_at, b.id) < (SELECT a.created_at, a.id FROM batches a WHERE a.id = $2 AND a.tenant_id = $1))
       ORDER BY b.created_at DESC, b.id DESC LIMIT $3`,
      [tenantId, options.after ?? null, limit + 1]);
    return { data: result.rows.slice(0, limit).map(toRecord), hasMore: result.rows.length > limit };
  }

  /**
   * Move to `status`, stamping its `*_at` (once: a repeated move keeps the first time). With `from`, only
   * when the batch is in one of those statuses (e.g. cancel only from validating/in_progress, and never
   * out of a terminal status); undefined when that guard (or the id) did not match.
   */
  async updateStatus(id: string, status: BatchStatus, options: { from?: readonly BatchStatus[] } = {}): Promise<BatchRecord | undefined> {
    const column = STATUS_COLUMN[status];
    const result = await this.pool.query<BatchRow>(
      `UPDATE batches SET status = $2${column ? `, ${column} = coalesce(${column}, now())` : ''}
       WHERE id = $1 AND ($3::text[] IS NULL OR status = ANY($3::text[])) RETURNING *`,
      [id, status, options.from ? [...options.from] : null]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** Set some of request_counts (absent fields keep their value). */
  async setCounts(id: string, counts: Partial<BatchRequestCounts>): Promise<void> {
    await this.pool.query(
      `UPDATE batches SET total_count = coalesce($2, total_count), completed_count = coalesce($3, completed_count),
         failed_count = coalesce($4, failed_count) WHERE id = $1`,
      [id, counts.total ?? null, counts.completed ?? null, counts.failed ?? null]);
  }

  /** Set output_file_id and/or error_file_id (absent fields keep their value). */
  async setFiles(id: string, files: { outputFileId?: string | null; errorFileId?: string | null }): Promise<void> {
    await this.pool.query(
      `UPDATE batches SET output_file_id = CASE WHEN $2 THEN $3 ELSE output_file_id END,
         error_file_id = CASE WHEN $4 THEN $5 ELSE error_file_id END WHERE id = $1`,
      [id, files.outputFileId !== undefined, files.outputFileId ?? null, files.errorFileId !== undefined, files.errorFileId ?? null]);
  }

  /** The input file's validation errors (the batch object's `errors.data`); null clears them. */
  async setErrors(id: string, errors: BatchError[] | null): Promise<void> {
    await this.pool.query('UPDATE batches SET errors = $2 WHERE id = $1', [id, errors ? JSON.stringify(errors) : null]);
  }

  async setUsage(id: string, usage: Record<string, unknown> | null): Promise<void> {
    await this.pool.query('UPDATE batches SET usage = $2 WHERE id = $1', [id, usage ? JSON.stringify(usage) : null]);
  }

  /** The model the batch's lines name (OpenAI's batch object shows one). */
  async setModel(id: string, model: string | null): Promise<void> {
    await this.pool.query('UPDATE batches SET model = $2 WHERE id = $1', [id, model]);
  }

  async setWorkflowId(id: string, workflowId: string): Promise<void> {
    await this.pool.query('UPDATE batches SET workflow_id = $2 WHERE id = $1', [id, workflowId]);
  }
}

/**
 * batch_results: one row per request line of a batch, written exactly once per custom_id by the batch
 * workflow, read back as the output/error file in line order (OpenAI's BatchRequestOutput lines).
 */
import type { Pool } from 'pg';
import { jsonb } from './jsonb';
import { newBatchRequestId } from './file-ids';

export type ResultKind = 'output' | 'error';

/**
 * What a line says beyond its id and custom_id. An answered request (2xx, or a 4xx the model
 * endpoint returned) has `response` and `error: null`; a request that never got an answer (expired,
 * cancelled, no target) has `response: null` and `error`.
 */
export interface BatchResultBody {
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

export interface AppendResultInput {
  batchId: string;
  customId: string;
  /** 0-based line of the input file: the order of the output file. */
  lineIndex: number;
  kind: ResultKind;
  body: BatchResultBody;
}

/** One output line, key order as OpenAI writes it: `{"id","custom_id","response","error"}` + newline. */
export function renderResultLine(id: string, customId: string, body: BatchResultBody): string {
  return `${JSON.stringify({ id, custom_id: customId, response: body.response, error: body.error })}\n`;
}

/** Rows per query while a result file streams (a page of large completions stays a few MB). */
const PAGE_ROWS = 100;

export class BatchResultStore {
  constructor(private readonly pool: Pool) {}

  async append(input: AppendResultInput): Promise<boolean> {
    const id = newBatchRequestId();
    const body = { response: input.body.response, error: input.body.error };
    const result = await this.pool.query(
      `INSERT INTO batch_results (batch_id, custom_id, line_index, kind, id, body, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (batch_id, custom_id) DO NOTHING`,
      [input.batchId, input.customId, input.lineIndex, input.kind, id, jsonb(body),
        Buffer.byteLength(renderResultLine(id, input.customId, body))]);
    return result.rowCount === 1;
  }

  async counts(batchId: string): Promise<{ output: number; error: number }> {
    const result = await this.pool.query<{ output: number; error: number }>(
      `SELECT count(*) FILTER (WHERE kind = 'output')::integer AS output, count(*) FILTER (WHERE kind = 'error')::integer AS error
       FROM batch_results WHERE batch_id = $1`, [batchId]);
    return result.rows[0]!;
  }

  /** The file's bytes, a page of rows per query (keyset on line_index, custom_id), as the reader pulls. */
  async *renderLines(batchId: string, kind: ResultKind): AsyncGenerator<Buffer> {
    let cursor: { lineIndex: number; customId: string } | undefined;
    for (;;) {
      const page = await this.pool.query<{ id: string; custom_id: string; line_index: number; body: BatchResultBody }>(
        `SELECT id, custom_id, line_index, body FROM batch_results WHERE batch_id = $1 AND kind = $2
           AND ($3::integer IS NULL OR (line_index, custom_id) > ($3, $4))
         ORDER BY line_index, custom_id LIMIT ${PAGE_ROWS}`,
        [batchId, kind, cursor?.lineIndex ?? null, cursor?.customId ?? '']);
      if (page.rows.length === 0) return;
      yield Buffer.from(page.rows.map((row) => renderResultLine(row.id, row.custom_id, row.body)).join(''));
      const last = page.rows.at(-1)!;
      cursor = { lineIndex: last.line_index, customId: last.custom_id };
      if (page.rows.length < PAGE_ROWS) return;
    }
  }
}

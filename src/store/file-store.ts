/**
 * /v1/files in Postgres. Uploads stream into 512 KiB chunks (memory is one chunk and one line, never the
 * file), batch files are validated line by line as they arrive, and downloads stream chunk by chunk
 * from the database. Batch result files are virtual: their content is the batch_results rows of one
 * batch and kind, rendered as OpenAI output lines on read, so results are written once per custom_id
 * and never copied. Plain SQL and short statements only (no transaction spans an upload), so the same
 * code runs on the embedded PostgreSQL.
 */
import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { UPLOAD_MAX_BYTES } from '../contract/limits';
import { createBatchLineValidator } from './batch-input-line';
import { BatchResultStore, type AppendResultInput, type ResultKind } from './batch-result-store';
import { FileNotFoundError, FileRejectedError } from './file-errors';
import { newFileId } from './file-ids';
import { JsonlChunker, type StoredChunk } from './jsonl-chunker';

export type { AppendResultInput, BatchResultBody, ResultKind } from './batch-result-store';

export interface FileRecord {
  id: string;
  tenantId: string;
  filename: string;
  purpose: string;
  bytes: number;
  lineCount: number;
  /** 0 for a batch result file (its content is rows, not chunks). */
  chunkCount: number;
  createdAt: Date;
  expiresAt: Date | null;
  /** Set on batch result files. */
  batchId: string | null;
  resultKind: ResultKind | null;
}

export interface FileLimits {
  /** Storage chunk size (default 512 KiB). */
  chunkBytes: number;
  /** Largest file (default 200 MB, OpenAI's batch input limit). */
  maxBytes: number;
  /** Most lines in a file (default 50,000, OpenAI's requests per batch). */
  maxLines: number;
  /** Longest single line of a validated file (default 10 MiB). */
  maxLineBytes: number;
}

export const DEFAULT_FILE_LIMITS: FileLimits = { chunkBytes: 512 * 1024, maxBytes: UPLOAD_MAX_BYTES, maxLines: 50_000, maxLineBytes: 10 * 1024 * 1024 };
/** Batch input files expire after 30 days unless the upload says otherwise (as OpenAI's do). */
export const BATCH_FILE_TTL_SECONDS = 30 * 24 * 3600;

export interface CreateFileInput {
  tenantId: string;
  filename: string;
  purpose: string;
  source: AsyncIterable<Buffer | Uint8Array | string> | Readable;
  /** Per-line check (throw InvalidLineError). Default: the batch input line contract for purpose `batch`, none otherwise; null: none. */
  validateLine?: ((text: string, lineNumber: number) => void) | null;
  /** Seconds until the file expires; default 30 days for `batch`, never otherwise. */
  expiresAfterSeconds?: number | null;
  /**
   * Runs after the content is stored, before the file becomes visible: a throw discards the upload (the
   * rest of a multipart form was bad); a returned expiresAfterSeconds replaces the one given above.
   */
  beforeCommit?: () => Promise<{ expiresAfterSeconds?: number | null } | void>;
}

export interface ListFilesOptions {
  purpose?: string;
  /** A file id: list the files after it in this order (cursor pagination). */
  after?: string;
  limit?: number;
  order?: 'asc' | 'desc';
}

/** One line read back by readLines: `index` is 0-based (the batch's line_index), `value` its parsed JSON. */
export interface ReadLine {
  index: number;
  value: unknown;
}

interface FileRow {
  id: string;
  tenant_id: string;
  filename: string;
  purpose: string;
  bytes: string | number;
  line_count: number;
  chunk_count: number;
  created_at: Date;
  expires_at: Date | null;
  batch_id: string | null;
  result_kind: ResultKind | null;
}

/** Result files count their rows live, so a file made before the last result lands is still right. */
const COLUMNS = `f.id, f.tenant_id, f.filename, f.purpose, f.chunk_count, f.created_at, f.expires_at, f.batch_id, f.result_kind,
  CASE WHEN f.batch_id IS NULL THEN f.bytes ELSE (SELECT coalesce(sum(r.bytes), 0) FROM batch_results r
    WHERE r.batch_id = f.batch_id AND r.kind = f.result_kind) END AS bytes,
  CASE WHEN f.batch_id IS NULL THEN f.line_count ELSE (SELECT count(*)::integer FROM batch_results r
    WHERE r.batch_id = f.batch_id AND r.kind = f.result_kind) END AS line_count`;
const VISIBLE = `f.status = 'processed' AND (f.expires_at IS NULL OR f.expires_at > now())`;

const toRecord = (row: FileRow): FileRecord => ({
  id: row.id, tenantId: row.tenant_id, filename: row.filename, purpose: row.purpose, bytes: Number(row.bytes), lineCount: row.line_count,
  chunkCount: row.chunk_count, createdAt: row.created_at, expiresAt: row.expires_at, batchId: row.batch_id, resultKind: row.result_kind,
});

const toBuffer = (piece: Buffer | Uint8Array | string): Buffer =>
  Buffer.isBuffer(piece) ? piece : typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);

/** Abandoned uploads (a crashed process) are swept after this long. */
const STALE_UPLOAD_MS = 24 * 3600 * 1000;

export class FileStore {
  readonly limits: FileLimits;
  private readonly results: BatchResultStore;
  private lastSweep = 0;

  constructor(private readonly pool: Pool, limits: Partial<FileLimits> = {}) {
    this.limits = { ...DEFAULT_FILE_LIMITS, ...limits };
    this.results = new BatchResultStore(pool);
  }

  /**
   * Stream `source` into storage. Refused uploads (FileRejectedError: a bad line, a limit) and failed
   * ones (the source errored, beforeCommit threw) leave nothing behind; the error is rethrown.
   */
  async create(input: CreateFileInput): Promise<FileRecord> {
    await this.sweepOccasionally();
    const id = newFileId();
    const validateLine = input.validateLine === undefined ? (input.purpose === 'batch' ? createBatchLineValidator() : undefined) : input.validateLine;
    await this.pool.query(`INSERT INTO files (id, tenant_id, filename, purpose, status) VALUES ($1, $2, $3, $4, 'uploading')`,
      [id, input.tenantId, input.filename, input.purpose]);
    const chunker = new JsonlChunker({ ...this.limits, validateLine: validateLine ?? undefined });
    let chunkCount = 0;
    try {
      for await (const piece of input.source as AsyncIterable<Buffer | Uint8Array | string>) {
        for (const chunk of chunker.push(toBuffer(piece))) chunkCount = await this.insertChunk(id, chunk);
      }
      const last = chunker.end();
      if (last) chunkCount = await this.insertChunk(id, last);
      if (input.purpose === 'batch' && chunker.lines === 0) {
        throw new FileRejectedError('The file is empty: a batch input file needs at least one request line.', 'empty_file');
      }
      const decided = await input.beforeCommit?.();
      let ttl = input.expiresAfterSeconds === undefined ? (input.purpose === 'batch' ? BATCH_FILE_TTL_SECONDS : null) : input.expiresAfterSeconds;
      if (decided && decided.expiresAfterSeconds !== undefined) ttl = decided.expiresAfterSeconds;
      const result = await this.pool.query<{ id: string }>(
        `UPDATE files SET status = 'processed', bytes = $2, line_count = $3, chunk_count = $4,
           expires_at = CASE WHEN $5::integer IS NULL THEN NULL ELSE created_at + make_interval(secs => $5::integer) END
         WHERE id = $1 AND status = 'uploading' RETURNING id`,
        [id, chunker.bytes, chunker.lines, chunkCount, ttl]);
      if (!result.rows[0]) throw new Error(`upload ${id} was swept before it finished`);
    } catch (error) {
      await this.pool.query('DELETE FROM files WHERE id = $1', [id]).catch(() => undefined);
      throw error;
    }
    return (await this.find('f.id = $1', [id]))!;
  }

  /** A tenant's file (stored or batch result), unless deleted or expired. */
  async get(tenantId: string, id: string): Promise<FileRecord | undefined> {
    return this.find('f.id = $1 AND f.tenant_id = $2', [id, tenantId]);
  }

  /** A tenant's files, newest first by default; `hasMore` says whether a page follows `data`. */
  async list(tenantId: string, options: ListFilesOptions = {}): Promise<{ data: FileRecord[]; hasMore: boolean }> {
    const limit = Math.min(Math.max(options.limit ?? 10_000, 1), 10_000);
    const descending = options.order !== 'asc';
    const comparison = descending ? '<' : '>';
    const direction = descending ? 'DESC' : 'ASC';
    const result = await this.pool.query<FileRow>(
      `SELECT ${COLUMNS} FROM files f WHERE f.tenant_id = $1 AND ${VISIBLE} AND ($2::text IS NULL OR f.purpose = $2)
         AND ($3::text IS NULL OR (f.created_at, f.id) ${comparison} (SELECT a.created_at, a.id FROM files a WHERE a.id = $3 AND a.tenant_id = $1))
       ORDER BY f.created_at ${direction}, f.id ${direction} LIMIT $4`,
      [tenantId, options.purpose ?? null, options.after ?? null, limit + 1]);
    return { data: result.rows.slice(0, limit).map(toRecord), hasMore: result.rows.length > limit };
  }

  /** Delete a tenant's file and its content (a result file's rows stay with their batch); false when there was none. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.pool.query(`DELETE FROM files f WHERE f.id = $1 AND f.tenant_id = $2 AND ${VISIBLE}`, [id, tenantId]);
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * The content as a byte stream that fetches one chunk (or one page of result rows) at a time, as the
   * reader pulls; undefined when the tenant has no such file. A file deleted mid-read errors the stream.
   */
  async openContent(tenantId: string, id: string): Promise<{ file: FileRecord; stream: Readable } | undefined> {
    const file = await this.get(tenantId, id);
    if (!file) return undefined;
    const source = file.batchId && file.resultKind ? this.results.renderLines(file.batchId, file.resultKind) : this.chunks(file);
    return { file, stream: Readable.from(source, { objectMode: false, highWaterMark: 64 * 1024 }) };
  }

  /**
   * `count` lines from 0-based line `fromLine` of a stored file, parsed as JSON: the batch workflow's
   * paging. Reads only the chunks the page spans, found by the per-chunk line index. Fewer (or no)
   * lines past the end. Throws FileNotFoundError when the tenant has no such file.
   */
  async readLines(tenantId: string, id: string, fromLine: number, count: number): Promise<ReadLine[]> {
    const file = await this.get(tenantId, id);
    if (!file) throw new FileNotFoundError(id);
    if (file.batchId) throw new Error(`readLines reads stored files; ${id} is a batch result file`);
    if (count <= 0 || fromLine < 0 || fromLine >= file.lineCount) return [];
    const start = await this.pool.query<{ seq: number; first_line: number; first_line_offset: number }>(
      `SELECT seq, first_line, first_line_offset FROM file_chunks WHERE file_id = $1 AND first_line <= $2
       ORDER BY first_line DESC LIMIT 1`, [id, fromLine]);
    const origin = start.rows[0];
    if (!origin) throw new FileNotFoundError(id);
    let seq = origin.seq;
    let data = await this.chunk(id, seq);
    let position = origin.first_line_offset;
    for (let index = origin.first_line; index < fromLine; index += 1) position = data.indexOf(0x0a, position) + 1;
    const lines: ReadLine[] = [];
    let parts: Buffer[] = [];
    while (lines.length < count) {
      const newline = data.indexOf(0x0a, position);
      parts.push(data.subarray(position, newline === -1 ? data.length : newline));
      if (newline === -1) {
        seq += 1;
        if (seq >= file.chunkCount) break;
        data = await this.chunk(id, seq);
        position = 0;
        continue;
      }
      lines.push({ index: fromLine + lines.length, value: JSON.parse(Buffer.concat(parts).toString('utf8')) });
      parts = [];
      position = newline + 1;
    }
    const rest = Buffer.concat(parts);
    if (lines.length < count && rest.length > 0) lines.push({ index: fromLine + lines.length, value: JSON.parse(rest.toString('utf8')) });
    return lines;
  }

  /**
   * Register the output or error file of a batch (purpose `batch_output`): a view of its batch_results
   * rows of that kind in line order. Idempotent per batch and kind, so a retried activity gets the same file.
   */
  async createResultFile(input: { tenantId: string; batchId: string; kind: ResultKind; expiresAfterSeconds?: number | null }): Promise<FileRecord> {
    await this.pool.query(
      `INSERT INTO files (id, tenant_id, filename, purpose, status, batch_id, result_kind, expires_at)
       VALUES ($1, $2, $3, 'batch_output', 'processed', $4, $5, CASE WHEN $6::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $6::integer) END)
       ON CONFLICT (batch_id, result_kind) WHERE batch_id IS NOT NULL DO NOTHING`,
      [newFileId(), input.tenantId, `${input.batchId}_${input.kind}.jsonl`, input.batchId, input.kind, input.expiresAfterSeconds ?? null]);
    const file = await this.find('f.batch_id = $1 AND f.result_kind = $2', [input.batchId, input.kind], false);
    if (!file) throw new Error(`result file of ${input.batchId} (${input.kind}) vanished`);
    return file;
  }

  /** Record one request's result, exactly once per (batch, custom_id): true when this call stored it, false when it was already there. */
  appendResult(input: AppendResultInput): Promise<boolean> {
    return this.results.append(input);
  }

  /** How many output and error lines a batch has (its request_counts.completed / failed). */
  resultCounts(batchId: string): Promise<{ output: number; error: number }> {
    return this.results.counts(batchId);
  }

  /** Delete expired files and abandoned uploads; returns how many went. */
  async purgeExpired(): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM files WHERE (expires_at IS NOT NULL AND expires_at <= now())
         OR (status = 'uploading' AND created_at < now() - make_interval(secs => $1::integer))`, [STALE_UPLOAD_MS / 1000]);
    return result.rowCount ?? 0;
  }

  private async sweepOccasionally(): Promise<void> {
    if (Date.now() - this.lastSweep < 3600_000) return;
    this.lastSweep = Date.now();
    await this.purgeExpired();
  }

  private async find(where: string, parameters: unknown[], visibleOnly = true): Promise<FileRecord | undefined> {
    const result = await this.pool.query<FileRow>(`SELECT ${COLUMNS} FROM files f WHERE ${where} AND ${visibleOnly ? VISIBLE : 'true'}`, parameters);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  private async insertChunk(fileId: string, chunk: StoredChunk): Promise<number> {
    await this.pool.query('INSERT INTO file_chunks (file_id, seq, first_line, first_line_offset, data) VALUES ($1, $2, $3, $4, $5)',
      [fileId, chunk.seq, chunk.firstLine, chunk.firstLineOffset, chunk.data]);
    return chunk.seq + 1;
  }

  private async chunk(fileId: string, seq: number): Promise<Buffer> {
    const result = await this.pool.query<{ data: Buffer }>('SELECT data FROM file_chunks WHERE file_id = $1 AND seq = $2', [fileId, seq]);
    if (!result.rows[0]) throw new FileNotFoundError(fileId);
    return result.rows[0].data;
  }

  private async *chunks(file: FileRecord): AsyncGenerator<Buffer> {
    for (let seq = 0; seq < file.chunkCount; seq += 1) yield await this.chunk(file.id, seq);
  }
}

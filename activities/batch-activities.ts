/**
 * The batch workflow's activities: mark it started, page its input lines, and finalise it — write
 * an error line for every line that has no result (expired or cancelled before it ran), count, and
 * publish the output and error files. Every write is idempotent, so a retried activity is harmless.
 * Pages are sized by bytes, not lines (each lands in history): a line above the claim-check threshold
 * goes by reference. An input file deleted or expired under a running batch is a non-retryable
 * `Batch.input_file_missing` failure (retrying would wedge the batch): the workflow stops and fails it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { INPUT_FILE_MISSING } from '../src/domain/batch-failures';
import { PAYLOAD_REF_THRESHOLD_BYTES } from '../src/domain/payload-ref';
import type { BatchError, BatchStatus } from '../src/store/batch-repository';
import type { BatchResultBody, ResultKind } from '../src/store/batch-result-store';
import { FileNotFoundError } from '../src/store/file-errors';
import type { PayloadRefs } from './payload-refs';
import type { BatchLineRef } from './types';

/** Most bytes one page carries into history: the claim-check threshold (a line above it counts as its reference); at least one line. */
export const BATCH_PAGE_BYTES = PAYLOAD_REF_THRESHOLD_BYTES;
/** Lines read from the store at a time while a page fills (memory stays a few lines, even at 10 MiB a line). */
const READ_STEP = 10;

export interface BatchActivityDeps {
  files: {
    readLines(tenantId: string, id: string, fromLine: number, count: number): Promise<Array<{ index: number; value: unknown }>>;
    appendResult(input: { batchId: string; customId: string; lineIndex: number; kind: ResultKind; body: BatchResultBody }): Promise<boolean>;
    resultCounts(batchId: string): Promise<{ output: number; error: number }>;
    createResultFile(input: { tenantId: string; batchId: string; kind: ResultKind; expiresAfterSeconds?: number | null }): Promise<{ id: string }>;
  };
  batches: {
    getById(id: string): Promise<{ inputFileId: string; requestCounts: { total: number }; outputExpiresAfterSeconds: number | null; status: BatchStatus } | undefined>;
    updateStatus(id: string, status: BatchStatus, options?: { from?: readonly BatchStatus[] }): Promise<unknown>;
    setCounts(id: string, counts: { total?: number; completed?: number; failed?: number }): Promise<void>;
    setFiles(id: string, files: { outputFileId?: string | null; errorFileId?: string | null }): Promise<void>;
    setErrors(id: string, errors: BatchError[] | null): Promise<void>;
  };
  /** Keeps a line body above the claim-check threshold (absent: lines always travel whole). */
  payloads?: PayloadRefs;
  /** Lines per page while finalisation looks for lines without a result. */
  pageSize?: number;
}

export interface FinalizeBatchInput {
  batchId: string;
  tenantId: string;
  status: 'completed' | 'expired' | 'cancelled' | 'failed';
  /** Why a `failed` batch failed (the batch object's `errors.data`). */
  error?: BatchError;
}

const MISSING_LINE: Record<FinalizeBatchInput['status'], { code: string; message: string }> = {
  expired: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
  cancelled: { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' },
  completed: { code: 'internal_error', message: 'This request has no recorded result.' },
  failed: { code: 'internal_error', message: 'This request has no recorded result.' },
};

type InputLine = { custom_id: string; url?: string; body: BatchLineRef['body'] };

/** The store's read of a batch's input lines, with a vanished input file as the non-retryable failure that names it. */
export async function readInputLines(files: Pick<BatchActivityDeps['files'], 'readLines'>, tenantId: string, fileId: string, fromLine: number,
  count: number): Promise<Array<{ index: number; value: unknown }>> {
  try {
    return await files.readLines(tenantId, fileId, fromLine, count);
  } catch (error) {
    if (!(error instanceof FileNotFoundError)) throw error;
    throw ApplicationFailure.create({
      type: INPUT_FILE_MISSING, nonRetryable: true, details: [fileId],
      message: `The input file ${fileId} was deleted or expired while the batch was running.`,
    });
  }
}

export function createBatchActivities(deps: BatchActivityDeps) {
  const pageSize = deps.pageSize ?? 500;
  const readLines = (tenantId: string, fileId: string, fromLine: number, count: number) => readInputLines(deps.files, tenantId, fileId, fromLine, count);
  /** One line as the page carries it: whole, or (above the threshold) its stub and a reference kept until `keepUntil`. */
  const toRef = async (tenantId: string, index: number, value: unknown, keepUntil: number): Promise<{ ref: BatchLineRef; bytes: number }> => {
    const line = value as InputLine;
    const kept = deps.payloads ? await deps.payloads.keepBody(tenantId, line.body, keepUntil) : { body: line.body };
    const ref: BatchLineRef = { lineIndex: index, customId: line.custom_id, ...kept, ...(line.url === '/v1/embeddings' ? { operation: 'embeddings' as const } : {}) };
    return { ref, bytes: Buffer.byteLength(JSON.stringify(ref), 'utf8') };
  };
  /** Fill a page from `next` (which yields the next few lines, or none at the end) up to `count` lines and BATCH_PAGE_BYTES (at least one line). */
  const fillPage = async (tenantId: string, count: number, keepUntil: number,
    next: (want: number) => Promise<Array<{ index: number; value: unknown }>>): Promise<BatchLineRef[]> => {
    const page: BatchLineRef[] = [];
    let bytes = 0;
    while (page.length < count) {
      const lines = await next(Math.min(READ_STEP, count - page.length));
      if (lines.length === 0) break;
      for (const { index, value } of lines) {
        const line = await toRef(tenantId, index, value, keepUntil);
        if (page.length > 0 && bytes + line.bytes > BATCH_PAGE_BYTES) return page;
        page.push(line.ref);
        bytes += line.bytes;
      }
    }
    return page;
  };
  return {
    async startBatch(input: { batchId: string; tenantId: string }): Promise<void> {
      await deps.batches.updateStatus(input.batchId, 'in_progress', { from: ['validating'] });
    },

    /** Up to `count` lines from `fromLine`, fewer when the page reaches BATCH_PAGE_BYTES (the workflow goes on from the last one). */
    async readBatchLines(input: { batchId: string; tenantId: string; inputFileId: string; fromLine: number; count: number; keepUntil?: number }): Promise<BatchLineRef[]> {
      let from = input.fromLine;
      return fillPage(input.tenantId, input.count, input.keepUntil ?? Date.now(), async (want) => {
        const lines = await readLines(input.tenantId, input.inputFileId, from, want);
        from += lines.length;
        return lines;
      });
    },

    /** Given lines (ascending indices, e.g. those a provider-native job sends back online): a byte-sized page of them, in order. */
    async readBatchLinesAt(input: { tenantId: string; inputFileId: string; indices: number[]; keepUntil?: number }): Promise<BatchLineRef[]> {
      let position = 0;
      return fillPage(input.tenantId, input.indices.length, input.keepUntil ?? Date.now(), async (want) => {
        const lines: Array<{ index: number; value: unknown }> = [];
        // Contiguous runs of the wanted indices, one read each.
        while (lines.length < want && position < input.indices.length) {
          let end = position;
          while (end + 1 < input.indices.length && end - position + 1 < want - lines.length && input.indices[end + 1] === input.indices[end]! + 1) end += 1;
          const read = await readLines(input.tenantId, input.inputFileId, input.indices[position]!, end - position + 1);
          lines.push(...read);
          position = end + 1;
          if (read.length === 0) break;
        }
        return lines;
      });
    },

    async finalizeBatch(input: FinalizeBatchInput): Promise<{ completed: number; failed: number }> {
      const batch = await deps.batches.getById(input.batchId);
      if (!batch) throw new Error(`batch ${input.batchId} does not exist`);
      if (input.status === 'completed') await deps.batches.updateStatus(input.batchId, 'finalizing', { from: ['in_progress', 'validating'] });
      const total = batch.requestCounts.total;
      let counts = await deps.files.resultCounts(input.batchId);
      if (input.status === 'failed') {
        // The input is gone (its custom_ids with it): what ran is published, the rest is named by the batch's error.
        if (input.error) await deps.batches.setErrors(input.batchId, [input.error]);
      } else if (counts.output + counts.error < total) {
        // Every line ends in exactly one file: those that never ran get an error line (custom_id keeps it once).
        const missing = MISSING_LINE[input.status];
        for (let from = 0; from < total; from += pageSize) {
          const lines = await readLines(input.tenantId, batch.inputFileId, from, pageSize);
          for (const { index, value } of lines) {
            await deps.files.appendResult({
              batchId: input.batchId, customId: (value as { custom_id: string }).custom_id, lineIndex: index, kind: 'error',
              body: { response: null, error: missing },
            });
          }
        }
        counts = await deps.files.resultCounts(input.batchId);
      }
      const expiresAfterSeconds = batch.outputExpiresAfterSeconds;
      const output = counts.output > 0 ? await deps.files.createResultFile({ tenantId: input.tenantId, batchId: input.batchId, kind: 'output', expiresAfterSeconds }) : null;
      const error = counts.error > 0 ? await deps.files.createResultFile({ tenantId: input.tenantId, batchId: input.batchId, kind: 'error', expiresAfterSeconds }) : null;
      await deps.batches.setFiles(input.batchId, { outputFileId: output?.id ?? null, errorFileId: error?.id ?? null });
      await deps.batches.setCounts(input.batchId, { total, completed: counts.output, failed: counts.error });
      await deps.batches.updateStatus(input.batchId, input.status);
      return { completed: counts.output, failed: counts.error };
    },
  };
}

/**
 * The batch workflow's activities: mark it started, page its input lines, and finalise it — write
 * an error line for every line that has no result (expired or cancelled before it ran), count, and
 * publish the output and error files. Every write is idempotent, so a retried activity is harmless.
 */
import type { BatchStatus } from '../src/store/batch-repository';
import type { BatchResultBody, ResultKind } from '../src/store/batch-result-store';
import type { BatchLineRef } from './types';

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
  };
  /** Lines per page while finalisation looks for lines without a result. */
  pageSize?: number;
}

export interface FinalizeBatchInput {
  batchId: string;
  tenantId: string;
  status: 'completed' | 'expired' | 'cancelled';
}

const MISSING_LINE: Record<FinalizeBatchInput['status'], { code: string; message: string }> = {
  expired: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
  cancelled: { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' },
  completed: { code: 'internal_error', message: 'This request has no recorded result.' },
};

export function createBatchActivities(deps: BatchActivityDeps) {
  const pageSize = deps.pageSize ?? 500;
  return {
    async startBatch(input: { batchId: string; tenantId: string }): Promise<void> {
      await deps.batches.updateStatus(input.batchId, 'in_progress', { from: ['validating'] });
    },

    async readBatchLines(input: { batchId: string; tenantId: string; inputFileId: string; fromLine: number; count: number }): Promise<BatchLineRef[]> {
      const lines = await deps.files.readLines(input.tenantId, input.inputFileId, input.fromLine, input.count);
      return lines.map(({ index, value }) => {
        const line = value as { custom_id: string; body: BatchLineRef['body'] };
        return { lineIndex: index, customId: line.custom_id, body: line.body };
      });
    },

    /** Given lines (ascending indices, e.g. those a provider-native job sends back online), read in contiguous runs. */
    async readBatchLinesAt(input: { tenantId: string; inputFileId: string; indices: number[] }): Promise<BatchLineRef[]> {
      const refs: BatchLineRef[] = [];
      for (let start = 0; start < input.indices.length;) {
        let end = start;
        while (end + 1 < input.indices.length && input.indices[end + 1] === input.indices[end]! + 1) end += 1;
        const lines = await deps.files.readLines(input.tenantId, input.inputFileId, input.indices[start]!, end - start + 1);
        for (const { index, value } of lines) {
          const line = value as { custom_id: string; body: BatchLineRef['body'] };
          refs.push({ lineIndex: index, customId: line.custom_id, body: line.body });
        }
        start = end + 1;
      }
      return refs;
    },

    async finalizeBatch(input: FinalizeBatchInput): Promise<{ completed: number; failed: number }> {
      const batch = await deps.batches.getById(input.batchId);
      if (!batch) throw new Error(`batch ${input.batchId} does not exist`);
      if (input.status === 'completed') await deps.batches.updateStatus(input.batchId, 'finalizing', { from: ['in_progress', 'validating'] });
      const total = batch.requestCounts.total;
      let counts = await deps.files.resultCounts(input.batchId);
      if (counts.output + counts.error < total) {
        // Every line ends in exactly one file: those that never ran get an error line (custom_id keeps it once).
        const missing = MISSING_LINE[input.status];
        for (let from = 0; from < total; from += pageSize) {
          const lines = await deps.files.readLines(input.tenantId, batch.inputFileId, from, pageSize);
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

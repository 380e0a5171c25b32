/** The OpenAI batch object (PROVIDERS.md §1.7) from a stored batch: what GET/POST /v1/batches answer. */
import type { BatchRecord } from '../store/batch-repository';

const seconds = (date: Date | null): number | null => (date ? Math.floor(date.getTime() / 1000) : null);

export function toBatchObject(batch: BatchRecord) {
  return {
    id: batch.id, object: 'batch', endpoint: batch.endpoint, model: batch.model,
    errors: batch.errors ? { object: 'list', data: batch.errors } : null,
    input_file_id: batch.inputFileId, completion_window: batch.completionWindow, status: batch.status,
    output_file_id: batch.outputFileId, error_file_id: batch.errorFileId,
    created_at: seconds(batch.createdAt), in_progress_at: seconds(batch.inProgressAt), expires_at: seconds(batch.expiresAt),
    finalizing_at: seconds(batch.finalizingAt), completed_at: seconds(batch.completedAt), failed_at: seconds(batch.failedAt),
    expired_at: seconds(batch.expiredAt), cancelling_at: seconds(batch.cancellingAt), cancelled_at: seconds(batch.cancelledAt),
    request_counts: batch.requestCounts, usage: batch.usage, metadata: batch.metadata,
  };
}

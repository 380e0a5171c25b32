/**
 * OpenAI Batch API wire shapes (PROVIDERS.md §1.7): lenient zod schemas for the File and Batch
 * objects and for one line of an output or error file. Only what the adapter reads is declared.
 */
import { z } from 'zod';

export const openAIFileSchema = z.looseObject({ id: z.string() });

const count = z.number().nullish();
const time = z.number().nullish();

export const openAIBatchSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  model: z.string().nullish(),
  errors: z.looseObject({
    data: z.array(z.looseObject({ code: z.string().nullish(), message: z.string().nullish(), line: z.number().nullish() })).nullish(),
  }).nullish(),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
  created_at: time,
  expires_at: time,
  completed_at: time,
  failed_at: time,
  expired_at: time,
  cancelled_at: time,
  request_counts: z.looseObject({ total: count, completed: count, failed: count }).nullish(),
});
export type OpenAIBatch = z.infer<typeof openAIBatchSchema>;

/** `GET /batches`: a page of batches, newest first. */
export const openAIBatchListSchema = z.looseObject({ data: z.array(openAIBatchSchema) });

/** `{"id","custom_id","response":{"status_code","request_id","body"}|null,"error":{"code","message"}|null}` */
export const openAIBatchOutputLineSchema = z.looseObject({
  id: z.string().nullish(),
  custom_id: z.string(),
  response: z.looseObject({ status_code: z.number(), request_id: z.string().nullish(), body: z.unknown() }).nullish(),
  error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});
export type OpenAIBatchOutputLine = z.infer<typeof openAIBatchOutputLineSchema>;

/** The chat endpoint every line of a Zumik batch targets (the `url` of an input line and the batch's `endpoint`). */
export const OPENAI_BATCH_ENDPOINT = '/v1/chat/completions';

/** Error-file codes for lines the batch never ran. */
export const OPENAI_UNSERVED_CODES: Record<string, 'expired' | 'cancelled'> = { batch_expired: 'expired', batch_cancelled: 'cancelled' };

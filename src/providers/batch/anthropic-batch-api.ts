/**
 * Anthropic Message Batches wire shapes (PROVIDERS.md §2.7): lenient zod schemas for the MessageBatch
 * object and one line of the results JSONL. Only what the adapter reads is declared.
 */
import { z } from 'zod';

const count = z.number().nullish();

export const anthropicMessageBatchSchema = z.looseObject({
  id: z.string(),
  processing_status: z.string(),
  request_counts: z.looseObject({ processing: count, succeeded: count, errored: count, canceled: count, expired: count }).nullish(),
  created_at: z.string().nullish(),
  expires_at: z.string().nullish(),
  ended_at: z.string().nullish(),
  cancel_initiated_at: z.string().nullish(),
  results_url: z.string().nullish(),
});
export type AnthropicMessageBatch = z.infer<typeof anthropicMessageBatchSchema>;

/** `GET /v1/messages/batches`: newest first, `{"data":[MessageBatch],"has_more","first_id","last_id"}`. */
export const anthropicMessageBatchListSchema = z.looseObject({ data: z.array(anthropicMessageBatchSchema), has_more: z.boolean().nullish() });

/** `{"custom_id","result":{"type":"succeeded","message"}|{"type":"errored","error"}|{"type":"canceled"}|{"type":"expired"}}` */
export const anthropicBatchResultLineSchema = z.looseObject({
  custom_id: z.string(),
  result: z.looseObject({ type: z.string(), message: z.unknown().optional(), error: z.unknown().optional() }),
});

/** Anthropic's rule for `custom_id`; a line whose id breaks it would make the whole batch a 400. */
export const ANTHROPIC_CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

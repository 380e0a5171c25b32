/**
 * xAI's native Batch API wire shapes (PROVIDERS.md §4.5; not OpenAI-shaped): lenient zod schemas for
 * the Batch object and one page of results. Only what the adapter reads is declared.
 */
import { z } from 'zod';

const count = z.number().nullish();

export const xaiBatchSchema = z.looseObject({
  batch_id: z.string(),
  name: z.string().nullish(),
  create_time: z.string().nullish(),
  expire_time: z.string().nullish(),
  cancel_time: z.string().nullish(),
  state: z.looseObject({ num_requests: count, num_pending: count, num_success: count, num_error: count, num_cancelled: count }).nullish(),
});
export type XaiBatch = z.infer<typeof xaiBatchSchema>;

/** `GET /v1/batches?limit`: newest first, `{"batches":[Batch],"pagination_token"}`. */
export const xaiBatchListSchema = z.looseObject({ batches: z.array(xaiBatchSchema), pagination_token: z.string().nullish() });

/** `GET /v1/batches/{id}/results`: `{"results":[{"batch_request_id","batch_result":{"response":{"chat_get_completion":{…}}}|{"error":"…"}}],"pagination_token"}` */
export const xaiBatchResultsPageSchema = z.looseObject({
  results: z.array(z.looseObject({
    batch_request_id: z.string(),
    batch_result: z.looseObject({
      response: z.looseObject({ chat_get_completion: z.unknown().optional() }).nullish(),
      error: z.unknown().optional(),
    }).nullish(),
  })).default([]),
  pagination_token: z.string().nullish(),
});

/**
 * Gemini batch mode wire shapes (PROVIDERS.md §3.7): the long-running Operation whose `metadata` is
 * the GenerateContentBatch, its inlined responses, and one line of a responses file. Lenient: only
 * what the adapter reads is declared, and int64 counts may arrive as strings (proto3 JSON).
 */
import { z } from 'zod';

const int64 = z.union([z.number(), z.string()]).nullish();

/** A `google.rpc.Status`; `code` is the gRPC code (3 = INVALID_ARGUMENT …), not an HTTP status. */
export const geminiStatusSchema = z.looseObject({
  code: z.number().nullish(),
  message: z.string().nullish(),
  status: z.string().nullish(),
  details: z.array(z.unknown()).nullish(),
});
export type GeminiStatus = z.infer<typeof geminiStatusSchema>;

export const geminiInlinedResponseSchema = z.looseObject({
  response: z.unknown().optional(),
  error: geminiStatusSchema.nullish(),
  metadata: z.looseObject({ key: z.string().nullish() }).nullish(),
});

/** One line of a responses file: the request's `key` with a response or a status. */
export const geminiResponsesFileLineSchema = z.looseObject({
  key: z.string(),
  response: z.unknown().optional(),
  error: geminiStatusSchema.nullish(),
});

export const geminiBatchOperationSchema = z.looseObject({
  name: z.string(),
  done: z.boolean().nullish(),
  error: geminiStatusSchema.nullish(),
  metadata: z.looseObject({
    model: z.string().nullish(),
    displayName: z.string().nullish(),
    state: z.string().nullish(),
    createTime: z.string().nullish(),
    updateTime: z.string().nullish(),
    endTime: z.string().nullish(),
    batchStats: z.looseObject({
      requestCount: int64, successfulRequestCount: int64, failedRequestCount: int64, pendingRequestCount: int64,
    }).nullish(),
    output: z.looseObject({
      responsesFile: z.string().nullish(),
      inlinedResponses: z.looseObject({ inlinedResponses: z.array(z.unknown()).nullish() }).nullish(),
    }).nullish(),
  }).nullish(),
});
export type GeminiBatchOperation = z.infer<typeof geminiBatchOperationSchema>;

/** `GET batches`: a page of batch operations. */
export const geminiBatchListSchema = z.looseObject({ operations: z.array(geminiBatchOperationSchema).nullish() });

/** gRPC code → the `google.rpc.Code` name Gemini's error classifier reads, with its HTTP mapping. */
export const GRPC_CODES: Record<number, { name: string; http: number }> = {
  1: { name: 'CANCELLED', http: 499 }, 2: { name: 'UNKNOWN', http: 500 }, 3: { name: 'INVALID_ARGUMENT', http: 400 },
  4: { name: 'DEADLINE_EXCEEDED', http: 504 }, 5: { name: 'NOT_FOUND', http: 404 }, 7: { name: 'PERMISSION_DENIED', http: 403 },
  8: { name: 'RESOURCE_EXHAUSTED', http: 429 }, 9: { name: 'FAILED_PRECONDITION', http: 400 }, 10: { name: 'ABORTED', http: 409 },
  11: { name: 'OUT_OF_RANGE', http: 400 }, 12: { name: 'UNIMPLEMENTED', http: 501 }, 13: { name: 'INTERNAL', http: 500 },
  14: { name: 'UNAVAILABLE', http: 503 }, 16: { name: 'UNAUTHENTICATED', http: 401 },
};

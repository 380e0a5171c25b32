/**
 * Claim check for large payloads (issue 17): Temporal refuses a payload over 2 MB and warns from
 * 512 KB, so a chat body or an answer above PAYLOAD_REF_THRESHOLD_BYTES is stored in Postgres
 * (src/store/payload-store.ts) and history carries only this reference. Pure: workflows import it.
 */
import type { ChatRequest } from '../contract/chat';

/** One constant for every claim check (with the other limits, in the contract): bodies and answers larger than this (UTF-8 JSON bytes) travel by reference. */
export { PAYLOAD_REF_THRESHOLD_BYTES } from '../contract/limits';

/** What history holds instead of a large payload: the stored row, its size and its digest (checked on read). */
export interface PayloadRef {
  ref: string;
  bytes: number;
  sha256: string;
}

/**
 * What stays in a workflow input when the body goes by reference: the fields the workflow itself reads
 * (model, stream options, service tier), never the messages or tools. The activity reads the real body.
 */
export function bodyStub(body: ChatRequest): ChatRequest {
  const stub: ChatRequest = { model: body.model, messages: [] };
  if (body.stream !== undefined) stub.stream = body.stream;
  if (body.stream_options !== undefined) stub.stream_options = body.stream_options;
  if (body.service_tier !== undefined) stub.service_tier = body.service_tier;
  return stub;
}

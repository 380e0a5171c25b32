/**
 * Zumik's explicit input and output limits, in one place (README "Limits"). Each is enforced at the
 * edge with a clear 400/413 in the OpenAI envelope, or, for upstream answers, a `response_too_large`
 * failure, so no input or answer can exhaust memory or reach Temporal's hard limits as a 500.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

/** Largest JSON request body (default of `ZUMIK_BODY_LIMIT`): bigger bodies are 413 `request_too_large` before they are parsed. */
export const REQUEST_BODY_MAX_BYTES = 10 * MIB;

/** The default `ZUMIK_BODY_LIMIT`, in body-parser's notation. */
export const REQUEST_BODY_LIMIT_SETTING = '10mb';

/**
 * Temporal refuses any payload over 2 MiB (`limit.blobSize.error`): a chat body or an answer above this
 * travels by reference (the claim check: README "Large payloads"), so history holds nothing larger.
 */
export const PAYLOAD_REF_THRESHOLD_BYTES = 256 * KIB;

/** Longest `model` (an alias name): far under Temporal's 2 KiB per search-attribute value, where the alias is indexed. */
export const MODEL_MAX_LENGTH = 256;

/** Deepest nesting of arrays and objects in a JSON body: deeper bodies are 400 (they serve no API and cost recursion). */
export const JSON_MAX_DEPTH = 64;

/** Largest `/v1/files` upload (`purpose: batch`), as OpenAI's Batch API allows. */
export const UPLOAD_MAX_BYTES = 200 * MIB;

/** Longest `custom_id` of a batch input line (it is stored and written back into the output file). */
export const CUSTOM_ID_MAX_LENGTH = 512;

/** Longest stored upload filename (characters); longer names are cut. */
export const FILENAME_MAX_LENGTH = 255;

/** Largest non-streamed provider answer read into memory: more is the failure `response_too_large`. */
export const UPSTREAM_RESPONSE_MAX_BYTES = 16 * MIB;

/** Largest streamed provider answer (all SSE bytes): more is the failure `response_too_large`. */
export const UPSTREAM_STREAM_MAX_BYTES = 64 * MIB;

/** Largest single SSE event (bytes without an event boundary) from a provider. */
export const UPSTREAM_EVENT_MAX_BYTES = 4 * MIB;

/** `10485760 bytes (10 MiB)` for messages. */
export function describeBytes(bytes: number): string {
  const unit = bytes >= MIB ? `${Math.round((bytes / MIB) * 100) / 100} MiB` : `${Math.round((bytes / KIB) * 100) / 100} KiB`;
  return `${bytes} bytes (${unit})`;
}

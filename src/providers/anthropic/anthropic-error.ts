/**
 * Anthropic failures → the taxonomy. Classified from the error body's `error.type` (and the structured
 * `error.details.error_code`) first, then the HTTP status; transport failures are classified by
 * upstream-http before an answer exists. Messages carry Anthropic's own wording, shortened and with the
 * caller's key removed, never headers.
 */
import { z } from 'zod';
import { ProviderError } from '../provider-error';
import { type FailureKind } from '../../domain/failure-kinds';
import { parseRetryAfter, pickRateLimitHeaders } from '../upstream-http';

const PROVIDER = 'anthropic';

/** `{"type":"error","error":{"type","message","details"?},"request_id"?}` — lenient (PROVIDERS.md §2.4). */
export const anthropicErrorBodySchema = z.looseObject({
  type: z.string().optional(),
  error: z.looseObject({
    type: z.string(),
    message: z.string().nullish(),
    details: z.looseObject({ error_code: z.string().nullish() }).nullish(),
  }),
  request_id: z.string().nullish(),
});
export type AnthropicErrorBody = z.infer<typeof anthropicErrorBodySchema>;

/** Structured codes that mean "the account's money ran out": waiting does not help, unlike a rate limit. */
const SPEND_LIMIT_CODES = new Set(['enforced_spend_limit_reached', 'contract_spend_limit_reached', 'linked_organization_spend_limit_reached']);

/**
 * The one place message text is read: Anthropic reports an over-long prompt as a plain
 * `invalid_request_error` ("prompt is too long: 208310 tokens > 200000 maximum", "input length and
 * `max_tokens` exceed context limit"), with no code that tells it apart from other invalid requests.
 */
const CONTEXT_LENGTH_TEXT = /prompt is too long|exceeds? (the )?context (limit|window)/i;

/** Parse an error body, or `undefined` when it is not Anthropic's shape (an HTML page from a proxy, say). */
export function parseAnthropicErrorBody(value: unknown): AnthropicErrorBody | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try { parsed = JSON.parse(value); } catch { return undefined; }
  }
  const result = anthropicErrorBodySchema.safeParse(parsed);
  return result.success ? result.data : undefined;
}

/** The failure kind for Anthropic's `error.type` (and `details.error_code`), or undefined when the type does not decide it. */
export function kindFromAnthropicErrorType(body: AnthropicErrorBody): FailureKind | undefined {
  if (SPEND_LIMIT_CODES.has(body.error.details?.error_code ?? '')) return 'quota';
  switch (body.error.type) {
    case 'overloaded_error': return 'overloaded';
    case 'rate_limit_error': return 'rate_limit';
    case 'authentication_error': case 'permission_error': return 'auth';
    case 'billing_error': return 'quota';
    case 'not_found_error': return 'model_not_found';
    // A 413 from Anthropic's edge: the payload exceeds this target's size limit. Like a context
    // overflow, only a target with larger limits can serve it, so it fails over instead of failing.
    case 'request_too_large': return 'context_length';
    case 'invalid_request_error': return CONTEXT_LENGTH_TEXT.test(body.error.message ?? '') ? 'context_length' : 'invalid_request';
    case 'api_error': case 'timeout_error': return 'upstream_unavailable';
    default: return undefined;
  }
}

/** The failure kind for an HTTP status alone (no usable body). */
export function kindFromAnthropicStatus(status: number): FailureKind {
  switch (status) {
    case 400: case 422: return 'invalid_request';
    case 401: case 403: return 'auth';
    case 402: return 'quota';
    case 404: return 'model_not_found';
    case 408: return 'timeout';
    case 413: return 'context_length';
    case 429: return 'rate_limit';
    case 529: return 'overloaded';
    default: return status >= 500 ? 'upstream_unavailable' : 'unknown';
  }
}

export interface AnthropicErrorContext {
  /** Removed from any provider text that echoes it. */
  apiKey?: string;
  providerRequestId?: string;
}

/** Build the ProviderError for a non-2xx answer, with Retry-After, rate-limit headers and the request id. */
export function createAnthropicHttpError(status: number, headers: Record<string, string>, bodyText: string,
  context: AnthropicErrorContext = {}): ProviderError {
  const body = parseAnthropicErrorBody(bodyText);
  const kind = (body && kindFromAnthropicErrorType(body)) ?? kindFromAnthropicStatus(status);
  return new ProviderError(errorMessage(body, `HTTP ${status}`, context.apiKey), {
    kind, provider: PROVIDER, status, providerCode: body?.error.type,
    retryAfterMs: parseRetryAfter(headers), rateLimit: pickRateLimitHeaders(headers),
    providerRequestId: headers['request-id'] ?? body?.request_id ?? context.providerRequestId,
  });
}

/** Build the ProviderError for an `event: error` received after HTTP 200 (e.g. overloaded_error mid-stream). */
export function createAnthropicStreamError(payload: unknown, context: AnthropicErrorContext & { afterFirstToken: boolean }): ProviderError {
  const body = parseAnthropicErrorBody(payload);
  if (!body) {
    return new ProviderError(`${PROVIDER}: malformed error event in the stream`, {
      kind: 'bad_response', provider: PROVIDER, providerRequestId: context.providerRequestId, afterFirstToken: context.afterFirstToken,
    });
  }
  return new ProviderError(errorMessage(body, 'stream error', context.apiKey), {
    kind: kindFromAnthropicErrorType(body) ?? 'unknown', provider: PROVIDER, providerCode: body.error.type,
    providerRequestId: body.request_id ?? context.providerRequestId, afterFirstToken: context.afterFirstToken,
  });
}

function errorMessage(body: AnthropicErrorBody | undefined, fallback: string, apiKey: string | undefined): string {
  if (!body) return `${PROVIDER}: ${fallback}`;
  let text = body.error.message ?? '';
  if (apiKey && apiKey.length >= 8) text = text.split(apiKey).join('[redacted]');
  text = text.slice(0, 300);
  return `${PROVIDER}: ${body.error.type} (${fallback})${text ? `: ${text}` : ''}`;
}

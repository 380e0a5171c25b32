/**
 * Anthropic's error bodies and headers as the emulator sends them (PROVIDERS.md §2.4):
 * `{"type":"error","error":{"type","message"},"request_id"}` with the `request-id` header, and the
 * `anthropic-ratelimit-*` family on every answer.
 */
import { anthropicId } from './anthropic-emulator-replies';

/** The error type and message Anthropic sends for each status. */
const ERRORS_BY_STATUS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  402: { type: 'billing_error', message: 'Your credit balance is too low to access the Anthropic API.' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'model: not found' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit.' },
  500: { type: 'api_error', message: 'Internal server error' },
  504: { type: 'timeout_error', message: 'Request timed out' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

/** An Anthropic error body; `type`/`message` default to what Anthropic sends for `status`. */
export function anthropicErrorBody(status: number, type?: string, message?: string, requestId = anthropicId('req')): Record<string, unknown> {
  const known = ERRORS_BY_STATUS[status] ?? (status >= 500 ? ERRORS_BY_STATUS[500]! : ERRORS_BY_STATUS[400]!);
  return { type: 'error', error: { type: type ?? known.type, message: message ?? known.message }, request_id: requestId };
}

/** Rate-limit headers; `exhausted` reports zero requests remaining (a 429). Resets are RFC 3339 timestamps. */
export function rateLimitHeaders(exhausted = false): Record<string, string> {
  const reset = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': exhausted ? '0' : '3999',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-tokens-limit': '400000',
    'anthropic-ratelimit-tokens-remaining': exhausted ? '0' : '399000',
    'anthropic-ratelimit-tokens-reset': reset,
    'anthropic-ratelimit-input-tokens-limit': '200000',
    'anthropic-ratelimit-input-tokens-remaining': exhausted ? '0' : '199000',
    'anthropic-ratelimit-input-tokens-reset': reset,
    'anthropic-ratelimit-output-tokens-limit': '80000',
    'anthropic-ratelimit-output-tokens-remaining': exhausted ? '0' : '80000',
    'anthropic-ratelimit-output-tokens-reset': reset,
  };
}

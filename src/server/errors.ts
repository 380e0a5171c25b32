/**
 * The one error table of the HTTP layer: every error leaves in OpenAI's envelope
 * `{"error":{"message","type","param","code"}}` (DESIGN.md §3). Handlers throw HttpError; anything
 * else is a 500 that carries the request id and logs its cause.
 */
import type { ZodError } from 'zod';
import { errorEnvelope, formatParam, type ErrorEnvelope } from '../contract/error-envelope';

/** Thrown by handlers and middleware for every client-visible error. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code: string | null, readonly param: string | null = null,
    readonly type = status >= 500 ? 'server_error' : 'invalid_request_error', readonly headers: Record<string, string> = {},
    /** Fields beside `error` in the body (the native surface's `zumik` outcome of a failed request). */
    readonly extraBody: Record<string, unknown> = {}) {
    super(message);
    this.name = 'HttpError';
  }

  toEnvelope(): ErrorEnvelope {
    return errorEnvelope(this.message, this.type, this.param, this.code);
  }
}

export const badRequest = (message: string, param: string | null = null, code = 'invalid_request_error') =>
  new HttpError(400, message, code, param);
export const notFound = (message: string, param: string | null = null) => new HttpError(404, message, 'invalid_request_error', param);
export const unauthorized = (message: string) => new HttpError(401, message, 'invalid_api_key');
export const forbidden = (message: string) => new HttpError(403, message, 'insufficient_scope');

/** The first zod issue as a 400 naming the offending field (an unknown key names that key). */
export function fromZodError(error: ZodError, prefix: ReadonlyArray<PropertyKey> = []): HttpError {
  const issue = error.issues[0]!;
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return badRequest(`Unrecognized request argument supplied: ${key}`, formatParam([...path, key]));
  }
  const param = formatParam(path);
  return badRequest(param && !issue.message.startsWith(String(path.at(-1))) ? `${param}: ${issue.message}` : issue.message, param);
}

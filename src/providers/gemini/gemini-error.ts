/**
 * Google's error body (`{"error":{"code","message","status","details":[…]}}`, PROVIDERS.md §3.4) and
 * its classification into the failure taxonomy: from the body's `error.status` and structured
 * `details[]` first, then the HTTP status. Message text is never used to classify.
 *
 * Rules (each derived from what waiting or failover can achieve):
 * - `RESOURCE_EXHAUSTED` → `rate_limit`, except `quota` when a `QuotaFailure` violation names a daily
 *   window (`quotaId`/`quotaMetric` containing `PerDay`/`per_day`) or a zero limit (`quotaValue: "0"`,
 *   e.g. no free tier for this model): waiting seconds cannot help there.
 * - `INVALID_ARGUMENT` with an `ErrorInfo` reason `API_KEY_*` (Google's bad-key answer is a 400) → `auth`;
 *   otherwise `invalid_request`. Gemini documents no structured field for an over-long prompt, so a
 *   context-window overflow is reported as `invalid_request` too.
 * - `UNAUTHENTICATED` / `PERMISSION_DENIED` → `auth`; `FAILED_PRECONDITION` (billing not enabled, free
 *   tier not offered in the region) → `quota`: account state, another target may serve.
 * - `NOT_FOUND` → `model_not_found`; `UNAVAILABLE` / `INTERNAL` / `ABORTED` → `upstream_unavailable`;
 *   `DEADLINE_EXCEEDED` → `timeout`.
 */
import { z } from 'zod';
import { ProviderError } from '../provider-error';
import { type FailureKind } from '../../domain/failure-kinds';
import { parseRetryAfter, pickRateLimitHeaders } from '../upstream-http';

export const GEMINI_PROVIDER = 'gemini';

export const geminiErrorBodySchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.array(z.unknown()).optional(),
  }),
});

const errorInfoSchema = z.object({ '@type': z.string().endsWith('google.rpc.ErrorInfo'), reason: z.string().optional() });
const retryInfoSchema = z.object({ '@type': z.string().endsWith('google.rpc.RetryInfo'), retryDelay: z.string().optional() });
const quotaFailureSchema = z.object({
  '@type': z.string().endsWith('google.rpc.QuotaFailure'),
  violations: z.array(z.object({ quotaId: z.string().optional(), quotaMetric: z.string().optional(), quotaValue: z.string().optional() })).optional(),
});

export type GeminiErrorBody = z.infer<typeof geminiErrorBodySchema>;

/** Parse an error body leniently; Google wraps stream errors in a one-element array, so that is accepted too. */
export function parseGeminiErrorBody(body: unknown): GeminiErrorBody | undefined {
  const candidate = Array.isArray(body) && body.length === 1 ? body[0] : body;
  const parsed = geminiErrorBodySchema.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

const STATUS_KINDS: Record<string, FailureKind> = {
  RESOURCE_EXHAUSTED: 'rate_limit',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  INVALID_ARGUMENT: 'invalid_request',
  OUT_OF_RANGE: 'invalid_request',
  UNIMPLEMENTED: 'invalid_request',
  FAILED_PRECONDITION: 'quota',
  NOT_FOUND: 'model_not_found',
  UNAVAILABLE: 'upstream_unavailable',
  INTERNAL: 'upstream_unavailable',
  ABORTED: 'upstream_unavailable',
  DEADLINE_EXCEEDED: 'timeout',
};

/** The kind an HTTP status implies when the body names no known `error.status`. */
export function kindFromHttpStatus(status: number): FailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'model_not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 429) return 'rate_limit';
  if (status >= 500) return 'upstream_unavailable';
  if (status >= 400) return 'invalid_request';
  return 'unknown';
}

/** Classify Google's error body (already parsed) with its HTTP status. */
export function classifyGeminiErrorBody(body: GeminiErrorBody | undefined, status: number): FailureKind {
  const googleStatus = body?.error.status;
  const details = body?.error.details ?? [];
  const kind = googleStatus !== undefined ? STATUS_KINDS[googleStatus] : undefined;
  if (kind === 'rate_limit' && isLongTermQuota(details)) return 'quota';
  if (kind === 'invalid_request' && errorInfoReasons(details).some((reason) => reason.startsWith('API_KEY_'))) return 'auth';
  return kind ?? kindFromHttpStatus(status);
}

/** `RetryInfo.retryDelay` (a protobuf Duration such as `"34.4s"`) in ms. */
export function parseRetryDelay(details: unknown[]): number | undefined {
  for (const detail of details) {
    const parsed = retryInfoSchema.safeParse(detail);
    const match = parsed.success ? /^(\d+(?:\.\d+)?)s$/.exec(parsed.data.retryDelay?.trim() ?? '') : null;
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}

function errorInfoReasons(details: unknown[]): string[] {
  return details.flatMap((detail) => {
    const parsed = errorInfoSchema.safeParse(detail);
    return parsed.success && parsed.data.reason ? [parsed.data.reason] : [];
  });
}

function isLongTermQuota(details: unknown[]): boolean {
  return details.some((detail) => {
    const parsed = quotaFailureSchema.safeParse(detail);
    return parsed.success && (parsed.data.violations ?? []).some((violation) =>
      /PerDay|per_day/.test(`${violation.quotaId ?? ''} ${violation.quotaMetric ?? ''}`) || violation.quotaValue === '0');
  });
}

export interface GeminiErrorContext {
  status: number;
  headers?: Record<string, string>;
  /** The key of this call: removed from any upstream text before it reaches a message. */
  apiKey?: string;
}

/** Build the ProviderError for a Gemini error answer (non-2xx body, or an `{"error":…}` event on a stream). */
export function geminiErrorFromBody(body: unknown, context: GeminiErrorContext): ProviderError {
  const parsed = parseGeminiErrorBody(body);
  const headers = context.headers ?? {};
  const kind = classifyGeminiErrorBody(parsed, context.status);
  const googleStatus = parsed?.error.status;
  const upstreamMessage = redactSecrets(parsed?.error.message ?? '', context.apiKey).slice(0, 300);
  const message = `${GEMINI_PROVIDER}: HTTP ${context.status}${googleStatus ? ` ${googleStatus}` : ''}${upstreamMessage ? `: ${upstreamMessage}` : ''}`;
  return new ProviderError(message, {
    kind,
    provider: GEMINI_PROVIDER,
    status: context.status,
    providerCode: googleStatus,
    retryAfterMs: parseRetryDelay(parsed?.error.details ?? []) ?? parseRetryAfter(headers),
    rateLimit: pickRateLimitHeaders(headers),
  });
}

/** Parse a non-2xx body's text and classify it; a body that is not JSON is classified by status alone. */
export function geminiErrorFromText(bodyText: string, context: GeminiErrorContext): ProviderError {
  let body: unknown;
  try { body = JSON.parse(bodyText); } catch { body = undefined; }
  return geminiErrorFromBody(body, context);
}

/** Remove the call's key and anything shaped like a Google API key (`AIza…`) from upstream text. */
export function redactSecrets(text: string, apiKey?: string): string {
  const withoutKey = apiKey && apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text;
  return withoutKey.replace(/AIza[0-9A-Za-z_-]{20,}/g, '[redacted]');
}

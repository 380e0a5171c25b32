/**
 * Classifies what an OpenAI-compatible provider says went wrong: its error body first (OpenAI's
 * nested `{error:{message,type,param,code}}`, xAI's flat `{code,error}`, vLLM/Dynamo's flat
 * `{object:"error",message,type,code}`, OpenRouter's numeric `code` with `metadata`), then the HTTP
 * status (with the flavour's own meanings, e.g. the endpoint picker's 429 load shed), never the text.
 */
import { z } from 'zod';
import { ProviderError } from '../provider-error';
import { type FailureKind } from '../../domain/failure-kinds';
import { parseRetryAfter, pickRateLimitHeaders } from '../upstream-http';
import type { OpenAICompatibleFlavour } from './openai-compatible-flavours';

const codeValue = z.union([z.string(), z.number()]).nullish();

const nestedErrorSchema = z.object({
  error: z.object({
    message: z.string().nullish(),
    type: z.string().nullish(),
    code: codeValue,
    param: z.string().nullish(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
  }),
});
const flatErrorSchema = z.object({
  error: z.string().nullish(),
  message: z.string().nullish(),
  type: z.string().nullish(),
  code: codeValue,
  param: z.string().nullish(),
});

/** The fields of a provider error body, whichever shape it came in. */
export interface OpenAICompatibleErrorBody {
  message?: string;
  type?: string;
  code?: string;
  /** A numeric `code` (OpenRouter, vLLM) is an HTTP status, not a provider code. */
  statusCode?: number;
  param?: string;
  metadata?: Record<string, unknown>;
}

export function parseOpenAICompatibleErrorBody(body: unknown): OpenAICompatibleErrorBody | undefined {
  const nested = nestedErrorSchema.safeParse(body);
  if (nested.success) {
    const error = nested.data.error;
    return { message: error.message ?? undefined, type: error.type ?? undefined, ...splitCode(error.code), param: error.param ?? undefined,
      metadata: error.metadata ?? undefined };
  }
  const flat = flatErrorSchema.safeParse(body);
  if (flat.success && (flat.data.error != null || flat.data.message != null || flat.data.code != null)) {
    return { message: flat.data.error ?? flat.data.message ?? undefined, type: flat.data.type ?? undefined, ...splitCode(flat.data.code),
      param: flat.data.param ?? undefined };
  }
  return undefined;
}

function splitCode(code: string | number | null | undefined): { code?: string; statusCode?: number } {
  if (typeof code === 'number') return { statusCode: code };
  if (typeof code === 'string' && /^\d{3}$/.test(code)) return { statusCode: Number(code) };
  return typeof code === 'string' ? { code } : {};
}

/** Provider codes (and types) whose meaning is unambiguous whatever the status. Lower-case, `-` read as `_`. */
const CODE_KINDS: Record<string, FailureKind> = {
  rate_limit_exceeded: 'rate_limit', rate_limit_error: 'rate_limit', too_many_requests: 'rate_limit',
  insufficient_quota: 'quota', billing_hard_limit_reached: 'quota', billing_not_active: 'quota', insufficient_credits: 'quota',
  payment_required: 'quota', quota_exceeded: 'quota',
  context_length_exceeded: 'context_length', context_window_exceeded: 'context_length', string_above_max_length: 'context_length',
  invalid_api_key: 'auth', incorrect_api_key: 'auth', authentication_error: 'auth', invalid_authentication: 'auth', permission_denied: 'auth',
  permission_error: 'auth', unauthorized: 'auth', account_deactivated: 'auth', unsupported_country_region_territory: 'auth',
  model_not_found: 'model_not_found', model_not_available: 'model_not_found',
  content_filter: 'content_filter', content_policy_violation: 'content_filter', content_policy: 'content_filter',
  moderation_blocked: 'content_filter', invalid_prompt: 'content_filter', safety_violation: 'content_filter',
  unsupported_parameter: 'invalid_request', unsupported_value: 'invalid_request', invalid_value: 'invalid_request',
  overloaded: 'overloaded', overloaded_error: 'overloaded', engine_overloaded: 'overloaded',
  server_error: 'upstream_unavailable', service_unavailable: 'upstream_unavailable', internal_error: 'upstream_unavailable',
};

const GENERIC_KINDS = new Set<FailureKind>(['upstream_unavailable', 'invalid_request']);

const STATUS_KINDS: Record<number, FailureKind> = {
  400: 'invalid_request', 401: 'auth', 402: 'quota', 403: 'auth', 404: 'model_not_found', 408: 'timeout', 409: 'upstream_unavailable',
  413: 'context_length', 422: 'invalid_request', 429: 'rate_limit', 529: 'overloaded',
};

/** The kind for a body and status, in the documented order: provider code, then type, then status. */
export function classifyOpenAICompatibleFailure(error: OpenAICompatibleErrorBody | undefined, status: number | undefined,
  flavour: Pick<OpenAICompatibleFlavour, 'statusKinds' | 'flavour'>): FailureKind {
  const fromCode = lookupCode(error?.code);
  if (fromCode) return fromCode;
  // A `type` is weaker than a code: generic ones (`server_error`, `invalid_request_error`) leave it to the status.
  const fromType = lookupCode(error?.type);
  if (fromType && !GENERIC_KINDS.has(fromType)) return fromType;
  // OpenRouter reports a moderation refusal as 403 with the flagged reasons in metadata.
  if (flavour.flavour === 'openrouter' && error?.metadata && ('reasons' in error.metadata || 'flagged_input' in error.metadata)) return 'content_filter';
  const effectiveStatus = status ?? error?.statusCode;
  if (effectiveStatus === undefined) return 'upstream_unavailable';
  const flavourKind = flavour.statusKinds[effectiveStatus];
  if (flavourKind) return flavourKind;
  const kind = STATUS_KINDS[effectiveStatus];
  if (kind) return kind;
  if (effectiveStatus >= 500) return 'upstream_unavailable';
  return effectiveStatus >= 400 ? 'invalid_request' : 'unknown';
}

function lookupCode(code: string | undefined): FailureKind | undefined {
  return code ? CODE_KINDS[code.toLowerCase().replace(/-/g, '_')] : undefined;
}

export interface FailureContext {
  provider: string;
  flavour: Pick<OpenAICompatibleFlavour, 'statusKinds' | 'flavour' | 'requestIdHeaders'>;
  /** Removed from any text we keep (providers echo a masked key in 401 messages). */
  apiKey?: string;
}

/** Build the ProviderError for an upstream error answer (non-2xx, or an `error` event inside a 200 stream). */
export function openAICompatibleFailure(context: FailureContext, answer: {
  status?: number; headers?: Record<string, string>; body: unknown; afterFirstToken?: boolean;
}): ProviderError {
  const headers = answer.headers ?? {};
  const parsed = parseOpenAICompatibleErrorBody(answer.body);
  const kind = classifyOpenAICompatibleFailure(parsed, answer.status, context.flavour);
  const providerCode = parsed?.code ?? parsed?.type;
  const detail = redactSecrets(parsed?.message ?? (typeof answer.body === 'string' ? answer.body : ''), context.apiKey);
  const statusText = answer.status === undefined ? 'stream error' : String(answer.status);
  const message = `${context.provider}: ${statusText} ${kind}${providerCode ? ` (${providerCode})` : ''}${detail ? `: ${detail}` : ''}`;
  return new ProviderError(message, {
    kind, provider: context.provider, status: answer.status, providerCode,
    retryAfterMs: parseRetryAfter(headers), rateLimit: pickRateLimitHeaders(headers),
    providerRequestId: pickRequestId(headers, context.flavour.requestIdHeaders), afterFirstToken: answer.afterFirstToken,
  });
}

export function pickRequestId(headers: Record<string, string>, names: readonly string[]): string | undefined {
  for (const name of names) if (headers[name]) return headers[name];
  return undefined;
}

const KEY_LIKE = /\b(?:sk|xai|fw|pk|rk|key)[-_][A-Za-z0-9*_.-]{6,}/gi;
const BEARER = /bearer\s+[^\s"',]+/gi;
/** OpenAI and xAI echo a masked key ("Incorrect API key provided: sk-ab***yz"); even masked, it is dropped. */
const ECHOED_KEY = /(api key provided:?\s*)[^\s.,"']+/gi;

/** Strip credentials (exact key, key-shaped tokens, bearer values) from provider text and cap its length. */
export function redactSecrets(text: string, apiKey?: string): string {
  let safe = text;
  if (apiKey && apiKey.length >= 4) safe = safe.split(apiKey).join('[redacted]');
  safe = safe.replace(ECHOED_KEY, '$1[redacted]').replace(BEARER, 'Bearer [redacted]').replace(KEY_LIKE, '[redacted]');
  return safe.length > 300 ? `${safe.slice(0, 300)}…` : safe;
}

/**
 * The failure taxonomy. Each kind is defined by what it means for retry and failover, derived from
 * the provider's own error body first, then the HTTP status, then undici's error code — never from
 * message text. The activity turns a ProviderError into an ApplicationFailure of type `Provider.<kind>`.
 */
export const FAILURE_KINDS = {
  /** The credential is missing, invalid or lacks permission: retrying the same target cannot help; another target may. */
  auth: { retryable: false, failover: true },
  /** The account's quota or credit is exhausted: unlike a rate limit, waiting does not help; fail over. */
  quota: { retryable: false, failover: true },
  /** Too many requests right now: retry after the provider's Retry-After, or fail over. */
  rate_limit: { retryable: true, failover: true },
  /** The provider is overloaded (Anthropic 529 and the like): retry with backoff, or fail over. */
  overloaded: { retryable: true, failover: true },
  /** The request itself is invalid for this provider: neither retry nor failover is likely to help. */
  invalid_request: { retryable: false, failover: false },
  /** The prompt does not fit this model's context window: only a target with a larger window can serve it. */
  context_length: { retryable: false, failover: true },
  /** The provider refused the content: retrying or failing over would only repeat the refusal. */
  content_filter: { retryable: false, failover: false },
  /** The model id is unknown to the provider: a configuration error on this target; fail over. */
  model_not_found: { retryable: false, failover: true },
  /** 5xx, or an endpoint picker with no ready endpoint: transient, retry with backoff or fail over. */
  upstream_unavailable: { retryable: true, failover: true },
  /** No response headers, or no first token, within the time allowed: retry or fail over. */
  timeout: { retryable: true, failover: true },
  /** A stream went silent in the middle: the partial answer is unusable; retry or fail over. */
  stream_stalled: { retryable: true, failover: true },
  /** A stream ended without its terminal event: the answer is truncated; retry or fail over. */
  stream_truncated: { retryable: true, failover: true },
  /** Connection refused, reset or DNS failure before an answer: retry or fail over. */
  network: { retryable: true, failover: true },
  /** The provider answered something that is not its documented format (malformed JSON or SSE event). */
  bad_response: { retryable: true, failover: true },
  /** The call was aborted by the caller (client disconnect, cancellation): not a provider failure. */
  cancelled: { retryable: false, failover: false },
  /** Anything that none of the above describes: treated as transient once. */
  unknown: { retryable: true, failover: true },
} as const satisfies Record<string, { retryable: boolean; failover: boolean }>;

export type FailureKind = keyof typeof FAILURE_KINDS;

export interface ProviderErrorFields {
  kind: FailureKind;
  provider: string;
  /** Upstream HTTP status, when there was a response. */
  status?: number;
  /** The provider's own error code/type (e.g. `rate_limit_exceeded`, `overloaded_error`, `RESOURCE_EXHAUSTED`). */
  providerCode?: string;
  /** Delay the provider asked for (Retry-After, retry-after-ms, Gemini RetryInfo), in ms. */
  retryAfterMs?: number;
  /** Rate-limit headers as the provider sent them (x-ratelimit-*, anthropic-ratelimit-*), non-secret. */
  rateLimit?: Record<string, string>;
  /** For timeouts: which phase ran out. */
  phase?: 'connect' | 'headers' | 'first_token' | 'body' | 'total';
  /** The provider's request id, for support. */
  providerRequestId?: string;
  /** True when some content had already been streamed to the caller before the failure. */
  afterFirstToken?: boolean;
}

/** Thrown by every adapter for every failure; its message never contains a credential or a full URL with query. */
export class ProviderError extends Error implements ProviderErrorFields {
  readonly kind: FailureKind;
  readonly provider: string;
  readonly status?: number;
  readonly providerCode?: string;
  readonly retryAfterMs?: number;
  readonly rateLimit?: Record<string, string>;
  readonly phase?: ProviderErrorFields['phase'];
  readonly providerRequestId?: string;
  afterFirstToken?: boolean;

  constructor(message: string, fields: ProviderErrorFields, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderError';
    this.kind = fields.kind;
    this.provider = fields.provider;
    this.status = fields.status;
    this.providerCode = fields.providerCode;
    this.retryAfterMs = fields.retryAfterMs;
    this.rateLimit = fields.rateLimit;
    this.phase = fields.phase;
    this.providerRequestId = fields.providerRequestId;
    this.afterFirstToken = fields.afterFirstToken;
  }

  get retryable(): boolean {
    return FAILURE_KINDS[this.kind].retryable;
  }

  get failover(): boolean {
    return FAILURE_KINDS[this.kind].failover;
  }

  /** Plain, serialisable fields (for ApplicationFailure details and attempt records). */
  toJSON(): ProviderErrorFields & { message: string } {
    return {
      message: this.message, kind: this.kind, provider: this.provider, status: this.status, providerCode: this.providerCode,
      retryAfterMs: this.retryAfterMs, rateLimit: this.rateLimit, phase: this.phase, providerRequestId: this.providerRequestId,
      afterFirstToken: this.afterFirstToken,
    };
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}

/**
 * The failure taxonomy (kinds and their retry meaning: src/domain/failure-kinds.ts). Each failure is
 * classified from the provider's own error body first, then the HTTP status, then undici's error
 * code — never from message text. The activity turns a ProviderError into an ApplicationFailure of
 * type `Provider.<kind>`.
 */
import { FAILURE_KINDS, type FailureKind } from '../domain/failure-kinds';

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

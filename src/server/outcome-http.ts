/**
 * The request outcome at the HTTP edge: the compact `x-zumik-*` headers (DESIGN.md §3), the
 * end-of-stream comment, and the one table that maps a refused or failed outcome to an HTTP error.
 */
import type { StreamMeta } from '../domain/request-messages';
import type { RequestOutcome } from '../domain/request-outcome';
import type { ReasonCode } from '../domain/reason-codes';
import { HttpError } from './errors';

export function outcomeHeaders(outcome: RequestOutcome): Record<string, string> {
  const winner = [...outcome.attempts].reverse().find((attempt) => attempt.status === 'succeeded') ?? outcome.attempts.at(-1);
  return {
    'x-zumik-request-id': outcome.id,
    'x-zumik-alias-release': outcome.release_id ?? '',
    'x-zumik-admission': outcome.admission,
    'x-zumik-completion': outcome.completion ?? '',
    'x-zumik-target-met': String(outcome.target_met),
    'x-zumik-fallback-used': String(outcome.fallback_used),
    'x-zumik-reason-code': outcome.reason_code,
    'x-zumik-attempts': String(outcome.attempts.length),
    'x-zumik-provider': winner?.provider ?? '',
    'x-zumik-model': winner?.served_model ?? winner?.model ?? '',
  };
}

/** What is known when a stream's headers leave: the rest follows in the `: zumik-outcome` comment. */
export function streamHeaders(requestId: string, meta: StreamMeta): Record<string, string> {
  return {
    'x-zumik-request-id': requestId,
    'x-zumik-alias-release': meta.releaseId,
    'x-zumik-admission': meta.admission,
    'x-zumik-fallback-used': String(meta.fallbackUsed),
    'x-zumik-attempts': String(meta.attempt),
    'x-zumik-provider': meta.provider,
    'x-zumik-model': meta.model,
  };
}

/** The SSE comment line that ends a stream (OpenAI clients ignore comments). */
export function outcomeComment(outcome: RequestOutcome): string {
  const compact = {
    request_id: outcome.id, release_id: outcome.release_id, admission: outcome.admission, completion: outcome.completion,
    target_met: outcome.target_met, degraded: outcome.degraded, fallback_used: outcome.fallback_used, reason_code: outcome.reason_code,
    attempts: outcome.attempts.length, timing: outcome.timing, cost_usd: outcome.cost_usd,
  };
  return `: zumik-outcome ${JSON.stringify(compact)}\n\n`;
}

interface ErrorShape { status: number; code: string; type: string; param?: string; message: string }

const ERRORS: Partial<Record<ReasonCode, ErrorShape>> = {
  rejected_rate_limit: { status: 429, code: 'rate_limit_exceeded', type: 'requests', message: "Rate limit reached for this tenant or API key." },
  rejected_concurrency_limit: { status: 429, code: 'concurrency_limit_exceeded', type: 'requests', message: 'Too many requests in flight for this tenant or API key.' },
  rejected_queue_full: { status: 429, code: 'queue_full', type: 'requests', message: 'The admission queue for this tenant is full.' },
  expired_before_start: { status: 429, code: 'expired_before_start', type: 'requests', message: 'The request waited for capacity until its deadline and was not started.' },
  rejected_policy: { status: 403, code: 'qos_class_not_allowed', type: 'invalid_request_error', param: 'x-zumik-qos-class', message: "The tenant's policy does not allow this QoS class." },
  unknown_alias: { status: 404, code: 'model_not_found', type: 'invalid_request_error', param: 'model', message: 'The model does not exist or has no live release.' },
  no_eligible_target: { status: 503, code: 'no_eligible_target', type: 'server_error', message: 'No target of this model can serve the request right now (circuits open, context too long, or no credentials).' },
  expired_during_execution: { status: 504, code: 'deadline_exceeded', type: 'server_error', message: 'The request did not complete before its deadline.' },
  cancelled: { status: 499, code: 'cancelled', type: 'invalid_request_error', message: 'The request was cancelled.' },
  provider_content_filter: { status: 400, code: 'content_filter', type: 'invalid_request_error', param: 'messages', message: 'The provider refused the content.' },
  provider_invalid_request: { status: 400, code: 'invalid_request_error', type: 'invalid_request_error', message: 'The provider rejected the request as invalid.' },
  provider_context_length: { status: 400, code: 'context_length_exceeded', type: 'invalid_request_error', param: 'messages', message: "The prompt does not fit the model's context window." },
  provider_rate_limit: { status: 429, code: 'upstream_rate_limited', type: 'requests', message: 'The provider rate-limited every attempt.' },
  provider_auth: { status: 502, code: 'upstream_auth_failed', type: 'server_error', message: 'The provider rejected the credentials Zumik holds for it.' },
  provider_quota: { status: 502, code: 'upstream_quota_exhausted', type: 'server_error', message: "The provider account's quota is exhausted." },
  provider_model_not_found: { status: 502, code: 'upstream_model_not_found', type: 'server_error', message: 'The provider does not know the configured model.' },
  provider_timeout: { status: 504, code: 'upstream_timeout', type: 'server_error', message: 'The provider did not answer in time.' },
};

/** The HTTP error for an outcome that did not complete. */
export function outcomeError(outcome: RequestOutcome): HttpError {
  const shape = ERRORS[outcome.reason_code] ?? {
    status: 503, code: outcome.reason_code, type: 'server_error', message: 'The request could not be served by any target.',
  };
  return new HttpError(shape.status, `${shape.message} (reason: ${outcome.reason_code}; request id ${outcome.id})`, shape.code,
    shape.param ?? null, shape.type, outcomeHeaders(outcome));
}

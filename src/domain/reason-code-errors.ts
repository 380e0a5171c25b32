/**
 * The one table that maps a refused or failed outcome's reason code to its HTTP answer (status, and
 * OpenAI's error `type`, `code`, `param`): the front door answers with it, and a batch line's error
 * record carries the same. Codes without an entry are 503 server errors.
 */
import { errorEnvelope, type ErrorEnvelope } from '../contract/error-envelope';
import { credentialSource, type ReasonCode } from './reason-codes';
import type { AttemptRecord, RequestOutcome } from './request-outcome';

export interface ErrorShape { status: number; code: string; type: string; param?: string; message: string }

export const REASON_CODE_ERRORS: Partial<Record<ReasonCode, ErrorShape>> = {
  rejected_rate_limit: { status: 429, code: 'rate_limit_exceeded', type: 'requests', message: "Rate limit reached for this tenant or API key." },
  rejected_concurrency_limit: { status: 429, code: 'concurrency_limit_exceeded', type: 'requests', message: 'Too many requests in flight for this tenant or API key.' },
  rejected_budget: { status: 429, code: 'budget_exceeded', type: 'requests', message: 'A hard spend budget of this tenant or API key is exhausted for its period.' },
  rejected_queue_full: { status: 429, code: 'queue_full', type: 'requests', message: 'The admission queue for this tenant is full.' },
  expired_before_start: { status: 429, code: 'expired_before_start', type: 'requests', message: 'The request waited for capacity until its deadline and was not started.' },
  rejected_policy: { status: 403, code: 'qos_class_not_allowed', type: 'invalid_request_error', param: 'x-zumik-qos-class', message: "The tenant's policy does not allow this QoS class." },
  rejected_allow_list: { status: 403, code: 'model_not_allowed', type: 'invalid_request_error', param: 'model', message: "This model is not on the tenant's or the API key's allow-list (of aliases, or of providers for every target of its release)." },
  rejected_coverage: { status: 403, code: 'broader_coverage_not_allowed', type: 'invalid_request_error', param: 'model', message: "This model's targets are broader-coverage models (outside Zumik's capability manifest, served through Bifrost), which the tenant's policy does not allow (allow_bifrost_broader_coverage, set by the operator)." },
  // 424 like no_credentials: nothing failed; the operator configures the Bifrost deployment again (or changes the release).
  coverage_unavailable: { status: 424, code: 'bifrost_not_configured', type: 'invalid_request_error', param: 'model', message: "This model's targets are broader-coverage models that only a Bifrost deployment serves, and this deployment's Bifrost no longer serves their provider (the providers file's bifrost entry), so no provider was called." },
  unsupported_capability: { status: 400, code: 'model_not_supported', type: 'invalid_request_error', param: 'model', message: "This model's targets are broader-coverage models (outside Zumik's capability manifest), for which Zumik claims no tools and no image, audio or file input; send the request without them or to another model." },
  unknown_alias: { status: 404, code: 'model_not_found', type: 'invalid_request_error', param: 'model', message: 'The model does not exist or has no live release.' },
  unknown_release: { status: 404, code: 'model_not_found', type: 'invalid_request_error', param: 'model', message: 'The pinned release (model "alias@alr_…") does not exist or is not readable by this tenant.' },
  release_alias_mismatch: { status: 400, code: 'invalid_value', type: 'invalid_request_error', param: 'model', message: 'The pinned release (model "alias@alr_…") is a release of another alias.' },
  // 424 (a dependency of the request is missing), not 5xx: nothing failed and SDKs must not retry; an admin configures it.
  no_credentials: { status: 424, code: 'no_credentials', type: 'invalid_request_error', param: 'model', message: 'No target of this model has a credential configured, so no provider was called.' },
  // 409: the alias's targets exist but are not activated yet; an admin acts (replay, then activate), a retry does not help.
  endpoint_pending: { status: 409, code: 'endpoint_pending', type: 'invalid_request_error', param: 'model', message: 'Every target of this model is a BYOC endpoint still pending activation: replay traffic against it (POST /v2/replays) and activate it with a passing report (POST /v2/byoc-endpoints/{id}/activate).' },
  no_eligible_target: { status: 503, code: 'no_eligible_target', type: 'server_error', message: 'No target of this model can serve the request right now (circuits open, or context too long).' },
  expired_during_execution: { status: 504, code: 'deadline_exceeded', type: 'server_error', message: 'The request did not complete before its deadline.' },
  cancelled: { status: 499, code: 'cancelled', type: 'invalid_request_error', message: 'The request was cancelled.' },
  provider_content_filter: { status: 400, code: 'content_filter', type: 'invalid_request_error', param: 'messages', message: 'The provider refused the content.' },
  provider_invalid_request: { status: 400, code: 'invalid_request_error', type: 'invalid_request_error', message: 'The provider rejected the request as invalid.' },
  unsupported_operation: { status: 400, code: 'model_not_supported', type: 'invalid_request_error', param: 'model', message: 'No target of this model can perform this operation (Anthropic targets have no embeddings API).' },
  provider_context_length: { status: 400, code: 'context_length_exceeded', type: 'invalid_request_error', param: 'messages', message: "The prompt does not fit the model's context window." },
  provider_rate_limit: { status: 429, code: 'upstream_rate_limited', type: 'requests', message: 'The provider rate-limited every attempt.' },
  provider_auth: { status: 502, code: 'upstream_auth_failed', type: 'server_error', message: 'The provider rejected the credentials Zumik holds for it.' },
  provider_quota: { status: 502, code: 'upstream_quota_exhausted', type: 'server_error', message: "The provider account's quota is exhausted." },
  provider_model_not_found: { status: 502, code: 'upstream_model_not_found', type: 'server_error', message: 'The provider does not know the configured model.' },
  provider_response_too_large: { status: 502, code: 'upstream_response_too_large', type: 'server_error', message: "The provider's answer was larger than Zumik accepts." },
  provider_egress_refused: { status: 502, code: 'egress_refused', type: 'server_error', message: "The endpoint's address is refused by the deployment's egress rules." },
  // 503 with the request id: nothing failed upstream; the same request (Idempotency-Key) may be sent again.
  worker_shutdown: { status: 503, code: 'worker_shutdown', type: 'server_error', message: 'The workers serving this request were stopped (a drain or deploy) until its attempt budget ran out.' },
  provider_timeout: { status: 504, code: 'upstream_timeout', type: 'server_error', message: 'The provider did not answer in time.' },
};

/** The HTTP answer for an outcome that did not complete: status, the OpenAI error envelope, and the error's fields. */
export function outcomeErrorShape(outcome: Pick<RequestOutcome, 'id' | 'reason_code'> & { attempts?: Pick<AttemptRecord, 'execution_profile' | 'provider' | 'failure_kind'>[] },
  missing: readonly MissingCredential[] = []): ErrorShape & { envelope: ErrorEnvelope } {
  const shape = REASON_CODE_ERRORS[outcome.reason_code] ?? {
    status: 503, code: outcome.reason_code, type: 'server_error', message: 'The request could not be served by any target.',
  };
  const unconfigured = [...missing, ...(outcome.attempts ?? []).filter((attempt) => attempt.failure_kind === 'no_credentials')];
  const hint = outcome.reason_code === 'no_credentials' ? missingCredentialsHint(unconfigured) : '';
  const message = `${shape.message}${hint} (reason: ${outcome.reason_code}; request id ${outcome.id})`;
  return { ...shape, message, envelope: errorEnvelope(message, shape.type, shape.param ?? null, shape.code) };
}

/** A target the front door or an attempt found without a credential (names only). */
export interface MissingCredential { execution_profile: string; provider: string }

function missingCredentialsHint(missing: readonly MissingCredential[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const { execution_profile: profile, provider } of missing) {
    const key = `${profile}/${provider}`;
    if (seen.has(key)) continue;
    seen.add(key);
    parts.push(`${provider} (${profile}): ${credentialSource(profile, provider)}`);
  }
  return parts.length === 0 ? '' : ` Missing: ${parts.join('; ')}.`;
}

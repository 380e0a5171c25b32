/**
 * The one reason-code vocabulary of request outcomes: stable, machine-readable, documented in the
 * README table. Every outcome carries exactly one.
 */
import { BUILT_IN_PROVIDERS, isBuiltInProvider } from './built-in-providers';
import type { FailureKind } from './failure-kinds';

export const REASON_CODES = {
  ok: 'completed on the first attempt',
  ok_after_retry: 'completed after retrying the same target',
  ok_after_failover: 'completed by a failover target after an earlier target failed',
  ok_via_bridge: "completed by the last-resort OpenRouter bridge after a verified total outage: every target and region tried and failed with an outage kind (not a rate limit), or every circuit open; the bridge's attempt records `verified_outage`",
  ok_after_hedge: 'completed by a hedged attempt, started on the next target when the first token was later than the TTFT target',
  ok_after_resume: 'a stream broke after content was delivered and was continued from that text: the client got one whole answer',
  ok_cache_hit: 'answered from the exact-match response cache (the same tenant sent the same request before): no provider was called, cost 0',
  rejected_budget: "not admitted: a hard budget of the tenant or API key (or of this alias) is spent for its period; Retry-After says when the period ends",
  rejected_concurrency_limit: 'not admitted: the tenant or key is at its concurrency limit and the queue is full',
  rejected_rate_limit: "not admitted: the tenant's or key's request rate limit is exhausted",
  rejected_queue_full: 'not admitted: the admission queue is full',
  rejected_policy: "not admitted: the tenant's policy forbids this request (QoS class, tier or profile)",
  rejected_allow_list: "not admitted: the alias, or every provider of its release, is outside the tenant's or the API key's allow-list",
  rejected_coverage: "not admitted: every target left is a broader-coverage model (outside Zumik's capability manifest, served through Bifrost), which the tenant's policy does not allow (`allow_bifrost_broader_coverage`)",
  unknown_alias: 'the requested model alias has no live release',
  unknown_release: "the release pinned by `model: \"alias@alr_…\"` does not exist or is not readable by the tenant",
  release_alias_mismatch: 'the release pinned by `model: "alias@alr_…"` is a release of another alias',
  no_credentials: 'no target has a usable credential: no managed key in the environment (e.g. OPENAI_API_KEY), no BYOK secret (PUT /v2/credentials/{provider}) or no registered endpoint; no provider was called',
  endpoint_pending: "every target the request could use is a BYOC endpoint still pending its replay-gated activation (POST /v2/byoc-endpoints/{id}/activate with a passing replay report); no provider was called",
  no_eligible_target: 'no target could serve: circuits open and no bridge allowed, or context window too small',
  coverage_unavailable: "every target left is a broader-coverage model that only the Bifrost deployment serves, and Bifrost no longer serves its provider here (the providers file's `bifrost` entry); no provider was called",
  unsupported_capability: 'every target left is a broader-coverage model, for which Zumik claims no tools and no image, audio or file input, and the request needs one of them',
  unsupported_operation: "no target of the alias can perform the request's operation (embeddings on an alias whose only targets are Anthropic, which has no embeddings API)",
  expired_before_start: 'the deadline passed while the request waited for admission',
  expired_during_execution: 'the deadline passed while attempts were running',
  cancelled: 'the client disconnected or cancelled the request',
  stream_interrupted: 'the stream failed after its first token and could not be continued; the partial answer was not presented as complete',
  attempts_exhausted: 'every planned attempt failed with retryable errors',
  worker_shutdown: "the request's attempt budget ran out while the workers serving it were being stopped (drains, a rolling deploy): no provider failed",
  provider_auth: 'the provider rejected the credentials',
  provider_quota: "the provider account's quota or credit is exhausted",
  provider_rate_limit: 'the provider rate-limited every attempt',
  provider_overloaded: 'the provider was overloaded on every attempt',
  provider_invalid_request: 'the provider rejected the request as invalid',
  provider_context_length: "the prompt does not fit any target's context window",
  provider_content_filter: 'the provider refused the content',
  provider_model_not_found: 'the provider does not know the configured model',
  provider_upstream_unavailable: 'the provider was unavailable (5xx) on every attempt',
  provider_timeout: 'the provider timed out (headers or first token) on every attempt',
  provider_stream_stalled: 'the stream stalled on every attempt',
  provider_stream_truncated: 'the stream ended before its finish on every attempt',
  provider_network: 'the provider could not be reached on every attempt',
  provider_bad_response: 'the provider answered malformed data on every attempt',
  provider_response_too_large: "the provider's answer exceeded Zumik's upstream size limit",
  provider_egress_refused: "the endpoint's address is refused by the egress rules (private, loopback, link-local or metadata range, or plain http)",
  provider_unknown: 'an unclassified provider failure',
} as const;

export type ReasonCode = keyof typeof REASON_CODES;

/** The reason code for a request that ended on a provider failure of this kind. */
export function providerFailureReason(kind: FailureKind): ReasonCode {
  if (kind === 'cancelled') return 'cancelled';
  // The last target left was refused by its circuit at call time: the same answer a plan with no target gets.
  if (kind === 'circuit_open') return 'no_eligible_target';
  if (kind === 'no_credentials') return 'no_credentials';
  if (kind === 'worker_shutdown') return 'worker_shutdown';
  // Both only ever follow content the client already has (or a race another attempt won).
  if (kind === 'resume_mismatch' || kind === 'hedge_lost') return 'stream_interrupted';
  return `provider_${kind}` as ReasonCode;
}

/**
 * Where the credential of a target comes from, for the `no_credentials` message: the environment
 * variable of a managed provider, or the /v2 route a tenant admin uses. Names, never values.
 */
export function credentialSource(executionProfile: string, provider: string): string {
  switch (executionProfile) {
    case 'managed_provider': return isBuiltInProvider(provider)
      ? `set ${provider.toUpperCase()}_API_KEY in Zumik's environment`
      : `it is not a built-in provider (${BUILT_IN_PROVIDERS.join(', ')}); a tenant's own endpoint is a byoc target`;
    case 'byok': return `store the tenant's key with PUT /v2/credentials/${provider}`;
    default: return `register the endpoint with PUT /v2/byoc-endpoints/${provider}`;
  }
}

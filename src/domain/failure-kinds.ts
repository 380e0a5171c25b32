/**
 * The failure taxonomy's meaning: each kind is defined by what it means for retry and failover.
 * Pure data in src/domain so the workflow's retry decisions and the provider layer share one table.
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
  /** A stream ended (cut, or closed cleanly) before every choice had its finish: the answer is truncated; retry or fail over. */
  stream_truncated: { retryable: true, failover: true },
  /** Connection refused, reset or DNS failure before an answer: retry or fail over. */
  network: { retryable: true, failover: true },
  /** The provider answered something that is not its documented format (malformed JSON or SSE event). */
  bad_response: { retryable: true, failover: true },
  /** The call was aborted by the caller (client disconnect, cancellation): not a provider failure. */
  cancelled: { retryable: false, failover: false },
  /**
   * No call was made: the target's circuit opened (or its half-open probe slots were all taken) after
   * the plan was made. Retrying the same target now would be refused again; fail over.
   */
  circuit_open: { retryable: false, failover: true },
  /** Anything that none of the above describes: treated as transient once. */
  unknown: { retryable: true, failover: true },
} as const satisfies Record<string, { retryable: boolean; failover: boolean }>;

export type FailureKind = keyof typeof FAILURE_KINDS;

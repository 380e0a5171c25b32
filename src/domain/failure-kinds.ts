/**
 * The failure taxonomy's meaning — the one table: each kind is defined by what it means for
 * - `retryable`: trying the same target again can help;
 * - `failover`: another target can help;
 * - `circuit`: it is evidence that the target itself is down, and counts towards opening its circuit
 *   (rate limits are our own quota pacing, auth/quota one account's trouble, invalid requests and
 *   refusals the request's, cancellations the caller's: none of them reroutes all traffic);
 * - `outage`: a request that failed only with such kinds may use the last-resort OpenRouter bridge.
 * Pure data in src/domain so the workflow, the provider layer and the circuit breaker share it.
 */
export const FAILURE_KINDS = {
  /** The credential is missing, invalid or lacks permission: retrying the same target cannot help; another target may. */
  auth: { retryable: false, failover: true, circuit: false, outage: false },
  /** The account's quota or credit is exhausted: unlike a rate limit, waiting does not help; fail over. */
  quota: { retryable: false, failover: true, circuit: false, outage: false },
  /** Too many requests right now: retry after the provider's Retry-After, or fail over. Pacing, not an outage: never opens the bridge. */
  rate_limit: { retryable: true, failover: true, circuit: false, outage: false },
  /** The provider is overloaded (Anthropic 529 and the like): retry with backoff, or fail over. */
  overloaded: { retryable: true, failover: true, circuit: true, outage: true },
  /** The request itself is invalid for this provider: neither retry nor failover is likely to help. */
  invalid_request: { retryable: false, failover: false, circuit: false, outage: false },
  /** The prompt does not fit this model's context window: only a target with a larger window can serve it. */
  context_length: { retryable: false, failover: true, circuit: false, outage: false },
  /** The provider refused the content: retrying or failing over would only repeat the refusal. */
  content_filter: { retryable: false, failover: false, circuit: false, outage: false },
  /** The model id is unknown to the provider: a configuration error on this target; fail over. */
  model_not_found: { retryable: false, failover: true, circuit: false, outage: false },
  /** 5xx, or an endpoint picker with no ready endpoint: transient, retry with backoff or fail over. */
  upstream_unavailable: { retryable: true, failover: true, circuit: true, outage: true },
  /** No response headers, or no first token, within the time allowed: retry or fail over. */
  timeout: { retryable: true, failover: true, circuit: true, outage: true },
  /** A stream went silent in the middle: the partial answer is unusable; retry or fail over. */
  stream_stalled: { retryable: true, failover: true, circuit: true, outage: true },
  /** A stream ended (cut, or closed cleanly) before every choice had its finish: the answer is truncated; retry or fail over. */
  stream_truncated: { retryable: true, failover: true, circuit: true, outage: true },
  /** Connection refused, reset or DNS failure before an answer: retry or fail over. */
  network: { retryable: true, failover: true, circuit: true, outage: true },
  /** The provider answered something that is not its documented format (malformed JSON or SSE event). */
  bad_response: { retryable: true, failover: true, circuit: true, outage: true },
  /**
   * The answer exceeded Zumik's size limit (UPSTREAM_RESPONSE_MAX_BYTES, UPSTREAM_STREAM_MAX_BYTES): the
   * same target would likely answer as much again; another target may not. Not evidence of an outage.
   */
  response_too_large: { retryable: false, failover: true, circuit: false, outage: false },
  /** The call was aborted by the caller (client disconnect, cancellation): not a provider failure. */
  cancelled: { retryable: false, failover: false, circuit: false, outage: false },
  /**
   * No call was made: the target's circuit opened (or its half-open probe slots were all taken) after
   * the plan was made. Retrying the same target now would be refused again; fail over. The open
   * circuit is itself the verified outage of that target (for the bridge).
   */
  circuit_open: { retryable: false, failover: true, circuit: false, outage: true },
  /**
   * No call was made: the endpoint's address is refused by the egress rules (a customer-supplied
   * endpoint in a private, loopback, link-local or metadata range, or plain http). Retrying cannot
   * help until the endpoint or the operator's allow-list changes; another target may. Not the target's
   * health, so no circuit.
   */
  egress_refused: { retryable: false, failover: true, circuit: false, outage: false },
  /**
   * No call was made: Zumik holds no usable credential for this target (no managed key in the
   * environment, no stored BYOK secret, no registered endpoint). Not the provider's failure: retrying
   * cannot help until an operator or tenant admin configures one; another target may. No circuit.
   */
  no_credentials: { retryable: false, failover: true, circuit: false, outage: false },
  /**
   * A hedged attempt that lost the race for the first token: it was cancelled because the other
   * attempt produced content first. Not a provider failure; nothing to retry.
   */
  hedge_lost: { retryable: false, failover: false, circuit: false, outage: false },
  /**
   * A stream continuation could not be honest: the regenerated answer does not start with the text
   * the client already has (or the checkpoint is gone). Another target may still continue it.
   */
  resume_mismatch: { retryable: false, failover: true, circuit: false, outage: false },
  /**
   * The worker running the attempt was stopped (SIGTERM: a drain, a rolling deploy) before the attempt
   * ended within the shutdown grace. Not the target's failure: the same target is tried again at once
   * on another worker (continuing a stream from what the client already has), never failed over.
   */
  worker_shutdown: { retryable: true, failover: false, circuit: false, outage: false },
  /** Anything that none of the above describes: treated as transient once. */
  unknown: { retryable: true, failover: true, circuit: false, outage: false },
} as const satisfies Record<string, { retryable: boolean; failover: boolean; circuit: boolean; outage: boolean }>;

export type FailureKind = keyof typeof FAILURE_KINDS;

const kindsWhere = (column: 'circuit' | 'outage'): FailureKind[] =>
  (Object.keys(FAILURE_KINDS) as FailureKind[]).filter((kind) => FAILURE_KINDS[kind][column]);

/** The failure kinds that count towards opening a circuit. */
export const CIRCUIT_FAILURE_KINDS: readonly FailureKind[] = kindsWhere('circuit');

/** The failure kinds that make a total outage: a request that failed only with these may use the bridge. */
export const OUTAGE_FAILURE_KINDS: ReadonlySet<FailureKind> = new Set(kindsWhere('outage'));

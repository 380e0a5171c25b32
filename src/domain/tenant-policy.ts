/**
 * A tenant's policy (DESIGN.md §3 Admin, §4): admission limits, QoS overrides, which classes it may
 * use, failover (and whether it routes round content-filter refusals, per alias) and the brokered
 * last-resort bridge. Admins write it as JSON (snake_case, strict);
 * every field has a default, so `{}` is a valid policy and an unset field follows Zumik's default.
 * Pure: the store persists the JSON as written, and admission reads the parsed form.
 */
import { z } from 'zod';
import { allowedAliasesSchema, allowedProvidersSchema } from './allow-list';
import { ALIAS_PATTERN } from './model-alias';
import { QOS_CLASSES, qosProfile, type QosClass, type QosProfile } from './qos';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-decision';

/** Tenant ids: what `?tenant=` and `/tenants/{tenant}` accept. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TENANT_ID_RULE = 'tenant must be 1-64 letters, digits, . _ - (starting with a letter or digit)';

const count = (minimum: number, maximum: number) => z.number().int().min(minimum).max(maximum);
const milliseconds = count(1, 7 * 24 * 3_600_000);
/** A response cache entry's lifetime: a second to 30 days. */
export const MAX_CACHE_TTL_SECONDS = 30 * 86_400;
const cacheTtl = count(1, MAX_CACHE_TTL_SECONDS);

/** JSON field → QosProfile field. */
const QOS_FIELDS = {
  deadline_ms: 'deadlineMs',
  max_queue_wait_ms: 'maxQueueWaitMs',
  ttft_target_ms: 'ttftTargetMs',
  total_target_ms: 'totalTargetMs',
  first_token_timeout_ms: 'firstTokenTimeoutMs',
  stall_timeout_ms: 'stallTimeoutMs',
  priority: 'priority',
} as const satisfies Record<string, keyof QosProfile>;
type QosJsonField = keyof typeof QOS_FIELDS;

const qosOverrideSchema = z.strictObject({
  deadline_ms: milliseconds.optional(),
  max_queue_wait_ms: count(0, 7 * 24 * 3_600_000).optional(),
  ttft_target_ms: milliseconds.optional(),
  total_target_ms: milliseconds.optional(),
  first_token_timeout_ms: milliseconds.optional(),
  stall_timeout_ms: milliseconds.optional(),
  priority: count(1, 5).optional(),
}).transform((override) => {
  const profile: Partial<QosProfile> = {};
  for (const [field, value] of Object.entries(override) as [QosJsonField, number | undefined][]) {
    if (value !== undefined) profile[QOS_FIELDS[field]] = value;
  }
  return profile;
});

const qosClass = z.enum(QOS_CLASSES, { error: () => `expected one of ${QOS_CLASSES.join(', ')}` });

export const tenantPolicySchema = z.strictObject({
  limits: z.strictObject({
    /** Requests of the tenant in flight at once. */
    concurrency: count(1, 1_000_000).optional(),
    /** Requests of one API key in flight at once. */
    key_concurrency: count(1, 1_000_000).optional(),
    requests_per_minute: count(1, 100_000_000).optional(),
    key_requests_per_minute: count(1, 100_000_000).optional(),
    /** Requests waiting for admission before new ones are rejected (`queue_full`). */
    max_queue: count(0, 1_000_000).default(100),
  }).prefault({}),
  qos: z.strictObject(Object.fromEntries(QOS_CLASSES.map((name) => [name, qosOverrideSchema.optional()])) as
    Record<QosClass, z.ZodOptional<typeof qosOverrideSchema>>).prefault({}),
  allowed_qos_classes: z.array(qosClass).min(1, 'allowed_qos_classes must name at least one class')
    .transform((classes) => [...new Set(classes)]).default([...QOS_CLASSES]),
  /** Try other targets when one fails. */
  failover: z.boolean().default(true),
  /**
   * Route a provider's content-filter refusal round to another target (needs `failover`). Off by
   * default: the refusal is the answer (400 `provider_content_filter`), not an outage to hide.
   */
  content_filter_failover: z.boolean().default(false),
  /** Per-alias overrides of the fields that make sense per alias; an alias not listed follows the tenant-wide fields. */
  aliases: z.record(
    z.string().regex(ALIAS_PATTERN, 'alias keys must be 1-128 characters: letters, digits and . _ : @ + - (starting with a letter or digit)'),
    z.strictObject({
      content_filter_failover: z.boolean().optional(), stream_resume: z.boolean().optional(),
      /** The exact-match response cache for this alias (overrides `response_cache` field by field). */
      response_cache: z.strictObject({ enabled: z.boolean().optional(), ttl_seconds: cacheTtl.optional() }).optional(),
    }),
  ).default({}),
  /**
   * A stream that breaks after content reached the client (cut, stall, upstream error, lost worker) is
   * continued from the delivered text on the same or the next target (README "Streams that survive
   * their provider"). On by default; off per alias (`aliases`) or per request (`x-zumik-stream-resume: off`).
   */
  stream_resume: z.boolean().default(true),
  /**
   * Hedged first token: when the class's TTFT target passes with no first token, the next eligible
   * target starts in parallel and the first to produce content wins. At most this many per request
   * (0 disables); never for the batch class.
   */
  max_hedges: count(0, 3).default(1),
  /**
   * Hedge plain (non-streamed) completions too. Off by default: without a stream there is no first
   * token to see, so the hedge races whole answers, and a long answer that legitimately runs past the
   * TTFT target is paid for twice (the loser's partial output).
   */
  hedge_non_streaming: z.boolean().default(false),
  /**
   * The exact-match response cache (README "Response cache"): off unless enabled here or per alias
   * (`aliases`), or asked per request (`x-zumik-cache`). Entries live `ttl_seconds` unless a request says.
   */
  response_cache: z.strictObject({ enabled: z.boolean().default(false), ttl_seconds: cacheTtl.default(3_600) }).prefault({}),
  /**
   * Prompt retention (README "Replay"): off by default. When on, each completed chat request's body (messages
   * and parameters, never headers or credentials) and the answer served are kept `days` days in Postgres, the
   * traffic a replay (`POST /v2/replays`) draws from. Off: nothing is stored and nothing is spent.
   */
  prompt_retention: z.strictObject({ enabled: z.boolean().default(false), days: count(1, 365).default(7) }).prefault({}),
  /**
   * What a replay report must meet to pass (README "Replay-gated activation"), and how young a passing
   * report must be to activate a BYOC endpoint. A threshold left unset is not judged.
   */
  replay: z.strictObject({
    /** Share of replayed requests the candidate answered (0-1). */
    min_success_rate: z.number().min(0).max(1).default(0.95),
    /** Mean similarity of the candidate's answers to the ones served (0-1), by the replay's `similarity`. */
    min_agreement: z.number().min(0).max(1).default(0.5),
    /** Share of answers identical to the ones served (0-1). Unset: not judged. */
    min_exact_match_rate: z.number().min(0).max(1).optional(),
    max_p95_ttft_ms: count(1, 3_600_000).optional(),
    max_p95_latency_ms: count(1, 3_600_000).optional(),
    /** Fewest replayed requests a report needs to pass. */
    min_sample: count(1, 100_000).default(1),
    /** A report older than this (seconds) no longer activates an endpoint. */
    max_report_age_s: count(60, 90 * 86_400).default(86_400),
  }).prefault({}),
  /** Attempts per request across all targets (the retry budget). */
  max_attempts: count(1, 20).default(4),
  /** May the OpenRouter bridge serve the request after a verified outage of every target? */
  allow_brokered_execution: z.boolean().default(false),
  /**
   * Broader coverage through Bifrost (README "Managed providers via Bifrost"): may the tenant's requests reach a
   * release target whose model is not in Zumik's capability manifest, served through the Bifrost deployment? Such a
   * target has conservative capabilities and an unknown price (cost null). Set by the operator: it spends the
   * deployment's Bifrost account on models Zumik cannot price or budget.
   */
  allow_bifrost_broader_coverage: z.boolean().default(false),
  flex: z.strictObject({
    /** A flex request that cannot get flex capacity in time runs as standard instead of expiring. */
    fallback_to_standard: z.boolean().default(false),
  }).prefault({}),
  batch: z.strictObject({
    /** Use the provider's own batch API where the target has one. */
    provider_native: z.boolean().default(false),
    /** Lines a provider-native job fails (or never serves) run on the online path instead of going to the error file. */
    fallback_to_online: z.boolean().default(true),
    /** How often a provider-native job is polled at most (durable timers back off from 1 s to this). */
    poll_interval_ms: count(100, 3_600_000).default(60_000),
    /** Child requests of one batch in flight at once. */
    max_concurrency: count(1, 10_000).default(50),
  }).prefault({}),
  default_qos_class: qosClass.default('standard'),
  /**
   * The aliases the tenant may request (absent or null: every alias). Set by the operator: a request
   * for another alias is refused with 403 `rejected_allow_list` before any workflow.
   */
  allowed_aliases: allowedAliasesSchema.nullish().transform((list) => list ?? undefined),
  /**
   * The providers (built-in names, BYOC endpoint ids) the tenant's requests may reach (absent or
   * null: all). Set by the operator: targets on other providers are left out of the plan, and a request
   * with no target left is refused with 403 `rejected_allow_list`.
   */
  allowed_providers: allowedProvidersSchema.nullish().transform((list) => list ?? undefined),
}).superRefine((policy, context) => {
  if (!policy.allowed_qos_classes.includes(policy.default_qos_class)) {
    context.addIssue({ code: 'custom', path: ['default_qos_class'], message: 'default_qos_class must be one of allowed_qos_classes' });
  }
  for (const name of QOS_CLASSES) {
    const profile = qosProfile(name, policy.qos);
    const path = (field: QosJsonField) => ['qos', name, field];
    if (profile.maxQueueWaitMs > profile.deadlineMs) {
      context.addIssue({ code: 'custom', path: path('max_queue_wait_ms'), message: `${name} max_queue_wait_ms must not exceed its deadline_ms (${profile.deadlineMs})` });
    }
    if (profile.firstTokenTimeoutMs > profile.deadlineMs) {
      context.addIssue({ code: 'custom', path: path('first_token_timeout_ms'), message: `${name} first_token_timeout_ms must not exceed its deadline_ms (${profile.deadlineMs})` });
    }
  }
});

/** A policy with every default applied; `qos` holds per-class overrides in QosProfile's own (camelCase) fields. */
export type TenantPolicy = z.output<typeof tenantPolicySchema>;
/** A policy as admins write it (JSON, snake_case, every field optional). */
export type TenantPolicyInput = z.input<typeof tenantPolicySchema>;

/** Parse a stored or submitted policy, applying defaults; throws the ZodError of an invalid one. */
export function parseTenantPolicy(json: unknown): TenantPolicy {
  return tenantPolicySchema.parse(json ?? {});
}

/** The policy of a tenant that has none stored. Frozen: it is shared. */
export const DEFAULT_TENANT_POLICY: TenantPolicy = deepFreeze(parseTenantPolicy({}));

/** The policy back as JSON (snake_case QoS fields), defaults included: what the admin API returns. */
export function tenantPolicyToJson(policy: TenantPolicy) {
  const fields = Object.entries(QOS_FIELDS) as [QosJsonField, keyof QosProfile][];
  const qos: Partial<Record<QosClass, Partial<Record<QosJsonField, number>>>> = {};
  for (const name of QOS_CLASSES) {
    const override = policy.qos[name];
    if (override) qos[name] = Object.fromEntries(fields.filter(([, key]) => override[key] !== undefined).map(([field, key]) => [field, override[key]]));
  }
  return {
    limits: { ...policy.limits },
    qos,
    allowed_qos_classes: [...policy.allowed_qos_classes],
    failover: policy.failover,
    content_filter_failover: policy.content_filter_failover,
    aliases: Object.fromEntries(Object.entries(policy.aliases).map(([alias, override]) => [alias,
      { ...override, ...(override.response_cache ? { response_cache: { ...override.response_cache } } : {}) }])),
    stream_resume: policy.stream_resume,
    max_hedges: policy.max_hedges,
    hedge_non_streaming: policy.hedge_non_streaming,
    response_cache: { ...policy.response_cache },
    prompt_retention: { ...policy.prompt_retention },
    replay: { ...policy.replay },
    max_attempts: policy.max_attempts,
    allow_brokered_execution: policy.allow_brokered_execution,
    allow_bifrost_broader_coverage: policy.allow_bifrost_broader_coverage,
    flex: { ...policy.flex },
    batch: { ...policy.batch },
    default_qos_class: policy.default_qos_class,
    allowed_aliases: policy.allowed_aliases ? [...policy.allowed_aliases] : null,
    allowed_providers: policy.allowed_providers ? [...policy.allowed_providers] : null,
  };
}

/** Fields only the operator may change: a tenant admin's PUT keeps them as they are. */
export const OPERATOR_POLICY_FIELDS = ['limits', 'allowed_aliases', 'allowed_providers', 'allow_bifrost_broader_coverage'] as const;

/** Whether a content-filter refusal of a request for `alias` may fail over: the alias's override, else the tenant's field. */
export function contentFilterFailover(policy: TenantPolicy, alias: string): boolean {
  const override = Object.hasOwn(policy.aliases, alias) ? policy.aliases[alias]!.content_filter_failover : undefined;
  return override ?? policy.content_filter_failover;
}

/** Whether a broken stream of a request for `alias` may be continued: the alias's override, else the tenant's field. */
export function streamResume(policy: TenantPolicy, alias: string): boolean {
  const override = Object.hasOwn(policy.aliases, alias) ? policy.aliases[alias]!.stream_resume : undefined;
  return override ?? policy.stream_resume;
}

/** The response cache settings of a tenant's requests for `alias`: the alias's override, else the tenant's fields. */
export function responseCachePolicy(policy: TenantPolicy, alias: string): { enabled: boolean; ttlSeconds: number } {
  const override = Object.hasOwn(policy.aliases, alias) ? policy.aliases[alias]!.response_cache : undefined;
  return { enabled: override?.enabled ?? policy.response_cache.enabled, ttlSeconds: override?.ttl_seconds ?? policy.response_cache.ttl_seconds };
}

/** The retry and failover rules a tenant's request for `alias` runs under (src/domain/retry-decision.ts). */
export function tenantRetryPolicy(policy: TenantPolicy, alias: string): RetryPolicy {
  return {
    ...DEFAULT_RETRY_POLICY, maxAttempts: policy.max_attempts, failover: policy.failover,
    contentFilterFailover: contentFilterFailover(policy, alias),
  };
}

/** The QoS profile a tenant's request of this class runs under. */
export function tenantQosProfile(policy: TenantPolicy, name: QosClass): QosProfile {
  return qosProfile(name, policy.qos);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

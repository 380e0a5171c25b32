/**
 * The exact-match response cache (issue 14), its pure part: what a request asks of the cache
 * (`x-zumik-cache: use|refresh|skip`, the alias's or tenant's policy), and the key — the sha256 of
 * the canonical JSON (keys sorted) of the release the alias resolved to and every field of the body
 * that can change the answer. The tenant is the first column of the key in the store: entries are
 * never shared across tenants. A new release of the alias is a new key.
 */
import type { ChatRequest } from '../contract/chat';
import type { ChatRequestInput, RequestOutcome } from './request-outcome';

export const CACHE_MODES = ['use', 'refresh', 'skip'] as const;
/** `use`: answer from the cache when it holds the request, else call and keep the answer; `refresh`: call and replace; `skip`: neither. */
export type CacheMode = (typeof CACHE_MODES)[number];

/** Body fields that cannot change the answer's content: left out of the key. */
const UNKEYED_FIELDS: ReadonlySet<string> = new Set(['stream', 'user', 'metadata', 'store', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'background']);

/**
 * What the cache does for a request: the header when sent, else `use` when the policy enables the
 * cache for the alias, else `skip`. Sampling at `temperature` > 0 gives a different answer each time,
 * so the policy alone never caches it: only an explicit `x-zumik-cache: use` (or `refresh`) does.
 */
export function cacheModeFor(header: CacheMode | undefined, policy: { enabled: boolean }, body: Pick<ChatRequest, 'temperature'>): CacheMode {
  if (header) return header;
  if (!policy.enabled) return 'skip';
  return (body.temperature ?? 0) > 0 ? 'skip' : 'use';
}

/**
 * JSON with object keys sorted at every depth (RFC 8785's ordering for the ASCII keys requests have):
 * the same request written with its keys in another order is the same key. Undefined fields are left out.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
}

/**
 * What a request's cache key is the sha256 of (the store hashes it: no Node built-ins here): the
 * canonical JSON of the release id and the body without UNKEYED_FIELDS. A stream's `stream_options` stay in its key (a replay repeats the
 * usage chunk only to a client that asked for it); streams and JSON answers are kept apart by the store.
 */
export function cacheKeyMaterial(releaseId: string, body: ChatRequest): string {
  const keyed = Object.fromEntries(Object.entries(body).filter(([field]) => !UNKEYED_FIELDS.has(field)
    && !(field === 'stream_options' && body.stream !== true)));
  return canonicalJson({ release: releaseId, body: keyed });
}

/**
 * The outcome of a request answered from the cache: completed, no attempt (no provider was called),
 * cost 0, `cache_hit`, reason `ok_cache_hit`, and no workflow — the front door answers a hit before
 * any workflow (DESIGN.md §4.1) and records this one row for the audit.
 */
export function cacheHitOutcome(input: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'alias' | 'qosClass' | 'receivedAt' | 'stream' | 'ingress'>,
  releaseId: string, endedAt: number, totalTargetMs: number): RequestOutcome {
  const totalMs = endedAt - input.receivedAt;
  return {
    id: input.requestId, object: 'request_outcome', tenant: input.tenantId, alias: input.alias, release_id: releaseId, qos_class: input.qosClass,
    admission: 'admitted', completion: 'completed', target_met: totalMs <= totalTargetMs, degraded: false, fallback_used: false,
    reason_code: 'ok_cache_hit', timing: { queued_ms: 0, ttft_ms: input.stream ? totalMs : null, total_ms: totalMs }, attempts: [], usage: null,
    cost_usd: 0, cost_reason: null, price_manifest_revision: null, cache_hit: true, workflow: null,
    ...(input.ingress ? { ingress: input.ingress } : {}),
  };
}

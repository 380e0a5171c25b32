/**
 * Routing policy revisions (issue 10): an immutable `pol_…` JSON of the routing fields of a tenant
 * policy (retry, failover, bridge, hedging). A release that names one serves its requests with those
 * fields over the tenant's; a field the revision leaves out follows the tenant policy. Pure.
 */
import { z } from 'zod';
import type { TenantPolicy } from './tenant-policy';

const count = (minimum: number, maximum: number) => z.number().int().min(minimum).max(maximum);

/** The body of `POST /v2/routing-policies` (the same fields and bounds as in the tenant policy). */
export const routingPolicySchema = z.strictObject({
  failover: z.boolean().optional(),
  content_filter_failover: z.boolean().optional(),
  max_attempts: count(1, 20).optional(),
  allow_brokered_execution: z.boolean().optional(),
  stream_resume: z.boolean().optional(),
  max_hedges: count(0, 3).optional(),
  hedge_non_streaming: z.boolean().optional(),
  flex: z.strictObject({ fallback_to_standard: z.boolean().optional() }).optional(),
});

export type RoutingPolicy = z.infer<typeof routingPolicySchema>;

/** The tenant policy with a routing revision's fields over it. */
export function withRoutingPolicy(policy: TenantPolicy, routing: RoutingPolicy | undefined): TenantPolicy {
  if (!routing) return policy;
  const { flex, ...fields } = routing;
  const set = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return { ...policy, ...set, flex: { ...policy.flex, ...(flex?.fallback_to_standard !== undefined ? { fallback_to_standard: flex.fallback_to_standard } : {}) } };
}

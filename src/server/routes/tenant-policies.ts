/**
 * `/v2/tenants/{tenant}/policy` (admin): read and replace a tenant's policy. The body is the policy
 * (strict: an unknown field is a 400 naming it); every omitted field takes its default, and both
 * routes answer with the effective policy, defaults applied. The read-only fields of that answer
 * (`object`, `tenant`, `updated_at`) may be sent back unchanged, so GET → edit → PUT works.
 */
import { Router, type Request } from 'express';
import { TENANT_ID_PATTERN, TENANT_ID_RULE, tenantPolicySchema, tenantPolicyToJson, type TenantPolicyInput } from '../../domain/tenant-policy';
import type { StoredTenantPolicy, TenantPolicyRepository } from '../../store/tenant-policy-repository';
import { badRequest } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';

function toPolicyObject(stored: StoredTenantPolicy) {
  return {
    object: 'tenant_policy', tenant: stored.tenantId, ...tenantPolicyToJson(stored.policy),
    updated_at: stored.updatedAt ? Math.floor(stored.updatedAt.getTime() / 1000) : null,
  };
}

function tenantParam(request: Request): string {
  const tenant = String(request.params.tenant);
  if (!TENANT_ID_PATTERN.test(tenant)) throw badRequest(TENANT_ID_RULE, 'tenant');
  return tenant;
}

/** The body without the read-only fields of a GET answer; a `tenant` that names another tenant is an error. */
function withoutReadOnlyFields(body: unknown, tenant: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const { object, tenant: bodyTenant, updated_at: _updatedAt, ...policy } = body as Record<string, unknown>;
  if (object !== undefined && object !== 'tenant_policy') throw badRequest("object must be 'tenant_policy' when given", 'object');
  if (bodyTenant !== undefined && bodyTenant !== tenant) throw badRequest('tenant in the body must match the tenant in the path', 'tenant');
  return policy;
}

export function tenantPolicyRoutes(policies: TenantPolicyRepository): Router {
  const router = Router();
  const admin = requireScope('admin');

  router.get('/tenants/:tenant/policy', admin, async (request, response) => {
    response.json(toPolicyObject(await policies.find(tenantParam(request))));
  });

  router.put('/tenants/:tenant/policy', admin, async (request, response) => {
    const tenant = tenantParam(request);
    const input = withoutReadOnlyFields(request.body, tenant);
    parseBody(tenantPolicySchema, input);
    // Stored as written (validated above), so that fields left out follow Zumik's defaults as they evolve.
    response.json(toPolicyObject(await policies.put(tenant, input as TenantPolicyInput)));
  });

  return router;
}

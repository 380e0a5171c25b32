/**
 * `/v2/tenants/{tenant}/policy` (admin): read and replace a tenant's policy. A tenant admin reaches its
 * own tenant's (another tenant's answers 404), the operator every tenant's. The operator's fields
 * (`limits`, `allowed_aliases`, `allowed_providers`, `allow_bifrost_broader_coverage`: OPERATOR_POLICY_FIELDS) stay as the operator set
 * them when a tenant admin writes the policy: sent back unchanged (or left out) they are kept, changed
 * they are a 403 naming the field. The body is the policy
 * (strict: an unknown field is a 400 naming it); every omitted field takes its default, and both
 * routes answer with the effective policy, defaults applied. The read-only fields of that answer
 * (`object`, `tenant`, `updated_at`) may be sent back unchanged, so GET → edit → PUT works.
 */
import { Router, type Request } from 'express';
import { OPERATOR_POLICY_FIELDS, parseTenantPolicy, tenantPolicySchema, tenantPolicyToJson, type TenantPolicyInput } from '../../domain/tenant-policy';
import type { StoredTenantPolicy, TenantPolicyRepository } from '../../store/tenant-policy-repository';
import { badRequest, HttpError } from '../errors';
import { isOperator, requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { pathTenant } from '../middleware/tenant-scope';

function toPolicyObject(stored: StoredTenantPolicy) {
  return {
    object: 'tenant_policy', tenant: stored.tenantId, ...tenantPolicyToJson(stored.policy),
    updated_at: stored.updatedAt ? Math.floor(stored.updatedAt.getTime() / 1000) : null,
  };
}

function tenantParam(request: Request): string {
  return pathTenant(request, String(request.params.tenant));
}

/** The body without the read-only fields of a GET answer; a `tenant` that names another tenant is an error. */
function withoutReadOnlyFields(body: unknown, tenant: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const { object, tenant: bodyTenant, updated_at: _updatedAt, ...policy } = body as Record<string, unknown>;
  if (object !== undefined && object !== 'tenant_policy') throw badRequest("object must be 'tenant_policy' when given", 'object');
  if (bodyTenant !== undefined && bodyTenant !== tenant) throw badRequest('tenant in the body must match the tenant in the path', 'tenant');
  return policy;
}

/** A tenant admin's policy with the operator's fields as stored; a changed one is refused. */
function keepOperatorFields(input: Record<string, unknown>, stored: StoredTenantPolicy): Record<string, unknown> {
  const submitted = tenantPolicyToJson(parseTenantPolicy(input));
  const current = tenantPolicyToJson(stored.policy);
  const kept: Record<string, unknown> = { ...input };
  for (const field of OPERATOR_POLICY_FIELDS) {
    if (Object.hasOwn(input, field) && JSON.stringify(submitted[field]) !== JSON.stringify(current[field])) {
      throw new HttpError(403, `${field} is set by the operator; a tenant admin may send it back unchanged but not change it.`, 'insufficient_scope', field);
    }
    delete kept[field];
    if (Object.hasOwn(stored.written, field)) kept[field] = stored.written[field];
  }
  return kept;
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
    const written = isOperator(request.principal) ? input : keepOperatorFields(input as Record<string, unknown>, await policies.find(tenant));
    // Stored as written (validated above), so that fields left out follow Zumik's defaults as they evolve.
    response.json(toPolicyObject(await policies.put(tenant, written as TenantPolicyInput)));
  });

  return router;
}

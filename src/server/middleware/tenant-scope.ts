/**
 * Which tenant a request acts on. Every key acts on its own tenant; only the operator may name another
 * with `?tenant=` (a tenant admin or inference key that names another gets a 403 on the parameter,
 * the same whether that tenant exists or not). Routes that read a resource by id look it up within
 * this tenant only, so another tenant's ids answer 404 exactly like ids that do not exist.
 */
import type { Request } from 'express';
import { TENANT_ID_PATTERN, TENANT_ID_RULE } from '../../domain/tenant-policy';
import { badRequest, HttpError } from '../errors';
import { isOperator } from './authenticate';

export function actingTenant(request: Request): string {
  const own = request.principal!.tenantId;
  const tenant = request.query.tenant;
  if (tenant === undefined) return own;
  if (typeof tenant !== 'string' || !TENANT_ID_PATTERN.test(tenant)) throw badRequest(TENANT_ID_RULE, 'tenant');
  if (tenant !== own && !isOperator(request.principal)) {
    throw new HttpError(403, 'Only the operator key may act on another tenant (`?tenant=`); this key acts on its own tenant.', 'insufficient_scope', 'tenant');
  }
  return tenant;
}

/** The tenant named in a path (`/tenants/{tenant}/…`): another tenant's answers 404 to anyone but the operator. */
export function pathTenant(request: Request, tenant: string): string {
  if (!TENANT_ID_PATTERN.test(tenant)) throw badRequest(TENANT_ID_RULE, 'tenant');
  if (tenant !== request.principal!.tenantId && !isOperator(request.principal)) {
    throw new HttpError(404, `No tenant '${tenant}'.`, 'invalid_request_error', 'tenant');
  }
  return tenant;
}

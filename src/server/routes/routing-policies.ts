/**
 * `/v2/routing-policies` (issue 10): immutable `pol_…` revisions of the routing fields (retry,
 * failover, bridge, hedging) a release names in `policy_revision`. A tenant admin creates its
 * tenant's; the operator the shared ones (or a tenant's with `?tenant=`). Keys read the shared ones
 * and their tenant's; another tenant's answer 404.
 */
import { Router, type Request } from 'express';
import { routingPolicySchema } from '../../domain/routing-policy';
import type { RoutingPolicyRepository, StoredRoutingPolicy } from '../../store/routing-policy-repository';
import { notFound } from '../errors';
import { isOperator, requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { actingTenant } from '../middleware/tenant-scope';

const owner = (request: Request): string | null =>
  (isOperator(request.principal) && request.query.tenant === undefined ? null : actingTenant(request));
const viewer = (request: Request): string | null | 'all' =>
  (isOperator(request.principal) && request.query.tenant === undefined ? 'all' : actingTenant(request));

const toJson = (stored: StoredRoutingPolicy) =>
  ({ id: stored.revision, object: 'routing_policy', tenant: stored.tenantId, created_at: stored.createdAt, ...stored.policy });

export function routingPolicyRoutes(policies: RoutingPolicyRepository): Router {
  const router = Router();

  router.get('/routing-policies', async (request, response) => {
    response.json({ object: 'list', data: (await policies.list(viewer(request))).map(toJson) });
  });

  router.get('/routing-policies/:revision', async (request, response) => {
    const stored = await policies.findVisible(String(request.params.revision), viewer(request));
    if (!stored) throw notFound(`No routing policy '${request.params.revision}'.`, 'revision');
    response.json(toJson(stored));
  });

  router.post('/routing-policies', requireScope('admin'), async (request, response) => {
    response.json(toJson(await policies.install(parseBody(routingPolicySchema, request.body), owner(request))));
  });

  return router;
}

/**
 * `GET /v1/models`: the live aliases the caller's tenant resolves, as OpenAI model objects (what
 * `client.models.list()` shows) — only those its tenant's and its key's allow-lists let it request.
 */
import { Router, type Request } from 'express';
import { aliasAllowed, type AllowList } from '../../domain/allow-list';
import type { ModelAliasRelease } from '../../domain/model-alias';
import type { TenantPolicy } from '../../domain/tenant-policy';
import type { ModelAliasRepository } from '../../store/model-alias-repository';
import { HttpError } from '../errors';
import { actingTenant } from '../middleware/tenant-scope';

/** `owner`: `zumik`, or `zumik-demo` in demo mode (the models answer canned text from local emulators). */
export function modelRoutes(aliases: ModelAliasRepository, policies?: { get(tenantId: string): Promise<TenantPolicy> }, owner = 'zumik'): Router {
  const router = Router();
  const toModel = (release: ModelAliasRelease) => ({ id: release.alias, object: 'model', created: release.created_at, owned_by: owner });
  /** The allow-lists of the tenant (when policies are wired) and of the calling key. */
  const allowLists = async (request: Request, tenantId: string): Promise<Array<AllowList | undefined>> => {
    const policy = await policies?.get(tenantId);
    return [policy && { aliases: policy.allowed_aliases }, request.principal!.allowList];
  };

  router.get('/models', async (request, response) => {
    const tenantId = actingTenant(request);
    const [releases, lists] = await Promise.all([aliases.listActive(tenantId), allowLists(request, tenantId)]);
    response.json({ object: 'list', data: releases.filter((release) => aliasAllowed(lists, release.alias)).map(toModel) });
  });
  router.get('/models/:model', async (request, response) => {
    const tenantId = actingTenant(request);
    const [release, lists] = await Promise.all([aliases.findActive(tenantId, request.params.model), allowLists(request, tenantId)]);
    if (!release || !aliasAllowed(lists, release.alias)) throw new HttpError(404, `The model '${request.params.model}' does not exist`, 'model_not_found', 'model');
    response.json(toModel(release));
  });
  return router;
}

/** `GET /v1/models`: the live aliases the caller's tenant resolves, as OpenAI model objects (what `client.models.list()` shows). */
import { Router } from 'express';
import type { ModelAliasRelease } from '../../domain/model-alias';
import type { ModelAliasRepository } from '../../store/model-alias-repository';
import { HttpError } from '../errors';
import { actingTenant } from '../middleware/tenant-scope';

const toModel = (release: ModelAliasRelease) => ({ id: release.alias, object: 'model', created: release.created_at, owned_by: 'zumik' });

export function modelRoutes(aliases: ModelAliasRepository): Router {
  const router = Router();
  router.get('/models', async (request, response) => {
    response.json({ object: 'list', data: (await aliases.listActive(actingTenant(request))).map(toModel) });
  });
  router.get('/models/:model', async (request, response) => {
    const release = await aliases.findActive(actingTenant(request), request.params.model);
    if (!release) throw new HttpError(404, `The model '${request.params.model}' does not exist`, 'model_not_found', 'model');
    response.json(toModel(release));
  });
  return router;
}

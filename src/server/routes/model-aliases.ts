/** `/v2/model-aliases` and `/v2/model-alias-releases` (DESIGN.md §3): list, retrieve, install, history. */
import { Router } from 'express';
import { aliasProblem, installReleaseSchema } from '../../domain/model-alias';
import type { ModelAliasRepository } from '../../store/model-alias-repository';
import { badRequest, notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';

export function modelAliasRoutes(aliases: ModelAliasRepository): Router {
  const router = Router();

  router.get('/model-aliases', async (_request, response) => {
    response.json({ object: 'list', data: await aliases.listActive() });
  });

  router.get('/model-aliases/:alias', async (request, response) => {
    const release = await aliases.findActive(request.params.alias);
    if (!release) throw notFound(`The model alias '${request.params.alias}' does not exist.`, 'alias');
    response.json(release);
  });

  router.get('/model-aliases/:alias/releases', async (request, response) => {
    const releases = await aliases.history(request.params.alias);
    if (releases.length === 0) throw notFound(`The model alias '${request.params.alias}' does not exist.`, 'alias');
    response.json({ object: 'list', data: releases });
  });

  // `PUT /v2/model-aliases/` (an empty alias) is a client error about the alias, not an unknown URL.
  router.put('/model-aliases/', requireScope('admin'), () => {
    throw badRequest('alias must not be empty', 'alias');
  });

  router.put('/model-aliases/:alias', requireScope('admin'), async (request, response) => {
    const alias = String(request.params.alias);
    const problem = aliasProblem(alias);
    if (problem) throw badRequest(problem, 'alias');
    const input = parseBody(installReleaseSchema, request.body);
    if (input.alias !== undefined && input.alias !== alias) throw badRequest('alias in the body must match the alias in the path', 'alias');
    response.json(await aliases.install(alias, input));
  });

  router.get('/model-alias-releases/:id', async (request, response) => {
    const release = await aliases.findById(request.params.id);
    if (!release) throw notFound(`No model alias release with id '${request.params.id}'.`, 'id');
    response.json(release);
  });

  return router;
}

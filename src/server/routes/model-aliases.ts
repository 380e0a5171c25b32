/**
 * `/v2/model-aliases` and `/v2/model-alias-releases` (DESIGN.md §3): list, retrieve, install, history.
 * A tenant's keys see the shared releases and their tenant's own (which shadow shared ones of the
 * same alias); a tenant admin installs its tenant's own releases. The operator works on the shared
 * catalogue, or on one tenant's with `?tenant=`, and reads any release by id. Another tenant's
 * aliases and release ids answer 404.
 */
import { Router, type Request } from 'express';
import { aliasProblem, installReleaseSchema } from '../../domain/model-alias';
import type { ModelAliasRepository, ReleaseViewer } from '../../store/model-alias-repository';
import { badRequest, notFound } from '../errors';
import { isOperator, requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { actingTenant } from '../middleware/tenant-scope';

/** Whose aliases a call works on: the operator's shared catalogue (null) unless it names a tenant, else the caller's tenant. */
function aliasOwner(request: Request): string | null {
  return isOperator(request.principal) && request.query.tenant === undefined ? null : actingTenant(request);
}

/** Who reads a release by id: the operator any release, a tenant the shared ones and its own. */
function releaseViewer(request: Request): ReleaseViewer {
  return isOperator(request.principal) && request.query.tenant === undefined ? 'all' : actingTenant(request);
}

export function modelAliasRoutes(aliases: ModelAliasRepository): Router {
  const router = Router();

  router.get('/model-aliases', async (request, response) => {
    response.json({ object: 'list', data: await aliases.listActive(aliasOwner(request)) });
  });

  router.get('/model-aliases/:alias', async (request, response) => {
    const release = await aliases.findActive(aliasOwner(request), request.params.alias);
    if (!release) throw notFound(`The model alias '${request.params.alias}' does not exist.`, 'alias');
    response.json(release);
  });

  router.get('/model-aliases/:alias/releases', async (request, response) => {
    const releases = await aliases.history(aliasOwner(request), request.params.alias);
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
    const owner = aliasOwner(request);
    const input = parseBody(installReleaseSchema, request.body);
    if (input.alias !== undefined && input.alias !== alias) throw badRequest('alias in the body must match the alias in the path', 'alias');
    response.json(await aliases.install(alias, input, owner));
  });

  router.get('/model-alias-releases/:id', async (request, response) => {
    const release = await aliases.findById(request.params.id, releaseViewer(request));
    if (!release) throw notFound(`No model alias release with id '${request.params.id}'.`, 'id');
    response.json(release);
  });

  return router;
}

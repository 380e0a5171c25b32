/**
 * `/v2/model-aliases` and `/v2/model-alias-releases` (DESIGN.md §3): list, retrieve, install, history.
 * A tenant's keys see the shared releases and their tenant's own (which shadow shared ones of the
 * same alias); a tenant admin installs its tenant's own releases. The operator works on the shared
 * catalogue, or on one tenant's with `?tenant=`, and reads any release by id. Another tenant's
 * aliases and release ids answer 404.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  aliasProblem, DEFAULT_POLICY_REVISION, installReleaseSchema, markCoverage, RELEASE_ID_PATTERN, releaseProblem, type BroaderCoverage,
  type InstallReleaseInput, type ModelAliasRelease,
} from '../../domain/model-alias';
import type { TenantPolicy } from '../../domain/tenant-policy';
import { schedulerProblem } from '../../domain/one-scheduler';
import { AliasFrozenError, type ModelAliasRepository, type ReleaseViewer } from '../../store/model-alias-repository';
import { badRequest, HttpError, notFound } from '../errors';
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

/** What installs need beyond the aliases' store: broader coverage through Bifrost (absent: never allowed). */
export interface ModelAliasRouteOptions {
  /** Whether the Bifrost deployment serves this managed provider (ProviderDirectory.viaBifrost). */
  viaBifrost?: (provider: string) => boolean;
  /** Tenant policies: a tenant's own release may use broader coverage only when its policy allows it. */
  policies?: { find(tenantId: string): Promise<{ policy: TenantPolicy }> };
}

/** The broader-coverage facts of an install by `owner`, or undefined when this deployment has no Bifrost. */
async function broaderCoverage(options: ModelAliasRouteOptions, owner: string | null): Promise<BroaderCoverage | undefined> {
  const { viaBifrost, policies } = options;
  if (!viaBifrost) return undefined;
  if (owner === null) return { viaBifrost, owner: null };
  // Read fresh (not the request path's cache): an install is rare, and must see a policy the operator just changed.
  const allowed = policies ? (await policies.find(owner)).policy.allow_bifrost_broader_coverage : false;
  return { viaBifrost, owner: { tenant: owner, allowed } };
}

/**
 * The install checked against what it names (issue 10): the manifest revision (absent: the current
 * one, recorded in the release), the routing policy revision, and every target against that manifest
 * or the owner's registered endpoints — a managed model outside the manifest only as broader coverage
 * through Bifrost, where the owner may use it (then marked `coverage: bifrost_broader`). Answers the
 * input with its manifest revision filled in and its targets marked.
 */
async function validatedInstall(aliases: ModelAliasRepository, input: InstallReleaseInput, owner: string | null,
  options: ModelAliasRouteOptions = {}): Promise<InstallReleaseInput> {
  const revision = input.capability_manifest_revision ?? await aliases.manifests.currentRevision();
  const stored = await aliases.manifests.find(revision);
  if (!stored) throw badRequest(`capability_manifest_revision: no capability manifest '${revision}' (GET /v2/capability-manifests lists them).`, 'capability_manifest_revision');
  if (input.policy_revision !== undefined && input.policy_revision !== DEFAULT_POLICY_REVISION
    && !await aliases.routingPolicies.findVisible(input.policy_revision, owner)) {
    throw badRequest(`policy_revision: no routing policy '${input.policy_revision}' (GET /v2/routing-policies lists them).`, 'policy_revision');
  }
  const endpoints = await aliases.endpointFacts(owner, input.targets.map((target) => target.provider));
  const problem = releaseProblem(input, stored.manifest, (provider) => endpoints.has(provider), await broaderCoverage(options, owner))
    ?? schedulerProblem(input.targets, (provider) => endpoints.get(provider));
  if (problem) throw badRequest(problem.message, problem.param);
  return { ...input, capability_manifest_revision: revision, targets: markCoverage(input.targets, stored.manifest) };
}

const releaseIdSchema = z.string({ error: (issue) => (issue.input === undefined ? 'release_id is required' : 'release_id must be a string') })
  .regex(RELEASE_ID_PATTERN, 'release_id must be a release id (alr_ and 26 lowercase letters or digits)');

/** The body of `PUT /v2/model-aliases/{alias}/canary`: the candidate release and its share of the alias's requests, in percent. */
export const putCanarySchema = z.strictObject({
  release_id: releaseIdSchema,
  weight: z.number({ error: (issue) => (issue.input === undefined ? 'weight is required' : 'weight must be a number') })
    .int('weight must be an integer').min(1, 'weight must be between 1 and 99').max(99, 'weight must be between 1 and 99'),
});

/** The body of `POST /v2/model-aliases/{alias}/rollback`: the earlier release to copy into a new live one. */
export const rollbackSchema = z.strictObject({ release_id: releaseIdSchema });

/** A release of `alias` in this owner's own history (a tenant cannot canary or roll back to the shared catalogue's), or a 404 naming `release_id`. */
async function ownRelease(aliases: ModelAliasRepository, owner: string | null, alias: string, id: string): Promise<ModelAliasRelease> {
  const release = await aliases.findById(id, owner === null ? 'all' : owner);
  const own = release && release.alias === alias && (await aliases.history(owner, alias)).some((entry) => entry.id === id);
  if (!release || !own) throw notFound(`release_id: '${id}' is not a release of the model alias '${alias}' of ${owner === null ? 'the shared catalogue' : `tenant '${owner}'`}.`, 'release_id');
  return release;
}

const frozenConflict = (alias: string) => new HttpError(409, `The model alias '${alias}' is frozen: installs are refused until it is unfrozen.`, 'alias_frozen', 'alias');

export function modelAliasRoutes(aliases: ModelAliasRepository, options: ModelAliasRouteOptions = {}): Router {
  const router = Router();

  router.get('/model-aliases', async (request, response) => {
    response.json({ object: 'list', data: await aliases.listActive(aliasOwner(request)) });
  });

  router.get('/model-aliases/:alias', async (request, response) => {
    const owner = aliasOwner(request);
    const release = await aliases.findActive(owner, request.params.alias);
    if (!release) throw notFound(`The model alias '${request.params.alias}' does not exist.`, 'alias');
    const [frozen, canary] = await Promise.all([aliases.isFrozen(owner, release.alias), aliases.findCanary(owner, release.alias)]);
    response.json({ ...release, frozen, ...(canary ? { canary } : {}) });
  });

  // A canary: `weight` percent of the alias's requests run on a candidate release of it, the rest on the live one.
  router.put('/model-aliases/:alias/canary', requireScope('admin'), async (request, response) => {
    const owner = aliasOwner(request);
    const alias = String(request.params.alias);
    const live = await aliases.findOwnActive(owner, alias);
    if (!live) throw notFound(`The model alias '${alias}' has no live release of ${owner === null ? 'the shared catalogue' : `tenant '${owner}'`}.`, 'alias');
    const input = parseBody(putCanarySchema, request.body);
    await ownRelease(aliases, owner, alias, input.release_id);
    if (input.release_id === live.id) throw badRequest(`release_id: '${input.release_id}' is the live release already; a canary splits between two releases.`, 'release_id');
    const canary = await aliases.setCanary(owner, alias, input.release_id, input.weight);
    response.json({ object: 'model_alias_canary', alias, live_release_id: live.id, ...canary });
  });

  router.delete('/model-aliases/:alias/canary', requireScope('admin'), async (request, response) => {
    const owner = aliasOwner(request);
    const alias = String(request.params.alias);
    if (!(await aliases.clearCanary(owner, alias))) throw notFound(`The model alias '${alias}' has no canary.`, 'alias');
    response.json({ object: 'model_alias_canary', alias, deleted: true });
  });

  // Roll back: a new release that copies an earlier one (history stays immutable); it ends a running canary.
  router.post('/model-aliases/:alias/rollback', requireScope('admin'), async (request, response) => {
    const owner = aliasOwner(request);
    const alias = String(request.params.alias);
    const input = parseBody(rollbackSchema, request.body);
    const earlier = await ownRelease(aliases, owner, alias, input.release_id);
    if (await aliases.isFrozen(owner, alias)) throw frozenConflict(alias);
    const copy: InstallReleaseInput = {
      policy_revision: earlier.policy_revision, capability_manifest_revision: earlier.capability_manifest_revision, targets: earlier.targets,
      ...(earlier.min_context_window !== undefined ? { min_context_window: earlier.min_context_window } : {}),
      ...(earlier.sticky ? { sticky: earlier.sticky } : {}),
    };
    try {
      // Checked again as any install is: an endpoint it names may have gone since.
      response.json(await aliases.install(alias, await validatedInstall(aliases, copy, owner, options), owner, { copiedFrom: earlier.id, endCanary: true }));
    } catch (error) {
      if (error instanceof AliasFrozenError) throw frozenConflict(alias);
      throw error;
    }
  });

  // Freeze and unfreeze (admin of the owning tenant, or the operator): a frozen alias keeps its live release.
  for (const [action, frozen] of [['freeze', true], ['unfreeze', false]] as const) {
    router.post(`/model-aliases/:alias/${action}`, requireScope('admin'), async (request, response) => {
      const owner = aliasOwner(request);
      const alias = String(request.params.alias);
      // Only an alias this owner has a live release of (a tenant cannot freeze the shared catalogue's).
      const release = await aliases.findOwnActive(owner, alias);
      if (!release) throw notFound(`The model alias '${alias}' has no live release of ${owner === null ? 'the shared catalogue' : `tenant '${owner}'`}.`, 'alias');
      await aliases.setFrozen(owner, alias, frozen);
      response.json({ ...release, frozen });
    });
  }

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
    if (await aliases.isFrozen(owner, alias)) throw frozenConflict(alias);
    const validated = await validatedInstall(aliases, input, owner, options);
    try {
      response.json(await aliases.install(alias, validated, owner));
    } catch (error) {
      if (error instanceof AliasFrozenError) throw frozenConflict(alias);
      throw error;
    }
  });

  router.get('/model-alias-releases/:id', async (request, response) => {
    const release = await aliases.findById(request.params.id, releaseViewer(request));
    if (!release) throw notFound(`No model alias release with id '${request.params.id}'.`, 'id');
    // Activations of the BYOC targets it introduced: metadata beside the immutable release.
    const activations = await aliases.activations(release.id);
    response.json(activations.length > 0 ? { ...release, activations } : release);
  });

  return router;
}

/**
 * `/v2/capability-manifests` (issue 10): the immutable `cap_…` revisions a release is validated
 * against and its requests priced and planned with. Every key reads them; the operator installs one.
 */
import { Router } from 'express';
import { installManifestSchema, manifestToJson } from '../../domain/capability-manifest';
import type { CapabilityManifestRepository } from '../../store/capability-manifest-repository';
import { notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';

export function capabilityManifestRoutes(manifests: CapabilityManifestRepository): Router {
  const router = Router();

  router.get('/capability-manifests', async (_request, response) => {
    const stored = await manifests.list();
    const current = stored.at(-1)?.manifest.revision;
    response.json({ object: 'list', current_revision: current, data: stored.map(({ manifest, createdAt }) => manifestToJson(manifest, createdAt)) });
  });

  router.get('/capability-manifests/:revision', async (request, response) => {
    const stored = await manifests.find(String(request.params.revision));
    if (!stored) throw notFound(`No capability manifest '${request.params.revision}'.`, 'revision');
    response.json(manifestToJson(stored.manifest, stored.createdAt));
  });

  router.post('/capability-manifests', requireScope('operator'), async (request, response) => {
    const stored = await manifests.install(parseBody(installManifestSchema, request.body));
    response.json(manifestToJson(stored.manifest, stored.createdAt));
  });

  return router;
}

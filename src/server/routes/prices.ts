/**
 * `/v2/prices` (issue 14, operator scope): the current price manifest, any revision by id, and a new
 * revision installed whole. Costs are computed with the current revision from the moment it is
 * installed (every process hears it on the zumik_config feed); each outcome names its revision.
 */
import { Router } from 'express';
import { pricesToJson, putPricesSchema } from '../../domain/price-manifest';
import type { PriceManifestRepository } from '../../store/price-manifest-repository';
import { notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';

export function priceRoutes(prices: PriceManifestRepository): Router {
  const router = Router();
  const operator = requireScope('operator');

  router.get('/prices', operator, async (_request, response) => {
    const { prices: current, createdAt } = await prices.currentStored();
    response.json(pricesToJson(current, createdAt, true));
  });

  router.get('/prices/revisions', operator, async (_request, response) => {
    const revisions = await prices.list();
    const current = revisions.at(-1)?.revision;
    response.json({
      object: 'list', current_revision: current,
      data: revisions.map((revision) => ({ id: revision.revision, object: 'price_manifest_revision', created_at: revision.createdAt, models: revision.models })),
    });
  });

  router.get('/prices/revisions/:revision', operator, async (request, response) => {
    const stored = await prices.find(String(request.params.revision));
    if (!stored) throw notFound(`No price manifest revision '${request.params.revision}'.`, 'revision');
    const current = (await prices.currentStored()).prices.revision;
    response.json(pricesToJson(stored.prices, stored.createdAt, current === stored.prices.revision));
  });

  router.put('/prices', operator, async (request, response) => {
    const { models } = parseBody(putPricesSchema, request.body);
    const stored = await prices.install(models);
    response.json(pricesToJson(stored.prices, stored.createdAt, true));
  });

  return router;
}

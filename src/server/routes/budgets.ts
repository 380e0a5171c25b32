/**
 * `/v2/budgets` (admin scope, issue 14): a tenant's spend budgets — per tenant or per API key,
 * optionally for one alias — with their spend in the current period; and `GET /v2/spend`: the
 * tenant's recorded costs in a range, by key, alias, provider and day. A tenant admin acts on its own
 * tenant; the operator on any (`?tenant=`).
 */
import { Router } from 'express';
import type { Pool } from 'pg';
import { budgetInputSchema, budgetToJson } from '../../domain/budget';
import type { BudgetRepository, StoredBudget } from '../../store/budget-repository';
import { spendReport } from '../../store/spend-report';
import { badRequest, notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { actingTenant } from '../middleware/tenant-scope';

const DAY_MS = 86_400_000;
/** The longest range `/v2/spend` reads at once. */
const MAX_SPEND_RANGE_DAYS = 400;

export function budgetRoutes(budgets: BudgetRepository, pool: Pool): Router {
  const router = Router();
  const admin = requireScope('admin');

  const withSpend = async (stored: StoredBudget[]) => {
    const spends = await budgets.spend(stored.map(({ budget }) => budget));
    return stored.map(({ budget, createdAt }) => budgetToJson(budget, spends.get(budget.id)!, createdAt));
  };

  router.get('/budgets', admin, async (request, response) => {
    response.json({ object: 'list', data: await withSpend(await budgets.list(actingTenant(request))) });
  });

  router.post('/budgets', admin, async (request, response) => {
    const stored = await budgets.create(actingTenant(request), parseBody(budgetInputSchema, request.body));
    response.status(201).json((await withSpend([stored]))[0]);
  });

  router.get('/budgets/:id', admin, async (request, response) => {
    const stored = await budgets.find(actingTenant(request), String(request.params.id));
    if (!stored) throw notFound(`No budget '${request.params.id}'.`, 'id');
    response.json((await withSpend([stored]))[0]);
  });

  router.put('/budgets/:id', admin, async (request, response) => {
    const tenant = actingTenant(request);
    const input = parseBody(budgetInputSchema, request.body);
    const existing = await budgets.find(tenant, String(request.params.id));
    if (!existing) throw notFound(`No budget '${request.params.id}'.`, 'id');
    if (input.api_key_id !== existing.budget.apiKeyId) throw badRequest('api_key_id cannot change: create another budget', 'api_key_id');
    if (input.alias !== existing.budget.alias) throw badRequest('alias cannot change: create another budget', 'alias');
    const stored = await budgets.update(tenant, existing.budget.id, input);
    response.json((await withSpend([stored!]))[0]);
  });

  router.delete('/budgets/:id', admin, async (request, response) => {
    const id = String(request.params.id);
    if (!await budgets.remove(actingTenant(request), id)) throw notFound(`No budget '${id}'.`, 'id');
    response.json({ id, object: 'budget', deleted: true });
  });

  router.get('/spend', admin, async (request, response) => {
    const tenant = actingTenant(request);
    const to = timeParam(request.query.to, 'to') ?? new Date();
    const from = timeParam(request.query.from, 'from') ?? new Date(to.getTime() - 30 * DAY_MS);
    if (from.getTime() >= to.getTime()) throw badRequest('from must be before to', 'from');
    if (to.getTime() - from.getTime() > MAX_SPEND_RANGE_DAYS * DAY_MS) throw badRequest(`the range may span at most ${MAX_SPEND_RANGE_DAYS} days`, 'from');
    const report = await spendReport(pool, tenant, from, to);
    response.json({ object: 'spend', tenant, currency: 'usd', from: Math.floor(from.getTime() / 1000), to: Math.floor(to.getTime() / 1000), ...report });
  });

  return router;
}

/** A time as Unix seconds or an ISO 8601 date(-time). */
function timeParam(value: unknown, name: string): Date | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 40) throw badRequest(`${name} must be Unix seconds or an ISO 8601 date`, name);
  const date = /^\d{1,12}$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) throw badRequest(`${name} must be Unix seconds or an ISO 8601 date`, name);
  return date;
}

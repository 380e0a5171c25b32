/**
 * Spend (issue 14) through a whole Zumik (real Temporal, real Postgres, emulators): prices as data
 * (`/v2/prices` revisions, validation, the revision every outcome records, unknown prices visible),
 * and budgets enforced at admission — refusals at the boundary with Retry-After, 50 concurrent
 * requests against a hard budget overshooting by at most one request's maximum cost, a rolling
 * window that resets, soft budgets that flag, alias budgets, and `/v2/spend`'s breakdowns.
 */
import { maxRequestCostUsd } from '../../src/domain/budget';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, resetCircuits, setPolicy, waitForRecorded } from '../request-path/request-path-helpers';

/** The emulator reports 16 prompt and 6 completion tokens: at $1000 per million each, a request costs exactly $0.022. */
const RATE = 1_000;
const COST = (16 + 6) * RATE / 1e6;
const PROMPT = [{ role: 'user', content: 'Please say hello to the budget test; this prompt is long enough for its estimate to cover the real count.' }];
const MAX_TOKENS = 10;

describe('prices and budgets', () => {
  let harness: Harness;
  let priceRevision: string;
  beforeAll(async () => {
    harness = await startHarness();
    await resetCircuits(harness);
    await setPolicy(harness, {});
    const put = await harness.call('PUT', '/v2/prices', { body: { models: {
      'openai/spend-model': { input: RATE, output: RATE, tiers: { batch: 0.5 } },
      'openai/gpt-4o-mini': { input: 0.15, output: 0.6 },
    } } });
    expect(put.status).toBe(200);
    priceRevision = put.body.id;
    // The models exist (a capability manifest without prices): their prices come from the price manifest.
    await harness.installManifest({ 'openai/spend-model': { context_window: 128_000 }, 'openai/no-price-model': { context_window: 128_000 } });
    await harness.installAlias('spend.a', [target('openai', 'spend-model')]);
    await harness.installAlias('spend.b', [target('openai', 'spend-model')]);
    await harness.installAlias('spend.unpriced', [target('openai', 'no-price-model')]);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });

  const ask = (alias: string, headers: Record<string, string> = {}) =>
    chat(harness, { model: alias, messages: PROMPT, max_tokens: MAX_TOKENS }, { headers });
  const createBudget = async (body: Record<string, unknown>) => {
    const response = await harness.call('POST', '/v2/budgets', { body });
    expect(response.status).toBe(201);
    return response.body;
  };
  const removeBudgets = async () => {
    const list = await harness.call('GET', '/v2/budgets');
    for (const budget of list.body.data) await harness.call('DELETE', `/v2/budgets/${budget.id}`);
  };
  afterEach(removeBudgets);

  describe('/v2/prices', () => {
    it('answers the current revision and keeps the built-in one readable', async () => {
      const current = await harness.call('GET', '/v2/prices');
      expect(current.status).toBe(200);
      expect(current.body).toMatchObject({ id: priceRevision, object: 'price_manifest', current: true });
      expect(current.body.models['openai/spend-model']).toEqual({ input: RATE, output: RATE, tiers: { batch: 0.5 } });
      const revisions = await harness.call('GET', '/v2/prices/revisions');
      expect(revisions.body.data.map((revision: { id: string }) => revision.id)).toEqual(['price_builtin', priceRevision]);
      const builtIn = await harness.call('GET', '/v2/prices/revisions/price_builtin');
      expect(builtIn.body.current).toBe(false);
      expect(builtIn.body.models['openai/gpt-4o-mini']).toMatchObject({ input: 0.15, output: 0.6 });
    });

    it.each([
      [{ models: { 'openai/x': { input: -1, output: 1 } } }, 'models.openai/x.input'],
      [{ models: { 'openai/x': { input: 1 } } }, 'models.openai/x.output'],
      [{ models: { 'no-slash': { input: 1, output: 1 } } }, 'models.no-slash'],
      [{ models: { 'openai/x': { input: 1, output: 1, tiers: { turbo: 2 } } } }, 'models.openai/x.tiers.turbo'],
      [{ models: {} }, 'models'],
      [{ prices: {} }, 'models'],
    ])('refuses an invalid manifest with a 400 naming the field (%j)', async (body, param) => {
      const response = await harness.call('PUT', '/v2/prices', { body });
      expect(response.status).toBe(400);
      expect(response.body.error.type).toBe('invalid_request_error');
      expect(response.body.error.param).toBe(param);
      expect((await harness.call('GET', '/v2/prices')).body.id).toBe(priceRevision);
    });

    it('is for the operator only', async () => {
      const created = await harness.call('POST', '/v2/api-keys', { body: { name: 'inference', scopes: ['inference'] } });
      const response = await harness.call('GET', '/v2/prices', { key: created.body.key });
      expect(response.status).toBe(403);
    });

    it('costs an outcome with the current revision and records it; an unknown price is null with its reason', async () => {
      const served = await ask('spend.a');
      expect(served.status).toBe(200);
      const outcome = await waitForRecorded(harness, served.body.id);
      expect(outcome.price_manifest_revision).toBe(priceRevision);
      expect(outcome.cost_usd).toBeCloseTo(COST, 10);
      expect(outcome.cost_reason).toBeNull();
      expect(outcome.attempts.map((attempt: { cost_usd: number }) => attempt.cost_usd)).toEqual([COST]);

      const unpriced = await ask('spend.unpriced');
      expect(unpriced.status).toBe(200);
      const unknown = await waitForRecorded(harness, unpriced.body.id);
      expect(unknown.cost_usd).toBeNull();
      expect(unknown.cost_reason).toBe('unpriced_model');
      expect(unknown.price_manifest_revision).toBe(priceRevision);
    });
  });

  describe('budgets', () => {
    it('refuses at the boundary: a budget of exactly one request admits one, then 429 rejected_budget with Retry-After at the day end', async () => {
      const budget = await createBudget({ amount_usd: COST, period: 'daily', mode: 'hard' });
      expect(budget).toMatchObject({ object: 'budget', amount_usd: COST, period: 'daily', mode: 'hard', spent_usd: 0, exhausted: false });
      const first = await ask('spend.a');
      expect(first.status).toBe(200);
      await waitForRecorded(harness, first.body.id);
      const read = await harness.call('GET', `/v2/budgets/${budget.id}`);
      expect(read.body.spent_usd).toBeCloseTo(COST, 10);
      expect(read.body.exhausted).toBe(true);

      const refused = await ask('spend.a');
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'budget_exceeded', type: 'requests' });
      expect(refused.headers.get('x-zumik-reason-code')).toBe('rejected_budget');
      const retryAfter = Number(refused.headers.get('retry-after'));
      const endOfDay = Math.ceil((Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) - Date.now()) / 1000);
      expect(retryAfter).toBeGreaterThan(0);
      expect(Math.abs(retryAfter - endOfDay)).toBeLessThanOrEqual(5);
      const recorded = await harness.call('GET', `/v2/requests/${refused.headers.get('x-zumik-request-id')}`);
      expect(recorded.body).toMatchObject({ admission: 'rejected', completion: null, reason_code: 'rejected_budget' });

      // Just above the boundary there is room again.
      await harness.call('PUT', `/v2/budgets/${budget.id}`, { body: { amount_usd: COST + 1e-6, period: 'daily', mode: 'hard' } });
      expect((await ask('spend.a')).status).toBe(200);
    });

    it('holds 50 concurrent requests against a hard budget to an overshoot of at most one request\'s maximum cost', async () => {
      const amount = 0.1;
      const budget = await createBudget({ amount_usd: amount, period: 'monthly', mode: 'hard' });
      const responses = await Promise.all(Array.from({ length: 50 }, () => ask('spend.b')));
      const served = responses.filter((response) => response.status === 200);
      const refused = responses.filter((response) => response.status === 429);
      expect(served.length + refused.length).toBe(50);
      expect(served.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const response of refused) expect(response.headers.get('x-zumik-reason-code')).toBe('rejected_budget');
      for (const response of served) await waitForRecorded(harness, response.body.id);
      const maxCost = maxRequestCostUsd({ model: 'spend.b', messages: PROMPT as never, max_tokens: MAX_TOKENS },
        [{ provider: 'openai', model: 'spend-model' }], { revision: priceRevision, models: { 'openai/spend-model': { input: RATE, output: RATE } } });
      const spent = (await harness.call('GET', `/v2/budgets/${budget.id}`)).body.spent_usd;
      expect(spent).toBeCloseTo(served.length * COST, 8);
      expect(spent).toBeLessThanOrEqual(amount + maxCost);
      expect(spent).toBeGreaterThan(amount - maxCost);
    }, 60_000);

    it('resets a rolling window: refused while spent, admitted again once the spend has left the window', async () => {
      await createBudget({ amount_usd: COST / 2, period: 'rolling', window_seconds: 4, mode: 'hard' });
      const first = await ask('spend.a');
      expect(first.status).toBe(200);
      await waitForRecorded(harness, first.body.id);
      const refused = await ask('spend.a');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(4);
      let again = refused;
      await eventually(async () => (again = await ask('spend.a')).status === 200, 15_000, 'the rolling window to let a request through');
      expect(again.headers.get('x-zumik-reason-code')).toBe('ok');
    }, 30_000);

    it('lets requests past a spent soft budget through and flags them', async () => {
      await createBudget({ amount_usd: COST / 2, period: 'daily', mode: 'soft' });
      const first = await ask('spend.a');
      expect(first.status).toBe(200);
      expect(first.headers.get('x-zumik-budget')).toBeNull();
      await waitForRecorded(harness, first.body.id);
      const flagged = await ask('spend.a');
      expect(flagged.status).toBe(200);
      expect(flagged.headers.get('x-zumik-budget')).toMatch(/^soft_exceeded; budgets=bud_/);
      const outcome = await waitForRecorded(harness, flagged.body.id);
      expect(outcome.budget_soft_exceeded).toBe(true);
      const metrics = await harness.call('GET', '/metrics');
      expect(String(metrics.body)).toMatch(/zumik_budget_alerts_total\{tenant="default",budget="bud_[a-z0-9]+",mode="soft"\} [1-9]/);
    });

    it('limits only the alias and the key a budget names', async () => {
      await createBudget({ amount_usd: COST / 2, period: 'daily', mode: 'hard', alias: 'spend.a' });
      expect((await ask('spend.a')).status).toBe(200);
      expect((await ask('spend.a')).status).toBe(429);
      expect((await ask('spend.b')).status).toBe(200);

      const key = await harness.call('POST', '/v2/api-keys', { body: { name: 'limited', scopes: ['inference'] } });
      await createBudget({ amount_usd: COST / 2, period: 'daily', mode: 'hard', api_key_id: key.body.id });
      const asKey = () => chat(harness, { model: 'spend.b', messages: PROMPT, max_tokens: MAX_TOKENS }, { headers: { authorization: `Bearer ${key.body.key}` } });
      const served = await asKey();
      expect(served.status).toBe(200);
      await waitForRecorded(harness, served.body.id);
      expect((await asKey()).status).toBe(429);
      expect((await ask('spend.b')).status).toBe(200);
    });

    it.each([
      [{ amount_usd: 0, period: 'daily' }, 'amount_usd'],
      [{ amount_usd: 1, period: 'weekly' }, 'period'],
      [{ amount_usd: 1, period: 'rolling' }, 'window_seconds'],
      [{ amount_usd: 1, period: 'daily', window_seconds: 60 }, 'window_seconds'],
      [{ amount_usd: 1, period: 'daily', mode: 'strict' }, 'mode'],
    ])('refuses an invalid budget with a 400 naming the field (%j)', async (body, param) => {
      const response = await harness.call('POST', '/v2/budgets', { body });
      expect(response.status).toBe(400);
      expect(response.body.error.param).toBe(param);
    });
  });

  describe('GET /v2/spend', () => {
    it('breaks the recorded costs down by key, alias, provider and day', async () => {
      const response = await harness.call('GET', '/v2/spend');
      expect(response.status).toBe(200);
      const spend = response.body;
      expect(spend).toMatchObject({ object: 'spend', tenant: 'default', currency: 'usd' });
      const stored = await harness.database.pool.query<{ cost: string; n: string }>(
        "SELECT coalesce(sum(cost_usd), 0) AS cost, count(*) AS n FROM requests WHERE tenant_id = 'default'");
      expect(spend.total.cost_usd).toBeCloseTo(Number(stored.rows[0]!.cost), 8);
      expect(spend.total.requests).toBe(Number(stored.rows[0]!.n));
      expect(spend.total.unpriced_requests).toBeGreaterThanOrEqual(1);
      const sum = (lines: Array<{ cost_usd: number }>) => lines.reduce((total, line) => total + line.cost_usd, 0);
      for (const breakdown of [spend.by_key, spend.by_alias, spend.by_provider, spend.by_day]) expect(sum(breakdown)).toBeCloseTo(spend.total.cost_usd, 8);
      expect(spend.by_alias.map((line: { alias: string }) => line.alias)).toEqual(expect.arrayContaining(['spend.a', 'spend.b', 'spend.unpriced']));
      expect(spend.by_provider.find((line: { provider: string }) => line.provider === 'openai').cost_usd).toBeGreaterThan(0);
      expect(spend.by_day[0].day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect((await harness.call('GET', '/v2/spend?from=yesterday')).body.error.param).toBe('from');
    });
  });
});

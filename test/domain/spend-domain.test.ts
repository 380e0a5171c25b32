import { DEFAULT_RESERVED_OUTPUT_TOKENS, budgetApplies, budgetInputSchema, maxRequestCostUsd, periodEnd, periodStart } from '../../src/domain/budget';
import { builtInManifest } from '../../src/domain/capabilities';
import { attemptsCost, builtInPrices, priceOutcome, putPricesSchema, type PriceManifest } from '../../src/domain/price-manifest';
import { cacheKeyMaterial, cacheModeFor, canonicalJson } from '../../src/domain/response-cache';
import type { ChatRequest } from '../../src/contract/chat';
import type { RequestOutcome } from '../../src/domain/request-outcome';

const usage = (prompt: number, completion: number, cached = 0) => ({
  prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached },
});
const PRICES: PriceManifest = { revision: 'price_test', models: { 'openai/m': { input: 2, output: 8, cached_input: 0.5, tiers: { batch: 0.5 } } } };

describe('price manifest', () => {
  it('seeds the built-in revision from the capability manifest list prices', () => {
    const prices = builtInPrices();
    expect(prices.revision).toBe('price_builtin');
    expect(prices.models['openai/gpt-4o-mini']).toMatchObject({ input: 0.15, output: 0.6, tiers: { batch: 0.5 } });
    expect(prices.models['anthropic/claude-fable-5']).toBeUndefined();
    expect(Object.keys(prices.models).length).toBe(Object.values(builtInManifest().models).filter((model) => model.price).length);
  });

  it('costs attempts at their served tier and cached reads, matching dated snapshots by prefix', () => {
    const cost = attemptsCost([
      { provider: 'openai', model: 'm', usage: usage(1_000_000, 0, 500_000) },
      { provider: 'openai', model: 'm-2026-01-01', usage: usage(0, 1_000_000), service_tier: 'batch' },
    ], PRICES);
    expect(cost).toEqual({ cost_usd: 1 + 0.25 + 4, cost_reason: null });
  });

  it('is null with a reason, never 0, when usage or a price is unknown', () => {
    expect(attemptsCost([{ provider: 'openai', model: 'm', usage: null }], PRICES)).toEqual({ cost_usd: null, cost_reason: 'no_usage' });
    expect(attemptsCost([{ provider: 'openai', model: 'm', usage: usage(1, 1) }, { provider: 'openai', model: 'other', usage: usage(1, 1) }], PRICES))
      .toEqual({ cost_usd: null, cost_reason: 'unpriced_model' });
  });

  it('keeps a price the release pins in its capability manifest over the price manifest', () => {
    const pinned = { revision: 'cap_x', models: { 'openai/m': { price: { input: 1_000, output: 0 } } } };
    expect(attemptsCost([{ provider: 'openai', model: 'm', usage: usage(1_000, 0) }], PRICES, pinned).cost_usd).toBe(1);
  });

  it('records the revision and costs a cache hit at 0', () => {
    expect(priceOutcome({ attempts: [], cost_usd: null, cache_hit: true }, PRICES)).toEqual({ attempts: [], cost_usd: 0, cost_reason: null, cache_hit: true, price_manifest_revision: 'price_test' });
    const attempts = [{ provider: 'openai', model: 'm', usage: usage(1_000_000, 0) }, { provider: 'openai', model: 'm', usage: null }] as unknown as RequestOutcome['attempts'];
    const priced = priceOutcome({ attempts, cost_usd: null }, PRICES);
    expect(priced.attempts.map((attempt) => attempt.cost_usd)).toEqual([2, null]);
    expect(priced.cost_usd).toBe(2);
  });

  it('validates a manifest: prices are non-negative numbers, keys provider/model, tiers known', () => {
    expect(putPricesSchema.safeParse({ models: { 'openai/m': { input: 1, output: 2, tiers: { flex: 0.5 } } } }).success).toBe(true);
    for (const models of [{ 'openai/m': { input: -1, output: 1 } }, { m: { input: 1, output: 1 } }, { 'openai/m': { input: 1, output: 1, extra: 1 } }, {}]) {
      expect(putPricesSchema.safeParse({ models }).success).toBe(false);
    }
  });
});

describe('budgets', () => {
  const at = Date.UTC(2026, 1, 28, 23, 30);
  it('starts and ends daily and monthly periods at UTC boundaries, and rolling windows around now', () => {
    expect(periodStart({ period: 'daily', windowSeconds: null }, at)).toBe(Date.UTC(2026, 1, 28));
    expect(periodEnd({ period: 'daily', windowSeconds: null }, at)).toBe(Date.UTC(2026, 2, 1));
    expect(periodStart({ period: 'monthly', windowSeconds: null }, at)).toBe(Date.UTC(2026, 1, 1));
    expect(periodEnd({ period: 'monthly', windowSeconds: null }, at)).toBe(Date.UTC(2026, 2, 1));
    expect(periodStart({ period: 'rolling', windowSeconds: 60 }, at)).toBe(at - 60_000);
  });

  it('applies to its key and alias only', () => {
    expect(budgetApplies({ apiKeyId: null, alias: null }, 'k', 'a')).toBe(true);
    expect(budgetApplies({ apiKeyId: 'k', alias: null }, 'other', 'a')).toBe(false);
    expect(budgetApplies({ apiKeyId: null, alias: 'a' }, 'k', 'b')).toBe(false);
  });

  it('reserves the priciest target at max_tokens, else the model maximum, else the default', () => {
    const body = { model: 'x', messages: [{ role: 'user', content: 'x'.repeat(400) }] } as ChatRequest;
    const prices: PriceManifest = { revision: 'p', models: { 'openai/cheap': { input: 1, output: 1 }, 'openai/dear': { input: 10, output: 100 } } };
    const targets = [{ provider: 'openai', model: 'cheap' }, { provider: 'openai', model: 'dear' }];
    const prompt = (100 + 4) * 2; // estimate × the reservation margin
    expect(maxRequestCostUsd({ ...body, max_tokens: 50 }, targets, prices)).toBeCloseTo((prompt * 10 + 50 * 100) / 1e6, 10);
    expect(maxRequestCostUsd(body, targets, prices)).toBeCloseTo((prompt * 10 + DEFAULT_RESERVED_OUTPUT_TOKENS * 100) / 1e6, 10);
    expect(maxRequestCostUsd(body, [{ provider: 'openai', model: 'unpriced' }], prices)).toBe(0);
    // Embeddings: the input's length, no output.
    const embeddings = { model: 'x', input: ['y'.repeat(398)] } as unknown as ChatRequest;
    expect(maxRequestCostUsd(embeddings, targets, prices, undefined, undefined, 'embeddings')).toBeCloseTo((Math.ceil(404 / 4) * 2 * 10) / 1e6, 10);
  });

  it('requires window_seconds for a rolling period only', () => {
    expect(budgetInputSchema.safeParse({ amount_usd: 1, period: 'rolling', window_seconds: 10 }).success).toBe(true);
    expect(budgetInputSchema.safeParse({ amount_usd: 1, period: 'rolling' }).success).toBe(false);
    expect(budgetInputSchema.safeParse({ amount_usd: 1, period: 'daily', window_seconds: 10 }).success).toBe(false);
  });
});

describe('response cache key', () => {
  const body = { model: 'a', messages: [{ role: 'user', content: 'hi' }], temperature: 0 } as ChatRequest;
  it('is the same for the same request in any key order and without answer-neutral fields', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    const reordered = { temperature: 0, messages: [{ content: 'hi', role: 'user' }], model: 'a', user: 'u', metadata: { x: '1' } } as unknown as ChatRequest;
    expect(cacheKeyMaterial('alr_1', reordered)).toBe(cacheKeyMaterial('alr_1', body));
  });

  it('differs by release, by answer-affecting fields, and keeps stream options only for streams', () => {
    expect(cacheKeyMaterial('alr_2', body)).not.toBe(cacheKeyMaterial('alr_1', body));
    expect(cacheKeyMaterial('alr_1', { ...body, temperature: 0.5 })).not.toBe(cacheKeyMaterial('alr_1', body));
    expect(cacheKeyMaterial('alr_1', { ...body, stream_options: { include_usage: true } })).toBe(cacheKeyMaterial('alr_1', body));
    const stream = { ...body, stream: true };
    expect(cacheKeyMaterial('alr_1', { ...stream, stream_options: { include_usage: true } })).not.toBe(cacheKeyMaterial('alr_1', stream));
  });

  it('uses the cache on the policy only for temperature 0 (or unset); the header decides when sent', () => {
    expect(cacheModeFor(undefined, { enabled: false }, { temperature: 0 })).toBe('skip');
    expect(cacheModeFor(undefined, { enabled: true }, {})).toBe('use');
    expect(cacheModeFor(undefined, { enabled: true }, { temperature: 0.2 })).toBe('skip');
    expect(cacheModeFor('use', { enabled: false }, { temperature: 1 })).toBe('use');
    expect(cacheModeFor('skip', { enabled: true }, { temperature: 0 })).toBe('skip');
  });
});

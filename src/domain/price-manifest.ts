/**
 * Prices as data (issue 14): a versioned price manifest — per `provider/model`, USD per million tokens
 * for input, output, cached-input reads and cache writes, and the multiplier of each service tier the
 * provider prices differently (batch and flex discounts, priority surcharges). Revisions are immutable
 * (`price_…`); the built-in one (`price_builtin`) is today's list prices from the built-in capability
 * manifest. Every outcome records the revision it was costed with, so a cost is reproducible; a price
 * that is not known makes the cost `null` with a `cost_reason`, never 0. Pure.
 */
import { z } from 'zod';
import type { ChatUsage } from '../contract/chat';
import type { RequestOutcome } from './request-outcome';
import { BUILT_IN_MANIFEST_REVISION, builtInManifest, capabilityCostUsd, modelCapability, tierMultiplier, type CapabilityManifest, type ModelCapability } from './capabilities';

export const BUILT_IN_PRICE_REVISION = 'price_builtin';

const perMillion = z.number().min(0).max(1_000_000);
const multiplier = z.number().min(0).max(100);

const modelPriceSchema = z.strictObject({
  input: perMillion,
  output: perMillion,
  cached_input: perMillion.optional(),
  cache_write: perMillion.optional(),
  /** Price multiplier per served tier (0.5 = the batch discount); a tier not listed costs list price. */
  tiers: z.strictObject({ flex: multiplier.optional(), scale: multiplier.optional(), priority: multiplier.optional(), batch: multiplier.optional() }).optional(),
});

/** `provider/model`: the provider has no slash, the model may (Fireworks' `accounts/…/models/…`). */
const MODEL_KEY = /^[a-z0-9][a-z0-9_-]{0,63}\/\S{1,255}$/;

/** The body of `PUT /v2/prices`: the whole new revision (models not listed have no price in it). */
export const putPricesSchema = z.strictObject({
  models: z.record(z.string().regex(MODEL_KEY, 'model keys must be provider/model'), modelPriceSchema, { error: 'models must be an object keyed by provider/model' })
    .refine((models) => Object.keys(models).length > 0, 'models must name at least one model')
    .refine((models) => Object.keys(models).length <= 10_000, 'models may name at most 10000 models'),
});

export type ModelPriceJson = z.infer<typeof modelPriceSchema>;

export interface PriceManifest {
  revision: string;
  /** Keyed by `provider/model`; a dated snapshot matches its model by longest prefix, as in capability manifests. */
  models: Record<string, ModelPriceJson>;
}

/** Why an outcome's cost is null. */
export type CostReason = 'no_usage' | 'unpriced_model';

let builtIn: PriceManifest | undefined;

/** Today's list prices, from the built-in capability manifest (built on first use). */
export function builtInPrices(): PriceManifest {
  return (builtIn ??= {
    revision: BUILT_IN_PRICE_REVISION,
    models: Object.fromEntries(Object.entries(builtInManifest().models).flatMap(([key, capability]) => {
      const price = priceOfCapability(capability);
      return price ? [[key, price]] : [];
    })),
  });
}

function priceOfCapability(capability: ModelCapability): ModelPriceJson | undefined {
  const { price, tiers } = capability;
  if (!price) return undefined;
  return {
    input: price.input, output: price.output,
    ...(price.cachedInput !== undefined ? { cached_input: price.cachedInput } : {}),
    ...(price.cacheWrite !== undefined ? { cache_write: price.cacheWrite } : {}),
    ...(tiers && Object.keys(tiers).length > 0 ? { tiers: { ...tiers } } : {}),
  };
}

/** The price manifest as a capability-manifest view, so the one model-matching rule serves both. */
function asCapabilities(prices: PriceManifest): CapabilityManifest {
  return {
    revision: prices.revision,
    models: Object.fromEntries(Object.entries(prices.models).map(([key, price]) => [key, {
      price: { input: price.input, output: price.output, cachedInput: price.cached_input, cacheWrite: price.cache_write },
      ...(price.tiers ? { tiers: price.tiers } : {}),
    }])),
  };
}

const views = new WeakMap<PriceManifest, CapabilityManifest>();
const viewOf = (prices: PriceManifest): CapabilityManifest => {
  let view = views.get(prices);
  if (!view) views.set(prices, (view = asCapabilities(prices)));
  return view;
};

/**
 * What prices a model: a capability manifest revision a release pins (not the built-in one) that
 * carries a price for it keeps that price (negotiated rates pinned per release, issue 10); otherwise
 * the price manifest.
 */
export function pricedCapability(prices: PriceManifest, pinned: CapabilityManifest | undefined, provider: string, model: string): ModelCapability | undefined {
  if (pinned && pinned.revision !== BUILT_IN_MANIFEST_REVISION) {
    const own = modelCapability(pinned, provider, model);
    if (own?.price) return own;
  }
  const priced = modelCapability(viewOf(prices), provider, model);
  return priced?.price ? priced : undefined;
}

/** USD per token rates of a model (input, output), or undefined when it has no price. */
export function tokenRates(prices: PriceManifest, pinned: CapabilityManifest | undefined, provider: string, model: string,
  tier?: string | null): { input: number; output: number } | undefined {
  const capability = pricedCapability(prices, pinned, provider, model);
  if (!capability?.price) return undefined;
  const factor = tierMultiplier(capability, tier) / 1e6;
  return { input: capability.price.input * factor, output: capability.price.output * factor };
}

/** USD cost of one usage at the served tier, or null when the model has no price. */
export function usageCostUsd(prices: PriceManifest, pinned: CapabilityManifest | undefined, provider: string, model: string,
  usage: ChatUsage, servedTier?: string | null): number | null {
  return capabilityCostUsd(pricedCapability(prices, pinned, provider, model), usage, servedTier);
}

interface CostedAttempt { provider: string; model: string; served_model?: string | null; usage?: ChatUsage | null; service_tier?: string | null }

/**
 * The cost of a request's attempts (every attempt that reported usage, failed ones included), rounded
 * to 1e-8 USD. Null with a reason when no attempt reported usage (`no_usage`) or an attempt with usage
 * has no price (`unpriced_model`: a partial sum would read as the whole cost).
 */
export function attemptsCost(attempts: readonly CostedAttempt[], prices: PriceManifest, pinned?: CapabilityManifest):
  { cost_usd: number | null; cost_reason: CostReason | null } {
  const each = attempts.map((attempt) => attemptCostUsd(attempt, prices, pinned));
  if (attempts.every((attempt) => !attempt.usage)) return { cost_usd: null, cost_reason: 'no_usage' };
  if (each.some((cost, index) => cost === null && attempts[index]!.usage)) return { cost_usd: null, cost_reason: 'unpriced_model' };
  return { cost_usd: Math.round(each.reduce<number>((total, cost) => total + (cost ?? 0), 0) * 1e8) / 1e8, cost_reason: null };
}

/** One attempt's cost (its served model first, else the configured one), rounded to 1e-8 USD; null without usage or price. */
export function attemptCostUsd(attempt: CostedAttempt, prices: PriceManifest, pinned?: CapabilityManifest): number | null {
  if (!attempt.usage) return null;
  const cost = (attempt.served_model ? usageCostUsd(prices, pinned, attempt.provider, attempt.served_model, attempt.usage, attempt.service_tier) : null)
    ?? usageCostUsd(prices, pinned, attempt.provider, attempt.model, attempt.usage, attempt.service_tier);
  return cost === null ? null : Math.round(cost * 1e8) / 1e8;
}

/** The API object of a revision. */
export function pricesToJson(prices: PriceManifest, createdAt: number, current: boolean) {
  return { id: prices.revision, object: 'price_manifest', created_at: createdAt, current, models: prices.models };
}

/**
 * The outcome costed with a price manifest revision (and the capability manifest its release pins):
 * its total, and each attempt's own `cost_usd` (null without usage or price).
 */
export function priceOutcome<T extends Pick<RequestOutcome, 'attempts' | 'cost_usd' | 'cache_hit'>>(outcome: T, prices: PriceManifest, pinned?: CapabilityManifest):
  T & Pick<RequestOutcome, 'cost_reason' | 'price_manifest_revision'> {
  // A cached answer called no provider: it costs nothing, whatever the prices.
  const cost = outcome.cache_hit ? { cost_usd: 0, cost_reason: null } : attemptsCost(outcome.attempts, prices, pinned);
  const attempts = outcome.attempts.map((attempt) => ({ ...attempt, cost_usd: attemptCostUsd(attempt, prices, pinned) }));
  return { ...outcome, attempts, ...cost, price_manifest_revision: prices.revision };
}

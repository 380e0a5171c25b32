/**
 * Budgets (issue 14): a spend limit in USD per tenant or per API key, optionally for one alias, over a
 * period — a UTC day, a UTC month, or a rolling window of seconds — `hard` (refused at admission with
 * `rejected_budget` once the committed spend reaches the amount) or `soft` (admitted and flagged).
 * Committed spend = settled costs + open reservations in the period; a request reserves its maximum
 * cost (`max_tokens` × output price + the prompt estimate × input price, at the priciest target of its
 * plan) and settles on its actual cost when recorded. Pure.
 */
import { z } from 'zod';
import type { ChatRequest } from '../contract/chat';
import { estimatePromptTokens, modelCapability, type CapabilityManifest } from './capabilities';
import { ALIAS_PATTERN } from './model-alias';
import type { RequestOperation } from './request-outcome';
import { tokenRates, type PriceManifest } from './price-manifest';

export const BUDGET_PERIODS = ['daily', 'monthly', 'rolling'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];
export type BudgetMode = 'hard' | 'soft';

export interface Budget {
  id: string;
  tenantId: string;
  /** The key it limits; null: every key of the tenant. */
  apiKeyId: string | null;
  /** The alias it limits; null: every alias. */
  alias: string | null;
  amountUsd: number;
  period: BudgetPeriod;
  /** For `rolling`: the window's length. */
  windowSeconds: number | null;
  mode: BudgetMode;
}

const MAX_WINDOW_SECONDS = 366 * 86_400;

/** The body of `POST /v2/budgets` (and `PUT /v2/budgets/{id}`, where `api_key_id` and `alias` cannot change). */
export const budgetInputSchema = z.strictObject({
  api_key_id: z.string().min(1).max(64).nullable().default(null),
  alias: z.string().regex(ALIAS_PATTERN, 'alias must be 1-128 characters: letters, digits and . _ : @ + - (starting with a letter or digit)').nullable().default(null),
  // Stored with 8 decimals: a smaller amount would be stored as 0.
  amount_usd: z.number().min(1e-8, 'amount_usd must be at least 0.00000001').max(1e9),
  period: z.enum(BUDGET_PERIODS, { error: () => `period must be one of ${BUDGET_PERIODS.join(', ')}` }),
  window_seconds: z.number().int().min(1).max(MAX_WINDOW_SECONDS).nullable().default(null),
  mode: z.enum(['hard', 'soft'], { error: () => 'mode must be hard or soft' }).default('hard'),
}).superRefine((budget, context) => {
  if (budget.period === 'rolling' && budget.window_seconds === null) {
    context.addIssue({ code: 'custom', path: ['window_seconds'], message: 'window_seconds is required for a rolling period' });
  }
  if (budget.period !== 'rolling' && budget.window_seconds !== null) {
    context.addIssue({ code: 'custom', path: ['window_seconds'], message: 'window_seconds applies only to a rolling period' });
  }
});
export type BudgetInput = z.infer<typeof budgetInputSchema>;

/** When the budget's current period began (epoch ms). */
export function periodStart(budget: Pick<Budget, 'period' | 'windowSeconds'>, now: number): number {
  const date = new Date(now);
  if (budget.period === 'daily') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (budget.period === 'monthly') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  return now - (budget.windowSeconds ?? 0) * 1_000;
}

/** When the budget's current period ends (epoch ms); for a rolling window, one window from now. */
export function periodEnd(budget: Pick<Budget, 'period' | 'windowSeconds'>, now: number): number {
  const date = new Date(now);
  if (budget.period === 'daily') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  if (budget.period === 'monthly') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return now + (budget.windowSeconds ?? 0) * 1_000;
}

/** Whether a budget counts a request of this key and alias. */
export function budgetApplies(budget: Pick<Budget, 'apiKeyId' | 'alias'>, apiKeyId: string, alias: string): boolean {
  return (budget.apiKeyId === null || budget.apiKeyId === apiKeyId) && (budget.alias === null || budget.alias === alias);
}

/** Output tokens reserved for a request that sets no `max_tokens` and whose model states no maximum. */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 4_096;

/**
 * The prompt estimate (≈ 4 characters a token) errs low on purpose where it skips targets; a
 * reservation must err high, so it counts the estimate this many times over.
 */
export const RESERVED_PROMPT_MARGIN = 2;

/**
 * The most a request may cost (USD), for its reservation: over the targets it may run on, the
 * priciest of RESERVED_PROMPT_MARGIN × prompt estimate × input rate + its output cap × output rate, at the tier it asks for.
 * The output cap is `max_completion_tokens` / `max_tokens`, else the model's stated maximum output,
 * else DEFAULT_RESERVED_OUTPUT_TOKENS. 0 when no target has a price (it cannot be held to a budget).
 */
export function maxRequestCostUsd(body: ChatRequest, targets: ReadonlyArray<{ provider: string; model: string }>, prices: PriceManifest,
  pinned?: CapabilityManifest, capabilities?: CapabilityManifest, operation?: RequestOperation): number {
  // An embeddings body has `input` (text or token arrays) and no output: its JSON length bounds the text.
  const embeddings = operation === 'embeddings';
  const promptTokens = (embeddings ? Math.ceil(JSON.stringify((body as { input?: unknown }).input ?? '').length / 4) : estimatePromptTokens(body))
    * RESERVED_PROMPT_MARGIN;
  const asked = embeddings ? 0 : body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const choices = Math.max(1, body.n ?? 1);
  let most = 0;
  for (const target of targets) {
    const rates = tokenRates(prices, pinned, target.provider, target.model, body.service_tier);
    if (!rates) continue;
    const output = asked ?? (capabilities && modelCapability(capabilities, target.provider, target.model)?.maxOutputTokens) ?? DEFAULT_RESERVED_OUTPUT_TOKENS;
    most = Math.max(most, promptTokens * rates.input + output * choices * rates.output);
  }
  return Math.round(most * 1e8) / 1e8;
}

/** The API object of a budget with its spend in the current period. */
export function budgetToJson(budget: Budget, spend: { committedUsd: number; settledUsd: number; periodStart: number; periodEnd: number }, createdAt: number) {
  return {
    id: budget.id, object: 'budget', tenant: budget.tenantId, api_key_id: budget.apiKeyId, alias: budget.alias,
    amount_usd: budget.amountUsd, period: budget.period, window_seconds: budget.windowSeconds, mode: budget.mode,
    spent_usd: round(spend.settledUsd), committed_usd: round(spend.committedUsd),
    remaining_usd: round(Math.max(0, budget.amountUsd - spend.committedUsd)),
    exhausted: spend.committedUsd >= budget.amountUsd,
    period_start: Math.floor(spend.periodStart / 1000), period_end: Math.floor(spend.periodEnd / 1000), created_at: createdAt,
  };
}

const round = (value: number): number => Math.round(value * 1e8) / 1e8;

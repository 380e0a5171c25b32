/**
 * Capability manifests: what Zumik knows about each provider's models — context window, list prices
 * per million tokens, and which service tiers they support with their price multipliers. A release
 * names its manifest revision; `cap_custom` is the built-in one.
 *
 * The built-in prices are public LIST prices (USD per 1M tokens) as published by each provider,
 * written down by hand: they are estimates for the outcome's `cost_usd`, not invoices, and are meant
 * to be overridden by a manifest revision (negotiated rates, new models, price changes). Where
 * the provider reference (PROVIDERS.md) states a figure it is used: cache reads 0.1× and 5-minute cache writes
 * 1.25× input on Anthropic, cache writes 1.25× input on OpenAI gpt-5.6+, cache reads ~0.1× on
 * Gemini 2.5+, 0.25× on xAI and 0.5× on Fireworks, batch 0.5× everywhere it is documented, Gemini
 * flex 0.5× and priority +75–100 % (2× used, the upper bound). Context windows err on the large
 * side: a window that is too small would skip a target that could have served.
 */
import type { ChatContentPart, ChatRequest, ChatUsage } from '../contract/chat';

export interface ModelPrice {
  /** USD per million tokens. */
  input: number;
  cachedInput?: number;
  cacheWrite?: number;
  output: number;
}

export type PricedTier = 'flex' | 'scale' | 'priority' | 'batch';

export interface ModelCapability {
  contextWindow?: number;
  maxOutputTokens?: number;
  price?: ModelPrice;
  /** Service tiers the provider serves for this model, with the price multiplier of each (default 1). */
  tiers?: Partial<Record<PricedTier, number>>;
  vision?: boolean;
  tools?: boolean;
  /**
   * The model continues a trailing assistant message (assistant prefill) instead of starting a new
   * one: a broken stream can then be continued from the delivered text. Anthropic's Messages API does
   * it natively; OpenAI's Chat Completions does not (a trailing assistant message is context, the answer
   * starts afresh), so OpenAI-compatible models have it only where the manifest says so.
   */
  assistantPrefill?: boolean;
}

export interface CapabilityManifest {
  revision: string;
  /** Keyed by `provider/model`. A model id may also match by its longest known prefix (dated snapshots). */
  models: Record<string, ModelCapability>;
}

export const BUILT_IN_MANIFEST_REVISION = 'cap_custom';

const K = 1_000;
const M = 1_000_000;

/** A price with the provider's usual cache discounts derived from the input price. */
const price = (input: number, output: number, cache: { read?: number; write?: number } = {}): ModelPrice => ({
  input,
  output,
  ...(cache.read !== undefined ? { cachedInput: round(input * cache.read) } : {}),
  ...(cache.write !== undefined ? { cacheWrite: round(input * cache.write) } : {}),
});
const round = (value: number): number => Math.round(value * 1e6) / 1e6;

// OpenAI: flex 0.5, priority 2, batch 0.5 (PROVIDERS.md §1.5, §1.7); cached input 0.1× on the gpt-5 family. Scale Tier is
// committed capacity bought ahead (§1.5 gives no token price): its tokens are priced list-equivalent 1×, as Anthropic's Priority Tier.
const OPENAI_TIERS = { flex: 0.5, scale: 1, priority: 2, batch: 0.5 } as const;
const OPENAI_TIERS_NO_FLEX = { scale: 1, priority: 2, batch: 0.5 } as const;
const openai = (input: number, output: number, contextWindow: number, maxOutputTokens: number, cache: { read?: number; write?: number }, tiers: ModelCapability['tiers'] = OPENAI_TIERS): ModelCapability =>
  ({ contextWindow, maxOutputTokens, price: price(input, output, cache), tiers, vision: true, tools: true });
const GPT5_CACHE = { read: 0.1 };
const GPT56_CACHE = { read: 0.1, write: 1.25 }; // gpt-5.6+: cache writes billed at 1.25× input (PROVIDERS.md §1.6)

// Anthropic: reads 0.1×, 5-minute writes 1.25× (§2.5); batch 0.5 (§2.7). Priority Tier is legacy and
// billed as a burn-down of a prepaid commitment at the same token ratios (§2.6): list-equivalent 1×.
const ANTHROPIC_TIERS = { priority: 1, batch: 0.5 } as const;
const ANTHROPIC_CACHE = { read: 0.1, write: 1.25 };
const anthropic = (input: number, output: number, contextWindow: number, maxOutputTokens: number): ModelCapability =>
  ({ contextWindow, maxOutputTokens, price: price(input, output, ANTHROPIC_CACHE), tiers: ANTHROPIC_TIERS, vision: true, tools: true, assistantPrefill: true });

// Gemini: flex 0.5, priority +75–100 % → 2 (§3.6), batch 0.5 (§3.7); implicit cache reads ~0.1× (§3.5), no write cost.
const GEMINI_TIERS = { flex: 0.5, priority: 2, batch: 0.5 } as const;
const gemini = (input: number, output: number, contextWindow = 1_048_576, maxOutputTokens = 65_536): ModelCapability =>
  ({ contextWindow, maxOutputTokens, price: price(input, output, { read: 0.1 }), tiers: GEMINI_TIERS, vision: true, tools: true });

// xAI: cached input 0.25× (§4.4). Its native Batch API is driven (xai-batch-adapter.ts), but its "reduced pricing" has no
// published rate (§4.5): batch lines are priced at list rather than at a guessed discount.
const xai = (input: number, output: number, contextWindow: number, vision = true): ModelCapability =>
  ({ contextWindow, price: price(input, output, { read: 0.25 }), vision, tools: true });

// Fireworks serverless: cached input 0.5× (§5.4); priority is honoured but unpriced here. Fireworks' API offers batch
// inference at 0.5 (§5.5: datasets + batchInferenceJobs), but Zumik has no native path to it yet: batch lines run as
// ordinary calls at list price, so no batch multiplier is claimed. Dedicated deployments (`accounts/<acct>/deployments/<id>`,
// or `<model>#<deployment>`, §0) are billed per GPU hour, not per token: they carry no price here (cost_usd null) and are
// best run as the `subscription` profile (a tenant endpoint on Fireworks' base URL naming the deployment as its model).
const fireworks = (input: number, output: number, contextWindow: number): ModelCapability =>
  ({ contextWindow, price: price(input, output, { read: 0.5 }), tools: true });
const FW = 'fireworks/accounts/fireworks/models/';

/**
 * Built on first use, not when the module loads: workflow code imports this module, and the SDK
 * evaluates a workflow's modules for every workflow it starts — most never need a price.
 */
let builtIn: CapabilityManifest | undefined;

export function builtInManifest(): CapabilityManifest {
  return (builtIn ??= buildManifest());
}

const buildManifest = (): CapabilityManifest => ({
  revision: BUILT_IN_MANIFEST_REVISION,
  models: {
    'openai/gpt-5': openai(1.25, 10, 400 * K, 128 * K, GPT5_CACHE),
    'openai/gpt-5-mini': openai(0.25, 2, 400 * K, 128 * K, GPT5_CACHE),
    'openai/gpt-5-nano': openai(0.05, 0.4, 400 * K, 128 * K, GPT5_CACHE),
    'openai/gpt-5.1': openai(1.25, 10, 400 * K, 128 * K, GPT5_CACHE),
    'openai/gpt-5.2': openai(1.75, 14, 400 * K, 128 * K, GPT5_CACHE),
    'openai/gpt-5.4': openai(2.5, 15, 1_050_000, 128 * K, GPT5_CACHE),
    'openai/gpt-5.4-mini': openai(0.75, 4.5, 400 * K, 128 * K, GPT5_CACHE),
    'openai/gpt-5.4-nano': openai(0.2, 1.25, 400 * K, 128 * K, GPT5_CACHE),
    'openai/gpt-5.5': openai(5, 30, 1_050_000, 128 * K, GPT5_CACHE),
    'openai/gpt-5.5-pro': openai(30, 180, 1_050_000, 128 * K, {}, OPENAI_TIERS_NO_FLEX),
    'openai/gpt-5.6': openai(5, 30, 1_050_000, 128 * K, GPT56_CACHE),
    'openai/o3': openai(2, 8, 200 * K, 100 * K, { read: 0.25 }),
    'openai/o3-pro': openai(20, 80, 200 * K, 100 * K, {}, OPENAI_TIERS_NO_FLEX),
    'openai/o4-mini': openai(1.1, 4.4, 200 * K, 100 * K, { read: 0.25 }),
    'openai/gpt-4.1': openai(2, 8, 1_047_576, 32_768, { read: 0.25 }, OPENAI_TIERS_NO_FLEX),
    'openai/gpt-4.1-mini': openai(0.4, 1.6, 1_047_576, 32_768, { read: 0.25 }, OPENAI_TIERS_NO_FLEX),
    'openai/gpt-4o': openai(2.5, 10, 128 * K, 16_384, { read: 0.5 }, OPENAI_TIERS_NO_FLEX),
    'openai/gpt-4o-mini': openai(0.15, 0.6, 128 * K, 16_384, { read: 0.5 }, OPENAI_TIERS_NO_FLEX),
    // Embedding models (POST /v1/embeddings): input tokens only, at the providers' published list prices (PROVIDERS.md
    // has no embeddings section); the window is the longest single input.
    'openai/text-embedding-3-small': { contextWindow: 8_191, price: price(0.02, 0, {}), tiers: { batch: 0.5 } },
    'openai/text-embedding-3-large': { contextWindow: 8_191, price: price(0.13, 0, {}), tiers: { batch: 0.5 } },

    'anthropic/claude-opus-4': anthropic(15, 75, 200 * K, 32 * K),
    'anthropic/claude-opus-4-1': anthropic(15, 75, 200 * K, 32 * K),
    'anthropic/claude-opus-4-5': anthropic(5, 25, 200 * K, 64 * K),
    'anthropic/claude-opus-4-6': anthropic(5, 25, 1 * M, 128 * K),
    'anthropic/claude-opus-4-7': anthropic(5, 25, 1 * M, 128 * K),
    'anthropic/claude-opus-4-8': anthropic(5, 25, 1 * M, 128 * K),
    'anthropic/claude-opus-5': anthropic(5, 25, 1 * M, 128 * K),
    'anthropic/claude-sonnet-4': anthropic(3, 15, 1 * M, 64 * K),
    'anthropic/claude-sonnet-4-5': anthropic(3, 15, 1 * M, 64 * K),
    'anthropic/claude-sonnet-4-6': anthropic(3, 15, 1 * M, 64 * K),
    'anthropic/claude-sonnet-5': anthropic(3, 15, 1 * M, 64 * K),
    'anthropic/claude-haiku-4-5': anthropic(1, 5, 200 * K, 64 * K),
    // Claude Fable 5: PROVIDERS.md names it (mid-conversation system messages, §2.1; 512-token cache minimum [3P], §2.5) but
    // gives neither its price nor its context window: both stay unknown (cost_usd null, no window skip) until a manifest says.
    'anthropic/claude-fable-5': { tiers: ANTHROPIC_TIERS, vision: true, tools: true, assistantPrefill: true },

    // Google offered a 2,097,152-token window on Gemini 1.5 Pro (input $1.25/M, output $5/M up to 128K, list); the 2.5 and 3
    // families are served at 1,048,576. PROVIDERS.md (§3) states no windows.
    'gemini/gemini-1.5-pro': gemini(1.25, 5, 2_097_152, 8_192),
    'gemini/gemini-2.5-pro': gemini(1.25, 10),
    'gemini/gemini-2.5-flash': gemini(0.3, 2.5),
    'gemini/gemini-2.5-flash-lite': gemini(0.1, 0.4),
    'gemini/gemini-3-pro': gemini(2, 12),
    'gemini/gemini-3-flash': gemini(0.5, 3),
    'gemini/gemini-3.1-pro': gemini(2, 12),
    'gemini/gemini-3.1-flash-lite': gemini(0.25, 1.5),
    'gemini/gemini-3.5-flash': gemini(0.5, 3),
    'gemini/gemini-embedding-001': { contextWindow: 2_048, price: price(0.15, 0, {}) },

    'xai/grok-4': xai(3, 15, 256 * K),
    'xai/grok-4-fast': xai(0.2, 0.5, 2 * M),
    'xai/grok-4-1-fast': xai(0.2, 0.5, 2 * M),
    'xai/grok-4.20': xai(2, 6, 2 * M),
    'xai/grok-4.3': xai(2, 6, 2 * M),
    'xai/grok-code-fast-1': xai(0.2, 1.5, 256 * K, false),
    'xai/grok-3-mini': xai(0.3, 0.5, 131_072, false),

    [`${FW}deepseek-v3p1`]: fireworks(0.56, 1.68, 163_840),
    [`${FW}deepseek-r1-0528`]: fireworks(1.35, 5.4, 163_840),
    [`${FW}kimi-k2-instruct-0905`]: fireworks(0.6, 2.5, 262_144),
    [`${FW}kimi-k2-thinking`]: fireworks(0.6, 2.5, 262_144),
    [`${FW}gpt-oss-120b`]: fireworks(0.15, 0.6, 131_072),
    [`${FW}gpt-oss-20b`]: fireworks(0.07, 0.3, 131_072),
    [`${FW}qwen3-coder-480b-a35b-instruct`]: fireworks(0.45, 1.8, 262_144),
    [`${FW}llama-v3p3-70b-instruct`]: fireworks(0.9, 0.9, 131_072),
    [`${FW}glm-4p6`]: fireworks(0.55, 2.19, 202_752),
    'fireworks/nomic-ai/nomic-embed-text-v1.5': { contextWindow: 8_192, price: price(0.008, 0, {}) },
  },
});

/** Manifest revisions this process has loaded from the store (immutable: never stale, never evicted). */
const loaded = new Map<string, CapabilityManifest>();

/**
 * Make a stored revision known to `manifestFor` in this process (the store does, on first use of a
 * revision); `as` registers it under another revision (a revision the store does not have answers the
 * built-in manifest, remembered so that it costs no further lookups).
 */
export function registerManifest(manifest: CapabilityManifest, as: string = manifest.revision): void {
  loaded.set(as, manifest);
}

/** Whether `manifestFor(revision)` answers that revision itself (the built-in one always). */
export function isManifestLoaded(revision: string): boolean {
  return revision === BUILT_IN_MANIFEST_REVISION || loaded.has(revision);
}

/**
 * The manifest a release's `capability_manifest_revision` names, from this process's loaded
 * revisions; `cap_custom` is the built-in one. A revision not loaded here (workflow code, which never
 * loads any) falls back to the built-in manifest (its `revision` says so) rather than fail a request.
 */
export function manifestFor(revision: string): CapabilityManifest {
  return loaded.get(revision) ?? builtInManifest();
}

/** After a known model id, these characters start a suffix of the same model (a date, a version tag). */
const SNAPSHOT_SEPARATORS = new Set(['-', '@', ':']);

/**
 * What the manifest knows about a provider's model: the exact `provider/model` key first, else the
 * longest key that is a prefix of the model followed by `-`, `@` or `:` — so a dated snapshot such
 * as `gpt-5.4-2026-03-05` matches `gpt-5.4`, but `gpt-5.4` never matches `gpt-5`, nor `gpt-4o`
 * `gpt-4`. Gemini's `models/` resource prefix is ignored.
 */
export function modelCapability(manifest: CapabilityManifest, provider: string, model: string): ModelCapability | undefined {
  const bare = provider === 'gemini' && model.startsWith('models/') ? model.slice('models/'.length) : model;
  const key = `${provider}/${bare}`;
  const exact = manifest.models[key];
  if (exact) return exact;
  let best: string | undefined;
  for (const candidate of Object.keys(manifest.models)) {
    if (key.length > candidate.length && key.startsWith(candidate) && SNAPSHOT_SEPARATORS.has(key[candidate.length]!)
      && (best === undefined || candidate.length > best.length)) best = candidate;
  }
  return best === undefined ? undefined : manifest.models[best];
}

/** The price multiplier of a served tier; `default`, `auto`, `standard`, unknown and missing tiers cost list price. */
export function tierMultiplier(capability: ModelCapability, servedTier?: string | null): number {
  const tier = servedTier === 'fast' ? 'priority' : servedTier;
  if (tier !== 'flex' && tier !== 'scale' && tier !== 'priority' && tier !== 'batch') return 1;
  return capability.tiers?.[tier] ?? 1;
}

/**
 * USD cost of one attempt's usage at the tier it was served, or null when the price is unknown.
 * Uncached prompt tokens at `input`, cache reads at `cachedInput` and cache writes at `cacheWrite`
 * (each falling back to `input`), completion tokens (reasoning included) at `output`; then the
 * served tier's multiplier.
 */
export function costUsd(manifest: CapabilityManifest, provider: string, model: string, usage: ChatUsage, servedTier?: string | null): number | null {
  return capabilityCostUsd(modelCapability(manifest, provider, model), usage, servedTier);
}

/**
 * The cost formula itself (see costUsd), for a capability already looked up (in a capability manifest
 * or a price manifest): the one place usage becomes USD. Null when there is no capability or no price.
 */
export function capabilityCostUsd(capability: ModelCapability | undefined, usage: ChatUsage, servedTier?: string | null): number | null {
  const rates = capability?.price;
  if (!capability || !rates) return null;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage.prompt_tokens_details?.cache_write_tokens ?? 0;
  const uncached = Math.max(0, usage.prompt_tokens - cached - written);
  const perMillion = uncached * rates.input + cached * (rates.cachedInput ?? rates.input)
    + written * (rates.cacheWrite ?? rates.input) + usage.completion_tokens * rates.output;
  return (perMillion / 1e6) * tierMultiplier(capability, servedTier);
}

/** Flat token count of one image part (OpenAI's low-detail figure). */
export const IMAGE_PART_TOKENS = 85;
/** Per-message overhead (role and separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * A cheap, deterministic prompt-size estimate (≈ 4 characters a token, images counted flat), used
 * to skip targets whose context window is known to be too small before calling them. Counts message
 * text (string content and parts with a `text`), assistant tool calls (name and arguments), the
 * tool definitions as JSON, 85 tokens per image part and 4 per message. Other parts (audio, files)
 * are not counted: the estimate errs low rather than skip a target that could serve.
 */
export function estimatePromptTokens(body: ChatRequest): number {
  let characters = 0;
  let images = 0;
  const countContent = (content: string | ChatContentPart[] | null | undefined): void => {
    if (typeof content === 'string') {
      characters += content.length;
      return;
    }
    for (const part of content ?? []) {
      if (part.type === 'image_url') images += 1;
      else if ('text' in part && typeof part.text === 'string') characters += part.text.length;
    }
  };
  for (const message of body.messages) {
    countContent(message.content);
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) characters += call.function.name.length + call.function.arguments.length;
    }
  }
  if (body.tools && body.tools.length > 0) characters += JSON.stringify(body.tools).length;
  return Math.ceil(characters / 4) + images * IMAGE_PART_TOKENS + body.messages.length * MESSAGE_OVERHEAD_TOKENS;
}

/** Providers whose every model continues a trailing assistant message (Anthropic's Messages API: PROVIDERS.md §2). */
const PREFILL_PROVIDERS: ReadonlySet<string> = new Set(['anthropic']);

/**
 * Whether a broken stream on this target can be continued by assistant prefill: the manifest's
 * `assistantPrefill` for the model when it says, else the provider's native support.
 */
export function supportsAssistantPrefill(manifest: CapabilityManifest, provider: string, model: string): boolean {
  return modelCapability(manifest, provider, model)?.assistantPrefill ?? PREFILL_PROVIDERS.has(provider);
}

/** Whether the provider serves this model at a flex tier (cheaper, may wait for capacity). */
export function supportsFlex(manifest: CapabilityManifest, provider: string, model: string): boolean {
  return modelCapability(manifest, provider, model)?.tiers?.flex !== undefined;
}

/**
 * The flavours of Zumik's one OpenAI-compatible implementation. A flavour is configuration, not
 * code: which request fields the provider accepts, how it reports usage, how its statuses map to the
 * failure taxonomy, and where cache-routing hints go. Adding an OpenAI-compatible provider means
 * adding a preset here, never a new adapter.
 */
import type { FailureKind } from '../../domain/failure-kinds';
import type { ServiceTier } from '../../contract/chat';

export const OPENAI_COMPATIBLE_FLAVOURS = ['openai', 'xai', 'fireworks', 'openrouter', 'byoc_dynamo', 'byoc_epp', 'subscription', 'bifrost'] as const;
export type OpenAICompatibleFlavourName = (typeof OPENAI_COMPATIBLE_FLAVOURS)[number];

/**
 * What a requested `service_tier` becomes upstream: a string is forwarded (possibly renamed), `null`
 * is dropped silently because the provider serves that tier anyway, a missing entry is dropped with
 * a warning because the provider would not honour it.
 */
export type ServiceTierMapping = Partial<Record<ServiceTier, string | null>>;

export interface OpenAICompatibleFlavour {
  flavour: OpenAICompatibleFlavourName;
  /** Whether the provider knows the `developer` role; when not, it is sent as `system` with a warning. */
  developerRole: boolean;
  /** The output-limit field the provider wants; the other one is renamed into it. */
  tokenLimitField: 'max_completion_tokens' | 'max_tokens';
  serviceTiers: ServiceTierMapping;
  /** A subscription bought as a tier (e.g. `priority`, `scale`) always asks for it, whatever the client sent. */
  serviceTierOverride?: string;
  /** Models that reject sampling parameters (OpenAI o-series/gpt-5, xAI reasoning models). */
  reasoningModelPattern?: RegExp;
  /** Request fields such reasoning models reject; dropped with a warning. */
  reasoningUnsupportedFields: readonly string[];
  /** Where `cacheKeyHint` goes: OpenAI's `prompt_cache_key` body field, or a routing header. */
  cacheKeyTarget?: { kind: 'body'; field: 'prompt_cache_key' } | { kind: 'header'; name: string };
  /** Content-part cache fields the provider understands; others are stripped with one warning each. */
  contentCacheFields: readonly ('prompt_cache_breakpoint' | 'cache_control')[];
  /** Whether client `stream_options` other than `include_usage` (e.g. `include_obfuscation`) may be forwarded. */
  forwardStreamOptions: boolean;
  /** xAI counts reasoning tokens outside `completion_tokens`; OpenAI's contract counts them inside. */
  completionExcludesReasoning: boolean;
  /** Status → kind where the provider means something else than the generic table (epp 429 = load shed). */
  statusKinds: Partial<Record<number, FailureKind>>;
  /** OpenRouter only: the provider slug the bridge is pinned to (`provider.order`). */
  openRouterProvider?: string;
  /** Fixed headers for every call (never secrets), e.g. OpenRouter's `X-Title`. */
  staticHeaders: Record<string, string>;
  /** The response header carrying the provider's request id. */
  requestIdHeaders: readonly string[];
  /**
   * The header the credential goes in, raw (Bifrost's virtual key: `x-bf-vk`); absent: `Authorization: Bearer`.
   * Either way a caller header of that name is dropped: ours is the only credential sent.
   */
  credentialHeader?: string;
  /** Bifrost only: the real provider, sent as the model's prefix (`openai/gpt-4o-mini`) and taken off the answer's model. */
  modelPrefix?: string;
}

const OPENAI_TIERS: ServiceTierMapping = { auto: 'auto', default: 'default', flex: 'flex', scale: 'scale', priority: 'priority', fast: 'fast' };
/** Self-hosted and bridged endpoints have no tiers: the default ones are no-ops, the rest a warning. */
const NO_TIERS: ServiceTierMapping = { auto: null, default: null };
const OPENAI_REASONING_UNSUPPORTED = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs', 'logit_bias'] as const;

const base: Omit<OpenAICompatibleFlavour, 'flavour'> = {
  developerRole: false,
  tokenLimitField: 'max_tokens',
  serviceTiers: NO_TIERS,
  reasoningUnsupportedFields: [],
  contentCacheFields: [],
  forwardStreamOptions: false,
  completionExcludesReasoning: false,
  statusKinds: {},
  staticHeaders: {},
  requestIdHeaders: ['x-request-id'],
};

/** The presets; `new OpenAICompatibleAdapter({ provider, baseUrl, dispatcher, ...FLAVOUR_PRESETS.xai })`. */
export const FLAVOUR_PRESETS: Record<OpenAICompatibleFlavourName, OpenAICompatibleFlavour> = {
  openai: {
    ...base, flavour: 'openai', developerRole: true, tokenLimitField: 'max_completion_tokens', serviceTiers: OPENAI_TIERS,
    // o1/o3/o4-mini and gpt-5 (not gpt-5-chat) reject max_tokens and sampling parameters.
    reasoningModelPattern: /^(o\d|gpt-5(?!.*-chat))/i, reasoningUnsupportedFields: OPENAI_REASONING_UNSUPPORTED,
    cacheKeyTarget: { kind: 'body', field: 'prompt_cache_key' }, contentCacheFields: ['prompt_cache_breakpoint'], forwardStreamOptions: true,
  },
  xai: {
    ...base, flavour: 'xai', tokenLimitField: 'max_completion_tokens',
    serviceTiers: { auto: 'auto', default: null, priority: 'priority', fast: 'fast' },
    // grok-3-mini and the grok-4 family reason (except the explicit non-reasoning variants).
    reasoningModelPattern: /^grok-(3-mini|4|code)(?!.*non-reasoning)/i,
    reasoningUnsupportedFields: ['stop', 'presence_penalty', 'frequency_penalty'],
    cacheKeyTarget: { kind: 'header', name: 'x-grok-conv-id' }, completionExcludesReasoning: true, statusKinds: { 529: 'overloaded' },
  },
  fireworks: {
    ...base, flavour: 'fireworks',
    // Fireworks accepts flex but serves it as default: only priority is honoured.
    serviceTiers: { auto: null, default: null, priority: 'priority', fast: 'priority' },
    cacheKeyTarget: { kind: 'header', name: 'x-session-affinity' },
    statusKinds: { 402: 'quota', 412: 'auth', 503: 'overloaded' },
  },
  openrouter: {
    ...base, flavour: 'openrouter', contentCacheFields: ['cache_control'], statusKinds: { 402: 'quota' },
    staticHeaders: { 'x-title': 'Zumik' }, requestIdHeaders: ['x-generation-id', 'x-request-id'],
  },
  byoc_dynamo: { ...base, flavour: 'byoc_dynamo' },
  // The endpoint picker sheds load with 429 and answers 503 when no endpoint is ready.
  byoc_epp: { ...base, flavour: 'byoc_epp', statusKinds: { 429: 'overloaded', 503: 'upstream_unavailable' } },
  subscription: { ...base, flavour: 'subscription', developerRole: true, tokenLimitField: 'max_completion_tokens', serviceTiers: OPENAI_TIERS },
  // A Bifrost gateway (maximhq/bifrost) in front of a managed provider: OpenAI's wire format, `provider/model` names,
  // the virtual key in `x-bf-vk`; its governance answers 402 when a virtual key's budget is spent.
  bifrost: { ...base, flavour: 'bifrost', credentialHeader: 'x-bf-vk', statusKinds: { 402: 'quota' } },
};

/** A preset with per-endpoint overrides applied (e.g. the OpenRouter pinned provider). */
export function resolveFlavour(overrides: Partial<OpenAICompatibleFlavour> & { flavour: OpenAICompatibleFlavourName }): OpenAICompatibleFlavour {
  const preset = FLAVOUR_PRESETS[overrides.flavour];
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...preset, ...defined } as OpenAICompatibleFlavour;
}

/** The model an answer names, without a Bifrost answer's `provider/` prefix (the record keeps the provider's own name). */
export function servedModelName(flavour: OpenAICompatibleFlavour, model: string): string {
  return flavour.modelPrefix && model.startsWith(`${flavour.modelPrefix}/`) ? model.slice(flavour.modelPrefix.length + 1) : model;
}

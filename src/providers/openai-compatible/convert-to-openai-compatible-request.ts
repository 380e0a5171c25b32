/**
 * Turns Zumik's request (OpenAI's body) into what one OpenAI-compatible flavour accepts. Anything
 * that cannot be forwarded faithfully is dropped or approximated and reported as a ProviderWarning,
 * so a client can see why its parameter had no effect instead of getting a provider 400.
 */
import type { ProviderCallOptions } from '../types';
import { thinkingAsReasoningEffort, type ChatContentPart, type ChatMessage, type ChatRequest, type ProviderWarning } from '../../contract/chat';
import type { OpenAICompatibleFlavour } from './openai-compatible-flavours';

export interface OpenAICompatibleUpstreamRequest {
  body: Record<string, unknown>;
  headers: Record<string, string>;
  warnings: ProviderWarning[];
}

/** Build the upstream body and headers; `stream` decides the streaming fields, whatever the client sent. */
export function convertToOpenAICompatibleRequest(request: ChatRequest, options: Pick<ProviderCallOptions, 'model' | 'cacheKeyHint'>,
  flavour: OpenAICompatibleFlavour, stream: boolean): OpenAICompatibleUpstreamRequest {
  const warnings: ProviderWarning[] = [];
  const headers: Record<string, string> = {};
  const body: Record<string, unknown> = { ...request, model: flavour.modelPrefix ? `${flavour.modelPrefix}/${options.model}` : options.model };
  body.messages = convertMessages(request.messages, flavour, warnings);

  applyThinking(body, options.model, flavour, warnings);
  applyTokenLimit(body, flavour, warnings);
  applyReasoningRestrictions(body, options.model, flavour, warnings);
  applyServiceTier(body, request, flavour, warnings);
  applyCacheKey(body, headers, request, options.cacheKeyHint, flavour);

  delete body.stream;
  delete body.stream_options;
  if (stream) {
    const forwarded = flavour.forwardStreamOptions ? request.stream_options : undefined;
    body.stream = true;
    // Always ask for the final usage chunk: usage is recorded whether or not the client wants it.
    body.stream_options = { ...forwarded, include_usage: true };
  }
  if (flavour.flavour === 'openrouter') {
    // The bridge is pinned: no silent hop to another provider, and no training on the tenant's data. Without a
    // configured pin, it is pinned to the provider the bridged target names (`openai/gpt-4o-mini` → `openai`).
    const pinned = flavour.openRouterProvider ?? openRouterProviderSlug(options.model);
    body.provider = {
      ...(pinned ? { order: [pinned] } : {}),
      allow_fallbacks: false,
      data_collection: 'deny',
    };
    delete body.models;
  }
  return { body, headers, warnings };
}

/** Zumik provider names whose OpenRouter provider slug differs. */
const OPENROUTER_PROVIDER_SLUGS: Readonly<Record<string, string>> = { gemini: 'google-ai-studio' };

/** The OpenRouter provider slug for a bridged model id `<provider>/<model>`; undefined for a bare model id. */
export function openRouterProviderSlug(model: string): string | undefined {
  const slash = model.indexOf('/');
  if (slash <= 0) return undefined;
  const provider = model.slice(0, slash);
  return OPENROUTER_PROVIDER_SLUGS[provider] ?? provider;
}

function convertMessages(messages: ChatMessage[], flavour: OpenAICompatibleFlavour, warnings: ProviderWarning[]): ChatMessage[] {
  const stripped = new Set<string>();
  let developerMapped = false;
  let thinkingDropped = false;
  const converted = messages.map((message): ChatMessage => {
    let next: ChatMessage = message;
    if (message.role === 'assistant' && message.thinking_blocks !== undefined) {
      // Signed Anthropic thinking is only Anthropic's to read back; this model did not write it (README: thinking across targets).
      const { thinking_blocks: blocks, ...rest } = message;
      thinkingDropped ||= blocks.length > 0;
      next = rest;
    }
    if (message.role === 'developer' && !flavour.developerRole) {
      developerMapped = true;
      next = { ...message, role: 'system' };
    }
    if (Array.isArray(next.content)) {
      next = { ...next, content: next.content.map((part) => stripCacheFields(part, flavour, stripped)) } as ChatMessage;
    }
    return next;
  });
  if (thinkingDropped) {
    warnings.push({ type: 'unsupported-setting', setting: 'messages.thinking_blocks', message: 'earlier Anthropic thinking blocks were dropped: only an Anthropic model can read them back' });
  }
  if (developerMapped) {
    warnings.push({ type: 'approximated-setting', setting: 'messages.role', message: `${flavour.flavour} has no developer role; sent as system` });
  }
  for (const field of stripped) {
    warnings.push({ type: 'unsupported-setting', setting: `messages.content.${field}`, message: `${flavour.flavour} does not support ${field}; removed` });
  }
  return converted;
}

function stripCacheFields(part: ChatContentPart, flavour: OpenAICompatibleFlavour, stripped: Set<string>): ChatContentPart {
  let next = part;
  for (const field of ['prompt_cache_breakpoint', 'cache_control'] as const) {
    if (field in next && !flavour.contentCacheFields.includes(field)) {
      const { [field]: _removed, ...rest } = next as Record<string, unknown>;
      next = rest as ChatContentPart;
      stripped.add(field);
    }
  }
  return next;
}

function applyTokenLimit(body: Record<string, unknown>, flavour: OpenAICompatibleFlavour, warnings: ProviderWarning[]): void {
  const limit = body.max_completion_tokens ?? body.max_tokens;
  const other = flavour.tokenLimitField === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens';
  if (body.max_completion_tokens !== undefined && body.max_tokens !== undefined && body.max_completion_tokens !== body.max_tokens) {
    warnings.push({ type: 'approximated-setting', setting: 'max_tokens', message: 'both max_tokens and max_completion_tokens given; max_completion_tokens used' });
  }
  delete body[other];
  if (limit !== undefined) body[flavour.tokenLimitField] = limit;
}

function applyReasoningRestrictions(body: Record<string, unknown>, model: string, flavour: OpenAICompatibleFlavour, warnings: ProviderWarning[]): void {
  if (!flavour.reasoningModelPattern?.test(model)) return;
  for (const field of flavour.reasoningUnsupportedFields) {
    if (body[field] === undefined) continue;
    delete body[field];
    warnings.push({ type: 'unsupported-setting', setting: field, message: `${model} is a reasoning model and does not accept ${field}; removed` });
  }
}

function applyServiceTier(body: Record<string, unknown>, request: ChatRequest, flavour: OpenAICompatibleFlavour, warnings: ProviderWarning[]): void {
  delete body.service_tier;
  if (flavour.serviceTierOverride) {
    body.service_tier = flavour.serviceTierOverride;
    return;
  }
  const requested = request.service_tier;
  if (requested === undefined) return;
  const mapped = flavour.serviceTiers[requested];
  if (typeof mapped === 'string') body.service_tier = mapped;
  else if (mapped === undefined) {
    warnings.push({ type: 'unsupported-setting', setting: 'service_tier', message: `${flavour.flavour} does not offer service_tier ${requested}; served at its default tier` });
  }
}

function applyCacheKey(body: Record<string, unknown>, headers: Record<string, string>, request: ChatRequest, hint: string | undefined,
  flavour: OpenAICompatibleFlavour): void {
  const target = flavour.cacheKeyTarget;
  if (!target) return;
  if (target.kind === 'body') {
    if (request.prompt_cache_key === undefined && hint !== undefined) body[target.field] = hint;
    return;
  }
  const key = request.prompt_cache_key ?? hint;
  if (key !== undefined) headers[target.name] = key;
}

/**
 * Anthropic's `thinking` (an Anthropic Messages client's) is no OpenAI field: a reasoning model gets the
 * nearest `reasoning_effort` (by budget: up to 4,096 tokens low, up to 16,384 medium, more high) unless
 * one was set; any other model runs without it, and a warning says so either way.
 */
function applyThinking(body: Record<string, unknown>, model: string, flavour: OpenAICompatibleFlavour, warnings: ProviderWarning[]): void {
  const thinking = body.thinking as ChatRequest['thinking'];
  if (thinking === undefined) return;
  delete body.thinking;
  if (thinking.type === 'disabled') return;
  if (!flavour.reasoningModelPattern?.test(model)) {
    warnings.push({ type: 'unsupported-setting', setting: 'thinking', message: `${model} has no extended thinking; 'thinking' was dropped.` });
    return;
  }
  if (body.reasoning_effort === undefined) body.reasoning_effort = thinkingAsReasoningEffort(thinking);
  warnings.push({ type: 'approximated-setting', setting: 'thinking', message: `'thinking' was sent as reasoning_effort '${String(body.reasoning_effort)}'.` });
}

/**
 * A loopback Anthropic Messages API: `POST /v1/messages` (JSON and named-event SSE) and
 * `GET /v1/models`, checking `x-api-key` and `anthropic-version` and validating bodies the way
 * Anthropic does, reporting cache reads and writes from the `cache_control` markers it receives,
 * and applying every fault of the emulator kit. Mid-stream `event: error` is scripted per reply.
 */
import { AnthropicBatchEmulation } from './anthropic-batch-emulation';
import type { BatchClock } from './batch-emulation';
import { EmulatorServer, faultHeaders, sendJson, type EmulatorOptions, type ReceivedRequest, type RouteContext } from './emulator-kit';
import { countCacheMarkers, countInputTokens, EmulatedPromptCache } from './anthropic-emulator-cache';
import { anthropicErrorBody, rateLimitHeaders } from './anthropic-emulator-errors';
import { anthropicId, DEFAULT_REPLY_TEXT, redactedThinkingData, renderMessage, renderStreamEvents, signThinking, withRequestedThinking,
  type AnthropicReply } from './anthropic-emulator-replies';

export type { AnthropicReply } from './anthropic-emulator-replies';

/** API versions the emulator accepts: Zumik sends 2023-06-01; the official SDK 1.x sends 2026-10-21. */
export const ANTHROPIC_VERSIONS = new Set(['2023-01-01', '2023-06-01', '2026-10-21']);

export interface AnthropicEmulatorOptions extends EmulatorOptions {
  apiKey: string;
  /** Prefixes shorter than this many (estimated) tokens are not cached, as on Anthropic. Default 1024. */
  minCacheableTokens?: number;
  /** How long Message Batches take (compressed for tests; see `batches`). */
  batchClock?: BatchClock;
}

/** The models `GET /v1/models` lists. */
export const EMULATED_MODELS = ['claude-opus-4-8', 'claude-sonnet-5', 'claude-haiku-4-5-20251001'];

export class AnthropicEmulator extends EmulatorServer {
  readonly cache: EmulatedPromptCache;
  /** Message Batches, with their clock, scripted line failures and batch endings (anthropic-batch-emulation.ts). */
  readonly batches: AnthropicBatchEmulation;
  private readonly apiKey: string;
  private defaultReply: AnthropicReply = {};
  /**
   * A trailing assistant message (prefill): `continue` (Anthropic's documented behaviour: the answer
   * continues that text, so a reply that starts with it sends only the rest), or `reject` (a model
   * that does not take prefill: 400 invalid_request_error).
   */
  prefill: 'continue' | 'reject' = 'continue';
  private readonly queuedReplies: AnthropicReply[] = [];

  constructor(options: AnthropicEmulatorOptions) {
    super(options);
    this.apiKey = options.apiKey;
    this.cache = new EmulatedPromptCache(options.minCacheableTokens ?? 1024);
    this.route('POST', '/v1/messages', (context) => this.messages(context));
    this.route('POST', '/v1/messages/count_tokens', (context) => this.countTokens(context));
    this.route('GET', '/v1/models', (context) => this.models(context));
    this.batches = new AnthropicBatchEmulation(this, {
      nextReply: () => this.queuedReplies.shift() ?? this.defaultReply, account: (params) => this.cache.account(params),
      checkHeaders: (request) => this.checkHeaders(request), validate: validateMessagesBody, baseUrl: () => this.url,
    }, options.batchClock);
  }

  /** The reply for every call that has no queued reply. */
  setReply(reply: AnthropicReply): this {
    this.defaultReply = reply;
    return this;
  }

  /** Replies for the next calls, one per call, before the default one. */
  enqueueReplies(...replies: AnthropicReply[]): this {
    this.queuedReplies.push(...replies);
    return this;
  }

  /** Forget faults, requests, replies and the prompt cache. */
  override reset(): void {
    super.reset();
    this.queuedReplies.length = 0;
    this.defaultReply = {};
    this.prefill = 'continue';
    this.cache.clear();
  }

  /** The Messages bodies received, in order. */
  get messageBodies(): Array<Record<string, unknown>> {
    return this.requests.filter((request) => request.path === '/v1/messages').map((request) => request.body as Record<string, unknown>);
  }

  private async messages({ request, response, fault }: RouteContext): Promise<void> {
    const requestId = anthropicId('req');
    const headers = { 'request-id': requestId, ...rateLimitHeaders() };
    if (fault?.kind === 'status') {
      sendJson(response, fault.status, fault.body ?? anthropicErrorBody(fault.status, undefined, undefined, requestId),
        { 'request-id': requestId, ...rateLimitHeaders(fault.status === 429), ...faultHeaders(fault) });
      return;
    }
    const rejection = this.checkHeaders(request) ?? validateMessagesBody(request.body);
    if (rejection) {
      sendJson(response, rejection.status, anthropicErrorBody(rejection.status, undefined, rejection.message, requestId), headers);
      return;
    }
    const body = request.body as Record<string, unknown>;
    const prefilled = prefillOf(body);
    if (prefilled !== undefined && this.prefill === 'reject') {
      sendJson(response, 400, anthropicErrorBody(400, undefined, 'Prefilling assistant messages is not supported for this model.', requestId), headers);
      return;
    }
    const queued = withRequestedThinking(this.queuedReplies.shift() ?? this.defaultReply, body);
    const reply = prefilled === undefined ? queued : continuedReply(queued, prefilled);
    const input = this.cache.account(body);
    if (body.stream === true) {
      const events = renderStreamEvents(reply, String(body.model), input);
      await this.writeSse(response, events, fault, reply.streamError ? 0 : 1, headers);
      return;
    }
    await this.writeJson(response, 200, renderMessage(reply, String(body.model), input), fault, headers);
  }

  /** The count_tokens bodies received, in order. */
  get countTokensBodies(): Array<Record<string, unknown>> {
    return this.requests.filter((request) => request.path === '/v1/messages/count_tokens').map((request) => request.body as Record<string, unknown>);
  }

  /**
   * `POST /v1/messages/count_tokens` (Anthropic's token counting: free, not an inference): the Messages
   * body without the generation fields, which Anthropic refuses there, answered with `{input_tokens}`.
   */
  private async countTokens({ request, response, fault }: RouteContext): Promise<void> {
    const requestId = anthropicId('req');
    if (fault?.kind === 'status') {
      sendJson(response, fault.status, fault.body ?? anthropicErrorBody(fault.status, undefined, undefined, requestId), { 'request-id': requestId, ...faultHeaders(fault) });
      return;
    }
    const body = request.body as Record<string, unknown>;
    const extra = Object.keys(body ?? {}).find((field) => !COUNT_TOKENS_FIELDS.has(field));
    const rejection = this.checkHeaders(request)
      ?? (extra ? { status: 400, message: `${extra}: Extra inputs are not permitted` } : validateMessagesBody({ max_tokens: 1, ...body }));
    if (rejection) {
      sendJson(response, rejection.status, anthropicErrorBody(rejection.status, undefined, rejection.message, requestId), { 'request-id': requestId });
      return;
    }
    await this.writeJson(response, 200, { input_tokens: countInputTokens(body) }, fault, { 'request-id': requestId });
  }

  private async models({ request, response, fault }: RouteContext): Promise<void> {
    const requestId = anthropicId('req');
    if (fault?.kind === 'status') {
      sendJson(response, fault.status, fault.body ?? anthropicErrorBody(fault.status, undefined, undefined, requestId), { 'request-id': requestId, ...faultHeaders(fault) });
      return;
    }
    const rejection = this.checkHeaders(request);
    if (rejection) {
      sendJson(response, rejection.status, anthropicErrorBody(rejection.status, undefined, rejection.message, requestId), { 'request-id': requestId });
      return;
    }
    const data = EMULATED_MODELS.map((id) => ({
      type: 'model', id, display_name: id.replace(/^claude-/, 'Claude ').replace(/-/g, ' '), created_at: '2026-05-01T00:00:00Z',
      max_input_tokens: 200_000, max_tokens: 64_000, capabilities: null,
    }));
    await this.writeJson(response, 200, { data, has_more: false, first_id: data[0]!.id, last_id: data.at(-1)!.id }, fault, { 'request-id': requestId });
  }

  /** 401 for a missing or wrong key (x-api-key, or a Bearer token), 400 for a missing or unknown anthropic-version. */
  private checkHeaders(request: ReceivedRequest): { status: number; message: string } | undefined {
    const headers = request.headers;
    const bearer = /^Bearer (.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    const key = headers['x-api-key'] ?? bearer;
    if (key !== this.apiKey) return { status: 401, message: 'invalid x-api-key' };
    const version = headers['anthropic-version'];
    if (version === undefined) return { status: 400, message: 'anthropic-version: header is required' };
    if (!ANTHROPIC_VERSIONS.has(String(version))) return { status: 400, message: `anthropic-version: invalid version '${String(version)}'` };
    return undefined;
  }
}

/** The fields `count_tokens` takes (Anthropic's MessageCountTokensParams); anything else is a 400. */
const COUNT_TOKENS_FIELDS = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'cache_control', 'context_management', 'mcp_servers']);

/** Anthropic's 400s for a Messages body: required fields, roles, the 4-breakpoint limit, temperature with top_p. */
export function validateMessagesBody(body: unknown): { status: number; message: string } | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { status: 400, message: 'Request body must be a JSON object' };
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model.length === 0) return { status: 400, message: 'model: Field required' };
  if (fields.max_tokens === undefined) return { status: 400, message: 'max_tokens: Field required' };
  if (!Number.isInteger(fields.max_tokens) || (fields.max_tokens as number) < 0) return { status: 400, message: 'max_tokens: Input should be a valid integer' };
  if (fields.messages === undefined) return { status: 400, message: 'messages: Field required' };
  if (!Array.isArray(fields.messages)) return { status: 400, message: 'messages: Input should be a valid list' };
  for (const [index, message] of (fields.messages as Array<Record<string, unknown>>).entries()) {
    if (!['user', 'assistant', 'system'].includes(String(message?.role))) {
      return { status: 400, message: `messages.${index}.role: Input should be 'user' or 'assistant'` };
    }
  }
  const prefill = prefillOf(fields);
  if (prefill !== undefined && prefill !== prefill.trimEnd()) {
    return { status: 400, message: 'messages: final assistant content cannot end with trailing whitespace' };
  }
  const thinking = checkThinkingBlocks(fields);
  if (thinking) return { status: 400, message: thinking };
  const markers = countCacheMarkers(fields);
  if (markers > 4) return { status: 400, message: `A maximum of 4 blocks with cache_control may be provided. Found ${markers}.` };
  if (fields.temperature !== undefined && fields.top_p !== undefined) {
    return { status: 400, message: '`temperature` and `top_p` cannot both be specified for this model. Please use only one.' };
  }
  return undefined;
}

/**
 * Anthropic's checks on thinking given back: every thinking block must carry the signature it was
 * sent with (text and signature untouched), redacted thinking its data, and with thinking enabled an
 * assistant turn that ends in tool use must start with its thinking (the tool-use loop's rule).
 */
function checkThinkingBlocks(fields: Record<string, unknown>): string | undefined {
  const messages = fields.messages as Array<{ role?: string; content?: unknown }>;
  const enabled = ['enabled', 'adaptive'].includes(String((fields.thinking as { type?: string } | undefined)?.type));
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'assistant' || !Array.isArray(message.content)) continue;
    const blocks = message.content as Array<Record<string, unknown>>;
    for (const [at, block] of blocks.entries()) {
      if (block.type === 'thinking' && (typeof block.thinking !== 'string' || block.signature !== signThinking(block.thinking))) {
        return `messages.${index}.content.${at}: Invalid \`signature\` in \`thinking\` block`;
      }
      if (block.type === 'redacted_thinking' && (typeof block.data !== 'string' || !block.data.startsWith(redactedThinkingData('')))) {
        return `messages.${index}.content.${at}: Invalid \`data\` in \`redacted_thinking\` block`;
      }
    }
    const last = index === messages.length - 1 || (index === messages.length - 2 && messages.at(-1)?.role === 'user');
    if (enabled && last && blocks.some((block) => block.type === 'tool_use') && !['thinking', 'redacted_thinking'].includes(String(blocks[0]?.type))) {
      return `messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(blocks[0]?.type)}\`. When \`thinking\` is enabled, `
        + 'a final `assistant` message must start with a thinking block.';
    }
  }
  return undefined;
}

/** The text of a trailing assistant message (the prefill the answer must continue), if the body ends with one. */
function prefillOf(body: Record<string, unknown>): string | undefined {
  const last = (body.messages as Array<{ role?: string; content?: unknown }> | undefined)?.at(-1);
  if (last?.role !== 'assistant') return undefined;
  if (typeof last.content === 'string') return last.content;
  if (!Array.isArray(last.content)) return undefined;
  return (last.content as Array<{ type?: string; text?: string }>).filter((block) => block.type === 'text').map((block) => block.text ?? '').join('');
}

/** The reply as a continuation of `prefill`: a text that starts with it goes on from its end. */
function continuedReply(reply: AnthropicReply, prefill: string): AnthropicReply {
  const text = reply.text ?? (reply.toolUses?.length || reply.refusal || reply.thinking ? undefined : DEFAULT_REPLY_TEXT);
  if (text === undefined || !text.startsWith(prefill)) return reply;
  return { ...reply, text: text.slice(prefill.length) };
}

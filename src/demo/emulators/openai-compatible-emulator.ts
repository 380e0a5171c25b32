/**
 * A real HTTP server that speaks like OpenAI, xAI, Fireworks, OpenRouter, a BYOC OpenAI-compatible
 * endpoint (vLLM/Dynamo behind an endpoint picker) or a Bifrost gateway (virtual key in `x-bf-vk`,
 * `provider/model` names, its own error envelope): each flavour's path prefix, bearer auth with the
 * provider's own 401 body, `GET …/models`, JSON and SSE answers shaped after recorded fixtures, rate-
 * limit headers, and every fault of the emulator kit. Every stream ends with `data: [DONE]` (the terminal
 * event `no-terminal` drops, leaving a complete answer: finish chunk, usage chunk, then the end or silence).
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { BatchClock } from './batch-emulation';
import { EmulatorServer, faultHeaders, sendJson, type EmulatorOptions, type RouteContext } from './emulator-kit';
import { openAIEmbeddingsAnswer } from './embeddings-emulation';
import { OpenAIBatchEmulation } from './openai-batch-emulation';
import {
  completionBody, DEFAULT_REPLY, responseId, servedTier, streamPayloads, type AnswerContext, type EmulatorReply,
  type OpenAICompatibleEmulatorFlavour,
} from './openai-compatible-emulator-bodies';
import { authErrorBody, bifrostError, reasoningLegacyParameterError, statusErrorBody } from './openai-compatible-emulator-errors';
import { XaiBatchEmulation } from './xai-batch-emulation';

export type { EmulatorReply, OpenAICompatibleEmulatorFlavour } from './openai-compatible-emulator-bodies';
export { CONTEXT_LENGTH_BODY, INSUFFICIENT_QUOTA_BODY } from './openai-compatible-emulator-errors';

export interface OpenAICompatibleEmulatorOptions extends EmulatorOptions {
  flavour: OpenAICompatibleEmulatorFlavour;
  apiKey: string;
  /** Model ids listed by `GET …/models`. */
  models?: string[];
  /** Flavour `openai`: how long batch jobs take (compressed for tests; see `batches`). */
  batchClock?: BatchClock;
  /** Per call: parts of the reply that depend on the request (e.g. a text unique to each call, to trace answers). */
  replyFor?: (body: Record<string, unknown>, callNumber: number) => Partial<EmulatorReply>;
}

const PATH_PREFIXES: Record<OpenAICompatibleEmulatorFlavour, string> = {
  openai: '/v1', xai: '/v1', fireworks: '/inference/v1', openrouter: '/api/v1', byoc: '/v1', bifrost: '/v1',
};
const OWNERS: Record<OpenAICompatibleEmulatorFlavour, string> = {
  openai: 'openai', xai: 'xai', fireworks: 'fireworks', openrouter: 'openrouter', byoc: 'vllm', bifrost: 'bifrost',
};
const OPENAI_REASONING_MODEL = /^(o\d|gpt-5(?!.*-chat))/;

export class OpenAICompatibleEmulator extends EmulatorServer {
  readonly flavour: OpenAICompatibleEmulatorFlavour;
  /** The path before `/chat/completions`, e.g. `/inference/v1`; `url + pathPrefix` is an adapter's base URL. */
  readonly pathPrefix: string;
  private reply: EmulatorReply = { ...DEFAULT_REPLY };
  /** Flavour `openai`: the Files and Batch API, with its clock, scripted line failures and job endings (openai-batch-emulation.ts). */
  readonly batches: OpenAIBatchEmulation;
  /** Flavour `xai`: xAI's native Batch API (xai-batch-emulation.ts), with the same clock and scripts. */
  readonly xaiBatches: XaiBatchEmulation;
  private readonly apiKey: string;
  private readonly models: string[];
  private readonly replyFor?: OpenAICompatibleEmulatorOptions['replyFor'];
  private calls = 0;

  constructor(options: OpenAICompatibleEmulatorOptions) {
    super(options);
    this.flavour = options.flavour;
    this.apiKey = options.apiKey;
    this.pathPrefix = PATH_PREFIXES[options.flavour];
    this.models = options.models ?? ['emulated-model'];
    this.replyFor = options.replyFor;
    this.route('POST', `${this.pathPrefix}/chat/completions`, (context) => this.chatCompletions(context));
    this.route('GET', `${this.pathPrefix}/models`, (context) => this.listModels(context));
    this.route('POST', `${this.pathPrefix}/embeddings`, (context) => this.embeddings(context));
    this.batches = new OpenAIBatchEmulation(this.flavour === 'openai' ? this : undefined, this.pathPrefix, {
      reply: () => this.reply,
      authError: (headers) => { const wrong = this.authorized(headers); return wrong === undefined ? undefined : authErrorBody(this.flavour, wrong); },
      headers: () => this.headers(),
    }, options.batchClock);
    this.xaiBatches = new XaiBatchEmulation(this.flavour === 'xai' ? this : undefined, {
      reply: () => this.reply,
      authError: (headers) => { const wrong = this.authorized(headers); return wrong === undefined ? undefined : authErrorBody(this.flavour, wrong); },
      headers: () => this.headers(),
    }, options.batchClock);
  }

  /** The base URL an adapter or SDK is configured with. */
  get baseUrl(): string {
    return `${this.url}${this.pathPrefix}`;
  }

  /** Replace parts of the reply for the next calls (until `resetReply`). */
  setReply(reply: Partial<EmulatorReply>): this {
    this.reply = { ...this.reply, ...reply };
    return this;
  }

  resetReply(): this {
    this.reply = { ...DEFAULT_REPLY };
    return this;
  }

  /** The presented key when it is wrong (empty when none), undefined when right. Bifrost: the virtual key in `x-bf-vk`. */
  private authorized(request: http.IncomingHttpHeaders): string | undefined {
    const bifrostKey = request['x-bf-vk'];
    const presented = this.flavour === 'bifrost' ? (typeof bifrostKey === 'string' ? bifrostKey : '')
      : /^Bearer (.+)$/.exec(request.authorization ?? '')?.[1] ?? '';
    return presented === this.apiKey ? undefined : presented;
  }

  private listModels({ request, response }: RouteContext): void {
    const wrong = this.authorized(request.headers);
    if (wrong !== undefined) return sendJson(response, 401, authErrorBody(this.flavour, wrong), this.headers());
    sendJson(response, 200, { object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 1_686_935_002, owned_by: OWNERS[this.flavour] })) });
  }

  private async chatCompletions({ request, response, fault }: RouteContext): Promise<void> {
    const wrong = this.authorized(request.headers);
    if (wrong !== undefined) return sendJson(response, 401, authErrorBody(this.flavour, wrong), this.headers());
    if (fault?.kind === 'status') {
      const body = fault.body ?? statusErrorBody(this.flavour, fault.status);
      return this.sendError(response, fault.status, body, { ...this.headers(fault.status), ...faultHeaders(fault) });
    }
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const requested = typeof body.model === 'string' ? body.model : 'emulated-model';
    // Bifrost routes on `provider/model` and answers with the provider's own model name.
    const slash = requested.indexOf('/');
    if (this.flavour === 'bifrost' && slash <= 0) {
      return sendJson(response, 400, bifrostError(400, 'invalid_request_error', `model should be in provider/model format, got ${requested}`), this.headers());
    }
    const model = this.flavour === 'bifrost' ? requested.slice(slash + 1) : requested;
    if (this.flavour === 'openai' && OPENAI_REASONING_MODEL.test(model)) {
      if (body.max_tokens !== undefined) return sendJson(response, 400, reasoningLegacyParameterError(), this.headers());
      if (body.temperature !== undefined && body.temperature !== 1) {
        return sendJson(response, 400, { error: { message: `Unsupported value: 'temperature' does not support ${String(body.temperature)} with this model. Only the default (1) value is supported.`,
          type: 'invalid_request_error', param: 'temperature', code: 'unsupported_value' } }, this.headers());
      }
    }
    const streamOptions = (body.stream_options ?? {}) as { include_usage?: boolean; include_obfuscation?: boolean };
    this.calls += 1;
    const reply = this.replyFor ? { ...this.reply, ...this.replyFor(body, this.calls) } : this.reply;
    const context: AnswerContext = {
      flavour: this.flavour, reply, id: responseId(this.flavour), created: Math.floor(Date.now() / 1000),
      model: reply.model ?? model, serviceTier: servedTier(this.flavour, body.service_tier, reply),
      includeUsage: streamOptions.include_usage === true, includeObfuscation: streamOptions.include_obfuscation !== false,
    };
    const headers = { ...this.headers(), ...(this.flavour === 'openrouter' ? { 'x-generation-id': context.id } : {}) };
    if (body.stream === true) {
      await this.writeSse(response, streamPayloads(context).map((data) => ({ data })), fault, 1, headers);
      return;
    }
    await this.writeJson(response, 200, completionBody(context), fault, headers);
  }

  /** `POST …/embeddings`: deterministic vectors in OpenAI's format (embeddings-emulation.ts), and the kit's status faults. */
  private async embeddings({ request, response, fault }: RouteContext): Promise<void> {
    const wrong = this.authorized(request.headers);
    if (wrong !== undefined) return sendJson(response, 401, authErrorBody(this.flavour, wrong), this.headers());
    if (fault?.kind === 'status') {
      return this.sendError(response, fault.status, fault.body ?? statusErrorBody(this.flavour, fault.status), { ...this.headers(fault.status), ...faultHeaders(fault) });
    }
    const answer = openAIEmbeddingsAnswer((typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>);
    await this.writeJson(response, answer.status, answer.body, fault, this.headers());
  }

  private sendError(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    if (typeof body !== 'string') return sendJson(response, status, body, headers);
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    response.end(body);
  }

  /** The request id and rate-limit headers each provider sends (exhausted on a 429). */
  private headers(status?: number): Record<string, string> {
    const exhausted = status === 429;
    const requestId = { 'x-request-id': `req_${randomBytes(12).toString('hex')}` };
    if (this.flavour === 'fireworks') {
      return { ...requestId, 'x-ratelimit-limit-tokens-prompt': '60000', 'x-ratelimit-limit-tokens-generated': '12000',
        'x-ratelimit-remaining-requests': exhausted ? '0' : '599' };
    }
    if (this.flavour === 'byoc') return requestId;
    return { ...requestId, 'x-ratelimit-limit-requests': '10000', 'x-ratelimit-limit-tokens': '2000000',
      'x-ratelimit-remaining-requests': exhausted ? '0' : '9999', 'x-ratelimit-remaining-tokens': exhausted ? '0' : '1999950',
      'x-ratelimit-reset-requests': exhausted ? '6s' : '6ms', 'x-ratelimit-reset-tokens': exhausted ? '1m0s' : '1ms' };
  }
}

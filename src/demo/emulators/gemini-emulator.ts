/**
 * A real HTTP server that speaks like the Gemini Developer API: `POST /v1beta/models/{model}:generateContent`
 * and `:streamGenerateContent?alt=sse` (each event `data: {chunk}` + a blank line, CRLF by default, no
 * `[DONE]`), `GET /v1beta/models`, key check on `x-goog-api-key` with Google's own error bodies, and
 * every fault of the emulator kit. For `no-terminal` the chunk carrying `finishReason` is the terminal
 * event, so that fault ends the stream cleanly without it.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { BatchClock } from './batch-emulation';
import { EmulatorServer, faultHeaders, sendJson, type EmulatorOptions, type Fault, type RouteContext } from './emulator-kit';
import { geminiEmbeddingsAnswer } from './embeddings-emulation';
import { GeminiBatchEmulation } from './gemini-batch-emulation';
import { API_KEY_INVALID_BODY, generateContentBody, googleErrorBody, MISSING_KEY_BODY, streamChunks, type GeminiReply } from './gemini-emulator-bodies';

export type { GeminiReply } from './gemini-emulator-bodies';
export { API_KEY_INVALID_BODY, googleErrorBody, THOUGHT_SIGNATURE } from './gemini-emulator-bodies';

export interface GeminiEmulatorOptions extends EmulatorOptions {
  apiKey: string;
  reply?: GeminiReply;
  /** Known model ids; others get Google's 404 NOT_FOUND. */
  models?: string[];
  /** SSE event terminator: `\r\n` (default, as the real endpoint) or `\n`. */
  lineEnding?: '\r\n' | '\n';
  /** How long batch jobs take (compressed for tests; see `batches`). */
  batchClock?: BatchClock;
}

const DEFAULT_MODELS = ['gemini-3.5-flash', 'gemini-3-pro-preview', 'gemini-2.5-flash', 'gemini-2.5-pro'];
/** Top-level request fields the real API accepts (it answers 400 "Unknown name" for others). */
const REQUEST_FIELDS = new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'safetySettings', 'cachedContent', 'generationConfig', 'serviceTier', 'labels', 'model']);

export class GeminiEmulator extends EmulatorServer {
  reply: GeminiReply;
  /** Batch mode, with its clock, scripted line failures, job endings and output mode (gemini-batch-emulation.ts). */
  readonly batches: GeminiBatchEmulation;
  private readonly apiKey: string;
  private readonly models: string[];
  private readonly lineEnding: '\r\n' | '\n';

  constructor(options: GeminiEmulatorOptions) {
    super(options);
    this.apiKey = options.apiKey;
    this.reply = options.reply ?? {};
    this.models = options.models ?? DEFAULT_MODELS;
    this.lineEnding = options.lineEnding ?? '\r\n';
    this.route('GET', '/v1beta/models', (context) => this.listModels(context));
    // The kit captures `:name` segments, so the whole `{model}:{method}` segment is captured and split here.
    this.route('POST', '/v1beta/models/:target', (context) => this.generate(context));
    this.batches = new GeminiBatchEmulation(this, {
      reply: () => this.reply, checkKey: ({ request, response }) => this.checkKey(request.headers, request.query, response),
      knowsModel: (model) => this.models.includes(model), validate: validateBody,
    }, options.batchClock);
  }

  /** Script the next answers (until changed). */
  setReply(reply: GeminiReply): this {
    this.reply = reply;
    return this;
  }

  private listModels({ request, response, fault }: RouteContext): void {
    if (fault?.kind === 'status') return this.sendFault(response, fault);
    if (!this.checkKey(request.headers, request.query, response)) return;
    sendJson(response, 200, {
      models: this.models.map((id) => ({
        name: `models/${id}`, version: '001', displayName: id, inputTokenLimit: 1_048_576, outputTokenLimit: 65_536,
        supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'], thinking: true,
      })),
    });
  }

  private async generate({ request, response, fault, params }: RouteContext): Promise<void> {
    const separator = params.target!.lastIndexOf(':');
    const model = params.target!.slice(0, separator);
    const method = params.target!.slice(separator + 1);
    if (separator >= 0 && method === 'batchGenerateContent') return this.batches.create({ request, response, fault, params }, model);
    if (separator >= 0 && (method === 'batchEmbedContents' || method === 'embedContent')) return this.embed({ request, response, fault, params }, model, method);
    if (separator < 0 || (method !== 'generateContent' && method !== 'streamGenerateContent')) {
      return sendJson(response, 404, googleErrorBody(404, `Method not found: ${params.target}`));
    }
    if (fault?.kind === 'status') return this.sendFault(response, fault);
    if (!this.checkKey(request.headers, request.query, response)) return;
    if (!this.models.includes(model)) {
      return sendJson(response, 404, googleErrorBody(404, `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`));
    }
    const invalid = validateBody(request.body);
    if (invalid) return sendJson(response, 400, googleErrorBody(400, invalid));

    const responseId = randomBytes(12).toString('base64url');
    const requestedTier = (request.body as { serviceTier?: string }).serviceTier;
    const tier = this.reply.servedTier ?? requestedTier;
    const headers: Record<string, string> = tier ? { 'x-gemini-service-tier': tier } : {};
    if (method === 'generateContent') return this.answerJson(response, generateContentBody(this.reply, model, responseId), fault, headers);
    const chunks = streamChunks(this.reply, model, responseId);
    if (request.query.get('alt') !== 'sse') return this.writeJson(response, 200, chunks, fault, headers);
    return this.writeGeminiSse(response, chunks, fault, headers);
  }

  /** `:batchEmbedContents` / `:embedContent` on an embedding model (any model id with `embedding` in it): deterministic vectors. */
  private async embed({ request, response, fault }: RouteContext, model: string, method: 'batchEmbedContents' | 'embedContent'): Promise<void> {
    if (fault?.kind === 'status') return this.sendFault(response, fault);
    if (!this.checkKey(request.headers, request.query, response)) return;
    if (!model.includes('embedding')) {
      return sendJson(response, 404, googleErrorBody(404, `models/${model} is not found for API version v1beta, or is not supported for ${method}.`));
    }
    const answer = geminiEmbeddingsAnswer(model, method, request.body);
    if (answer.status !== 200) return sendJson(response, answer.status, googleErrorBody(answer.status, answer.message));
    return this.writeJson(response, 200, answer.body, fault, {});
  }

  /** Accepts the key in `x-goog-api-key` (or the `key` query the real API also honours); answers Google's bodies otherwise. */
  private checkKey(headers: http.IncomingHttpHeaders, query: URLSearchParams, response: http.ServerResponse): boolean {
    const key = headers['x-goog-api-key'] ?? query.get('key') ?? undefined;
    if (key === undefined || key === '') { sendJson(response, 403, MISSING_KEY_BODY); return false; }
    if (key !== this.apiKey) { sendJson(response, 400, API_KEY_INVALID_BODY); return false; }
    return true;
  }

  private sendFault(response: http.ServerResponse, fault: Extract<Fault, { kind: 'status' }>): void {
    sendJson(response, fault.status, fault.body ?? googleErrorBody(fault.status, undefined, fault.retryAfterSeconds), faultHeaders(fault));
  }

  /** JSON answer; stream faults are mirrored on the body (cut/stall mid-body, malformed JSON, no finishReason). */
  private async answerJson(response: http.ServerResponse, body: unknown, fault: Fault | undefined, headers: Record<string, string>): Promise<void> {
    const text = JSON.stringify(body);
    if (fault?.kind === 'cut' || fault?.kind === 'stall' || fault?.kind === 'malformed') {
      response.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      response.write(text.slice(0, Math.floor(text.length / 2)));
      if (fault.kind === 'cut') response.socket?.destroy();
      if (fault.kind === 'malformed') response.end();
      return;
    }
    if (fault?.kind === 'no-terminal') return this.writeJson(response, 200, withoutFinishReasons(body), fault, headers);
    return this.writeJson(response, 200, body, fault, headers);
  }

  /** SSE with the kit's fault semantics, Gemini's line endings, and the finishReason chunk as the terminal event. */
  private async writeGeminiSse(response: http.ServerResponse, chunks: unknown[], fault: Fault | undefined, headers: Record<string, string>): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
    response.flushHeaders();
    const end = this.lineEnding + this.lineEnding;
    const frames = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}${end}`);
    await this.writeSseFrames(response, frames, fault, { terminal: 1, malformed: `data: {"candidates": [{"content"${end}` });
  }
}

/** The same validation the real API applies first: known fields, alternating roles with non-empty parts. */
function validateBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Invalid JSON payload received.';
  const unknown = Object.keys(body).find((key) => !REQUEST_FIELDS.has(key));
  if (unknown) return `Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`;
  const contents = (body as { contents?: unknown }).contents;
  if (!Array.isArray(contents) || contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  for (const [index, content] of contents.entries()) {
    const { role, parts } = (content ?? {}) as { role?: unknown; parts?: unknown };
    if (role !== undefined && role !== 'user' && role !== 'model') return `Please use a valid role: user, model. (contents[${index}])`;
    if (!Array.isArray(parts) || parts.length === 0) return `* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.`;
  }
  return undefined;
}

function withoutFinishReasons(body: unknown): unknown {
  const copy = structuredClone(body) as { candidates?: Array<{ finishReason?: string }> };
  for (const candidate of copy.candidates ?? []) delete candidate.finishReason;
  return copy;
}

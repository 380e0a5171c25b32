/**
 * The Google Gemini (Developer API) adapter: OpenAI chat requests in, `generateContent` /
 * `streamGenerateContent?alt=sse` out, answers and failures back in Zumik's provider-neutral shapes.
 * The key travels only in the `x-goog-api-key` header, never in the URL, and never in a message.
 */
import type { Dispatcher } from 'undici';
import { ProviderError } from '../provider-error';
import { AnswerCompletion, readSseEvents } from '../sse-reader';
import type { EmbeddingsAdapter, ProviderAdapter, ProviderCallOptions } from '../types';
import type { ChatRequest, ChatResult, StreamPart } from '../../contract/chat';
import type { EmbeddingsRequest, EmbeddingsResult } from '../../contract/embeddings';
import { readBodyText, sendUpstream, type UpstreamResponse } from '../upstream-http';
import { convertGeminiResponse } from './convert-gemini-response';
import { convertToGeminiRequest } from './convert-to-gemini-request';
import { startCallSignal } from './gemini-call-signal';
import { embedGemini } from './gemini-embeddings';
import { GEMINI_PROVIDER, geminiErrorFromBody, geminiErrorFromText, parseGeminiErrorBody } from './gemini-error';
import { geminiResponseSchema } from './gemini-response-schema';
import { readGeminiBody } from './gemini-read-body';
import { convertGeminiStream } from './gemini-stream';

export interface GeminiAdapterOptions {
  /** Origin of the API, e.g. `https://generativelanguage.googleapis.com` (tests: a loopback emulator). */
  baseUrl: string;
  dispatcher: Dispatcher;
  /** API version path segment; `v1beta` carries every field Zumik sends (thinking, serviceTier). */
  apiVersion?: string;
}

/** Served-tier echo header (PROVIDERS.md §3.6): a priority request may be downgraded to `standard`. */
const SERVED_TIER_HEADER = 'x-gemini-service-tier';

/** Constructed once per base URL (region) and shared; every call passes its own key and model. */
export class GeminiAdapter implements ProviderAdapter, EmbeddingsAdapter {
  readonly provider = GEMINI_PROVIDER;
  private readonly baseUrl: string;
  private readonly apiVersion: string;
  private readonly dispatcher: Dispatcher;

  constructor(options: GeminiAdapterOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiVersion = options.apiVersion ?? 'v1beta';
    this.dispatcher = options.dispatcher;
  }

  async generate(request: ChatRequest, options: ProviderCallOptions): Promise<ChatResult> {
    const { body, warnings } = convertToGeminiRequest(request, options.model);
    const call = startCallSignal(options.signal, options.timeouts?.totalMs);
    try {
      const response = await this.send(options, 'generateContent', body, call.signal, false);
      const text = await readGeminiBody(response, options.timeouts?.firstTokenMs, call.signal);
      if (!isSuccess(response)) throw geminiErrorFromText(text, { status: response.status, headers: response.headers, apiKey: options.credential.apiKey });
      const json = parseJsonBody(text);
      const errorBody = parseGeminiErrorBody(json);
      if (errorBody) throw geminiErrorFromBody(errorBody, { status: errorBody.error.code ?? response.status, headers: response.headers, apiKey: options.credential.apiKey });
      const parsed = geminiResponseSchema.safeParse(json);
      if (!parsed.success) throw badResponse('the answer is not a GenerateContentResponse');
      return convertGeminiResponse(parsed.data, {
        model: options.model, created: nowSeconds(), warnings, servedTierHeader: response.headers[SERVED_TIER_HEADER],
      });
    } catch (error) {
      throw call.translate(error);
    } finally {
      call.dispose();
    }
  }

  async *stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamPart> {
    const { body, warnings } = convertToGeminiRequest(request, options.model);
    const call = startCallSignal(options.signal, options.timeouts?.totalMs);
    try {
      const response = await this.send(options, 'streamGenerateContent?alt=sse', body, call.signal, true);
      if (!isSuccess(response)) {
        const text = await readBodyText(response, GEMINI_PROVIDER, call.signal);
        throw geminiErrorFromText(text, { status: response.status, headers: response.headers, apiKey: options.credential.apiKey });
      }
      const completion = new AnswerCompletion(options.timeouts?.finishGraceMs);
      const events = readSseEvents(response, GEMINI_PROVIDER, { signal: call.signal, timeouts: options.timeouts, completion });
      yield* convertGeminiStream(events, {
        model: options.model, created: nowSeconds(), warnings, servedTierHeader: response.headers[SERVED_TIER_HEADER],
        apiKey: options.credential.apiKey, completion,
      });
    } catch (error) {
      throw call.translate(error);
    } finally {
      call.dispose();
    }
  }

  /** `batchEmbedContents`, 100 inputs a call (gemini-embeddings.ts). */
  async embed(request: EmbeddingsRequest, options: ProviderCallOptions): Promise<EmbeddingsResult> {
    const call = startCallSignal(options.signal, options.timeouts?.totalMs);
    try {
      return await embedGemini((method, body, signal) => this.send(options, method, body, signal, false), request, options, call.signal);
    } catch (error) {
      const translated = call.translate(error);
      if (translated instanceof ProviderError) throw translated;
      throw badResponse((error as Error).message, error);
    } finally {
      call.dispose();
    }
  }

  private send(options: ProviderCallOptions, method: string, body: unknown, signal: AbortSignal, streaming: boolean): Promise<UpstreamResponse> {
    const model = encodeURIComponent(options.model.replace(/^models\//, ''));
    return sendUpstream({
      provider: GEMINI_PROVIDER,
      url: `${this.baseUrl}/${this.apiVersion}/models/${model}:${method}`,
      // The caller's extra headers first, so none of them can replace the credential header.
      headers: { ...options.headers, 'x-goog-api-key': options.credential.apiKey },
      body,
      dispatcher: this.dispatcher,
      signal,
      timeouts: options.timeouts,
      streaming,
    });
  }
}

function isSuccess(response: UpstreamResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badResponse('the answer is not JSON', error);
  }
}

function badResponse(message: string, cause?: unknown): ProviderError {
  return new ProviderError(`${GEMINI_PROVIDER}: ${message}`, { kind: 'bad_response', provider: GEMINI_PROVIDER }, { cause });
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * The one adapter for every OpenAI-compatible provider (OpenAI, xAI, Fireworks, OpenRouter, BYOC
 * endpoints, subscriptions): the flavour decides the request quirks, usage and error meanings; the
 * base URL and dispatcher are injected so that one region is one pool and tests use emulators.
 */
import type { Dispatcher } from 'undici';
import { CallDeadline } from '../call-deadline';
import { ProviderError } from '../provider-error';
import { AnswerCompletion, readSseEvents } from '../sse-reader';
import type { EmbeddingsAdapter, ProviderAdapter, ProviderCallOptions } from '../types';
import type { ChatRequest, ChatResult, StreamPart } from '../../contract/chat';
import type { EmbeddingsRequest, EmbeddingsResult } from '../../contract/embeddings';
import { readBodyText, sendUpstream, type UpstreamResponse } from '../upstream-http';
import { embedOpenAICompatible } from './openai-compatible-embeddings';
import { convertOpenAICompatibleResponse } from './convert-openai-compatible-response';
import { convertToOpenAICompatibleRequest, type OpenAICompatibleUpstreamRequest } from './convert-to-openai-compatible-request';
import { openAICompatibleResponseSchema } from './openai-compatible-api';
import { openAICompatibleFailure, pickRequestId } from './openai-compatible-error';
import { resolveFlavour, type OpenAICompatibleFlavour, type OpenAICompatibleFlavourName } from './openai-compatible-flavours';
import { parseOpenAICompatibleStream } from './openai-compatible-stream';

export interface OpenAICompatibleAdapterOptions extends Partial<Omit<OpenAICompatibleFlavour, 'flavour'>> {
  /** The name failures and records carry (`openai`, `xai`, a BYOC endpoint id, …). */
  provider: string;
  flavour: OpenAICompatibleFlavourName;
  /** Everything before `/chat/completions`, e.g. `https://api.fireworks.ai/inference/v1`. */
  baseUrl: string;
  dispatcher: Dispatcher;
}

export class OpenAICompatibleAdapter implements ProviderAdapter, EmbeddingsAdapter {
  readonly provider: string;
  readonly flavour: OpenAICompatibleFlavour;
  private readonly url: string;
  private readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;

  constructor(options: OpenAICompatibleAdapterOptions) {
    const { provider, baseUrl, dispatcher, ...flavour } = options;
    this.provider = provider;
    this.flavour = resolveFlavour(flavour);
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.url = `${this.baseUrl}/chat/completions`;
    this.dispatcher = dispatcher;
  }

  async generate(request: ChatRequest, options: ProviderCallOptions): Promise<ChatResult> {
    const upstream = convertToOpenAICompatibleRequest(request, options, this.flavour, false);
    const deadline = new CallDeadline(options.signal, options.timeouts);
    try {
      const response = await deadline.within('headers', deadline.timeouts.headersMs, this.send(upstream, options, deadline.signal, false), this.provider);
      const text = await deadline.within('first_token', deadline.timeouts.firstTokenMs, readBodyText(response, this.provider, deadline.signal), this.provider);
      const body = this.parseJson(text, response.status);
      if (response.status >= 400 || isErrorBody(body)) throw this.failure(response, body, options);
      const parsed = openAICompatibleResponseSchema.safeParse(body);
      if (!parsed.success) {
        throw new ProviderError(`${this.provider}: the answer is not a chat.completion`, { kind: 'bad_response', provider: this.provider, status: response.status });
      }
      return convertOpenAICompatibleResponse(parsed.data, {
        flavour: this.flavour, model: options.model, warnings: upstream.warnings,
        providerRequestId: pickRequestId(response.headers, this.flavour.requestIdHeaders),
      });
    } catch (error) {
      throw deadline.translate(error, this.provider);
    } finally {
      deadline.dispose();
    }
  }

  async *stream(request: ChatRequest, options: ProviderCallOptions): AsyncGenerator<StreamPart> {
    const upstream = convertToOpenAICompatibleRequest(request, options, this.flavour, true);
    const deadline = new CallDeadline(options.signal, options.timeouts);
    try {
      const response = await deadline.within('headers', deadline.timeouts.headersMs, this.send(upstream, options, deadline.signal, true), this.provider);
      if (response.status >= 400 || (response.headers['content-type'] ?? '').includes('application/json')) {
        // An error answer, or a JSON body where a stream was asked for (bridges report some errors that way).
        const body = this.parseJson(await readBodyText(response, this.provider, deadline.signal), response.status);
        if (response.status >= 400 || isErrorBody(body)) throw this.failure(response, body, options);
        throw new ProviderError(`${this.provider}: expected an event stream`, { kind: 'bad_response', provider: this.provider, status: response.status });
      }
      yield { type: 'stream-start', providerRequestId: pickRequestId(response.headers, this.flavour.requestIdHeaders), warnings: upstream.warnings };
      const completion = new AnswerCompletion(options.timeouts?.finishGraceMs);
      const events = readSseEvents(response, this.provider, { signal: deadline.signal, timeouts: options.timeouts, completion });
      yield* parseOpenAICompatibleStream(events, { provider: this.provider, flavour: this.flavour, apiKey: options.credential.apiKey, completion });
    } catch (error) {
      throw deadline.translate(error, this.provider);
    } finally {
      deadline.dispose();
    }
  }

  /** `POST …/embeddings`, batched (openai-compatible-embeddings.ts). */
  embed(request: EmbeddingsRequest, options: ProviderCallOptions): Promise<EmbeddingsResult> {
    return embedOpenAICompatible({ provider: this.provider, flavour: this.flavour, baseUrl: this.baseUrl, dispatcher: this.dispatcher }, request, options);
  }

  private send(upstream: OpenAICompatibleUpstreamRequest, options: ProviderCallOptions, signal: AbortSignal, streaming: boolean): Promise<UpstreamResponse> {
    return sendUpstream({
      provider: this.provider,
      url: this.url,
      headers: {
        // Caller headers never carry credentials: an `Authorization` (or the flavour's credential header) among them is dropped, ours is the only one.
        ...Object.fromEntries(Object.entries(options.headers ?? {}).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())
          && name.toLowerCase() !== this.flavour.credentialHeader)),
        ...this.flavour.staticHeaders,
        ...upstream.headers,
        accept: streaming ? 'text/event-stream' : 'application/json',
        ...(this.flavour.credentialHeader ? { [this.flavour.credentialHeader]: options.credential.apiKey } : { authorization: `Bearer ${options.credential.apiKey}` }),
      },
      body: upstream.body,
      dispatcher: this.dispatcher,
      signal,
      timeouts: options.timeouts,
      streaming,
    });
  }

  /** Error bodies may be plain text (an endpoint picker's 429); success bodies must be JSON. */
  private parseJson(text: string, status: number): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      if (status >= 400) return text;
      throw new ProviderError(`${this.provider}: the answer is not JSON`, { kind: 'bad_response', provider: this.provider, status }, { cause: error });
    }
  }

  private failure(response: UpstreamResponse, body: unknown, options: ProviderCallOptions): ProviderError {
    return openAICompatibleFailure({ provider: this.provider, flavour: this.flavour, apiKey: options.credential.apiKey },
      // A 200 carrying an error body is classified by its code alone.
      { status: response.status >= 400 ? response.status : undefined, headers: response.headers, body });
  }
}

/** Headers that carry a credential: never taken from the caller. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-bf-vk']);

function isErrorBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'error' in body && (body as { error: unknown }).error != null;
}

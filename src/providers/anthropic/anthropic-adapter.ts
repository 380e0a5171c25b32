/**
 * The Anthropic Messages API adapter: one ProviderAdapter over `POST {baseUrl}/v1/messages`, for
 * plain and streamed answers. Requests are converted from Zumik's OpenAI-shaped contract; every failure
 * leaves as a classified ProviderError (error body first, then status, then transport).
 */
import type { Dispatcher } from 'undici';
import { CallDeadline } from '../call-deadline';
import { ProviderError } from '../provider-error';
import { AnswerCompletion, readSseEvents } from '../sse-reader';
import { z } from 'zod';
import type { ProviderAdapter, ProviderCallOptions, TokenCountingAdapter } from '../types';
import type { ChatRequest, ChatResult, StreamPart } from '../../contract/chat';
import { readBodyText, sendUpstream, type UpstreamResponse } from '../upstream-http';
import { ANTHROPIC_VERSION, anthropicMessageSchema, type AnthropicMessagesRequest, type AnthropicResponseMessage } from './anthropic-api';
import { createAnthropicHttpError } from './anthropic-error';
import { mapAnthropicStream } from './anthropic-stream';
import { mapAnthropicResponse } from './map-anthropic-response';
import { prepareAnthropicRequest } from './prepare-anthropic-request';

const PROVIDER = 'anthropic';

export interface AnthropicAdapterOptions {
  /** Origin without a path, e.g. `https://api.anthropic.com` or a loopback emulator's URL. */
  baseUrl: string;
  /** The shared undici dispatcher (keep-alive pools); injected so tests and regions choose it. */
  dispatcher: Dispatcher;
}

/** Talks to Anthropic (or anything wire-compatible) for one base URL; stateless, safe to share. */
export class AnthropicAdapter implements ProviderAdapter, TokenCountingAdapter {
  readonly provider = PROVIDER;
  private readonly endpoint: string;
  private readonly dispatcher: Dispatcher;

  constructor(options: AnthropicAdapterOptions) {
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/v1/messages`;
    this.dispatcher = options.dispatcher;
  }

  /** One non-streamed answer. Warnings from the conversion travel in the result. */
  async generate(request: ChatRequest, options: ProviderCallOptions): Promise<ChatResult> {
    const { body, warnings } = prepareAnthropicRequest(request, options.model);
    const deadline = new CallDeadline(options.signal, options.timeouts?.totalMs);
    try {
      const response = await this.send(body, options, deadline.signal, false);
      const providerRequestId = response.headers['request-id'];
      const text = await readBodyText(response, PROVIDER, deadline.signal);
      if (response.status < 200 || response.status >= 300) {
        throw createAnthropicHttpError(response.status, response.headers, text, { apiKey: options.credential.apiKey });
      }
      return mapAnthropicResponse(parseMessage(text, response.status, providerRequestId), { warnings, providerRequestId });
    } catch (error) {
      throw deadline.translate(error, PROVIDER);
    } finally {
      deadline.dispose();
    }
  }

  /** A streamed answer: parts until `stream-end`, which comes only after Anthropic's `message_stop`. */
  async *stream(request: ChatRequest, options: ProviderCallOptions): AsyncGenerator<StreamPart> {
    const { body, warnings } = prepareAnthropicRequest(request, options.model);
    const deadline = new CallDeadline(options.signal, options.timeouts?.totalMs);
    try {
      const response = await this.send({ ...body, stream: true }, options, deadline.signal, true);
      const providerRequestId = response.headers['request-id'];
      if (response.status < 200 || response.status >= 300) {
        const text = await readBodyText(response, PROVIDER, deadline.signal);
        throw createAnthropicHttpError(response.status, response.headers, text, { apiKey: options.credential.apiKey });
      }
      const completion = new AnswerCompletion(options.timeouts?.finishGraceMs);
      const events = readSseEvents(response, PROVIDER, { signal: deadline.signal, timeouts: options.timeouts, completion });
      yield* mapAnthropicStream(events, { warnings, providerRequestId, apiKey: options.credential.apiKey, completion });
    } catch (error) {
      throw deadline.translate(error, PROVIDER);
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Anthropic's exact input count for the request (`POST /v1/messages/count_tokens`): the same body as a
   * Message, without the generation fields that endpoint refuses.
   */
  async countTokens(request: ChatRequest, options: ProviderCallOptions): Promise<{ inputTokens: number }> {
    const { body } = prepareAnthropicRequest(request, options.model);
    const counted = Object.fromEntries(Object.entries(body).filter(([field]) => COUNT_TOKENS_FIELDS.has(field)));
    const deadline = new CallDeadline(options.signal, options.timeouts?.totalMs);
    try {
      const response = await this.send(counted as unknown as AnthropicMessagesRequest, options, deadline.signal, false, `${this.endpoint}/count_tokens`);
      const text = await readBodyText(response, PROVIDER, deadline.signal);
      if (response.status < 200 || response.status >= 300) {
        throw createAnthropicHttpError(response.status, response.headers, text, { apiKey: options.credential.apiKey });
      }
      let parsed: z.ZodSafeParseResult<{ input_tokens: number }> | undefined;
      try { parsed = countTokensSchema.safeParse(JSON.parse(text)); } catch { parsed = undefined; }
      if (!parsed?.success) throw new ProviderError(`${PROVIDER}: the count_tokens answer has no input_tokens`, { kind: 'bad_response', provider: PROVIDER, status: response.status });
      return { inputTokens: parsed.data.input_tokens };
    } catch (error) {
      throw deadline.translate(error, PROVIDER);
    } finally {
      deadline.dispose();
    }
  }

  private send(body: AnthropicMessagesRequest, options: ProviderCallOptions, signal: AbortSignal, streaming: boolean, url = this.endpoint): Promise<UpstreamResponse> {
    return sendUpstream({
      provider: PROVIDER,
      url,
      headers: {
        ...options.headers,
        'x-api-key': options.credential.apiKey,
        'anthropic-version': ANTHROPIC_VERSION,
        accept: streaming ? 'text/event-stream' : 'application/json',
      },
      body,
      dispatcher: this.dispatcher,
      signal,
      timeouts: options.timeouts,
      streaming,
    });
  }
}

/** What `count_tokens` takes of a Messages body (Anthropic's MessageCountTokensParams). */
const COUNT_TOKENS_FIELDS = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config']);
const countTokensSchema = z.looseObject({ input_tokens: z.number().int().nonnegative() });

/** A 2xx body that is not a Message is a `bad_response`: retryable, the provider broke its own format. */
function parseMessage(text: string, status: number, providerRequestId: string | undefined): AnthropicResponseMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProviderError(`${PROVIDER}: the answer is not JSON`, { kind: 'bad_response', provider: PROVIDER, status, providerRequestId }, { cause: error });
  }
  const message = anthropicMessageSchema.safeParse(json);
  if (!message.success) {
    throw new ProviderError(`${PROVIDER}: the answer is not a Message`, { kind: 'bad_response', provider: PROVIDER, status, providerRequestId });
  }
  return message.data;
}

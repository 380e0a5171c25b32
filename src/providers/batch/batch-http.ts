/**
 * The transport of the batch adapters: control-plane JSON calls (create, get, cancel) under the same
 * per-phase deadlines as online calls, raw bodies for file uploads, and result files read as JSON
 * lines while they download, so a 200 MB output file is never held in memory.
 */
import { request, type Dispatcher } from 'undici';
import { CallDeadline } from '../call-deadline';
import { ProviderError } from '../provider-error';
import type { CallTimeouts } from '../types';
import { UPSTREAM_RESPONSE_MAX_BYTES } from '../../contract/limits';
import { classifyTransportError, DEFAULT_TIMEOUTS, flattenHeaders, readBodyText, responseTooLarge, type UpstreamResponse } from '../upstream-http';

export interface BatchHttpRequest {
  provider: string;
  url: string;
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  /** A JSON value (sent as `application/json`), or raw bytes with their content type in `headers`. */
  json?: unknown;
  raw?: string | Buffer;
  dispatcher: Dispatcher;
  signal?: AbortSignal;
  timeouts?: CallTimeouts;
}

/** Builds the provider's classified error for a non-2xx answer. */
export type HttpFailure = (status: number, headers: Record<string, string>, text: string) => ProviderError;

export interface JsonAnswer {
  body: unknown;
  headers: Record<string, string>;
}

/** Send a control-plane call and parse its JSON answer; non-2xx answers become the provider's ProviderError. */
export async function callJson(upstream: BatchHttpRequest, failure: HttpFailure): Promise<JsonAnswer> {
  const deadline = new CallDeadline(upstream.signal, upstream.timeouts);
  try {
    const response = await deadline.within('headers', deadline.timeouts.headersMs, send(upstream, deadline.signal, false), upstream.provider);
    const text = await deadline.within('first_token', deadline.timeouts.firstTokenMs, readBodyText(response, upstream.provider, deadline.signal), upstream.provider);
    if (response.status < 200 || response.status >= 300) throw failure(response.status, response.headers, text);
    return { body: parseJson(text, upstream.provider, response.status), headers: response.headers };
  } catch (error) {
    throw deadline.translate(error, upstream.provider);
  } finally {
    deadline.dispose();
  }
}

/**
 * Download a JSON-lines file and yield each line parsed, as bytes arrive. A gap longer than
 * `stallMs` is `stream_stalled`; a line that is not JSON is `bad_response`; blank lines are skipped.
 */
export async function* streamJsonLines(upstream: BatchHttpRequest, failure: HttpFailure): AsyncGenerator<unknown> {
  const deadline = new CallDeadline(upstream.signal, upstream.timeouts);
  try {
    const response = await deadline.within('headers', deadline.timeouts.headersMs, send(upstream, deadline.signal, true), upstream.provider);
    if (response.status < 200 || response.status >= 300) {
      throw failure(response.status, response.headers, await readBodyText(response, upstream.provider, deadline.signal));
    }
    yield* readLines(response, upstream, deadline.signal);
  } catch (error) {
    throw deadline.translate(error, upstream.provider);
  } finally {
    deadline.dispose();
  }
}

async function* readLines(response: UpstreamResponse, upstream: BatchHttpRequest, signal: AbortSignal): AsyncGenerator<unknown> {
  const stallMs = upstream.timeouts?.stallMs ?? DEFAULT_TIMEOUTS.stallMs;
  const decoder = new TextDecoder();
  const iterator = response.body[Symbol.asyncIterator]();
  let pending = '';
  try {
    for (;;) {
      const next = await withStallLimit(iterator.next(), stallMs, upstream.provider);
      if (next.done) break;
      pending += decoder.decode(next.value as Uint8Array, { stream: true });
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim()) yield parseJson(line, upstream.provider, response.status);
        newline = pending.indexOf('\n');
      }
      // One result line is one answer: a line longer than an answer may be is never held whole.
      if (pending.length > UPSTREAM_RESPONSE_MAX_BYTES) throw responseTooLarge(upstream.provider, UPSTREAM_RESPONSE_MAX_BYTES, response.status);
    }
    pending += decoder.decode();
    if (pending.trim()) yield parseJson(pending, upstream.provider, response.status);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw classifyTransportError(error, upstream.provider, signal, 'body');
  } finally {
    if (!response.body.destroyed) response.body.destroy();
  }
}

function send(upstream: BatchHttpRequest, signal: AbortSignal, streaming: boolean): Promise<UpstreamResponse> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...upstream.timeouts };
  const json = upstream.json !== undefined;
  return request(upstream.url, {
    method: upstream.method,
    headers: json ? { 'content-type': 'application/json', ...upstream.headers } : upstream.headers,
    body: json ? JSON.stringify(upstream.json) : upstream.raw,
    dispatcher: upstream.dispatcher,
    signal,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: streaming ? timeouts.stallMs : timeouts.firstTokenMs,
  }).then(
    (response) => ({ status: response.statusCode, headers: flattenHeaders(response.headers), body: response.body }),
    (error: unknown) => { throw classifyTransportError(error, upstream.provider, signal, 'headers'); },
  );
}

function parseJson(text: string, provider: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProviderError(`${provider}: the answer is not JSON`, { kind: 'bad_response', provider, status }, { cause: error });
  }
}

function withStallLimit<T>(promise: Promise<T>, ms: number, provider: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ProviderError(`${provider}: the result file stalled (no bytes for ${ms} ms)`,
      { kind: 'stream_stalled', provider, phase: 'body' })), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

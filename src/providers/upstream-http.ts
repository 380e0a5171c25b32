/**
 * The HTTP transport every adapter uses: undici keep-alive pools (one per base URL, i.e. per region)
 * with connect/headers/body timeouts, abort by signal, and transport failures classified into the
 * taxonomy. Adapters get their dispatcher injected; tests point base URLs at loopback emulators.
 */
import { Agent, buildConnector, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { UPSTREAM_RESPONSE_MAX_BYTES } from '../contract/limits';
import type { EgressPolicy } from '../net/egress-policy';
import { ProviderError } from './provider-error';
import type { CallTimeouts } from './types';

export interface UpstreamPoolOptions {
  connectTimeoutMs?: number;
  /** Keep idle sockets this long. */
  keepAliveTimeoutMs?: number;
  /** Sockets per origin. */
  connections?: number;
  /** Egress rules every connection must pass (customer-supplied endpoints): literal addresses and every resolved one are checked. */
  egress?: EgressPolicy;
}

/** A connector that refuses, before any packet leaves, an address the egress rules refuse — the resolved ones included. */
function guardedConnector(egress: EgressPolicy, timeout: number): buildConnector.connector {
  const connect = buildConnector({ timeout, lookup: egress.lookup });
  return (options, callback) => {
    try {
      egress.checkHost(options.hostname);
    } catch (error) {
      callback(error as Error, null);
      return;
    }
    connect(options, callback);
  };
}

/** One keep-alive dispatcher for all upstream origins (undici keeps a pool per origin inside an Agent). */
export function createUpstreamDispatcher(options: UpstreamPoolOptions = {}): Dispatcher {
  const timeout = options.connectTimeoutMs ?? 10_000;
  return new Agent({
    connect: options.egress ? guardedConnector(options.egress, timeout) : { timeout },
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: options.connections ?? 256,
    pipelining: 1,
    // Per-request values below override these; these are generous fallbacks.
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  });
}

export const DEFAULT_TIMEOUTS: Required<CallTimeouts> = {
  headersMs: 60_000,
  firstTokenMs: 60_000,
  stallMs: 30_000,
  finishGraceMs: 1_000,
  totalMs: 600_000,
};

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData['body'];
}

export interface UpstreamRequest {
  provider: string;
  url: string;
  method?: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: unknown;
  dispatcher: Dispatcher;
  signal?: AbortSignal;
  timeouts?: CallTimeouts;
  /** For streams the body timeout is the stall timeout; for JSON answers it is the first-token (whole body) timeout. */
  streaming?: boolean;
}

/** Send a request; transport failures become ProviderError (`network`, `timeout`, `cancelled`). Never mentions headers or keys. */
export async function sendUpstream(upstream: UpstreamRequest): Promise<UpstreamResponse> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...upstream.timeouts };
  try {
    const response = await request(upstream.url, {
      method: upstream.method ?? 'POST',
      headers: upstream.body === undefined ? upstream.headers : { 'content-type': 'application/json', ...upstream.headers },
      body: upstream.body === undefined ? undefined : JSON.stringify(upstream.body),
      dispatcher: upstream.dispatcher,
      signal: upstream.signal,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: upstream.streaming ? timeouts.stallMs : timeouts.firstTokenMs,
    });
    return { status: response.statusCode, headers: flattenHeaders(response.headers), body: response.body };
  } catch (error) {
    throw classifyTransportError(error, upstream.provider, upstream.signal, 'headers');
  }
}

/** Map an undici/transport error to the taxonomy by its code, never its message. */
export function classifyTransportError(error: unknown, provider: string, signal?: AbortSignal,
  phase: 'headers' | 'body' | 'first_token' = 'headers'): ProviderError {
  if (error instanceof ProviderError) return error;
  if (signal?.aborted || (error as { name?: string })?.name === 'AbortError' || error instanceof undiciErrors.RequestAbortedError) {
    return new ProviderError(`${provider}: request aborted by the caller`, { kind: 'cancelled', provider }, { cause: error });
  }
  const code = (error as { code?: string })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new ProviderError(`${provider}: no response headers in time`, { kind: 'timeout', provider, phase: 'headers' }, { cause: error });
    case 'UND_ERR_BODY_TIMEOUT':
      return phase === 'body'
        ? new ProviderError(`${provider}: the stream stalled`, { kind: 'stream_stalled', provider, phase: 'body' }, { cause: error })
        : new ProviderError(`${provider}: no answer body in time`, { kind: 'timeout', provider, phase: 'first_token' }, { cause: error });
    case 'ZUMIK_EGRESS_REFUSED':
      return new ProviderError(`${provider}: ${((error as { code?: string }).code === code ? error as Error : (error as { cause: Error }).cause).message}`,
        { kind: 'egress_refused', provider }, { cause: error });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ProviderError(`${provider}: connection timed out`, { kind: 'timeout', provider, phase: 'connect' }, { cause: error });
    case 'ECONNREFUSED': case 'ECONNRESET': case 'EPIPE': case 'ENOTFOUND': case 'EAI_AGAIN': case 'EHOSTUNREACH': case 'ENETUNREACH':
    case 'UND_ERR_SOCKET': case 'UND_ERR_CLOSED':
      return new ProviderError(`${provider}: network error (${code})`, { kind: 'network', provider }, { cause: error });
    default:
      return new ProviderError(`${provider}: transport error${code ? ` (${code})` : ''}`, { kind: 'network', provider }, { cause: error });
  }
}

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** Retry-After in ms from `retry-after-ms`, then `retry-after` (seconds or HTTP date). */
export function parseRetryAfter(headers: Record<string, string>, now = Date.now()): number | undefined {
  const milliseconds = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The rate-limit headers a provider sent (`x-ratelimit-*`, `anthropic-ratelimit-*`), for the attempt record. */
export function pickRateLimitHeaders(headers: Record<string, string>): Record<string, string> | undefined {
  const picked = Object.fromEntries(Object.entries(headers).filter(([name]) => name.includes('ratelimit')));
  return Object.keys(picked).length > 0 ? picked : undefined;
}

/** The failure for an answer over Zumik's size limit (never read further: memory stays bounded). */
export function responseTooLarge(provider: string, limitBytes: number, status?: number): ProviderError {
  return new ProviderError(`${provider}: the answer is larger than the ${limitBytes} byte limit`, { kind: 'response_too_large', provider, status });
}

/**
 * Read a whole (non-streamed) response body as text, at most `maxBytes` (UPSTREAM_RESPONSE_MAX_BYTES):
 * a bigger answer is `response_too_large` as soon as it is known (its content-length, or the byte that
 * crosses the limit), and the rest is never read. A body failure is classified.
 */
export async function readBodyText(response: UpstreamResponse, provider: string, signal?: AbortSignal,
  maxBytes = UPSTREAM_RESPONSE_MAX_BYTES): Promise<string> {
  if (Number(response.headers['content-length']) > maxBytes) {
    // Dropped unread: the abort this raises on the body has no one to tell.
    response.body.on('error', () => undefined).destroy();
    throw responseTooLarge(provider, maxBytes, response.status);
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of response.body) {
      bytes += (chunk as Buffer).length;
      if (bytes > maxBytes) {
        response.body.destroy();
        throw responseTooLarge(provider, maxBytes, response.status);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw classifyTransportError(error, provider, signal, 'first_token');
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}

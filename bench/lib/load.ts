/**
 * A small closed-loop HTTP load generator on undici: sequential latency, N concurrent clients for a
 * fixed time, and streaming time-to-first-content. Every loop is bounded in count and in time, every
 * request has a timeout, and a connection pool lives only for one phase. Targets are loopback only.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { summarize, type Summary } from './stats';

export interface Target {
  name: string;
  /** `http://127.0.0.1:<port>`: nothing else is accepted. */
  origin: string;
  path: string;
  headers: Record<string, string>;
  model: string;
}

export interface Sample {
  ok: boolean;
  /** Request sent → whole answer read, ms. */
  ms: number;
  /** Request sent → first SSE `data:` event carrying non-empty `delta.content` (streams only), ms. */
  ttftMs?: number;
  /** performance.now() when the answer (or the error) came. */
  endedAt: number;
  error?: string;
  /** Zumik's request id (x-zumik-request-id), when the answer had one. */
  requestId?: string;
  /** Wall clock (Date.now()) when the request was sent: to line it up with the workflow's history. */
  sentAtEpochMs?: number;
}

export interface ErrorReport {
  count: number;
  rate: number;
  byKind: Record<string, number>;
  /** The first few failures, verbatim (truncated), as evidence. */
  examples: string[];
}

export interface PhaseResult {
  requests: number;
  ok: number;
  errors: ErrorReport;
  latencyMs: Summary;
  wallMs: number;
}

export interface ThroughputResult extends PhaseResult {
  concurrency: number;
  durationMs: number;
  /** Successful answers that completed inside the window, per second of window. */
  rps: number;
  /** Requests still in flight when the window closed (awaited, not counted in rps). */
  inFlightAtEnd: number;
}

export interface StreamResult extends PhaseResult {
  ttftMs: Summary;
}

const BODY_TEXT = 'Say hello in five words.';
const REQUEST_TIMEOUT_MS = 30_000;

export function assertLoopback(origin: string): void {
  const url = new URL(origin);
  if (url.hostname !== '127.0.0.1' || url.protocol !== 'http:') throw new Error(`refusing a non-loopback target: ${origin}`);
}

function newPool(target: Target, connections: number): Pool {
  assertLoopback(target.origin);
  return new Pool(target.origin, {
    connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS,
  });
}

function requestBody(target: Target, stream: boolean): string {
  return JSON.stringify({ model: target.model, messages: [{ role: 'user', content: BODY_TEXT }], ...(stream ? { stream: true } : {}) });
}

/** One chat completion: checks the status and that an answer with content came back. */
async function oneRequest(pool: Pool, target: Target, stream: boolean): Promise<Sample> {
  const sentAtEpochMs = Date.now();
  const started = performance.now();
  const fail = (error: string): Sample => ({ ok: false, ms: performance.now() - started, endedAt: performance.now(), error });
  try {
    const response = await pool.request({
      path: target.path, method: 'POST', body: requestBody(target, stream),
      headers: { 'content-type': 'application/json', ...target.headers }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const requestId = headerValue(response.headers['x-zumik-request-id']);
    if (response.statusCode !== 200 || !stream) {
      const text = await response.body.text();
      if (response.statusCode !== 200) return fail(`http_${response.statusCode}: ${text.slice(0, 300)}`);
      let content: unknown;
      try { content = (JSON.parse(text) as any).choices?.[0]?.message?.content; } catch { /* below */ }
      if (typeof content !== 'string' || content.length === 0) return fail(`bad_body: ${text.slice(0, 300)}`);
      const ended = performance.now();
      return { ok: true, ms: ended - started, endedAt: ended, requestId, sentAtEpochMs };
    }
    // SSE: find the first event with content, and the end of the stream.
    const decoder = new TextDecoder();
    let buffer = '';
    let ttftMs: number | undefined;
    let done = false;
    let streamError: string | undefined;
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Buffer, { stream: true }).replace(/\r\n/g, '\n');
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) !== -1) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') { done = true; continue; }
          try {
            const parsed = JSON.parse(data) as any;
            if (parsed.error) streamError ??= `stream_error: ${data.slice(0, 300)}`;
            const content = parsed.choices?.[0]?.delta?.content;
            if (ttftMs === undefined && typeof content === 'string' && content.length > 0) ttftMs = performance.now() - started;
          } catch {
            streamError ??= `bad_sse: ${data.slice(0, 300)}`;
          }
        }
      }
    }
    const ended = performance.now();
    if (streamError) return fail(streamError);
    if (ttftMs === undefined) return fail('stream_without_content');
    if (!done) return fail('stream_without_done');
    return { ok: true, ms: ended - started, ttftMs, endedAt: ended, requestId };
  } catch (error) {
    const name = (error as Error).name;
    const code = (error as { code?: string }).code;
    if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_ABORTED') {
      return fail(`timeout: no complete answer within ${REQUEST_TIMEOUT_MS} ms (${code ?? name})`);
    }
    return fail(`network ${code ?? name}: ${(error as Error).message}`);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function errorReport(samples: Sample[]): ErrorReport {
  const failed = samples.filter((sample) => !sample.ok);
  const byKind: Record<string, number> = {};
  for (const sample of failed) {
    const kind = sample.error!.split(':')[0]!;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  const examples = [...new Set(failed.map((sample) => sample.error!))].slice(0, 5);
  return { count: failed.length, rate: samples.length === 0 ? 0 : failed.length / samples.length, byKind, examples };
}

/** `count` requests one after another (stops early at `maxMs`). */
export async function sequential(target: Target, options: { count: number; maxMs: number; stream?: boolean; thinkMs?: number }): Promise<PhaseResult & { samples: Sample[] }> {
  const pool = newPool(target, 1);
  const samples: Sample[] = [];
  const started = performance.now();
  try {
    for (let index = 0; index < options.count && performance.now() - started < options.maxMs; index++) {
      samples.push(await oneRequest(pool, target, options.stream === true));
      // Think time: the next request starts only after the last one's bookkeeping had time to finish.
      if (options.thinkMs) await new Promise((resolve) => setTimeout(resolve, options.thinkMs));
    }
  } finally {
    await pool.close();
  }
  const ok = samples.filter((sample) => sample.ok);
  return {
    requests: samples.length, ok: ok.length, errors: errorReport(samples), latencyMs: summarize(ok.map((sample) => sample.ms)),
    wallMs: performance.now() - started, samples,
  };
}

/** Streaming: `count` sequential streamed requests; time to the first content chunk. */
export async function streaming(target: Target, options: { count: number; maxMs: number; thinkMs?: number }): Promise<StreamResult> {
  const result = await sequential(target, { ...options, stream: true });
  const ok = result.samples.filter((sample) => sample.ok);
  const { samples: _samples, ...rest } = result;
  return { ...rest, ttftMs: summarize(ok.map((sample) => sample.ttftMs!)) };
}

/**
 * `concurrency` clients, each sending its next request as soon as the previous answer is read, for
 * `durationMs`. Requests in flight when the window closes are awaited (each has a timeout) but do not
 * count toward the rate.
 */
export async function closedLoop(target: Target, options: { concurrency: number; durationMs: number; stream?: boolean }): Promise<ThroughputResult> {
  const pool = newPool(target, options.concurrency);
  const samples: Sample[] = [];
  const started = performance.now();
  const windowEnd = started + options.durationMs;
  const client = async () => {
    // Bounded by time; the count cap only guards against a target that fails instantly.
    for (let index = 0; index < 1_000_000 && performance.now() < windowEnd; index++) {
      samples.push(await oneRequest(pool, target, options.stream === true));
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, client));
  } finally {
    await pool.close();
  }
  const inWindow = samples.filter((sample) => sample.endedAt <= windowEnd);
  const ok = inWindow.filter((sample) => sample.ok);
  return {
    concurrency: options.concurrency, durationMs: options.durationMs,
    requests: samples.length, ok: samples.filter((sample) => sample.ok).length, errors: errorReport(samples),
    latencyMs: summarize(ok.map((sample) => sample.ms)), wallMs: performance.now() - started,
    rps: ok.length / (options.durationMs / 1000), inFlightAtEnd: samples.length - inWindow.length,
  };
}

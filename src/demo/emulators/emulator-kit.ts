/**
 * The shared machinery of Zumik's provider emulators: a real HTTP server on 127.0.0.1:0, a log of
 * every request received, scriptable faults consumed one per call, and SSE/JSON writers that apply
 * those faults the same way for every provider. Each provider emulator adds its own routes and wire
 * formats on top (see the `*-emulator.ts` files).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault to inject into one upstream call. Consumed in order; calls with no fault queued behave normally. */
export type Fault =
  /** Answer with this status and body (the provider's own error body when `body` is omitted), optional Retry-After. */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string>; retryAfterSeconds?: number }
  /** Destroy the connection before any response header is written. */
  | { kind: 'reset' }
  /** Accept the request and never answer (until the client gives up or the server closes). */
  | { kind: 'hang' }
  /** Write headers at once, then wait this long before the first body byte / SSE event. */
  | { kind: 'slow-first-token'; delayMs: number }
  /**
   * Stream: destroy the connection after this many events (a cut mid-answer); with `clean`, end the
   * response properly instead (a server or proxy that closes the body early without an error).
   */
  | { kind: 'cut'; afterEvents: number; clean?: boolean }
  /** Stream: after this many events go silent, keeping the connection open (at or past the last event: after the whole stream). */
  | { kind: 'stall'; afterEvents: number }
  /** Stream: after this many events send an event whose data is not valid JSON. */
  | { kind: 'malformed'; afterEvents: number }
  /**
   * Stream: omit the provider's terminal event(s) (`[DONE]`, `message_stop`, …) and end the response
   * cleanly; with `hold`, keep the connection open and silent instead of ending it.
   */
  | { kind: 'no-terminal'; hold?: boolean };

export interface ReceivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  receivedAt: number;
  /** Set when the connection closed before the response was complete: the client gave up (or a reset/cut fault). */
  abortedAt?: number;
  /** When the response finished or its connection closed, whichever came first. */
  endedAt?: number;
}

export interface EmulatorOptions {
  /** Added before every response (latency injection). */
  latencyMs?: number;
  /** Milliseconds between streamed events (0 by default). */
  eventIntervalMs?: number;
}

export type RouteHandler = (context: RouteContext) => Promise<void> | void;

export interface RouteContext {
  request: ReceivedRequest;
  response: http.ServerResponse;
  /** The fault scripted for this call, if any. */
  fault?: Fault;
  /** Path parameters captured by the route pattern. */
  params: Record<string, string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/** One SSE event as the wire carries it (`event:` line optional). */
export interface SseEvent {
  event?: string;
  data: string;
}

/** A real HTTP server with routes, a request log and a fault queue. Subclassed by each provider emulator. */
export class EmulatorServer {
  readonly requests: ReceivedRequest[] = [];
  /** Requests received whose response has not finished (or whose connection has not closed) yet. */
  inFlight = 0;
  /** The most requests ever in flight at once (since start or the last `reset`). */
  maxInFlight = 0;
  private readonly faults: Fault[] = [];
  /** A fault every call gets while it is set (a provider outage), after the queued ones are used up. */
  private outage?: Fault;
  private readonly routes: Route[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly server: http.Server;
  private address?: AddressInfo;
  options: EmulatorOptions;

  constructor(options: EmulatorOptions = {}) {
    this.options = options;
    this.server = http.createServer((request, response) => {
      void this.dispatch(request, response);
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    if (!this.address) throw new Error('emulator not started');
    return `http://127.0.0.1:${this.address.port}`;
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.address = this.server.address() as AddressInfo;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queue faults for the next calls, one per call. */
  inject(...faults: Fault[]): this {
    this.faults.push(...faults);
    return this;
  }

  /** From now on every call (after the queued faults) gets `fault`, until `endOutage()`: a provider that is down for a while. */
  startOutage(fault: Fault): this {
    this.outage = fault;
    return this;
  }

  endOutage(): this {
    this.outage = undefined;
    return this;
  }

  /** Forget queued faults, an outage and logged requests. */
  reset(): void {
    this.faults.length = 0;
    this.outage = undefined;
    this.requests.length = 0;
    this.maxInFlight = this.inFlight;
  }

  /**
   * Wait until `count` requests have arrived since the last `reset` (true), or give up after `withinMs`
   * (false). A client that gives up on a call (its own timeout, an abort) can do so before this server
   * has read the request, on a busy machine; the late request would then take the fault queued for the
   * next call. A test that gives up on a call client-side waits here, so its call lands before the next
   * test queues anything.
   */
  async received(count: number, withinMs = 2_000): Promise<boolean> {
    for (const until = Date.now() + withinMs; this.requests.length < count; await delay(5)) {
      if (Date.now() > until) return false;
    }
    return true;
  }

  /** Register a route; `:name` segments are captured. */
  route(method: string, path: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const source = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_match, key: string) => {
      keys.push(key);
      return '([^/]+?)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), keys, handler });
    return this;
  }

  private async dispatch(incoming: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    response.once('close', () => { this.inFlight -= 1; });
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    if (text.length > 0) {
      try { body = JSON.parse(text); } catch { body = text; }
    }
    const url = new URL(incoming.url ?? '/', 'http://emulator');
    const request: ReceivedRequest = {
      method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers, body,
      receivedAt: Date.now(),
    };
    this.requests.push(request);
    response.on('close', () => { if (!response.writableFinished) request.abortedAt = Date.now(); });
    const ended = () => { request.endedAt ??= Date.now(); };
    response.once('finish', ended);
    response.once('close', ended);
    for (const route of this.routes) {
      if (route.method !== request.method) continue;
      const match = route.pattern.exec(request.path);
      if (!match) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, index) => { params[key] = decodeURIComponent(match[index + 1] ?? ''); });
      // The call takes its fault when it arrives, not after the latency: a slow call a client has already
      // given up on never takes the fault queued for the next one.
      const fault = this.faults.shift() ?? this.outage;
      if (this.options.latencyMs) await delay(this.options.latencyMs);
      if (fault?.kind === 'reset') { incoming.socket.destroy(); return; }
      if (fault?.kind === 'hang') return;
      try {
        await route.handler({ request, response, fault, params });
      } catch (error) {
        if (!response.headersSent) sendJson(response, 500, { error: { message: String(error) } });
        else response.destroy();
      }
      return;
    }
    if (this.options.latencyMs) await delay(this.options.latencyMs);
    sendJson(response, 404, { error: { message: `no route for ${request.method} ${request.path}` } });
  }

  /**
   * Write an SSE response from `events`, applying a stream fault. `terminal` is the number of trailing
   * events that make the provider's terminal sequence (dropped by `no-terminal`).
   */
  async writeSse(response: http.ServerResponse, events: SseEvent[], fault: Fault | undefined, terminal: number,
    headers: Record<string, string> = {}): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    response.flushHeaders();
    await this.writeSseFrames(response, events.map(formatSse), fault, { terminal, malformed: 'data: {"this is not json\n\n' });
  }

  /**
   * The stream faults on an SSE body whose headers are sent: `frames` are the formatted events, the last
   * `terminal` of them the provider's terminal sequence (dropped by `no-terminal`); `malformed` is the
   * broken frame the `malformed` fault writes before the event it names. One place for every emulator's
   * stream faults, whatever its event format.
   */
  protected async writeSseFrames(response: http.ServerResponse, frames: readonly string[], fault: Fault | undefined,
    options: { terminal: number; malformed: string }): Promise<void> {
    const list = fault?.kind === 'no-terminal' ? frames.slice(0, Math.max(0, frames.length - options.terminal)) : frames;
    if (fault?.kind === 'slow-first-token') await delay(fault.delayMs);
    for (let index = 0; index < list.length; index++) {
      if (response.destroyed) return;
      if (fault?.kind === 'cut' && index === fault.afterEvents) {
        if (fault.clean) response.end();
        else response.socket?.destroy();
        return;
      }
      if (fault?.kind === 'stall' && index === fault.afterEvents) return; // keep the socket open, send nothing more
      if (fault?.kind === 'malformed' && index === fault.afterEvents) response.write(options.malformed);
      response.write(list[index]!);
      if (this.options.eventIntervalMs) await delay(this.options.eventIntervalMs);
    }
    const holdOpen = (fault?.kind === 'no-terminal' && fault.hold) || (fault?.kind === 'stall' && fault.afterEvents >= list.length);
    if (holdOpen) return; // everything sent, but the response never ends
    response.end();
  }

  /** Write a JSON response, honouring a slow-first-token fault (headers first, body later). */
  async writeJson(response: http.ServerResponse, status: number, body: unknown, fault: Fault | undefined,
    headers: Record<string, string> = {}): Promise<void> {
    if (fault?.kind === 'slow-first-token') {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.flushHeaders();
      await delay(fault.delayMs);
      if (!response.destroyed) response.end(JSON.stringify(body));
      return;
    }
    sendJson(response, status, body, headers);
  }
}

export function formatSse(event: SseEvent): string {
  return `${event.event ? `event: ${event.event}\n` : ''}data: ${event.data}\n\n`;
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text).toString(), ...headers });
  response.end(text);
}

/** Headers for a scripted `status` fault: its own headers plus Retry-After when given. */
export function faultHeaders(fault: Extract<Fault, { kind: 'status' }>): Record<string, string> {
  return { ...(fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {}), ...(fault.headers ?? {}) };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

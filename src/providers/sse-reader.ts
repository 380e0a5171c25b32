/**
 * Reads an upstream SSE body into events with eventsource-parser, telling apart the ways a stream
 * fails: a stall (no bytes for `stallMs`, enforced by undici's bodyTimeout and by our own timer), a
 * slow first event (`firstTokenMs`), a cut connection, and a clean end (the caller decides whether the
 * answer was complete: a clean end before that is `stream_truncated`). Once the caller's parser
 * reports the answer complete (`AnswerCompletion`), the read waits only `finishGraceMs` more for the
 * provider's terminal event and then ends as if the body had ended.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ProviderError } from './provider-error';
import { UPSTREAM_EVENT_MAX_BYTES, UPSTREAM_STREAM_MAX_BYTES } from '../contract/limits';
import { classifyTransportError, DEFAULT_TIMEOUTS, responseTooLarge, type UpstreamResponse } from './upstream-http';
import type { CallTimeouts } from './types';

/**
 * Shared by a stream's reader and its parser. The parser says whether what it has seen is a complete
 * answer (every choice finished) though the provider's terminal event (`[DONE]`, `message_stop`) has
 * not come; from the first moment it is, the reader waits at most `graceMs` for more bytes, so a
 * provider that never sends its terminal event (or never closes) cannot hold a finished answer hostage.
 */
export class AnswerCompletion {
  /** Epoch ms after which the read ends; undefined while the answer is incomplete. */
  endBy?: number;

  constructor(readonly graceMs: number = DEFAULT_TIMEOUTS.finishGraceMs) {}

  /** Called by the parser after each event; the grace starts the first time the answer is complete. */
  update(complete: boolean): void {
    if (!complete) this.endBy = undefined;
    else this.endBy ??= Date.now() + this.graceMs;
  }

  get complete(): boolean {
    return this.endBy !== undefined;
  }
}

/**
 * True for the ways a body can end after a complete answer that still leave the answer whole: a cut
 * connection or a stall while the parser waited for the terminal event.
 */
export function isEndOfBody(error: unknown): boolean {
  return error instanceof ProviderError && (error.kind === 'stream_truncated' || error.kind === 'stream_stalled');
}

/**
 * The stream's events. At most `maxBytes` in all (UPSTREAM_STREAM_MAX_BYTES) and `maxEventBytes` without
 * an event (UPSTREAM_EVENT_MAX_BYTES, an endless line): more is `response_too_large`, so no provider can
 * make a worker hold an unbounded answer.
 */
export async function* readSseEvents(response: UpstreamResponse, provider: string, options: {
  signal?: AbortSignal; timeouts?: CallTimeouts; completion?: AnswerCompletion; maxBytes?: number; maxEventBytes?: number;
}): AsyncGenerator<EventSourceMessage> {
  const maxBytes = options.maxBytes ?? UPSTREAM_STREAM_MAX_BYTES;
  const maxEventBytes = options.maxEventBytes ?? UPSTREAM_EVENT_MAX_BYTES;
  let bytes = 0;
  let bytesSinceEvent = 0;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  const iterator = response.body[Symbol.asyncIterator]();
  let seenEvent = false;
  try {
    for (;;) {
      const waitMs = seenEvent ? timeouts.stallMs : timeouts.firstTokenMs;
      const endBy = options.completion?.endBy;
      const graceLeftMs = endBy === undefined ? undefined : endBy - Date.now();
      if (graceLeftMs !== undefined && graceLeftMs <= 0) break; // the answer is complete; its terminal event is not coming
      const next = await withTimeout(iterator.next(), waitMs, () => seenEvent
        ? new ProviderError(`${provider}: the stream stalled (no bytes for ${waitMs} ms)`, { kind: 'stream_stalled', provider, phase: 'body', afterFirstToken: true })
        : new ProviderError(`${provider}: no first event within ${waitMs} ms`, { kind: 'timeout', provider, phase: 'first_token' }),
      graceLeftMs);
      if (next === GRACE_OVER || next.done) break;
      const chunk = next.value as Uint8Array;
      bytes += chunk.length;
      bytesSinceEvent += chunk.length;
      if (bytes > maxBytes) throw responseTooLarge(provider, maxBytes, response.status);
      const text = decoder.decode(chunk, { stream: true });
      parser.feed(text);
      // Bytes after the last event boundary belong to an event still open.
      if (queue.length > 0) bytesSinceEvent = text.length - lastEventBoundary(text);
      if (bytesSinceEvent > maxEventBytes) throw responseTooLarge(provider, maxEventBytes, response.status);
      while (queue.length > 0) {
        seenEvent = true;
        yield queue.shift()!;
      }
    }
  } catch (error) {
    response.body.destroy();
    if (error instanceof ProviderError) throw error;
    const classified = classifyTransportError(error, provider, options.signal, seenEvent ? 'body' : 'first_token');
    // A connection cut mid-stream is a truncated answer, not a generic network error.
    if (seenEvent && classified.kind === 'network') {
      throw new ProviderError(`${provider}: the stream was cut before its end`, { kind: 'stream_truncated', provider, afterFirstToken: true }, { cause: error });
    }
    throw classified;
  } finally {
    // Stop reading if the consumer returned early (client gone, failover).
    if (!response.body.destroyed) response.body.destroy();
  }
}

/** The index just after the last blank line (an SSE event boundary) in `text`, or 0. */
function lastEventBoundary(text: string): number {
  let end = 0;
  for (const separator of ['\n\n', '\r\r', '\n\r\n']) {
    const at = text.lastIndexOf(separator);
    if (at !== -1) end = Math.max(end, at + separator.length);
  }
  return end;
}

/** What `SkippedEvents.parse` returns for an event it skipped. */
export const SKIPPED = Symbol('skipped event');

/**
 * Skip-and-continue for malformed events: a data payload that is not JSON is skipped (the parser
 * yields a `skipped-event` part, counted in the attempt record) while the rest of the stream is valid;
 * more than `max` of them in one stream is a `bad_response` (a body that is garbage, not one bad event).
 */
export class SkippedEvents {
  count = 0;
  constructor(private readonly provider: string, private readonly max = 3) {}

  parse(data: string): unknown {
    try {
      return JSON.parse(data);
    } catch (error) {
      this.count += 1;
      if (this.count > this.max) {
        throw new ProviderError(`${this.provider}: ${this.count} malformed stream events`, { kind: 'bad_response', provider: this.provider }, { cause: error });
      }
      return SKIPPED;
    }
  }
}

/** Parse one SSE data payload as JSON, or throw `bad_response` (a malformed event). */
export function parseEventJson(data: string, provider: string): unknown {
  try {
    return JSON.parse(data);
  } catch (error) {
    throw new ProviderError(`${provider}: malformed stream event`, { kind: 'bad_response', provider }, { cause: error });
  }
}

const GRACE_OVER = Symbol('grace over');

/** `promise`, or `onTimeout()` after `ms`, or GRACE_OVER after `graceMs` when that comes first. */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error, graceMs?: number): Promise<T | typeof GRACE_OVER> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = graceMs !== undefined && graceMs < ms
    ? new Promise<typeof GRACE_OVER>((resolve) => { timer = setTimeout(() => resolve(GRACE_OVER), graceMs); })
    : new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(onTimeout()), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Reads an upstream SSE body into events with eventsource-parser, telling apart the ways a stream
 * fails: a stall (no bytes for `stallMs`, enforced by undici's bodyTimeout and by our own timer), a
 * slow first event (`firstTokenMs`), a cut connection, and a clean end (the caller decides whether a
 * terminal event was seen: a clean end without one is `stream_truncated`).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ProviderError } from './provider-error';
import { classifyTransportError, DEFAULT_TIMEOUTS, type UpstreamResponse } from './upstream-http';
import type { CallTimeouts } from './types';

export async function* readSseEvents(response: UpstreamResponse, provider: string, options: {
  signal?: AbortSignal; timeouts?: CallTimeouts;
}): AsyncGenerator<EventSourceMessage> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  const iterator = response.body[Symbol.asyncIterator]();
  let seenEvent = false;
  try {
    for (;;) {
      const waitMs = seenEvent ? timeouts.stallMs : timeouts.firstTokenMs;
      const next = await withTimeout(iterator.next(), waitMs, () => seenEvent
        ? new ProviderError(`${provider}: the stream stalled (no bytes for ${waitMs} ms)`, { kind: 'stream_stalled', provider, phase: 'body', afterFirstToken: true })
        : new ProviderError(`${provider}: no first event within ${waitMs} ms`, { kind: 'timeout', provider, phase: 'first_token' }));
      if (next.done) break;
      parser.feed(decoder.decode(next.value as Uint8Array, { stream: true }));
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

/** Parse one SSE data payload as JSON, or throw `bad_response` (a malformed event). */
export function parseEventJson(data: string, provider: string): unknown {
  try {
    return JSON.parse(data);
  } catch (error) {
    throw new ProviderError(`${provider}: malformed stream event`, { kind: 'bad_response', provider }, { cause: error });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(onTimeout()), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

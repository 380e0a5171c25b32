/**
 * How a provider-call activity (in some worker process) hands stream chunks and final answers to the
 * HTTP handler (in some API process) that waits for that request (DESIGN §4.7, TEMPORAL §6).
 *
 * Delivery is pub/sub: at most once, to the subscribers present when the message is published.
 * Nothing is stored, so a subscriber must be active (its `subscribe` resolved) before the publisher
 * may send: the HTTP handler subscribes first, then starts the workflow. Messages of one publisher
 * on one channel arrive in publish order. Give stream messages a sequence number so a consumer can
 * tell a gap (a reconnect of a shared bus) or a duplicate from a complete stream.
 */
export interface StreamBus {
  /** Deliver a message to the subscribers of `channel` (in publish order per publisher). Never throws for a channel nobody listens to. */
  publish(channel: string, message: unknown): Promise<void>;
  /** Listen on `channel`; resolves once the subscription is active (so a publish after that is received). The returned function unsubscribes. */
  subscribe(channel: string, onMessage: (message: unknown) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  readonly kind: 'memory' | 'redis';
}

/** Receives what a bus cannot throw to anyone: a subscriber's handler failing, a connection error, an unreadable message. */
export type StreamBusErrorHandler = (error: unknown, channel: string | undefined) => void;

/** Thrown by `publish` and `subscribe` once the bus has been closed. */
export class StreamBusClosedError extends Error {
  constructor(readonly kind: StreamBus['kind']) {
    super(`the ${kind} stream bus is closed`);
    this.name = 'StreamBusClosedError';
  }
}

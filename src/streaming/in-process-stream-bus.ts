import { StreamBusClosedError, type StreamBus, type StreamBusErrorHandler } from './stream-bus';

type Subscription = { readonly onMessage: (message: unknown) => void };

export interface InProcessStreamBusOptions {
  /** Called when a subscriber's handler throws; the other subscribers still receive the message. */
  onError?: StreamBusErrorHandler;
}

/**
 * The default bus, for one process that runs both the API and the worker. Fan-out is synchronous and
 * passes the message object itself (no copy, no serialisation), so subscribers must not mutate it.
 */
export class InProcessStreamBus implements StreamBus {
  readonly kind = 'memory' as const;
  private readonly channels = new Map<string, Set<Subscription>>();
  private closed = false;

  constructor(private readonly options: InProcessStreamBusOptions = {}) {}

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.closed) throw new StreamBusClosedError(this.kind);
    const subscriptions = this.channels.get(channel);
    if (!subscriptions) return;
    // A snapshot: a handler that subscribes or unsubscribes during fan-out changes the next message, not this one.
    for (const subscription of [...subscriptions]) {
      try {
        subscription.onMessage(message);
      } catch (error) {
        this.options.onError?.(error, channel);
      }
    }
  }

  async subscribe(channel: string, onMessage: (message: unknown) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new StreamBusClosedError(this.kind);
    const subscription: Subscription = { onMessage };
    let subscriptions = this.channels.get(channel);
    if (!subscriptions) {
      subscriptions = new Set();
      this.channels.set(channel, subscriptions);
    }
    subscriptions.add(subscription);
    return async () => {
      const current = this.channels.get(channel);
      if (!current?.delete(subscription)) return;
      if (current.size === 0) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channels.clear();
  }
}

import { Redis, type RedisOptions } from 'ioredis';
import { StreamBusClosedError, type StreamBus, type StreamBusErrorHandler } from './stream-bus';

/** Prepended to every channel name so Zumik's channels cannot collide with other users of the same Redis. */
export const DEFAULT_STREAM_KEY_PREFIX = 'zumik:stream:';

export interface RedisStreamBusOptions {
  /** `redis://` or `rediss://` URL, as ioredis reads it. */
  url: string;
  /** Defaults to `zumik:stream:`. */
  keyPrefix?: string;
  /** Connections appear in `CLIENT LIST` as `<name>:publish` and `<name>:subscribe`; defaults to `zumik-stream`. */
  connectionName?: string;
  /** Connection errors, subscriber handler errors and unreadable messages; the bus keeps running. */
  onError?: StreamBusErrorHandler;
  /** Extra ioredis options (timeouts, TLS, retry strategy); the bus sets the connection names itself. */
  redisOptions?: RedisOptions;
}

type Subscription = { readonly onMessage: (message: unknown) => void };
type ChannelState = { readonly subscriptions: Set<Subscription>; readonly active: Promise<unknown> };

/**
 * The shared bus for several API and worker processes: Redis pub/sub, one publishing and one subscribing
 * connection per process, all channels multiplexed on the subscriber and reference-counted so local
 * subscribers of one channel share one `SUBSCRIBE`.
 *
 * Delivery is at most once. ioredis reconnects both connections and re-subscribes every channel
 * (`autoResubscribe`), but what was published while the subscriber was away is lost; a publish in
 * flight when the publisher's connection drops is re-sent (`autoResendUnfulfilledCommands`) and may
 * then arrive twice. Publishes issued while disconnected wait in ioredis's offline queue, in order.
 */
export class RedisStreamBus implements StreamBus {
  readonly kind = 'redis' as const;
  readonly keyPrefix: string;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  /** Keyed by the Redis channel name (prefix included), as the subscriber connection reports it. */
  private readonly channels = new Map<string, ChannelState>();
  private closed = false;

  constructor(private readonly options: RedisStreamBusOptions) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_STREAM_KEY_PREFIX;
    const name = options.connectionName ?? 'zumik-stream';
    this.publisher = new Redis(options.url, { ...options.redisOptions, connectionName: `${name}:publish` });
    this.subscriber = new Redis(options.url, { ...options.redisOptions, connectionName: `${name}:subscribe`, autoResubscribe: true });
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('error', (error: unknown) => this.options.onError?.(error, undefined));
    }
    this.subscriber.on('message', (redisChannel: string, payload: string) => this.dispatch(redisChannel, payload));
  }

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.closed) throw new StreamBusClosedError(this.kind);
    const payload = JSON.stringify(message) as string | undefined;
    if (payload === undefined) throw new TypeError(`stream bus messages must be JSON values (channel ${channel} got ${typeof message})`);
    await this.publisher.publish(this.keyPrefix + channel, payload);
  }

  async subscribe(channel: string, onMessage: (message: unknown) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new StreamBusClosedError(this.kind);
    const redisChannel = this.keyPrefix + channel;
    let state = this.channels.get(redisChannel);
    if (!state) {
      state = { subscriptions: new Set(), active: this.subscriber.subscribe(redisChannel) };
      this.channels.set(redisChannel, state);
    }
    const subscription: Subscription = { onMessage };
    state.subscriptions.add(subscription);
    try {
      await state.active;
    } catch (error) {
      // Every local subscriber waiting on this SUBSCRIBE fails with it; the next subscribe starts afresh.
      state.subscriptions.delete(subscription);
      if (this.channels.get(redisChannel) === state) this.channels.delete(redisChannel);
      throw error;
    }
    const subscribed = state;
    return () => this.release(redisChannel, subscribed, subscription);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }

  /** The last local subscriber of a channel leaving sends the `UNSUBSCRIBE`; calling it twice is harmless. */
  private async release(redisChannel: string, state: ChannelState, subscription: Subscription): Promise<void> {
    if (!state.subscriptions.delete(subscription)) return;
    if (state.subscriptions.size > 0 || this.channels.get(redisChannel) !== state) return;
    this.channels.delete(redisChannel);
    // A subscribe of the same channel after this point sends its SUBSCRIBE behind this UNSUBSCRIBE on
    // the same connection, so Redis ends up subscribed.
    try {
      await this.subscriber.unsubscribe(redisChannel);
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  private dispatch(redisChannel: string, payload: string): void {
    const state = this.channels.get(redisChannel);
    if (!state) return;
    const channel = redisChannel.slice(this.keyPrefix.length);
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch (cause) {
      this.options.onError?.(new Error(`unreadable message on stream channel ${channel}`, { cause }), channel);
      return;
    }
    for (const subscription of [...state.subscriptions]) {
      try {
        subscription.onMessage(message);
      } catch (error) {
        this.options.onError?.(error, channel);
      }
    }
  }
}

/** QUIT sends what is queued first; a connection that cannot say goodbye is dropped. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  try {
    await connection.quit();
  } catch {
    connection.disconnect();
  }
}

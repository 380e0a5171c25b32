/**
 * The `zumik_config` change feed (migration 1732320000500): one dedicated connection LISTENs, and every
 * per-process cache of the request path forgets an entry the moment another process changes it. While
 * the connection is down, subscribers hear `*` (forget everything) and the caches fall back to their
 * TTLs; it reconnects with backoff.
 */
import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';

export type ConfigTopic = `alias:${string}` | `policy:${string}` | `key:${string}` | `lane:${string}` | `budgets:${string}` | 'prices' | 'circuits' | '*';

export class ConfigFeed {
  private client?: Client;
  private readonly subscribers = new Set<(topic: ConfigTopic) => void>();
  private closed = false;
  private retryMs = 250;
  private timer?: NodeJS.Timeout;

  constructor(private readonly connection: ClientConfig, private readonly logger: Logger) {}

  /** True while notifications arrive: the caches may trust their entries until told otherwise. */
  get live(): boolean {
    return this.client !== undefined;
  }

  subscribe(listener: (topic: ConfigTopic) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  async start(): Promise<void> {
    const client = new Client(this.connection);
    client.on('notification', (message) => { if (message.payload) this.emit(message.payload as ConfigTopic); });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query('LISTEN zumik_config');
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.retryMs = 250;
      // Whatever changed while nobody listened is unknown: start clean.
      this.emit('*');
    } catch (error) {
      await client.end().catch(() => undefined);
      this.lost(undefined, error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private lost(client: Client | undefined, error?: unknown): void {
    if (client && this.client !== client) return;
    this.client = undefined;
    this.emit('*');
    if (this.closed || this.timer) return;
    this.logger.warn({ err: error, retryMs: this.retryMs }, 'config change feed lost; caches fall back to their TTLs until it is back');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) void this.start();
    }, this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
  }

  private emit(topic: ConfigTopic): void {
    for (const subscriber of this.subscribers) subscriber(topic);
  }
}

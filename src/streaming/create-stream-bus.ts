import { InProcessStreamBus } from './in-process-stream-bus';
import { RedisStreamBus } from './redis-stream-bus';
import type { StreamBus, StreamBusErrorHandler } from './stream-bus';

export interface CreateStreamBusOptions {
  onError?: StreamBusErrorHandler;
}

/**
 * Picks the bus from `ZUMIK_STREAM_BUS`: unset, empty or `memory` keeps delivery in this process;
 * a `redis://` (or TLS `rediss://`) URL shares it across processes. Anything else is a configuration
 * mistake and throws, naming the value (with any password masked).
 */
export function createStreamBus(spec: string | undefined, options: CreateStreamBusOptions = {}): StreamBus {
  if (spec === undefined || spec === '' || spec === 'memory') return new InProcessStreamBus(options);
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) return new RedisStreamBus({ url: spec, onError: options.onError });
  throw new Error(`unsupported stream bus "${maskPassword(spec)}": expected "memory" or a redis:// URL`);
}

function maskPassword(spec: string): string {
  try {
    const url = new URL(spec);
    if (!url.password) return spec;
    url.password = '***';
    return url.toString();
  } catch {
    return spec;
  }
}

/** ZUMIK_STREAM_BUS → a bus, or a start-up error that names the bad value. */
import { createStreamBus } from '../../src/streaming/create-stream-bus';
import { InProcessStreamBus } from '../../src/streaming/in-process-stream-bus';
import { RedisStreamBus } from '../../src/streaming/redis-stream-bus';
import type { StreamBus } from '../../src/streaming/stream-bus';
import { Inbox, redisUrl } from './stream-bus-helpers';

describe('createStreamBus', () => {
  const created: StreamBus[] = [];
  afterEach(async () => {
    await Promise.all(created.splice(0).map((bus) => bus.close()));
  });

  function create(spec: string | undefined, onError?: (error: unknown) => void): StreamBus {
    const bus = createStreamBus(spec, { onError });
    created.push(bus);
    return bus;
  }

  it.each([[undefined], [''], ['memory']])('keeps delivery in this process for %p', (spec) => {
    const bus = create(spec);
    expect(bus).toBeInstanceOf(InProcessStreamBus);
    expect(bus.kind).toBe('memory');
  });

  it('shares delivery through Redis for a redis:// URL', async () => {
    const bus = create(redisUrl);
    expect(bus).toBeInstanceOf(RedisStreamBus);
    expect(bus.kind).toBe('redis');
    const inbox = new Inbox();
    await bus.subscribe('request-1', inbox.receive);
    await bus.publish('request-1', { seq: 0 });
    expect(await inbox.until(1)).toEqual([{ seq: 0 }]);
  });

  it('accepts a TLS rediss:// URL', () => {
    const bus = create('rediss://127.0.0.1:1', () => undefined);
    expect(bus.kind).toBe('redis');
  });

  it('passes onError to the bus it creates', async () => {
    const errors: unknown[] = [];
    const bus = create('memory', (error) => errors.push(error));
    const failure = new Error('handler bug');
    await bus.subscribe('request-1', () => {
      throw failure;
    });
    await bus.publish('request-1', 'chunk');
    expect(errors).toEqual([failure]);
  });

  it.each([['nats://127.0.0.1:4222'], ['redis'], ['Memory'], ['127.0.0.1:6379']])('refuses %p and names it', (spec) => {
    expect(() => createStreamBus(spec)).toThrow(`unsupported stream bus "${spec}": expected "memory" or a redis:// URL`);
  });

  it('masks a password in the value it names', () => {
    expect(() => createStreamBus('nats://zumik:hunter2@broker:4222')).toThrow('"nats://zumik:***@broker:4222"');
    expect(() => createStreamBus('nats://zumik:hunter2@broker:4222')).not.toThrow(/hunter2/);
  });
});

/** What only the shared bus has: several processes, one subscriber connection, a server that drops us. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { Redis } from 'ioredis';
import { DEFAULT_STREAM_KEY_PREFIX, RedisStreamBus, type RedisStreamBusOptions } from '../../src/streaming/redis-stream-bus';
import { Inbox, redisUrl, uniqueName, uniquePrefix, waitFor } from './stream-bus-helpers';

const repositoryRoot = path.resolve(__dirname, '../..');
/** Child processes still running when a test ends (it failed) are killed, so none outlives the suite. */
const children: ChildProcess[] = [];

describe('RedisStreamBus', () => {
  let admin: Redis;
  const buses: RedisStreamBus[] = [];
  let errors: unknown[];

  beforeAll(() => {
    admin = new Redis(redisUrl);
  });

  afterAll(async () => {
    await admin.quit();
  });

  beforeEach(() => {
    errors = [];
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  function createBus(options: Partial<RedisStreamBusOptions> = {}): RedisStreamBus {
    const bus = new RedisStreamBus({ url: redisUrl, keyPrefix: uniquePrefix(), onError: (error) => errors.push(error), ...options });
    buses.push(bus);
    return bus;
  }

  /** This test's connections as the server sees them (`CLIENT LIST`): id and channel subscription count. */
  async function connectionsNamed(name: string): Promise<Array<{ id: string; subscriptions: number }>> {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    return list.split('\n').filter((line) => line.includes(` name=${name} `)).map((line) => ({
      id: /(?:^|\s)id=(\d+)/.exec(line)![1]!,
      subscriptions: Number(/\ssub=(\d+)/.exec(line)![1]),
    }));
  }

  async function subscriberCount(redisChannel: string): Promise<number> {
    const [, count] = (await admin.call('PUBSUB', 'NUMSUB', redisChannel)) as [string, number];
    return count;
  }

  describe('connections', () => {
    it('multiplexes every channel over one subscriber connection and publishes over one other', async () => {
      const name = uniqueName('multiplex');
      const bus = createBus({ connectionName: name });
      const inboxes = [new Inbox(), new Inbox(), new Inbox()];
      await Promise.all(inboxes.map((inbox, index) => bus.subscribe(`request-${index}`, inbox.receive)));
      await Promise.all(inboxes.map((_, index) => bus.publish(`request-${index}`, index)));
      for (const [index, inbox] of inboxes.entries()) expect(await inbox.until(1)).toEqual([index]);
      expect(await connectionsNamed(`${name}:subscribe`)).toEqual([{ id: expect.any(String), subscriptions: 3 }]);
      expect(await connectionsNamed(`${name}:publish`)).toHaveLength(1);
    });

    it('keeps one Redis subscription while any local subscriber of the channel remains', async () => {
      const bus = createBus();
      const redisChannel = `${bus.keyPrefix}request-1`;
      const leaving = new Inbox();
      const staying = new Inbox();
      const unsubscribeLeaving = await bus.subscribe('request-1', leaving.receive);
      const unsubscribeStaying = await bus.subscribe('request-1', staying.receive);
      expect(await subscriberCount(redisChannel)).toBe(1);
      await unsubscribeLeaving();
      expect(await subscriberCount(redisChannel)).toBe(1);
      await bus.publish('request-1', 'still subscribed');
      expect(await staying.until(1)).toEqual(['still subscribed']);
      await unsubscribeStaying();
      expect(await subscriberCount(redisChannel)).toBe(0);
    });

    it('closes both connections', async () => {
      const name = uniqueName('close');
      const bus = createBus({ connectionName: name });
      await bus.subscribe('request-1', () => undefined);
      await bus.publish('request-1', 'warm up');
      expect(await connectionsNamed(`${name}:subscribe`)).toHaveLength(1);
      expect(await connectionsNamed(`${name}:publish`)).toHaveLength(1);
      await bus.close();
      await waitFor(async () => (await connectionsNamed(`${name}:subscribe`)).length === 0
        && (await connectionsNamed(`${name}:publish`)).length === 0, 'both connections to close');
      expect(await subscriberCount(`${bus.keyPrefix}request-1`)).toBe(0);
    });
  });

  describe('across processes', () => {
    it('delivers between two bus instances with their own connections', async () => {
      const keyPrefix = uniquePrefix();
      const apiProcess = createBus({ keyPrefix });
      const workerProcess = createBus({ keyPrefix });
      const inbox = new Inbox();
      await apiProcess.subscribe('request-1', inbox.receive);
      const sent = Array.from({ length: 100 }, (_, seq) => ({ seq }));
      await Promise.all(sent.map((message) => workerProcess.publish('request-1', message)));
      expect(await inbox.until(100)).toEqual(sent);
    });

    it('receives what a child process publishes as JSON on the prefixed channel', async () => {
      const bus = createBus();
      const inbox = new Inbox();
      await bus.subscribe('request-1', inbox.receive);
      const child = runNode(`
        const { Redis } = require('ioredis');
        const redis = new Redis(process.env.REDIS_URL);
        (async () => {
          for (let seq = 0; seq < 50; seq++) await redis.publish(process.env.CHANNEL, JSON.stringify({ seq, pid: process.pid }));
          await redis.quit();
        })().catch((error) => { console.error(error); process.exit(1); });
      `, { CHANNEL: `${bus.keyPrefix}request-1` });
      expect(await child.exitCode).toBe(0);
      const received = (await inbox.until(50)) as Array<{ seq: number; pid: number }>;
      expect(received.map((message) => message.seq)).toEqual(Array.from({ length: 50 }, (_, seq) => seq));
      expect(received[0]!.pid).toBe(child.pid);
      expect(child.pid).not.toBe(process.pid);
    });

    it('reaches a subscriber in a child process', async () => {
      const bus = createBus();
      const child = runNode(`
        const { Redis } = require('ioredis');
        const redis = new Redis(process.env.REDIS_URL);
        redis.on('message', (_channel, payload) => {
          console.log(payload);
          if (JSON.parse(payload).last) redis.quit();
        });
        redis.subscribe(process.env.CHANNEL).then(() => console.log('"ready"'));
      `, { CHANNEL: `${bus.keyPrefix}request-1` });
      const lines = child.lines();
      expect(JSON.parse((await lines.next()).value as string)).toBe('ready');
      await bus.publish('request-1', { seq: 0 });
      await bus.publish('request-1', { seq: 1, last: true });
      const received: unknown[] = [];
      for await (const line of lines) received.push(JSON.parse(line));
      expect(received).toEqual([{ seq: 0 }, { seq: 1, last: true }]);
      expect(await child.exitCode).toBe(0);
    });
  });

  describe('when the server drops a connection', () => {
    it('resubscribes and delivers again', async () => {
      const name = uniqueName('resubscribe');
      const bus = createBus({ connectionName: name });
      const inbox = new Inbox();
      await bus.subscribe('request-1', inbox.receive);
      await bus.publish('request-1', 'before');
      await inbox.until(1);
      const [dropped] = await connectionsNamed(`${name}:subscribe`);
      expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'ID', dropped!.id)).toBe(1);
      await waitFor(async () => (await connectionsNamed(`${name}:subscribe`))
        .some((connection) => connection.id !== dropped!.id && connection.subscriptions === 1), 'the subscriber to come back');
      await bus.publish('request-1', 'after');
      expect(await inbox.until(2)).toEqual(['before', 'after']);
    });

    it('loses what was published while the subscriber was away (at most once)', async () => {
      const name = uniqueName('gap');
      // Reconnect slowly, so the publish below certainly falls in the gap.
      const bus = createBus({ connectionName: name, redisOptions: { retryStrategy: () => 500 } });
      const inbox = new Inbox();
      await bus.subscribe('request-1', inbox.receive);
      const [dropped] = await connectionsNamed(`${name}:subscribe`);
      expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'ID', dropped!.id)).toBe(1);
      await bus.publish('request-1', 'lost');
      await waitFor(async () => (await connectionsNamed(`${name}:subscribe`)).some((connection) => connection.subscriptions === 1),
        'the subscriber to come back');
      await bus.publish('request-1', 'after');
      await inbox.until(1);
      expect(inbox.messages).toEqual(['after']);
    });

    it('publishes again after the publisher connection was dropped', async () => {
      const name = uniqueName('republish');
      const bus = createBus({ connectionName: name });
      const inbox = new Inbox();
      await bus.subscribe('request-1', inbox.receive);
      await bus.publish('request-1', 'before');
      await inbox.until(1);
      const [dropped] = await connectionsNamed(`${name}:publish`);
      expect(await admin.call('CLIENT', 'KILL', 'ID', dropped!.id)).toBe(1);
      await bus.publish('request-1', 'after');
      expect(await inbox.until(2)).toEqual(['before', 'after']);
    });
  });

  describe('messages', () => {
    it('uses zumik:stream: as the default channel prefix', async () => {
      const bus = createBus({ keyPrefix: undefined });
      const channel = uniqueName('default-prefix');
      const inbox = new Inbox();
      await bus.subscribe(channel, inbox.receive);
      expect(bus.keyPrefix).toBe(DEFAULT_STREAM_KEY_PREFIX);
      expect(DEFAULT_STREAM_KEY_PREFIX).toBe('zumik:stream:');
      await admin.publish(`zumik:stream:${channel}`, JSON.stringify({ raw: true }));
      expect(await inbox.until(1)).toEqual([{ raw: true }]);
    });

    it('reports a message that is not JSON and delivers the ones after it', async () => {
      const bus = createBus();
      const inbox = new Inbox();
      await bus.subscribe('request-1', inbox.receive);
      await admin.publish(`${bus.keyPrefix}request-1`, 'not json');
      await bus.publish('request-1', 'fine');
      expect(await inbox.until(1)).toEqual(['fine']);
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('unreadable message on stream channel request-1');
    });

    it('refuses to publish a value JSON cannot carry', async () => {
      const bus = createBus();
      await expect(bus.publish('request-1', undefined)).rejects.toThrow('stream bus messages must be JSON values');
    });
  });
});

/** A real second Node process, resolving `ioredis` from this repository. */
function runNode(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['-e', script], {
    cwd: repositoryRoot,
    env: { ...process.env, REDIS_URL: redisUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exitCode = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  return {
    pid: child.pid,
    exitCode,
    lines: () => readline.createInterface({ input: child.stdout })[Symbol.asyncIterator](),
  };
}

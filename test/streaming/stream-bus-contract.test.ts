/** One contract, two buses: whatever the handler sees must not depend on ZUMIK_STREAM_BUS. */
import { InProcessStreamBus } from '../../src/streaming/in-process-stream-bus';
import { RedisStreamBus } from '../../src/streaming/redis-stream-bus';
import { StreamBusClosedError, type StreamBus, type StreamBusErrorHandler } from '../../src/streaming/stream-bus';
import { Inbox, redisUrl, uniquePrefix } from './stream-bus-helpers';

const implementations: Array<[string, (onError: StreamBusErrorHandler) => StreamBus]> = [
  ['InProcessStreamBus', (onError) => new InProcessStreamBus({ onError })],
  ['RedisStreamBus', (onError) => new RedisStreamBus({ url: redisUrl, keyPrefix: uniquePrefix(), onError })],
];

describe.each(implementations)('%s (StreamBus contract)', (_name, createBus) => {
  let bus: StreamBus;
  let errors: Array<{ error: unknown; channel: string | undefined }>;

  beforeEach(() => {
    errors = [];
    bus = createBus((error, channel) => errors.push({ error, channel }));
  });

  afterEach(async () => {
    await bus.close();
  });

  /** Publishes on a second channel and waits for it: the same publisher's earlier messages have arrived by then. */
  async function settle(): Promise<void> {
    const marker = new Inbox();
    const unsubscribe = await bus.subscribe('settle', marker.receive);
    await bus.publish('settle', 'done');
    await marker.until(1);
    await unsubscribe();
  }

  it('delivers 1,000 messages to a subscriber in publish order', async () => {
    const inbox = new Inbox();
    await bus.subscribe('request-1', inbox.receive);
    const sent = Array.from({ length: 1_000 }, (_, seq) => ({ seq, delta: `token ${seq}` }));
    // Issued back to back without waiting for each other, as an activity pushing chunks would.
    await Promise.all(sent.map((message) => bus.publish('request-1', message)));
    expect(await inbox.until(1_000)).toEqual(sent);
  });

  it('delivers JSON values intact', async () => {
    const inbox = new Inbox();
    await bus.subscribe('request-1', inbox.receive);
    const sent = [{ type: 'chunk', choices: [{ delta: { content: 'héllo 👋 "quoted"\n' } }], usage: null }, 'plain', 42, true, null, [1, [2]]];
    for (const message of sent) await bus.publish('request-1', message);
    expect(await inbox.until(sent.length)).toEqual(sent);
  });

  it('delivers each message to every subscriber of the channel', async () => {
    const first = new Inbox();
    const second = new Inbox();
    await bus.subscribe('request-1', first.receive);
    await bus.subscribe('request-1', second.receive);
    await bus.publish('request-1', 'a');
    await bus.publish('request-1', 'b');
    expect(await first.until(2)).toEqual(['a', 'b']);
    expect(await second.until(2)).toEqual(['a', 'b']);
  });

  it('keeps channels apart', async () => {
    const one = new Inbox();
    const two = new Inbox();
    await bus.subscribe('request-1', one.receive);
    await bus.subscribe('request-2', two.receive);
    await bus.publish('request-2', 'for two');
    await bus.publish('request-1', 'for one');
    await bus.publish('request-2', 'end');
    await bus.publish('request-1', 'end');
    expect(await one.until(2)).toEqual(['for one', 'end']);
    expect(await two.until(2)).toEqual(['for two', 'end']);
  });

  it('stops delivering to a subscriber that unsubscribed and keeps delivering to the others', async () => {
    const leaving = new Inbox();
    const staying = new Inbox();
    const unsubscribe = await bus.subscribe('request-1', leaving.receive);
    await bus.subscribe('request-1', staying.receive);
    await bus.publish('request-1', 'before');
    await leaving.until(1);
    await unsubscribe();
    await bus.publish('request-1', 'after');
    expect(await staying.until(2)).toEqual(['before', 'after']);
    await settle();
    expect(leaving.messages).toEqual(['before']);
  });

  it('stops delivering once the last subscriber of a channel has left', async () => {
    const inbox = new Inbox();
    const unsubscribe = await bus.subscribe('request-1', inbox.receive);
    await unsubscribe();
    await bus.publish('request-1', 'nobody listens');
    await settle();
    expect(inbox.messages).toEqual([]);
  });

  it('treats unsubscribing twice as unsubscribing once', async () => {
    const leaving = new Inbox();
    const staying = new Inbox();
    const unsubscribe = await bus.subscribe('request-1', leaving.receive);
    await bus.subscribe('request-1', staying.receive);
    await unsubscribe();
    await unsubscribe();
    await bus.publish('request-1', 'still here');
    expect(await staying.until(1)).toEqual(['still here']);
    expect(leaving.messages).toEqual([]);
  });

  it('counts one handler subscribed twice as two subscriptions', async () => {
    const inbox = new Inbox();
    const unsubscribeFirst = await bus.subscribe('request-1', inbox.receive);
    await bus.subscribe('request-1', inbox.receive);
    await bus.publish('request-1', 'twice');
    await inbox.until(2);
    await unsubscribeFirst();
    await bus.publish('request-1', 'once');
    await inbox.until(3);
    await settle();
    expect(inbox.messages).toEqual(['twice', 'twice', 'once']);
  });

  it('delivers to a subscriber that joins while the previous last subscriber is still leaving', async () => {
    const leaving = new Inbox();
    const joining = new Inbox();
    const unsubscribe = await bus.subscribe('request-1', leaving.receive);
    const left = unsubscribe();
    await bus.subscribe('request-1', joining.receive);
    await left;
    await bus.publish('request-1', 'hello');
    expect(await joining.until(1)).toEqual(['hello']);
  });

  it('resolves a publish to a channel nobody listens to', async () => {
    await expect(bus.publish('nobody-listens', { seq: 0 })).resolves.toBeUndefined();
  });

  it('keeps delivering to the other subscribers when one handler throws, and reports the error', async () => {
    const failure = new Error('handler bug');
    const inbox = new Inbox();
    await bus.subscribe('request-1', () => {
      throw failure;
    });
    await bus.subscribe('request-1', inbox.receive);
    await bus.publish('request-1', 1);
    await bus.publish('request-1', 2);
    expect(await inbox.until(2)).toEqual([1, 2]);
    expect(errors).toEqual([{ error: failure, channel: 'request-1' }, { error: failure, channel: 'request-1' }]);
  });

  it('closes cleanly: later publishes and subscribes reject, unsubscribing and closing again do not', async () => {
    const inbox = new Inbox();
    const unsubscribe = await bus.subscribe('request-1', inbox.receive);
    await bus.close();
    await expect(bus.publish('request-1', 'late')).rejects.toBeInstanceOf(StreamBusClosedError);
    await expect(bus.subscribe('request-1', inbox.receive)).rejects.toBeInstanceOf(StreamBusClosedError);
    await expect(unsubscribe()).resolves.toBeUndefined();
    await expect(bus.close()).resolves.toBeUndefined();
    expect(inbox.messages).toEqual([]);
    expect(errors).toEqual([]);
  });
});

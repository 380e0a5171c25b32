/** What the in-process bus adds to the contract: no copy, no delay. */
import { InProcessStreamBus } from '../../src/streaming/in-process-stream-bus';
import { Inbox } from './stream-bus-helpers';

describe('InProcessStreamBus', () => {
  it('hands subscribers the published object itself, not a copy', async () => {
    const bus = new InProcessStreamBus();
    const inbox = new Inbox();
    await bus.subscribe('request-1', inbox.receive);
    const chunk = { seq: 0, at: new Date(0) };
    await bus.publish('request-1', chunk);
    expect(inbox.messages[0]).toBe(chunk);
  });

  it('has delivered to every subscriber by the time publish returns', async () => {
    const bus = new InProcessStreamBus();
    const inbox = new Inbox();
    await bus.subscribe('request-1', inbox.receive);
    const published = bus.publish('request-1', 'now');
    expect(inbox.messages).toEqual(['now']);
    await published;
  });

  it('delivers a message to the subscribers present when it was published, even if one leaves during fan-out', async () => {
    const bus = new InProcessStreamBus();
    const inbox = new Inbox();
    const leave: Array<() => Promise<void>> = [];
    await bus.subscribe('request-1', () => void leave.pop()?.());
    leave.push(await bus.subscribe('request-1', inbox.receive));
    await bus.publish('request-1', 'first');
    await bus.publish('request-1', 'second');
    expect(inbox.messages).toEqual(['first']);
  });

  it('keeps a throwing handler from reaching the publisher when no onError is given', async () => {
    const bus = new InProcessStreamBus();
    const inbox = new Inbox();
    await bus.subscribe('request-1', () => {
      throw new Error('handler bug');
    });
    await bus.subscribe('request-1', inbox.receive);
    await expect(bus.publish('request-1', 'chunk')).resolves.toBeUndefined();
    expect(inbox.messages).toEqual(['chunk']);
  });
});

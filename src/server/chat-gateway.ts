/**
 * The request path's front half: turns a validated chat request into a chatRequestWorkflow (eager
 * start on the shared connection) and delivers its answer — from the StreamBus as soon as an attempt
 * has it, or from the workflow's result when the bus carried nothing (another process ran the attempt
 * on an in-process bus, or an idempotent replay).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Logger } from 'pino';
import { requestChannel, requestControlChannel, type RequestControlMessage, type RequestMessage } from '../domain/request-messages';
import type { ChatRequestInput, ChatRequestResult, RequestOutcome } from '../domain/request-outcome';
import { SearchAttributes } from '../temporal/search-attributes';
import type { StreamBus } from '../streaming/stream-bus';

export interface ChatGatewayOptions {
  client: Client;
  bus: StreamBus;
  taskQueue: string;
  /** True when a worker in this process shares the client's connection (eager start possible). */
  eager: boolean;
  logger: Logger;
}

/** Events the HTTP layer consumes, in order. */
export type Delivery =
  | { type: 'chunk'; message: Extract<RequestMessage, { type: 'chunk' }> }
  | { type: 'final'; outcome: RequestOutcome; body?: Record<string, unknown>; chunkCount?: number }
  | { type: 'stream-error'; error: Extract<RequestMessage, { type: 'stream-error' }>['error'] }
  /** The workflow ended: its recorded outcome and, when completed, the answer. */
  | { type: 'result'; result: ChatRequestResult };

export interface StartedRequest {
  handle: WorkflowHandle;
  eagerlyStarted: boolean;
  /** Delivery events until the answer is complete (ends after `final`, `stream-error` + result, or `result`). */
  deliveries: AsyncIterable<Delivery>;
  cancel(): Promise<void>;
}

export function workflowIdFor(tenantId: string, requestId: string): string {
  return `req:${tenantId}:${requestId}`;
}

export class ChatGateway {
  constructor(private readonly options: ChatGatewayOptions) {}

  /** Start (or, for an Idempotency-Key replay, attach to) the request's workflow and follow its delivery. */
  async start(input: ChatRequestInput, options: { replay?: boolean } = {}): Promise<StartedRequest> {
    const queue = new DeliveryQueue();
    const unsubscribe = input.delivery === 'sync' && !options.replay
      ? await this.options.bus.subscribe(requestChannel(input.requestId), (message) => queue.push(busDelivery(message as RequestMessage)))
      : async () => undefined;
    const workflowId = workflowIdFor(input.tenantId, input.requestId);
    let handle: WorkflowHandle;
    let eagerlyStarted = false;
    try {
      if (options.replay) {
        handle = this.options.client.workflow.getHandle(workflowId);
        await waitUntilStarted(handle);
      } else {
        const started = await this.options.client.workflow.start('chatRequestWorkflow', {
          taskQueue: this.options.taskQueue, workflowId, args: [input], requestEagerStart: this.options.eager,
          workflowTaskTimeout: '10s',
          typedSearchAttributes: [
            { key: SearchAttributes.tenant, value: input.tenantId },
            { key: SearchAttributes.alias, value: input.alias },
            { key: SearchAttributes.qosClass, value: input.qosClass },
            { key: SearchAttributes.kind, value: input.batchLine ? 'batch-line' : 'chat' },
          ],
          staticSummary: `${input.alias} · ${input.qosClass}${input.stream ? ' · stream' : ''}`,
        });
        handle = started;
        eagerlyStarted = started.eagerlyStarted;
      }
    } catch (error) {
      await unsubscribe();
      if (error instanceof WorkflowExecutionAlreadyStartedError) handle = this.options.client.workflow.getHandle(workflowId);
      else throw error;
    }
    if (input.delivery === 'sync') {
      (handle.result() as Promise<ChatRequestResult>).then(
        (result) => queue.push({ type: 'result', result }),
        (error: unknown) => queue.fail(error),
      );
    }
    return {
      handle, eagerlyStarted,
      deliveries: queue.drain(unsubscribe),
      cancel: async () => {
        // The attempt aborts its upstream call at once; the workflow's cancellation follows durably.
        const message: RequestControlMessage = { type: 'cancel' };
        await this.options.bus.publish(requestControlChannel(input.requestId), message).catch(() => undefined);
        await handle.cancel().catch((error: unknown) => this.options.logger.debug({ err: error }, 'cancel after the workflow ended'));
      },
    };
  }
}

function busDelivery(message: RequestMessage): Delivery {
  switch (message.type) {
    case 'chunk': return { type: 'chunk', message };
    case 'final': return { type: 'final', outcome: message.outcome, body: message.body, chunkCount: message.chunkCount };
    case 'stream-error': return { type: 'stream-error', error: message.error };
  }
}

/** An unbounded async queue: the bus and the workflow result push, the HTTP handler pulls. */
class DeliveryQueue {
  private readonly items: Delivery[] = [];
  private waiting?: { resolve: () => void };
  private error?: unknown;
  private done = false;

  push(item: Delivery): void {
    if (this.done) return;
    this.items.push(item);
    this.wake();
  }

  fail(error: unknown): void {
    this.error = error;
    this.wake();
  }

  async *drain(cleanup: () => Promise<void>): AsyncGenerator<Delivery> {
    try {
      for (;;) {
        while (this.items.length > 0) yield this.items.shift()!;
        if (this.error !== undefined) throw this.error;
        await new Promise<void>((resolve) => { this.waiting = { resolve }; });
      }
    } finally {
      this.done = true;
      await cleanup().catch(() => undefined);
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve();
  }
}

/**
 * An Idempotency-Key replay can arrive while the first request is still between claiming the key and
 * starting its workflow: wait (briefly) for the workflow to exist before following it.
 */
async function waitUntilStarted(handle: WorkflowHandle, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await handle.describe();
      return;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * The request path's front half: turns a decided chat request into a chatRequestWorkflow (eager start
 * on the shared connection, four search attributes) and delivers its answer from the StreamBus — the
 * attempt's chunks and final answer, or the outcome of a request that ended without one. No
 * per-request long-poll: the workflow's result is read only by an Idempotency-Key replay (after
 * Postgres had nothing yet) and as a safety net when the bus stays silent past the deadline.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Logger } from 'pino';
import { requestChannel, requestControlChannel, type RequestControlMessage, type RequestMessage, type StreamCheckpoint } from '../domain/request-messages';
import type { ChatRequestInput, ChatRequestResult, RequestOutcome } from '../domain/request-outcome';
import { SearchAttributes } from '../temporal/search-attributes';
import type { StreamBus } from '../streaming/stream-bus';

export interface ChatGatewayOptions {
  client: Client;
  bus: StreamBus;
  taskQueue: string;
  /** True when a worker in this process shares the client's connection (eager start possible). */
  eager: boolean;
  /** Where a finished request's outcome and kept answer are read back (replays). */
  requests: { find(tenantId: string, id: string): Promise<{ outcome: RequestOutcome; response: unknown } | undefined> };
  logger: Logger;
  /** How long after the deadline a silent bus makes the gateway read the workflow's result instead (default 5 s). */
  silenceGraceMs?: number;
  /**
   * True while this process closes its own connections at the end of a drain: a response cut then is not a
   * client that left, so `cancel()` leaves the request running (its answer is recorded; the client reattaches).
   */
  ownSocketsClosing?: () => boolean;
}

/** Events the HTTP layer consumes, in order. */
export type Delivery =
  | { type: 'chunk'; message: Extract<RequestMessage, { type: 'chunk' }> }
  | { type: 'final'; outcome: RequestOutcome; body?: Record<string, unknown>; chunkCount?: number }
  | { type: 'stream-error'; error: Extract<RequestMessage, { type: 'stream-error' }>['error'] }
  /** The request ended: its outcome and, when completed and kept, the answer. */
  | { type: 'result'; result: ChatRequestResult };

export interface StartedRequest {
  handle?: WorkflowHandle;
  eagerlyStarted: boolean;
  /** Delivery events until the answer is complete (ends after `final`, `stream-error` + result, or `result`). */
  deliveries: AsyncIterable<Delivery>;
  cancel(): Promise<void>;
}

/**
 * The workflow engine could not be reached (Temporal down, restarting or overloaded): nothing was
 * started, so the request can be sent again — with the same Idempotency-Key, which is not used up.
 */
export class EngineUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the workflow engine is unreachable', { cause });
    this.name = 'EngineUnavailableError';
  }
}

/** gRPC codes that mean "the engine is not there right now": DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const ENGINE_DOWN_CODES = new Set([4, 8, 14]);

function engineDown(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'number' && ENGINE_DOWN_CODES.has(code)) return true;
  }
  return false;
}

export function workflowIdFor(tenantId: string, requestId: string): string {
  return `req:${tenantId}:${requestId}`;
}

export class ChatGateway {
  constructor(private readonly options: ChatGatewayOptions) {}

  /** Start the request's workflow and follow its delivery on the bus. */
  async start(input: ChatRequestInput): Promise<StartedRequest> {
    const queue = new DeliveryQueue();
    const checkpoint = new DeliveredStream();
    const onMessage = (message: RequestMessage) => {
      if (message.type === 'probe') {
        // This front door holds the client: it is the stream's checkpoint for an attempt that runs again or continues it.
        const answer: RequestControlMessage = { type: 'delivered', ...checkpoint.snapshot() };
        void this.options.bus.publish(requestControlChannel(input.requestId), answer).catch(() => undefined);
        return;
      }
      if (message.type === 'chunk') checkpoint.add(message.chunk);
      queue.push(busDelivery(message));
    };
    const unsubscribe = input.delivery === 'sync'
      ? await this.options.bus.subscribe(requestChannel(input.requestId), (message) => onMessage(message as RequestMessage))
      : async () => undefined;
    const workflowId = workflowIdFor(input.tenantId, input.requestId);
    let handle: WorkflowHandle;
    let eagerlyStarted = false;
    let attached = false;
    try {
      const started = await this.options.client.workflow.start('chatRequestWorkflow', {
        taskQueue: this.options.taskQueue, workflowId, args: [input], requestEagerStart: this.options.eager,
        workflowTaskTimeout: '10s',
        // A request's workflow id is its own forever: a late start (a resend raced the first) never runs it twice.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: SearchAttributes.tenant, value: input.tenantId },
          { key: SearchAttributes.alias, value: input.alias },
          { key: SearchAttributes.release, value: input.decision?.release.id ?? 'none' },
          { key: SearchAttributes.qosClass, value: input.qosClass },
        ],
        staticSummary: `${input.alias} · ${input.qosClass}${input.stream ? ' · stream' : ''}`,
      });
      handle = started;
      eagerlyStarted = started.eagerlyStarted;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        await unsubscribe();
        throw engineDown(error) ? new EngineUnavailableError(error) : error;
      }
      handle = this.options.client.workflow.getHandle(workflowId);
      attached = true;
    }
    // Attached to a workflow another start made (it may have ended already): its end answers, whichever comes first.
    if (attached && input.delivery === 'sync') {
      this.finished(handle, input).then((result) => queue.push({ type: 'result', result }), (error: unknown) => queue.fail(error));
    }
    let safetyNet: NodeJS.Timeout | undefined;
    if (input.delivery === 'sync') {
      // The bus is the answer's path; should it stay silent (a lost message), the workflow's own record answers.
      safetyNet = setTimeout(() => {
        void this.finished(handle, input).then((result) => queue.push({ type: 'result', result }), (error: unknown) => queue.fail(error));
      }, Math.max(0, input.deadlineAt - Date.now()) + (this.options.silenceGraceMs ?? 5_000));
      safetyNet.unref();
    }
    return {
      handle, eagerlyStarted,
      deliveries: queue.drain(async () => { clearTimeout(safetyNet); await unsubscribe(); }),
      cancel: async () => {
        if (this.options.ownSocketsClosing?.()) return;
        // The attempt aborts its upstream call at once; the workflow's cancellation follows durably.
        const message: RequestControlMessage = { type: 'cancel' };
        await this.options.bus.publish(requestControlChannel(input.requestId), message).catch(() => undefined);
        await handle.cancel().catch((error: unknown) => this.options.logger.debug({ err: error }, 'cancel after the workflow ended'));
      },
    };
  }

  /**
   * An Idempotency-Key replay: the first request's recorded outcome and kept answer, or, while it still
   * runs, its workflow's end and then the record. Undefined when there is neither — the first request
   * never got its workflow started (it died between claiming the key and starting, or the engine was
   * down): the caller starts it now, which is safe because the workflow id is the request's (a start
   * that races the first one attaches to it).
   */
  async replay(input: Pick<ChatRequestInput, 'tenantId' | 'requestId' | 'deadlineAt'>): Promise<StartedRequest | undefined> {
    const queue = new DeliveryQueue();
    const stored = await this.options.requests.find(input.tenantId, input.requestId);
    if (stored) {
      queue.push({ type: 'result', result: { outcome: stored.outcome, response: (stored.response as Record<string, unknown> | null) ?? null } });
      return { eagerlyStarted: false, deliveries: queue.drain(async () => undefined), cancel: async () => undefined };
    }
    const handle = this.options.client.workflow.getHandle(workflowIdFor(input.tenantId, input.requestId));
    try {
      await handle.describe();
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw engineDown(error) ? new EngineUnavailableError(error) : error;
      // Recorded meanwhile (a refusal at the front door writes no workflow)?
      const late = await this.options.requests.find(input.tenantId, input.requestId);
      if (!late) return undefined;
      queue.push({ type: 'result', result: { outcome: late.outcome, response: (late.response as Record<string, unknown> | null) ?? null } });
      return { eagerlyStarted: false, deliveries: queue.drain(async () => undefined), cancel: async () => undefined };
    }
    this.finished(handle, input).then((result) => queue.push({ type: 'result', result }), (error: unknown) => queue.fail(error));
    return { handle, eagerlyStarted: false, deliveries: queue.drain(async () => undefined), cancel: async () => undefined };
  }

  /**
   * The workflow's end: its recorded outcome (with every attempt) and the answer when it was kept, from
   * Postgres. The workflow's own result says only how it ended (and, in the first shape, carried both).
   */
  private async finished(handle: WorkflowHandle, input: Pick<ChatRequestInput, 'tenantId' | 'requestId'>): Promise<ChatRequestResult> {
    const result = await (handle.result() as Promise<ChatRequestResult>);
    if (result.response) return result;
    const stored = await this.options.requests.find(input.tenantId, input.requestId);
    return stored
      ? { outcome: stored.outcome, response: (stored.response as Record<string, unknown> | null) ?? null }
      : result;
  }
}

function busDelivery(message: Exclude<RequestMessage, { type: 'probe' }>): Delivery {
  switch (message.type) {
    case 'chunk': return { type: 'chunk', message };
    case 'final': return { type: 'final', outcome: message.outcome, body: message.body, chunkCount: message.chunkCount };
    case 'stream-error': return { type: 'stream-error', error: message.error };
    case 'outcome': return { type: 'result', result: { outcome: message.outcome, response: null } };
  }
}

/**
 * What this front door's client holds of a stream: the chunk count and, for a continuation, choice 0's
 * text and the first chunk's `created`/`model`. Per chunk it only appends the delta it forwards anyway.
 */
class DeliveredStream {
  private chunks = 0;
  private readonly text: string[] = [];
  private created = 0;
  private model = '';
  private resumable = true;

  add(chunk: Record<string, unknown>): void {
    if (this.chunks === 0) {
      this.created = typeof chunk.created === 'number' ? chunk.created : 0;
      this.model = typeof chunk.model === 'string' ? chunk.model : '';
    }
    this.chunks += 1;
    for (const choice of (chunk.choices as Array<{ index?: number; delta?: Record<string, unknown> }> | undefined) ?? []) {
      const delta = choice.delta ?? {};
      // Several choices, tool calls or a refusal: a continuation could not add to them honestly.
      if (choice.index !== 0 || delta.tool_calls !== undefined || typeof delta.refusal === 'string') this.resumable = false;
      else if (typeof delta.content === 'string' && delta.content.length > 0) this.text.push(delta.content);
    }
  }

  snapshot(): StreamCheckpoint {
    return { chunks: this.chunks, text: this.text.join(''), created: this.created, model: this.model, resumable: this.resumable };
  }
}

/** An unbounded async queue: the bus (or a replay) pushes, the HTTP handler pulls. */
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

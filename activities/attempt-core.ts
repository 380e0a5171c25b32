/**
 * One attempt against one target, shared by the request path's attempt activities (run as a local
 * activity in the first workflow task, or as a regular one): resolves the credential by reference (it
 * never enters workflow state), calls the adapter, streams chunks to the waiting HTTP handler over the
 * StreamBus as they come, and hands the finished answer to the caller's `finish`. The single place a
 * ProviderError becomes an ApplicationFailure (`Provider.<kind>`, with the attempt record as details).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { circuitKey } from '../src/domain/attempt-plan';
import { buildAttemptRecord } from '../src/domain/attempt-record';
import { manifestFor, supportsFlex } from '../src/domain/capabilities';
import { requestChannel, requestControlChannel, type RequestControlMessage, type RequestMessage, type StreamMeta } from '../src/domain/request-messages';
import type { AttemptRecord, ChatRequestInput, PlannedAttempt } from '../src/domain/request-outcome';
import { toChatCompletionChunks } from '../src/contract/openai-renderers';
import { ProviderError } from '../src/providers/provider-error';
import { type FailureKind } from '../src/domain/failure-kinds';
import { StreamResultAssembler } from '../src/providers/stream-result-assembler';
import type { ProviderAdapter, ProviderCallOptions } from '../src/providers/types';
import type { ChatResult, StreamPart } from '../src/contract/chat';
import type { StreamBus } from '../src/streaming/stream-bus';
import type { AttemptAdapters, ResolvedEndpoint } from './attempt-adapters';
import { PROVIDER_FAILURE_PREFIX } from './types';

export interface CredentialSource {
  resolve(request: { tenantId: string; executionProfile: string; provider: string }): Promise<{ apiKey: string } & ResolvedEndpoint>;
}

export interface CircuitRecorder {
  /** Just before the call: may it go (and is it a half-open probe holding a slot)? */
  tryAcquireProbe(key: string): Promise<{ allowed: true; probeId?: string } | { allowed: false; state: string }>;
  /** A probe that neither succeeded nor failed with an outage gives its slot back. */
  releaseProbe(key: string, probeId: string): Promise<unknown>;
  recordSuccess(key: string): Promise<unknown>;
  recordFailure(key: string, kind: FailureKind): Promise<unknown>;
  /**
   * False when the key has no counted failures and no opening: the call goes without asking, and a
   * success has nothing to reset (no round trip). Without it every call asks.
   */
  guarded?(key: string): Promise<boolean>;
}

export interface CallProviderDeps {
  adapters: AttemptAdapters;
  credentials: CredentialSource;
  circuits: CircuitRecorder;
  bus: StreamBus;
  logger: Logger;
  /** How often a running (regular) attempt heartbeats, so a dead worker is noticed and cancellation arrives. */
  heartbeatIntervalMs?: number;
}

/** What every attempt activity is told. Pure data: in history for a regular activity, never a secret. */
export interface AttemptCall {
  request: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'alias' | 'qosClass' | 'stream' | 'body' | 'receivedAt' | 'deadlineAt' | 'delivery'>;
  attempt: PlannedAttempt;
  n: number;
  retryCause: string | null;
  timeouts: { firstTokenMs: number; stallMs: number };
  /** The release's capability manifest revision (flex tiers). */
  manifestRevision: string;
}

export interface FinishedAttempt {
  record: AttemptRecord;
  result: ChatResult;
  /** Streams: how many chunks went out on the bus. */
  chunkCount?: number;
}

/**
 * Run one attempt; `finish` runs once the answer is complete (it publishes the answer and, for the
 * lean path, records it). Throws `Provider.<kind>` ApplicationFailures, or CancelledFailure.
 */
export async function performAttempt<T>(deps: CallProviderDeps, input: AttemptCall, meta: Omit<StreamMeta, 'attempt' | 'provider' | 'model'>,
  finish: (finished: FinishedAttempt, publish: (message: RequestMessage) => Promise<void>) => Promise<T>): Promise<T> {
  const context = Context.current();
  const { request, attempt, n } = input;
  const channel = requestChannel(request.requestId);
  // Delivery is not the provider's business: a bus that fails (Redis down) loses this client's copy — its front
  // door sees the gap and says so, and an Idempotency-Key resend reads the record — but never fails the attempt,
  // which would call the provider again and make the user pay twice.
  let deliveryFailed = false;
  const publish = (message: RequestMessage) => deps.bus.publish(channel, message).catch((error: unknown) => {
    if (!deliveryFailed) deps.logger.warn({ err: error, requestId: request.requestId }, 'stream bus publish failed; the attempt goes on');
    deliveryFailed = true;
  });
  const startedAt = Date.now();
  let firstTokenAt: number | null = null;
  // Regular attempts heartbeat; the details tell the workflow, should this worker die, that the client already has content.
  const beat = () => { if (!context.info.isLocal) context.heartbeat(firstTokenAt === null ? undefined : { firstTokenAt }); };
  const heartbeat = context.info.isLocal ? undefined : setInterval(beat, deps.heartbeatIntervalMs ?? 2_000);
  const record = (status: AttemptRecord['status'], extra: Partial<AttemptRecord> = {}) => buildAttemptRecord(
    { n, attempt, retryCause: input.retryCause, startedAt, endedAt: Date.now(), firstTokenAt }, { status, ...extra });
  const key = circuitKey(attempt.provider, attempt.region, attempt.model);
  // A client that disconnects aborts the upstream call at once (over the bus), not at the next heartbeat.
  const clientGone = new AbortController();
  const unsubscribe = request.delivery === 'sync'
    ? await deps.bus.subscribe(requestControlChannel(request.requestId), (message) => {
      if ((message as RequestControlMessage).type === 'cancel') clientGone.abort();
    }).catch(() => async () => undefined)
    : async () => undefined;
  const signal = AbortSignal.any([context.cancellationSignal, clientGone.signal]);
  const guarded = await (deps.circuits.guarded?.(key) ?? Promise.resolve(true)).catch(() => true);
  let probeId: string | undefined;
  // A half-open probe whose stream has begun has shown the target answers: close the circuit now, not when a long stream ends.
  const probeAnswered = () => {
    if (probeId) void deps.circuits.recordSuccess(key).catch((error: unknown) => deps.logger.warn({ err: error }, 'circuit update failed'));
  };

  try {
    let credential: { apiKey: string } & ResolvedEndpoint;
    try {
      credential = await deps.credentials.resolve({ tenantId: request.tenantId, executionProfile: attempt.execution_profile, provider: attempt.provider });
    } catch (error) {
      // Nothing was called: not the provider's failure (no circuit counts it); the workflow fails over.
      throw new ProviderError(`no credentials for ${attempt.execution_profile}/${attempt.provider}: ${(error as Error).message}`,
        { kind: 'no_credentials', provider: attempt.provider }, { cause: error });
    }
    const adapter = deps.adapters.forAttempt(attempt, credential);
    if (guarded) {
      // The circuit decides at call time (the plan may be older than its state): a breaker outage lets calls go.
      const permit = await deps.circuits.tryAcquireProbe(key).catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'circuit check failed');
        return { allowed: true as const, probeId: undefined };
      });
      if (!permit.allowed) {
        throw new ProviderError(`${attempt.provider}: not called, its circuit is ${permit.state === 'open' ? 'open' : 'half-open with every probe slot taken'}`,
          { kind: 'circuit_open', provider: attempt.provider });
      }
      probeId = permit.probeId;
    }
    const options: ProviderCallOptions = {
      model: attempt.model, credential: { apiKey: credential.apiKey }, signal,
      cacheKeyHint: `${request.tenantId}:${request.alias}`,
      timeouts: {
        // Time to first token includes the wait for headers: a target that never answers (hang) must fail over
        // after the QoS first-token timeout, not at the request's deadline.
        headersMs: input.timeouts.firstTokenMs,
        firstTokenMs: input.timeouts.firstTokenMs, stallMs: input.timeouts.stallMs,
        totalMs: Math.max(1_000, request.deadlineAt - Date.now()),
      },
    };
    let chunkCount: number | undefined;
    const body = tierFor(request, attempt, input.manifestRevision);
    const result = request.stream
      ? await streamAttempt(adapter, { ...input, request: { ...request, body } }, options, { ...meta, attempt: n, provider: attempt.provider }, publish,
        () => { if (firstTokenAt === null) { firstTokenAt = Date.now(); beat(); probeAnswered(); } }, (count) => { chunkCount = count; })
      : await adapter.generate(body, options);
    firstTokenAt ??= Date.now();
    const done = record('succeeded', { http_status: 200, service_tier: result.serviceTier ?? null, usage: result.usage, served_model: result.model });
    const finished = await finish({ record: done, result, chunkCount }, publish);
    if (guarded) await deps.circuits.recordSuccess(key).catch((error: unknown) => deps.logger.warn({ err: error }, 'circuit update failed'));
    return finished;
  } catch (error) {
    if (context.cancellationSignal.aborted) throw new CancelledFailure(`attempt ${n} cancelled`);
    if (clientGone.signal.aborted) {
      // The client went away before Temporal's cancellation reached this attempt: record it as cancelled, not failed.
      throw ApplicationFailure.create({
        type: `${PROVIDER_FAILURE_PREFIX}cancelled`, message: `attempt ${n} cancelled: the client disconnected`, nonRetryable: true,
        details: [record('cancelled', { failure_kind: 'cancelled', after_first_token: request.stream && firstTokenAt !== null })],
      });
    }
    const failure = error instanceof ProviderError ? error
      : new ProviderError(`${attempt.provider}: ${(error as Error)?.message ?? 'unknown error'}`, { kind: 'unknown', provider: attempt.provider }, { cause: error });
    const afterFirstToken = request.stream && firstTokenAt !== null;
    const failed = record(failure.kind === 'timeout' ? 'timed_out' : 'failed', {
      http_status: failure.status ?? null, failure_kind: failure.kind, retry_after_ms: failure.retryAfterMs ?? null,
      after_first_token: afterFirstToken,
    });
    if (afterFirstToken) {
      await publish({ type: 'stream-error', attempt: n, error: { message: `the upstream stream failed: ${failure.message}`, type: 'server_error', code: failure.kind } });
    }
    await deps.circuits.recordFailure(key, failure.kind).catch((circuitError: unknown) => deps.logger.warn({ err: circuitError }, 'circuit update failed'));
    deps.logger.info({ requestId: request.requestId, attempt: n, provider: attempt.provider, kind: failure.kind, status: failure.status }, 'attempt failed');
    throw ApplicationFailure.create({
      type: `${PROVIDER_FAILURE_PREFIX}${failure.kind}`, message: failure.message, nonRetryable: true, details: [failed],
    });
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    await unsubscribe().catch(() => undefined);
    // Settled probes already freed their slot; this frees one that ended any other way (a no-op otherwise).
    if (probeId) await deps.circuits.releaseProbe(key, probeId).catch((error: unknown) => deps.logger.warn({ err: error }, 'circuit update failed'));
  }
}

/**
 * The body as this target gets it: a flex request asks for the provider's flex tier where the target
 * has one, and runs at standard elsewhere (the plan only keeps such targets when policy allows).
 */
function tierFor(request: AttemptCall['request'], attempt: PlannedAttempt, manifestRevision: string): AttemptCall['request']['body'] {
  const { body } = request;
  if (request.qosClass !== 'flex') return body;
  if (supportsFlex(manifestFor(manifestRevision), attempt.provider, attempt.model)) return { ...body, service_tier: 'flex' };
  const { service_tier: _tier, ...standard } = body;
  return standard;
}

/** Stream one attempt: chunks go out on the bus as they arrive (the first carries `meta`); returns the assembled result. */
async function streamAttempt(adapter: ProviderAdapter, input: AttemptCall, options: ProviderCallOptions, meta: Omit<StreamMeta, 'model'>,
  publish: (message: RequestMessage) => Promise<void>, onFirstToken: () => void, onDone: (chunkCount: number) => void): Promise<ChatResult> {
  const { request, attempt, n } = input;
  const created = Math.floor(Date.now() / 1000);
  const iterator = adapter.stream(request.body, options)[Symbol.asyncIterator]();
  // The model name goes on every chunk: take it from the provider's first event.
  const first = await iterator.next();
  const firstPart: StreamPart | undefined = first.done ? undefined : first.value;
  const model = (firstPart?.type === 'stream-start' && firstPart.model) || attempt.model;
  const assembler = new StreamResultAssembler(model, created);
  let ended = false;
  async function* parts(): AsyncGenerator<StreamPart> {
    if (firstPart) { assembler.add(firstPart); if (firstPart.type === 'stream-end') ended = true; yield firstPart; }
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      assembler.add(next.value);
      if (next.value.type === 'stream-end') ended = true;
      yield next.value;
    }
  }
  let sent = 0;
  const includeUsage = request.body.stream_options?.include_usage === true;
  for await (const chunk of toChatCompletionChunks(parts(), { id: request.requestId, created, model, includeUsage })) {
    if (sent === 0) onFirstToken();
    await publish({ type: 'chunk', attempt: n, seq: sent, chunk: chunk as unknown as Record<string, unknown>, ...(sent === 0 ? { meta: { ...meta, model } } : {}) });
    sent += 1;
  }
  onDone(sent);
  if (!ended) throw new ProviderError(`${attempt.provider}: the stream ended without its terminal event`, { kind: 'stream_truncated', provider: attempt.provider });
  return assembler.result();
}

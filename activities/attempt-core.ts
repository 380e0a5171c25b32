/**
 * One attempt against one target, shared by the request path's attempt activities (run as a local
 * activity in the first workflow task, or as a regular one): resolves the credential by reference (it
 * never enters workflow state), calls the adapter, streams chunks to the waiting HTTP handler over the
 * StreamBus as they come, and hands the finished answer to the caller's `finish`. The single place a
 * ProviderError becomes an ApplicationFailure (`Provider.<kind>`, with the attempt record as details).
 * A continuation (stream-continuation.ts) first asks the front door what its client has; one side of
 * a hedge (hedge-race.ts) claims the race at its first content before it sends anything.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { circuitKey, circuitScope } from '../src/domain/attempt-plan';
import { buildAttemptRecord } from '../src/domain/attempt-record';
import type { PriceManifest } from '../src/domain/price-manifest';
import { manifestFor, supportsAssistantPrefill, supportsFlex } from '../src/domain/capabilities';
import {
  requestChannel, requestControlChannel, type RequestControlMessage, type RequestMessage, type StreamCheckpoint, type StreamMeta,
} from '../src/domain/request-messages';
import type { AttemptRecord, ChatRequestInput, PlannedAttempt } from '../src/domain/request-outcome';
import { ProviderError } from '../src/providers/provider-error';
import { type FailureKind } from '../src/domain/failure-kinds';
import { canEmbed, type ProviderAdapter, type ProviderCallOptions } from '../src/providers/types';
import type { EmbeddingsRequest, EmbeddingsResult } from '../src/contract/embeddings';
import { embeddingsBodyOf } from '../src/domain/request-operation';
import type { ChatResult, ChatUsage } from '../src/contract/chat';
import type { StreamBus } from '../src/streaming/stream-bus';
import type { Span, Tracer } from '@opentelemetry/api';
import type { AttemptAdapters, ResolvedEndpoint } from './attempt-adapters';
import type { HedgeLane } from './hedge-race';
import { streamAttempt, type Continuing } from './stream-attempt';
import { fetchCheckpoint, prefillBody, type ContinuationMode } from './stream-continuation';
import { recordProviderAnswer, recordProviderFailure, withProviderCallSpan } from './provider-call-span';
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
  /**
   * Loads a release's capability manifest revision into this process once (revisions are immutable),
   * so `manifestFor` answers it from memory; absent: the built-in manifest serves every revision.
   */
  manifests?: { load(revision: string): Promise<unknown> };
  /** The current price manifest (issue 14): the answered outcome is costed with it and records its revision. Absent: capability prices. */
  prices?: { current(): Promise<PriceManifest> };
  /** How often a running (regular) attempt heartbeats, so a dead worker is noticed and cancellation arrives. */
  heartbeatIntervalMs?: number;
  /** Tracing on: each attempt's provider call gets its GenAI span. Absent: no span code runs. */
  tracer?: Tracer;
  /**
   * Aborted when this worker's shutdown grace is over (SIGTERM): attempts still running end as
   * `worker_shutdown`, local ones included (the SDK cancels only regular activities at the grace).
   */
  shutdown?: AbortSignal;
}

/** What every attempt activity is told. Pure data: in history for a regular activity, never a secret. */
export interface AttemptCall {
  request: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'alias' | 'qosClass' | 'stream' | 'body' | 'bodyRef' | 'receivedAt' | 'deadlineAt' | 'delivery' | 'operation' | 'ingress'>;
  attempt: PlannedAttempt;
  n: number;
  retryCause: string | null;
  timeouts: { firstTokenMs: number; stallMs: number };
  /** The release's capability manifest revision (flex tiers, assistant prefill). */
  manifestRevision: string;
  /**
   * The stream may be continued should it break after content: the attempt then sends no error event
   * of its own (the continuation, or the workflow's final outcome, ends the stream). Absent: off.
   */
  resume?: boolean;
  /** This attempt continues the stream attempt `fromAttempt` broke off: it asks the front door for the checkpoint first. */
  continuation?: { fromAttempt: number } | null;
}

/** In-memory extras of one attempt run (never in history). */
export interface AttemptExtras {
  /** This attempt is one side of a hedge. */
  lane?: HedgeLane;
  /** A checkpoint the caller already fetched: a lost worker's re-run continues its own stream from it. */
  checkpoint?: StreamCheckpoint;
  /** Usage of the earlier attempts whose text the client has: a continuation's usage chunk adds it. */
  priorUsage?: ChatUsage | null;
}

export interface FinishedAttempt {
  record: AttemptRecord;
  result: ChatResult;
  /** An embeddings request's answer (`result` then only carries its usage and model for the record). */
  embeddings?: EmbeddingsResult;
  /** Streams: how many chunks went out on the bus. */
  chunkCount?: number;
}

/**
 * Run one attempt; `finish` runs once the answer is complete (it publishes the answer and, for the
 * lean path, records it). Throws `Provider.<kind>` ApplicationFailures, or CancelledFailure.
 */
export async function performAttempt<T>(deps: CallProviderDeps, input: AttemptCall, meta: Omit<StreamMeta, 'attempt' | 'provider' | 'model'>,
  finish: (finished: FinishedAttempt, publish: (message: RequestMessage) => Promise<void>) => Promise<T>, extras: AttemptExtras = {}): Promise<T> {
  return withProviderCallSpan(deps.tracer, input, { releaseId: meta.releaseId }, (span) => attemptOnce(deps, input, meta, finish, extras, span));
}

async function attemptOnce<T>(deps: CallProviderDeps, input: AttemptCall, meta: Omit<StreamMeta, 'attempt' | 'provider' | 'model'>,
  finish: (finished: FinishedAttempt, publish: (message: RequestMessage) => Promise<void>) => Promise<T>, extras: AttemptExtras,
  span: Span | undefined): Promise<T> {
  const { lane } = extras;
  const context = Context.current();
  await deps.manifests?.load(input.manifestRevision);
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
  // A continuation: what the client has (from the front door), and how this target continues it.
  let continuing: Continuing | undefined;
  let malformedEvents = 0;
  let via: ResolvedEndpoint['via'];
  const record = (status: AttemptRecord['status'], extra: Partial<AttemptRecord> = {}) => buildAttemptRecord(
    { n, attempt, retryCause: input.retryCause, startedAt, endedAt: Date.now(), firstTokenAt }, {
      status,
      ...(continuing ? { continuation: {
        from_attempt: input.continuation?.fromAttempt ?? n, offset_chars: continuing.checkpoint.text.length,
        offset_chunks: continuing.checkpoint.chunks, mode: continuing.mode,
      } } : {}),
      ...(malformedEvents > 0 ? { malformed_events: malformedEvents } : {}),
      ...(via ? { via } : {}),
      ...extra,
    });
  const key = circuitKey(attempt.provider, attempt.region, attempt.model, circuitScope(attempt.execution_profile, request.tenantId));
  // A client that disconnects aborts the upstream call at once (over the bus), not at the next heartbeat.
  const clientGone = new AbortController();
  const unsubscribe = request.delivery === 'sync'
    ? await deps.bus.subscribe(requestControlChannel(request.requestId), (message) => {
      if ((message as RequestControlMessage).type === 'cancel') clientGone.abort();
    }).catch(() => async () => undefined)
    : async () => undefined;
  const signal = AbortSignal.any([context.cancellationSignal, clientGone.signal, ...(lane ? [lane.signal] : []), ...(deps.shutdown ? [deps.shutdown] : [])]);
  const guarded = await (deps.circuits.guarded?.(key) ?? Promise.resolve(true)).catch(() => true);
  let probeId: string | undefined;
  // A half-open probe whose stream has begun has shown the target answers: close the circuit now, not when a long stream ends.
  const probeAnswered = () => {
    if (probeId) void deps.circuits.recordSuccess(key).catch((error: unknown) => deps.logger.warn({ err: error }, 'circuit update failed'));
  };

  try {
    if (request.stream && (input.continuation || extras.checkpoint)) {
      const checkpoint = extras.checkpoint ?? await fetchCheckpoint(deps.bus, request.requestId);
      if (!checkpoint) {
        // No front door holds the client any more: nobody to continue the answer for.
        clientGone.abort();
        throw new ProviderError(`attempt ${n}: no front door holds this stream's client any more`, { kind: 'cancelled', provider: attempt.provider });
      }
      if (checkpoint.chunks > 0) {
        // A broader-coverage model (outside the manifest, through Bifrost) is not assumed to continue a prefill: it regenerates.
        const mode: ContinuationMode = !attempt.coverage && supportsAssistantPrefill(manifestFor(input.manifestRevision), attempt.provider, attempt.model)
          ? 'prefill' : 'regenerate';
        continuing = { checkpoint, mode, priorUsage: extras.priorUsage ?? null };
        if (!checkpoint.resumable) {
          throw new ProviderError(`${attempt.provider}: the delivered part (tool calls, a refusal or several choices) cannot be continued honestly`,
            { kind: 'resume_mismatch', provider: attempt.provider, afterFirstToken: true });
        }
      }
    }
    let credential: { apiKey: string } & ResolvedEndpoint;
    try {
      credential = await deps.credentials.resolve({ tenantId: request.tenantId, executionProfile: attempt.execution_profile, provider: attempt.provider });
    } catch (error) {
      // Nothing was called: not the provider's failure (no circuit counts it); the workflow fails over.
      throw new ProviderError(`no credentials for ${attempt.execution_profile}/${attempt.provider}: ${(error as Error).message}`,
        { kind: 'no_credentials', provider: attempt.provider }, { cause: error });
    }
    via = credential.via;
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
    const onFirstToken = () => {
      if (firstTokenAt !== null) return;
      // A hedge: the first lane with content wins; the other stops here, before it sends the client anything.
      if (lane && !lane.claim()) throw new ProviderError(`attempt ${n} lost the hedge`, { kind: 'hedge_lost', provider: attempt.provider });
      firstTokenAt = Date.now();
      beat();
      probeAnswered();
    };
    const stream = (streamBody: typeof body) => streamAttempt(adapter, { ...input, request: { ...request, body: streamBody } }, options,
      { ...meta, attempt: n, provider: attempt.provider }, publish, onFirstToken, (count) => { chunkCount = count; },
      { continuing, onSkipped: (reason) => { malformedEvents += 1; deps.logger.warn({ requestId: request.requestId, attempt: n, reason }, 'skipped a malformed stream event'); } });
    let result: ChatResult;
    let embeddings: EmbeddingsResult | undefined;
    if (request.operation === 'embeddings') {
      embeddings = await embedWith(adapter, attempt.provider, embeddingsBodyOf(request), options);
      // A hedged plain request (hedge_non_streaming): the first answer wins, as for a chat completion.
      if (lane && !lane.claim()) throw new ProviderError(`attempt ${n} lost the hedge`, { kind: 'hedge_lost', provider: attempt.provider });
      result = embeddingsAsChatResult(embeddings);
    } else if (!request.stream) {
      result = await adapter.generate(body, options);
      if (lane && !lane.claim()) throw new ProviderError(`attempt ${n} lost the hedge`, { kind: 'hedge_lost', provider: attempt.provider });
    } else if (continuing?.mode === 'prefill') {
      try {
        result = await stream(prefillBody(body, continuing.checkpoint.text));
      } catch (error) {
        // The target refused the trailing assistant message before sending anything: ask again without it.
        if (!(error instanceof ProviderError && error.kind === 'invalid_request' && firstTokenAt === null)) throw error;
        deps.logger.info({ requestId: request.requestId, attempt: n, provider: attempt.provider }, 'assistant prefill refused; regenerating');
        continuing.mode = 'regenerate';
        result = await stream(body);
      }
    } else {
      result = await stream(body);
    }
    firstTokenAt ??= Date.now();
    recordProviderAnswer(span, result);
    const done = record('succeeded', {
      http_status: 200, service_tier: result.serviceTier ?? null, usage: result.usage, served_model: result.model,
      ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
    });
    const finished = await finish({ record: done, result, chunkCount, ...(embeddings ? { embeddings } : {}) }, publish);
    if (guarded) await deps.circuits.recordSuccess(key).catch((error: unknown) => deps.logger.warn({ err: error }, 'circuit update failed'));
    return finished;
  } catch (caught) {
    let error = caught;
    if (context.cancellationSignal.aborted || deps.shutdown?.aborted) {
      // The worker is draining (SIGTERM) and the shutdown grace ran out: not a cancellation of the request. Fail as
      // `worker_shutdown`, which the workflow answers by running the attempt again at once on another worker (a
      // stream continues from what its client has). Thrown as CancelledFailure it would read as the request's.
      if (!deps.shutdown?.aborted && !workerShutdown(context)) throw new CancelledFailure(`attempt ${n} cancelled`);
      error = new ProviderError(`attempt ${n} was stopped with its worker (shutdown grace over); it runs again on another worker`,
        { kind: 'worker_shutdown', provider: attempt.provider });
    }
    if (lane?.lost()) {
      // The other side of the hedge produced content first: this one was stopped, not failed.
      throw ApplicationFailure.create({
        type: `${PROVIDER_FAILURE_PREFIX}hedge_lost`, message: `attempt ${n} lost the hedge and was cancelled`, nonRetryable: true,
        details: [record('cancelled', { failure_kind: 'hedge_lost' })],
      });
    }
    if (clientGone.signal.aborted) {
      // The client went away before Temporal's cancellation reached this attempt: record it as cancelled, not failed.
      throw ApplicationFailure.create({
        type: `${PROVIDER_FAILURE_PREFIX}cancelled`, message: `attempt ${n} cancelled: the client disconnected`, nonRetryable: true,
        details: [record('cancelled', { failure_kind: 'cancelled', after_first_token: request.stream && firstTokenAt !== null })],
      });
    }
    const failure = error instanceof ProviderError ? error
      : new ProviderError(`${attempt.provider}: ${(error as Error)?.message ?? 'unknown error'}`, { kind: 'unknown', provider: attempt.provider }, { cause: error });
    recordProviderFailure(span, failure);
    // A continuation fails after the first token even before its own: the client holds the earlier text.
    const afterFirstToken = request.stream && (firstTokenAt !== null || continuing !== undefined);
    const failed = record(failure.kind === 'timeout' ? 'timed_out' : 'failed', {
      http_status: failure.status ?? null, failure_kind: failure.kind, retry_after_ms: failure.retryAfterMs ?? null,
      after_first_token: afterFirstToken,
    });
    // A stream that may be continued gets no error event here: the continuation, or the workflow's outcome, ends it.
    if (afterFirstToken && !input.resume) {
      await publish({ type: 'stream-error', attempt: n, error: { message: `the upstream stream failed: ${failure.message}`, type: 'server_error', code: failure.kind } });
    }
    if (failure.kind !== 'resume_mismatch') await deps.circuits.recordFailure(key, failure.kind).catch((circuitError: unknown) => deps.logger.warn({ err: circuitError }, 'circuit update failed'));
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

/** The attempt was cancelled because its worker is shutting down, not because the workflow asked. */
function workerShutdown(context: Context): boolean {
  const reason: unknown = context.cancellationSignal.reason;
  return reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN';
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

/** The embeddings call of an attempt; a provider without one fails as `invalid_request` (the plan normally leaves it out). */
async function embedWith(adapter: ProviderAdapter, provider: string, body: EmbeddingsRequest, options: ProviderCallOptions): Promise<EmbeddingsResult> {
  if (!canEmbed(adapter)) throw new ProviderError(`${provider}: has no embeddings API`, { kind: 'invalid_request', provider });
  return adapter.embed(body, options);
}

/** The parts of an embeddings answer the attempt record and outcome keep: model and (input-only) usage. */
function embeddingsAsChatResult(embeddings: EmbeddingsResult): ChatResult {
  return {
    providerResponseId: embeddings.providerRequestId ?? '', model: embeddings.model, created: Math.floor(Date.now() / 1000), choices: [],
    usage: { prompt_tokens: embeddings.promptTokens, completion_tokens: 0, total_tokens: embeddings.promptTokens },
    warnings: embeddings.estimatedUsage ? [{ type: 'approximated-setting', setting: 'usage', message: 'the provider reports no token counts for embeddings: usage is estimated' }] : [],
    ...(embeddings.providerRequestId ? { providerRequestId: embeddings.providerRequestId } : {}),
  };
}

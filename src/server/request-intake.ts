/**
 * The front doors' shared intake (chat completions, Anthropic Messages, embeddings): from an
 * authenticated, validated request to a started chatRequestWorkflow — QoS class, deadline,
 * Idempotency-Key, the decision before any workflow (DESIGN.md §4.1), a refusal recorded and answered
 * without one, the claim check, the start. Every door gets the same admission, failover, outcome
 * record, idempotency and headers; only the wire formats around it differ.
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { ulid } from '../ids';
import type { AllowList } from '../domain/allow-list';
import { PAYLOAD_REF_THRESHOLD_BYTES } from '../domain/payload-ref';
import { parseModelRef } from '../domain/model-alias';
import { QOS_CLASSES, type QosClass } from '../domain/qos';
import { refusedOutcome } from '../domain/outcome';
import type { ReasonCode } from '../domain/reason-codes';
import type { MissingCredential } from '../domain/reason-code-errors';
import type { PolicySnapshot, RequestDecision } from '../domain/request-decision';
import type { ChatRequestInput, Ingress, RequestOperation, RequestOutcome } from '../domain/request-outcome';
import { responseCachePolicy, tenantQosProfile, type TenantPolicy } from '../domain/tenant-policy';
import { cacheHitOutcome, cacheKeyMaterial, cacheModeFor, type CacheMode } from '../domain/response-cache';
import { ResponseCacheStore, type CachedAnswer } from '../store/response-cache-store';
import { cacheHeaders } from './response-cache-http';
import type { ChatRequest } from '../contract/chat';
import type { PayloadStore } from '../store/payload-store';
import type { RetainedPromptStore } from '../store/retained-prompt-store';
import { retainedAnswer, retainedRequestBody, retentionExpiry } from '../domain/retained-prompt';
import { EngineUnavailableError, type ChatGateway, type StartedRequest } from './chat-gateway';
import { badRequest, HttpError } from './errors';
import { outcomeError } from './outcome-http';
import { frontDoorTraceId } from './middleware/trace-request';

export interface ChatRouteDeps {
  gateway: ChatGateway;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  decider: {
    decide<Cached = never>(input: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'apiKeyId' | 'alias' | 'qosClass' | 'body' | 'operation' | 'pinnedReleaseId' | 'deadlineAt'>,
      policy: TenantPolicy, keyAllowList?: AllowList, context?: { header(name: string): string | undefined }, cached?: (releaseId: string) => Promise<Cached | undefined>):
      Promise<{ decision: RequestDecision; softBudgets?: string[] } | { decision: RequestDecision; cached: Cached }
        | { refusal: ReasonCode; policy: PolicySnapshot; release?: RequestDecision['release']; missing?: MissingCredential[]; retryAfterSeconds?: number }>;
    release(requestId: string): Promise<void>;
  };
  requests: {
    claimIdempotencyKey(tenantId: string, key: string, bodyHash: string, requestId: string): Promise<{ requestId: string; sameBody: boolean; fresh: boolean }>;
    rekeyIdempotencyKey(tenantId: string, key: string, fromRequestId: string, toRequestId: string): Promise<string>;
    find(tenantId: string, id: string): Promise<{ outcome: RequestOutcome } | undefined>;
    record(input: { outcome: RequestOutcome; apiKeyId?: string; receivedAt: number; endedAt: number }): Promise<void>;
  };
  uiBaseUrl: string | null;
  /** The claim check: a body above the threshold goes to Postgres and the workflow input carries its reference. */
  payloads?: Pick<PayloadStore, 'keepBody'>;
  /** ZUMIK_POLLS_PER_RUN: a queued request's admission polls per workflow run (unset: the workflow's default). */
  queuePollsPerRun?: number;
  /** Counts refusals answered here (the worker counts the outcomes workflows record); absent when metrics are off. */
  metrics?: { observeOutcome(outcome: RequestOutcome): void; cacheLookup?(tenantId: string, result: 'hit' | 'miss' | 'refresh'): void };
  /** The exact-match response cache (chat completions); absent: `x-zumik-cache` is validated and nothing is cached. */
  cache?: Pick<ResponseCacheStore, 'get' | 'put'>;
  /** Prompt retention (README "Replay"): used only for tenants whose policy turns it on. */
  retention?: Pick<RetainedPromptStore, 'keep'>;
  /** Where a failed background write (a cache entry, a cache hit's record) is reported. */
  onBackgroundError?: (error: unknown, what: string) => void;
}

export interface IntakeRequest {
  /** What the workflow forwards to the attempts (the internal chat request, or an embeddings body). */
  body: ChatRequest;
  alias: string;
  stream: boolean;
  background: boolean;
  /** Where a refusal is answered: `/v2` adds the full outcome to the error body. */
  surface: 'v1' | 'v2';
  /** Public id prefix: `chatcmpl-`, `msg_`, `emb-`. */
  idPrefix: string;
  ingress: Ingress;
  operation?: RequestOperation;
  /** What the Idempotency-Key's body hash covers (the client's own body, with its surface). */
  idempotencyScope: unknown;
  /** The client's `service_tier` (flex selects the flex class). */
  serviceTier?: string;
}

export interface Intake {
  input: ChatRequestInput;
  started: StartedRequest;
  /** The response cache wants the answer kept (a miss under `use`, or `refresh`): call once it is sent. */
  remember?: (answer: CachedAnswer) => void;
  /** The tenant retains prompts: call once the answer is sent (only a completed one is kept; written after, off the request's path). */
  retain?: (outcome: RequestOutcome, served: { body: Record<string, unknown> } | { chunks: Array<Record<string, unknown>> }) => void;
}

/** A request answered from the response cache: no workflow; its outcome is recorded after the answer. */
export interface CacheHit {
  input: ChatRequestInput;
  hit: CachedAnswer;
  outcome: RequestOutcome;
}

/**
 * Chat completions' intake with the response cache (README "Response cache"): the mode from
 * `x-zumik-cache` or the alias's policy; never with an Idempotency-Key or `background` (those answers
 * are the request's own, kept by id). A hit is looked up once the alias resolved and the allow-lists
 * passed, before any budget or admission; it answers with no workflow and no provider call.
 */
export async function startCachedRequest(deps: ChatRouteDeps, request: Request, intake: IntakeRequest): Promise<Intake | CacheHit> {
  const headers = cacheHeaders(request);
  return begin(deps, request, intake, headers);
}

/** Decide and start one request (or attach to the one an Idempotency-Key names). Throws HttpErrors. */
export async function startRequest(deps: ChatRouteDeps, request: Request, intake: IntakeRequest): Promise<Intake> {
  return await begin(deps, request, intake) as Intake;
}

async function begin(deps: ChatRouteDeps, request: Request, intake: IntakeRequest, cacheAsked?: { mode?: CacheMode; ttlSeconds?: number }): Promise<Intake | CacheHit> {
  const receivedAt = Date.now();
  const principal = request.principal!;
  const policy = await deps.policies.get(principal.tenantId);
  const qosClass = qosClassOf(request, intake.serviceTier, policy);
  const profile = tenantQosProfile(policy, qosClass);
  const deadlineMs = Math.min(profile.deadlineMs, deadlineHeader(request) ?? Infinity);
  const resumeWanted = streamResumeHeader(request);

  let requestId = `${intake.idPrefix}${ulid().toLowerCase()}`;
  let replay = false;
  const idempotencyKey = request.get('idempotency-key');
  if (idempotencyKey !== undefined) {
    if (idempotencyKey.length === 0 || idempotencyKey.length > 255) throw badRequest('Idempotency-Key must be 1-255 characters', 'Idempotency-Key');
    const bodyHash = createHash('sha256').update(JSON.stringify(intake.idempotencyScope)).digest('hex');
    const claim = await deps.requests.claimIdempotencyKey(principal.tenantId, idempotencyKey, bodyHash, requestId);
    if (!claim.sameBody) {
      throw new HttpError(422, 'This Idempotency-Key was already used with a different request body.', 'idempotency_key_reused', 'Idempotency-Key');
    }
    if (claim.fresh) {
      requestId = claim.requestId;
    } else {
      // A first request that never ran (its client cancelled it, or admission refused it) does not hold the key: this one runs.
      const first = await deps.requests.find(principal.tenantId, claim.requestId);
      const rerun = first !== undefined && neverRan(first.outcome);
      const now = rerun ? await deps.requests.rekeyIdempotencyKey(principal.tenantId, idempotencyKey, claim.requestId, requestId) : claim.requestId;
      replay = now !== requestId;
      requestId = now;
    }
  }

  // `model: "alias@alr_…"` pins one release of the alias; the outcome, headers and search attributes name the bare alias.
  const { alias, releaseId: pinnedReleaseId } = parseModelRef(intake.alias);
  const input: ChatRequestInput = {
    requestId, tenantId: principal.tenantId, apiKeyId: principal.keyId, alias, qosClass, receivedAt,
    deadlineAt: receivedAt + deadlineMs, stream: intake.stream && !intake.background, body: intake.body,
    delivery: intake.background ? 'background' : 'sync', uiBaseUrl: deps.uiBaseUrl, ingress: intake.ingress,
    ...(intake.operation ? { operation: intake.operation } : {}),
    ...(idempotencyKey !== undefined ? { keepResponse: true } : {}),
    ...(pinnedReleaseId ? { pinnedReleaseId } : {}),
  };
  let started: StartedRequest | undefined = replay ? await engineOrThrow(deps.gateway.replay(input)) : undefined;
  let remember: Intake['remember'];
  if (!started) {
    const settings = responseCachePolicy(policy, intake.alias);
    const mode: CacheMode = cacheAsked && deps.cache && idempotencyKey === undefined && !intake.background
      ? cacheModeFor(cacheAsked.mode, settings, intake.body) : 'skip';
    const cache = deps.cache;
    const keyOf = (releaseId: string) => ResponseCacheStore.key(cacheKeyMaterial(releaseId, intake.body));
    const lookup = mode === 'use' && cache ? (releaseId: string) => cache.get(input.tenantId, keyOf(releaseId), input.stream) : undefined;
    const decided = await deps.decider.decide(input, policy, principal.allowList, { header: (name) => request.get(name) }, lookup);
    if ('refusal' in decided) throw await refuse(deps, input, decided, intake.surface);
    if ('cached' in decided) return answeredFromCache(deps, input, decided.decision, decided.cached);
    if (mode !== 'skip' && cache) {
      deps.metrics?.cacheLookup?.(input.tenantId, mode === 'use' ? 'miss' : 'refresh');
      request.res?.setHeader('x-zumik-cache', mode === 'use' ? 'miss' : 'refresh');
      const key = keyOf(decided.decision.release.id);
      const ttlSeconds = cacheAsked?.ttlSeconds ?? settings.ttlSeconds;
      remember = (answer) => {
        void cache.put({ tenantId: input.tenantId, key, answer, ttlSeconds, sourceRequestId: input.requestId })
          .catch((error: unknown) => deps.onBackgroundError?.(error, 'keeping the answer in the response cache'));
      };
    }
    // Admitted past a spent soft budget: said in a header now (the recorded outcome carries `budget_soft_exceeded`).
    if (decided.softBudgets) request.res?.setHeader('x-zumik-budget', `soft_exceeded; budgets=${decided.softBudgets.join(',')}`);
    input.decision = { ...decided.decision, policy: { ...decided.decision.policy, streamResume: resumeWanted && canResume(input, decided.decision.policy) } };
    input.decidedAt = Date.now();
    if (decided.decision.admission === 'queued' && deps.queuePollsPerRun !== undefined) input.queuePollsPerRun = deps.queuePollsPerRun;
    try {
      // Only a body that may be large is measured (no cost on the small path); a large one travels by reference.
      if (deps.payloads && mayExceedThreshold(request)) {
        Object.assign(input, await deps.payloads.keepBody(input.tenantId, input.body, input.deadlineAt));
      }
      started = await engineOrThrow(deps.gateway.start(input));
    } catch (error) {
      // Admission leases and tickets, and a BYOC lane's slot.
      if (decided.decision.admission !== 'none' || decided.decision.routing?.lane === 'byoc') await deps.decider.release(requestId).catch(() => undefined);
      throw error;
    }
  }
  const retain = retainer(deps, policy, input, intake);
  return { input, started, ...(remember ? { remember } : {}), ...(retain ? { retain } : {}) };
}

const RETAINED_INGRESS = new Set(['openai_chat', 'anthropic_messages', 'openai_responses']);

/**
 * Prompt retention's writer for one request, or nothing when the tenant's policy has it off (the default:
 * then no statement, no event, no payload anywhere). Requests answered to a waiting client only.
 */
function retainer(deps: ChatRouteDeps, policy: TenantPolicy, input: ChatRequestInput, intake: IntakeRequest): Intake['retain'] {
  const { retention } = deps;
  // Chat completions and the doors translated into them (Anthropic Messages, Responses): the kept body and answer are
  // the chat form every replay candidate speaks. Embeddings have no answer text to compare; background requests no client.
  if (!policy.prompt_retention.enabled || !retention || !RETAINED_INGRESS.has(intake.ingress ?? 'openai_chat') || intake.operation || intake.background) {
    return undefined;
  }
  return (outcome, served) => {
    if (outcome.completion !== 'completed') return;
    setImmediate(() => {
      void retention.keep({
        requestId: input.requestId, tenantId: input.tenantId, alias: input.alias, releaseId: outcome.release_id,
        request: retainedRequestBody(input.body as unknown as Record<string, unknown>), answer: retainedAnswer(outcome, served),
        expiresAt: retentionExpiry(Date.now(), policy.prompt_retention.days),
      }).catch((error: unknown) => deps.onBackgroundError?.(error, 'retaining the prompt'));
    });
  };
}

/** A hit: its outcome (no attempt, cost 0) is recorded after the answer goes out, as any request's bookkeeping. */
function answeredFromCache(deps: ChatRouteDeps, input: ChatRequestInput, decision: RequestDecision, hit: CachedAnswer): CacheHit {
  const endedAt = Date.now();
  const outcome = cacheHitOutcome(input, decision.release.id, endedAt, decision.policy.qos.totalTargetMs);
  deps.metrics?.cacheLookup?.(input.tenantId, 'hit');
  setImmediate(() => {
    deps.requests.record({ outcome, apiKeyId: input.apiKeyId, receivedAt: input.receivedAt, endedAt })
      .then(() => deps.metrics?.observeOutcome(outcome))
      .catch((error: unknown) => deps.onBackgroundError?.(error, "recording a cache hit's outcome"));
  });
  return { input, hit, outcome };
}

/** A client that goes away cancels the workflow, and with it the upstream call. Call `done` once the answer is written. */
export function cancelOnClientGone(response: Response, started: StartedRequest): { done(): void } {
  let finished = false;
  // 'close' also follows a response that was fully written: only an unfinished one means the client left.
  response.on('close', () => {
    if (!finished && !response.writableFinished) void started.cancel();
  });
  return { done: () => { finished = true; } };
}

/**
 * Whether the parsed body may be above the claim-check threshold, so that only those are measured: a
 * body that arrived compressed (a gzip of 100 KB can hold megabytes) or chunked may be; an uncompressed
 * one of at most an eighth of the threshold may not (re-serialised JSON grows at most about 5x, `1e20`).
 */
function mayExceedThreshold(request: Request): boolean {
  const encoding = request.get('content-encoding');
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return true;
  return !(Number(request.get('content-length')) <= PAYLOAD_REF_THRESHOLD_BYTES / 8);
}

/**
 * Idempotency-Key's rule for a first request that did not run to an answer or a failure: cancelled by
 * its client (499), or never admitted (a 429 refusal, a queue wait that expired). A resend with the key
 * runs again instead of replaying that for the key's lifetime. Completed and failed requests replay.
 */
function neverRan(outcome: RequestOutcome): boolean {
  return outcome.completion === 'cancelled' || outcome.completion === null;
}

/** Seconds a client waits before resending while the workflow engine is unreachable. */
const ENGINE_RETRY_AFTER_S = 5;

/**
 * The engine unreachable is a 503 with Retry-After: nothing was started, and the same request (and
 * Idempotency-Key: it is not used up) goes through once the engine is back.
 */
async function engineOrThrow<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (!(error instanceof EngineUnavailableError)) throw error;
    throw new HttpError(503, 'The workflow engine is unreachable right now; nothing was started. Send the request again (with the same '
      + `Idempotency-Key, if it had one) after ${ENGINE_RETRY_AFTER_S} seconds.`, 'engine_unavailable', null, 'server_error',
    { 'retry-after': String(ENGINE_RETRY_AFTER_S) });
  }
}

/** A request refused before any workflow: recorded (so `GET /v2/requests/{id}` and a replay find it), then answered. */
async function refuse(deps: ChatRouteDeps, input: ChatRequestInput,
  decided: { refusal: ReasonCode; policy: PolicySnapshot; release?: RequestDecision['release']; missing?: MissingCredential[]; retryAfterSeconds?: number },
  surface: 'v1' | 'v2'): Promise<HttpError> {
  const endedAt = Date.now();
  const refused = refusedOutcome({
    requestId: input.requestId, tenantId: input.tenantId, alias: input.alias, qosClass: input.qosClass, receivedAt: input.receivedAt,
    deadlineAt: input.deadlineAt, stream: input.stream, requestedServiceTier: input.body.service_tier ?? undefined, ingress: input.ingress,
  }, decided.refusal, {
    release: decided.release ?? null, endedAt, workflow: null,
    targets: { ttftTargetMs: decided.policy.qos.ttftTargetMs, totalTargetMs: decided.policy.qos.totalTargetMs },
  });
  // No attempt ran: nothing to price.
  const outcome: RequestOutcome = { ...refused, cost_usd: null, cost_reason: 'no_usage', price_manifest_revision: null };
  const traceId = frontDoorTraceId(outcome.reason_code);
  await deps.requests.record({ outcome: traceId ? { ...outcome, trace_id: traceId } : outcome, apiKeyId: input.apiKeyId, receivedAt: input.receivedAt, endedAt });
  deps.metrics?.observeOutcome(outcome);
  const error = outcomeError(outcome, surface, decided.missing);
  if (decided.retryAfterSeconds !== undefined) error.headers['retry-after'] = String(decided.retryAfterSeconds);
  return error;
}

function qosClassOf(request: Request, serviceTier: string | undefined, policy: TenantPolicy): QosClass {
  const header = request.get('x-zumik-qos-class');
  if (header !== undefined) {
    if (!(QOS_CLASSES as readonly string[]).includes(header)) {
      throw badRequest(`x-zumik-qos-class must be one of ${QOS_CLASSES.join(', ')}`, 'x-zumik-qos-class');
    }
    return header as QosClass;
  }
  if (serviceTier === 'flex') return 'flex';
  return policy.default_qos_class;
}

/** `x-zumik-stream-resume: off` opts this request out of stream continuation; `on` (the default) follows the policy. */
function streamResumeHeader(request: Request): boolean {
  const header = request.get('x-zumik-stream-resume');
  if (header === undefined) return true;
  const value = header.trim().toLowerCase();
  if (value !== 'on' && value !== 'off') throw badRequest('x-zumik-stream-resume must be "on" or "off"', 'x-zumik-stream-resume');
  return value === 'on';
}

/**
 * A broken stream is continued only where that can be honest: a stream (a JSON answer is retried
 * whole anyway), one choice, no tools (a half-sent tool call cannot be continued as text), and the
 * policy (tenant, alias) allows it.
 */
function canResume(input: ChatRequestInput, policy: PolicySnapshot): boolean {
  const { body } = input;
  return input.stream && policy.streamResume === true && (body.n ?? 1) === 1 && !(body.tools && body.tools.length > 0);
}

function deadlineHeader(request: Request): number | undefined {
  const header = request.get('x-zumik-deadline-ms');
  if (header === undefined) return undefined;
  const value = Number(header);
  if (!Number.isInteger(value) || value <= 0 || value > 86_400_000) {
    throw badRequest('x-zumik-deadline-ms must be an integer number of milliseconds between 1 and 86400000', 'x-zumik-deadline-ms');
  }
  return value;
}

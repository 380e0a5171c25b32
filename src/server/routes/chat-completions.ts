/**
 * `POST /v1/chat/completions` (OpenAI's contract, outcome in headers) and `POST /v2/chat/completions`
 * (the same input; the body adds `zumik`, and `background: true` returns at once). The request is
 * decided here, before any workflow (DESIGN.md §4.1): a refusal (policy, unknown alias, no eligible
 * target, rate or concurrency limit without a queue) is answered and recorded without one; otherwise
 * one chatRequestWorkflow carries the decision. See ChatGateway for delivery.
 */
import { createHash } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { ulid } from 'ulid';
import type { AllowList } from '../../domain/allow-list';
import { PAYLOAD_REF_THRESHOLD_BYTES } from '../../domain/payload-ref';
import { QOS_CLASSES, type QosClass } from '../../domain/qos';
import { refusedOutcome } from '../../domain/outcome';
import type { ReasonCode } from '../../domain/reason-codes';
import type { PolicySnapshot, RequestDecision } from '../../domain/request-decision';
import type { ChatRequestInput, RequestOutcome } from '../../domain/request-outcome';
import { tenantQosProfile, type TenantPolicy } from '../../domain/tenant-policy';
import type { ChatRequest } from '../../contract/chat';
import type { PayloadStore } from '../../store/payload-store';
import { EngineUnavailableError, type ChatGateway, type Delivery, type StartedRequest } from '../chat-gateway';
import { chatRequestSchema, withoutNulls } from '../../contract/chat-request-schema';
import { badRequest, HttpError } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { completionAsChunks } from '../../contract/openai-renderers';
import { frontDoorTraceId } from '../middleware/trace-request';
import { outcomeComment, outcomeError, outcomeHeaders, streamHeaders } from '../outcome-http';

export interface ChatRouteDeps {
  gateway: ChatGateway;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  decider: {
    decide(input: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'apiKeyId' | 'alias' | 'qosClass' | 'body'>, policy: TenantPolicy, keyAllowList?: AllowList):
      Promise<{ decision: RequestDecision } | { refusal: ReasonCode; policy: PolicySnapshot; release?: RequestDecision['release'] }>;
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
}

export function chatCompletionRoutes(deps: ChatRouteDeps, surface: 'v1' | 'v2'): Router {
  const router = Router();
  router.post('/chat/completions', requireScope('inference'), async (request, response) => {
    const receivedAt = Date.now();
    const body = withoutNulls(parseBody(chatRequestSchema, request.body));
    if (surface === 'v1' && body.background !== undefined) throw badRequest('background is a /v2 feature: use POST /v2/chat/completions', 'background');
    const principal = request.principal!;
    const policy = await deps.policies.get(principal.tenantId);
    const qosClass = qosClassOf(request, body.service_tier ?? undefined, policy);
    const profile = tenantQosProfile(policy, qosClass);
    const deadlineMs = Math.min(profile.deadlineMs, deadlineHeader(request) ?? Infinity);
    const background = body.background === true;
    const resumeWanted = streamResumeHeader(request);
    const { background: _background, ...forwarded } = body;

    let requestId = `chatcmpl-${ulid().toLowerCase()}`;
    let replay = false;
    const idempotencyKey = request.get('idempotency-key');
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length === 0 || idempotencyKey.length > 255) throw badRequest('Idempotency-Key must be 1-255 characters', 'Idempotency-Key');
      const bodyHash = createHash('sha256').update(JSON.stringify({ surface, body })).digest('hex');
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

    const input: ChatRequestInput = {
      requestId, tenantId: principal.tenantId, apiKeyId: principal.keyId, alias: body.model, qosClass, receivedAt,
      deadlineAt: receivedAt + deadlineMs, stream: body.stream === true && !background, body: forwarded as ChatRequest,
      delivery: background ? 'background' : 'sync', uiBaseUrl: deps.uiBaseUrl,
      ...(idempotencyKey !== undefined ? { keepResponse: true } : {}),
    };
    let started: StartedRequest | undefined = replay ? await engineOrThrow(deps.gateway.replay(input)) : undefined;
    if (!started) {
      const decided = await deps.decider.decide(input, policy, principal.allowList);
      if ('refusal' in decided) throw await refuse(deps, input, decided, surface);
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
        if (decided.decision.admission !== 'none') await deps.decider.release(requestId).catch(() => undefined);
        throw error;
      }
    }
    const following: StartedRequest = started;
    if (background) {
      response.status(202).set({ 'x-zumik-request-id': requestId }).json({
        id: requestId, object: 'request_outcome', status: 'in_progress', completion: null, poll: `/v2/requests/${requestId}`,
      });
      return;
    }
    // A client that goes away cancels the workflow, and with it the upstream call.
    let finished = false;
    // 'close' also follows a response that was fully written: only an unfinished one means the client left.
    response.on('close', () => {
      if (!finished && !response.writableFinished) void following.cancel();
    });
    try {
      if (input.stream) await deliverStream(following, input, response, surface);
      else await deliverJson(following, response, surface);
    } finally {
      finished = true;
    }
  });
  return router;
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
  decided: { refusal: ReasonCode; policy: PolicySnapshot; release?: RequestDecision['release'] }, surface: 'v1' | 'v2'): Promise<HttpError> {
  const endedAt = Date.now();
  const outcome = refusedOutcome({
    requestId: input.requestId, tenantId: input.tenantId, alias: input.alias, qosClass: input.qosClass, receivedAt: input.receivedAt,
    deadlineAt: input.deadlineAt, stream: input.stream, requestedServiceTier: input.body.service_tier ?? undefined,
  }, decided.refusal, {
    release: decided.release ?? null, endedAt, workflow: null,
    targets: { ttftTargetMs: decided.policy.qos.ttftTargetMs, totalTargetMs: decided.policy.qos.totalTargetMs },
  });
  const traceId = frontDoorTraceId(outcome.reason_code);
  await deps.requests.record({ outcome: traceId ? { ...outcome, trace_id: traceId } : outcome, apiKeyId: input.apiKeyId, receivedAt: input.receivedAt, endedAt });
  return outcomeError(outcome, surface);
}

async function deliverJson(started: StartedRequest, response: Response, surface: 'v1' | 'v2'): Promise<void> {
  for await (const delivery of started.deliveries) {
    if (delivery.type === 'final' && delivery.body) {
      sendCompletion(response, delivery.outcome, delivery.body, surface);
      return;
    }
    if (delivery.type === 'result') {
      const { outcome, response: answer } = delivery.result;
      if (outcome.completion === 'completed' && answer) sendCompletion(response, outcome, answer, surface);
      else throw outcomeError(outcome, surface);
      return;
    }
  }
}

function sendCompletion(response: Response, outcome: RequestOutcome, body: Record<string, unknown>, surface: 'v1' | 'v2'): void {
  response.status(200).set(outcomeHeaders(outcome)).json(surface === 'v2' ? { ...body, zumik: outcome } : body);
}

async function deliverStream(started: StartedRequest, input: ChatRequestInput, response: Response, surface: 'v1' | 'v2'): Promise<void> {
  let open = false;
  let failed = false;
  let received = 0;
  const write = (text: string) => { if (!response.writableEnded) response.write(text); };
  const end = (outcome: RequestOutcome) => {
    write(outcomeComment(outcome));
    if (surface === 'v2') write(`event: zumik.outcome\ndata: ${JSON.stringify(outcome)}\n\n`);
    if (!failed) write('data: [DONE]\n\n');
    response.end();
  };
  for await (const delivery of started.deliveries as AsyncIterable<Delivery>) {
    switch (delivery.type) {
      case 'chunk':
        if (failed) break;
        if (delivery.message.seq !== received) {
          // A shared bus lost chunks: never present the rest as a complete answer.
          failed = true;
          write(`data: ${JSON.stringify({ error: { message: 'chunks of this stream were lost in delivery; the answer is incomplete', type: 'server_error', code: 'stream_delivery_gap', param: null } })}\n\n`);
          break;
        }
        received += 1;
        if (!open) {
          open = true;
          response.status(200).set({
            'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive',
            ...(delivery.message.meta ? streamHeaders(input.requestId, delivery.message.meta) : { 'x-zumik-request-id': input.requestId }),
          });
          response.flushHeaders();
        }
        write(`data: ${JSON.stringify(delivery.message.chunk)}\n\n`);
        break;
      case 'final':
        if (open) {
          if (delivery.chunkCount !== undefined && delivery.chunkCount !== received && !failed) {
            failed = true;
            write(`data: ${JSON.stringify({ error: { message: 'chunks of this stream were lost in delivery; the answer is incomplete', type: 'server_error', code: 'stream_delivery_gap', param: null } })}\n\n`);
          }
          end(delivery.outcome);
          return;
        }
        break;
      case 'stream-error':
        // After the first token there is no failover: end with an explicit error, never a truncated success.
        failed = true;
        write(`data: ${JSON.stringify({ error: { ...delivery.error, param: null } })}\n\n`);
        break;
      case 'result': {
        const { outcome, response: answer } = delivery.result;
        if (open) {
          if (outcome.completion !== 'completed' && !failed) {
            // The attempt died after the first token without a stream-error (its worker was lost): still an explicit error.
            failed = true;
            const cut = outcome.reason_code === 'stream_interrupted'
              ? ` The stream was cut after ${received} chunks and could not be continued; the text sent is not a complete answer.` : '';
            write(`data: ${JSON.stringify({ error: { message: `${outcomeError(outcome).message}${cut}`, type: 'server_error', code: outcome.reason_code, param: null } })}\n\n`);
          }
          end(outcome);
          return;
        }
        if (outcome.completion === 'completed' && answer) {
          // Nothing came over the bus (the attempt ran elsewhere, or a replay): send the answer as one stream.
          response.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...outcomeHeaders(outcome) });
          for (const chunk of completionAsChunks(answer, input.body.stream_options?.include_usage === true)) write(`data: ${JSON.stringify(chunk)}\n\n`);
          end(outcome);
          return;
        }
        throw outcomeError(outcome, surface);
      }
    }
  }
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

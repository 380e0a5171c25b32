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
import { QOS_CLASSES, type QosClass } from '../../domain/qos';
import { refusedOutcome } from '../../domain/outcome';
import type { ReasonCode } from '../../domain/reason-codes';
import type { MissingCredential } from '../../domain/reason-code-errors';
import type { PolicySnapshot, RequestDecision } from '../../domain/request-decision';
import type { ChatRequestInput, RequestOutcome } from '../../domain/request-outcome';
import { tenantQosProfile, type TenantPolicy } from '../../domain/tenant-policy';
import type { ChatRequest } from '../../contract/chat';
import type { ChatGateway, Delivery, StartedRequest } from '../chat-gateway';
import { chatRequestSchema, withoutNulls } from '../../contract/chat-request-schema';
import { badRequest, HttpError } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { completionAsChunks } from '../../contract/openai-renderers';
import { outcomeComment, outcomeError, outcomeHeaders, streamHeaders } from '../outcome-http';

export interface ChatRouteDeps {
  gateway: ChatGateway;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  decider: {
    decide(input: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'apiKeyId' | 'alias' | 'qosClass' | 'body'>, policy: TenantPolicy, keyAllowList?: AllowList):
      Promise<{ decision: RequestDecision } | { refusal: ReasonCode; policy: PolicySnapshot; release?: RequestDecision['release']; missing?: MissingCredential[] }>;
    release(requestId: string): Promise<void>;
  };
  requests: {
    claimIdempotencyKey(tenantId: string, key: string, bodyHash: string, requestId: string): Promise<{ requestId: string; sameBody: boolean; fresh: boolean }>;
    record(input: { outcome: RequestOutcome; apiKeyId?: string; receivedAt: number; endedAt: number }): Promise<void>;
  };
  uiBaseUrl: string | null;
  /** Counts refusals answered here (the worker counts the outcomes workflows record); absent when metrics are off. */
  metrics?: { observeOutcome(outcome: RequestOutcome): void };
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
      requestId = claim.requestId;
      replay = !claim.fresh;
    }

    const input: ChatRequestInput = {
      requestId, tenantId: principal.tenantId, apiKeyId: principal.keyId, alias: body.model, qosClass, receivedAt,
      deadlineAt: receivedAt + deadlineMs, stream: body.stream === true && !background, body: forwarded as ChatRequest,
      delivery: background ? 'background' : 'sync', uiBaseUrl: deps.uiBaseUrl,
      ...(idempotencyKey !== undefined ? { keepResponse: true } : {}),
    };
    let started: StartedRequest | undefined = replay ? await deps.gateway.replay(input) : undefined;
    if (!started) {
      const decided = await deps.decider.decide(input, policy, principal.allowList);
      if ('refusal' in decided) throw await refuse(deps, input, decided);
      input.decision = decided.decision;
      input.decidedAt = Date.now();
      try {
        started = await deps.gateway.start(input);
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

/** A request refused before any workflow: recorded (so `GET /v2/requests/{id}` and a replay find it), then answered. */
async function refuse(deps: ChatRouteDeps, input: ChatRequestInput,
  decided: { refusal: ReasonCode; policy: PolicySnapshot; release?: RequestDecision['release']; missing?: MissingCredential[] }): Promise<HttpError> {
  const endedAt = Date.now();
  const outcome = refusedOutcome({
    requestId: input.requestId, tenantId: input.tenantId, alias: input.alias, qosClass: input.qosClass, receivedAt: input.receivedAt,
    deadlineAt: input.deadlineAt, stream: input.stream, requestedServiceTier: input.body.service_tier ?? undefined,
  }, decided.refusal, {
    release: decided.release ?? null, endedAt, workflow: null,
    targets: { ttftTargetMs: decided.policy.qos.ttftTargetMs, totalTargetMs: decided.policy.qos.totalTargetMs },
  });
  await deps.requests.record({ outcome, apiKeyId: input.apiKeyId, receivedAt: input.receivedAt, endedAt });
  deps.metrics?.observeOutcome(outcome);
  return outcomeError(outcome, decided.missing);
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
      else throw outcomeError(outcome);
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
            write(`data: ${JSON.stringify({ error: { message: outcomeError(outcome).message, type: 'server_error', code: outcome.reason_code, param: null } })}\n\n`);
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
        throw outcomeError(outcome);
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

function deadlineHeader(request: Request): number | undefined {
  const header = request.get('x-zumik-deadline-ms');
  if (header === undefined) return undefined;
  const value = Number(header);
  if (!Number.isInteger(value) || value <= 0 || value > 86_400_000) {
    throw badRequest('x-zumik-deadline-ms must be an integer number of milliseconds between 1 and 86400000', 'x-zumik-deadline-ms');
  }
  return value;
}

/**
 * `POST /v1/messages`: Anthropic's Messages API as a front door. The body is translated to Zumik's
 * chat request (anthropic-messages-to-chat.ts; what cannot be translated is a 400 naming the field)
 * and runs the same durable path as chat (request-intake.ts): an alias may route it to any provider,
 * with the same admission, failover, outcome record, Idempotency-Key and `x-zumik-*` headers. The
 * answer goes back as an Anthropic Message, or as Anthropic's event stream; the outcome comment ends
 * a stream as on /v1/chat/completions (an SSE comment, which Anthropic's SDKs ignore).
 */
import { Router, type Response } from 'express';
import { anthropicCountTokensRequestSchema, anthropicMessagesRequestSchema, type AnthropicMessagesRequestBody } from '../../contract/anthropic-messages';
import { anthropicMessagesToChat, MessagesTranslationError } from '../../contract/anthropic-messages-to-chat';
import { AnthropicStreamTranslator, anthropicErrorEvent, toAnthropicMessage } from '../../contract/anthropic-messages-renderers';
import { completionAsChunks } from '../../contract/openai-renderers';
import type { ChatRequest } from '../../contract/chat';
import { outcomeErrorShape } from '../../domain/reason-code-errors';
import type { RequestOutcome } from '../../domain/request-outcome';
import type { TokenCounter } from '../../domain/token-count';
import type { Delivery, StartedRequest } from '../chat-gateway';
import { badRequest, HttpError, notFound } from '../errors';
import { requireScope, type ApiKeyAuthenticator } from '../middleware/authenticate';
import { authenticateAnthropic } from '../middleware/anthropic-front-door';
import { parseBody } from '../middleware/parse-body';
import { outcomeComment, outcomeError, outcomeHeaders, streamHeaders } from '../outcome-http';
import { cancelOnClientGone, startRequest, type ChatRouteDeps } from '../request-intake';

function translate(body: AnthropicMessagesRequestBody): ChatRequest {
  try {
    return anthropicMessagesToChat(body);
  } catch (error) {
    if (error instanceof MessagesTranslationError) throw badRequest(error.message, error.param);
    throw error;
  }
}

/** Mounted at `/v1/messages`. `countTokens` serves `/v1/messages/count_tokens` (absent: that path is a 404). */
export function anthropicMessagesRoutes(deps: ChatRouteDeps, authenticator: ApiKeyAuthenticator, countTokens?: TokenCounter): Router {
  const router = Router();
  router.use(authenticateAnthropic(authenticator));
  router.post('/', requireScope('inference'), async (request, response) => {
    const body = parseBody(anthropicMessagesRequestSchema, request.body);
    const chat = translate(body);
    const { input, started } = await startRequest(deps, request, {
      body: chat, alias: body.model, stream: body.stream === true, background: false, surface: 'v1', idPrefix: 'msg_', ingress: 'anthropic_messages',
      idempotencyScope: { surface: 'v1/messages', body }, serviceTier: chat.service_tier,
    });
    const client = cancelOnClientGone(response, started);
    try {
      if (input.stream) await deliverStream(started, input.requestId, response);
      else await deliverJson(started, response);
    } finally {
      client.done();
    }
  });
  if (countTokens) {
    router.post('/count_tokens', requireScope('inference'), async (request, response) => {
      const body = parseBody(anthropicCountTokensRequestSchema, request.body);
      const chat = translate({ ...body, max_tokens: body.max_tokens ?? 1 });
      const principal = request.principal!;
      const policy = await deps.policies.get(principal.tenantId);
      const aborted = new AbortController();
      response.on('close', () => { if (!response.writableFinished) aborted.abort(); });
      const answer = await countTokens({
        tenantId: principal.tenantId, alias: body.model, request: chat, signal: aborted.signal,
        allowLists: [{ aliases: policy.allowed_aliases, providers: policy.allowed_providers }, principal.allowList],
      });
      if ('refusal' in answer) throw new HttpError(answer.refusal.status, answer.refusal.message, null, 'model');
      if ('failure' in answer) {
        const shape = outcomeErrorShape({ id: String(response.getHeader('x-request-id') ?? ''), reason_code: answer.failure.reason });
        // The provider's own 4xx (a body it refused) is the client's to see; anything else is Zumik's status for that failure.
        const status = answer.failure.reason === 'provider_invalid_request' && answer.failure.status ? answer.failure.status : shape.status;
        throw new HttpError(status, `${answer.failure.message} (reason: ${answer.failure.reason})`, null, null, undefined, { 'x-zumik-reason-code': answer.failure.reason });
      }
      response.status(200).set({
        'x-zumik-alias-release': answer.releaseId, 'x-zumik-provider': answer.target.provider, 'x-zumik-model': answer.target.model,
      }).json({ input_tokens: answer.inputTokens });
    });
  }
  router.use((request) => {
    throw notFound(`Not found: ${request.method} /v1/messages${request.path}`);
  });
  return router;
}

function sendMessage(response: Response, outcome: RequestOutcome, completion: Record<string, unknown>): void {
  response.status(200).set({ ...outcomeHeaders(outcome), 'request-id': outcome.id }).json(toAnthropicMessage(completion));
}

async function deliverJson(started: StartedRequest, response: Response): Promise<void> {
  for await (const delivery of started.deliveries) {
    if (delivery.type === 'final' && delivery.body) {
      sendMessage(response, delivery.outcome, delivery.body);
      return;
    }
    if (delivery.type === 'result') {
      const { outcome, response: answer } = delivery.result;
      if (outcome.completion === 'completed' && answer) sendMessage(response, outcome, answer);
      else throw outcomeError(outcome);
      return;
    }
  }
}

const GAP_MESSAGE = 'chunks of this stream were lost in delivery; the answer is incomplete';

async function deliverStream(started: StartedRequest, requestId: string, response: Response): Promise<void> {
  const translator = new AnthropicStreamTranslator(requestId);
  let open = false;
  let failed = false;
  let received = 0;
  const write = (text: string) => { if (text && !response.writableEnded) response.write(text); };
  const openStream = (headers: Record<string, string>) => {
    open = true;
    response.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': requestId, ...headers });
    response.flushHeaders();
  };
  const fail = (status: number, message: string) => {
    // After the first event there is no status to change: the stream ends with Anthropic's error event, never a truncated success.
    failed = true;
    write(anthropicErrorEvent(status, message));
  };
  const end = (outcome: RequestOutcome) => {
    if (!failed) write(translator.finish());
    write(outcomeComment(outcome));
    response.end();
  };
  for await (const delivery of started.deliveries as AsyncIterable<Delivery>) {
    switch (delivery.type) {
      case 'chunk':
        if (failed) break;
        if (delivery.message.seq !== received) {
          fail(500, GAP_MESSAGE);
          break;
        }
        received += 1;
        if (!open) openStream(delivery.message.meta ? streamHeaders(requestId, delivery.message.meta) : { 'x-zumik-request-id': requestId });
        write(translator.chunk(delivery.message.chunk));
        break;
      case 'final':
        if (open) {
          if (delivery.chunkCount !== undefined && delivery.chunkCount !== received && !failed) fail(500, GAP_MESSAGE);
          end(delivery.outcome);
          return;
        }
        break;
      case 'stream-error':
        if (!failed) fail(500, delivery.error.message);
        break;
      case 'result': {
        const { outcome, response: answer } = delivery.result;
        if (open) {
          if (outcome.completion !== 'completed' && !failed) fail(outcomeError(outcome).status, outcomeError(outcome).message);
          end(outcome);
          return;
        }
        if (outcome.completion === 'completed' && answer) {
          // Nothing came over the bus (the attempt ran elsewhere, or a replay): the answer as one stream.
          openStream(outcomeHeaders(outcome));
          for (const chunk of completionAsChunks(answer, true)) write(translator.chunk(chunk));
          end(outcome);
          return;
        }
        throw outcomeError(outcome);
      }
    }
  }
}

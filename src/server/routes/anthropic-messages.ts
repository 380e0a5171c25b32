/**
 * `POST /v1/messages`: Anthropic's Messages API as a front door. The body is translated to Zumik's
 * chat request (anthropic-messages-to-chat.ts; what cannot be translated is a 400 naming the field)
 * and runs the same durable path as chat (request-intake.ts): an alias may route it to any provider,
 * with the same admission, failover, outcome record, Idempotency-Key and `x-zumik-*` headers. The
 * answer goes back as an Anthropic Message, or as Anthropic's event stream; the outcome comment ends
 * a stream as on /v1/chat/completions (an SSE comment, which Anthropic's SDKs ignore).
 * `POST /v1/messages/count_tokens` is Anthropic's own count for an alias whose every weighted target
 * is an Anthropic model (src/domain/token-count.ts), asked directly: counting is not an inference.
 */
import { Router } from 'express';
import { anthropicCountTokensRequestSchema, anthropicMessagesRequestSchema, type AnthropicMessagesRequestBody } from '../../contract/anthropic-messages';
import { anthropicMessagesToChat, MessagesTranslationError } from '../../contract/anthropic-messages-to-chat';
import { AnthropicStreamTranslator, toAnthropicMessage } from '../../contract/anthropic-messages-renderers';
import type { ChatRequest } from '../../contract/chat';
import { outcomeErrorShape } from '../../domain/reason-code-errors';
import type { TokenCounter } from '../../domain/token-count';
import { badRequest, HttpError, notFound } from '../errors';
import { requireScope, type ApiKeyAuthenticator } from '../middleware/authenticate';
import { authenticateAnthropic } from '../middleware/anthropic-front-door';
import { parseBody } from '../middleware/parse-body';
import { cancelOnClientGone, startRequest, type ChatRouteDeps } from '../request-intake';
import { deliverTranslatedJson, deliverTranslatedStream } from '../translated-delivery';

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
    const { input, started, retain } = await startRequest(deps, request, {
      body: chat, alias: body.model, stream: body.stream === true, background: false, surface: 'v1', idPrefix: 'msg_', ingress: 'anthropic_messages',
      idempotencyScope: { surface: 'v1/messages', body }, serviceTier: chat.service_tier,
    });
    const client = cancelOnClientGone(response, started);
    try {
      if (input.stream) {
        await deliverTranslatedStream(started, input.requestId, response, new AnthropicStreamTranslator(input.requestId), { 'request-id': input.requestId }, retain);
      } else {
        await deliverTranslatedJson(started, response, toAnthropicMessage, (outcome) => ({ 'request-id': outcome.id }), retain);
      }
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

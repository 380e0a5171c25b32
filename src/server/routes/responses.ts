/**
 * `POST /v1/responses`: OpenAI's Responses API as a front door (non-background). The body is
 * translated to Zumik's chat request (contract/openai-responses.ts; what cannot be served honestly,
 * such as `previous_response_id`, `store: true` or `background: true`, is a 400 naming the field) and
 * runs the same durable path as chat (request-intake.ts): one workflow, admission, failover to any
 * provider, the outcome record, Idempotency-Key and the `x-zumik-*` headers. The answer goes back as a
 * `response` object, or as the Responses event stream; errors use OpenAI's envelope.
 */
import { Router } from 'express';
import { responsesRequestSchema, responsesToChat, ResponsesTranslationError, type ResponsesRequestBody } from '../../contract/openai-responses';
import { ResponsesStreamTranslator, toResponsesResponse, type ResponseEcho } from '../../contract/openai-responses-renderers';
import type { ChatRequest } from '../../contract/chat';
import { badRequest } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { cancelOnClientGone, startRequest, type ChatRouteDeps } from '../request-intake';
import { deliverTranslatedJson, deliverTranslatedStream } from '../translated-delivery';

export function responsesRoutes(deps: ChatRouteDeps): Router {
  const router = Router();
  router.post('/responses', requireScope('inference'), async (request, response) => {
    const body = parseBody(responsesRequestSchema, request.body);
    const chat = translate(body);
    const { input, started, retain } = await startRequest(deps, request, {
      body: chat, alias: body.model, stream: body.stream === true, background: false, surface: 'v1', idPrefix: 'resp_', ingress: 'openai_responses',
      idempotencyScope: { surface: 'v1/responses', body }, serviceTier: body.service_tier ?? undefined,
    });
    const echo = echoOf(body);
    const client = cancelOnClientGone(response, started);
    try {
      if (input.stream) {
        await deliverTranslatedStream(started, input.requestId, response, new ResponsesStreamTranslator(input.requestId, echo), {}, retain);
      } else {
        await deliverTranslatedJson(started, response, (completion) => toResponsesResponse(completion, echo), undefined, retain);
      }
    } finally {
      client.done();
    }
  });
  return router;
}

function translate(body: ResponsesRequestBody): ChatRequest {
  try {
    return responsesToChat(body);
  } catch (error) {
    if (error instanceof ResponsesTranslationError) throw badRequest(error.message, error.param);
    throw error;
  }
}

function echoOf(body: ResponsesRequestBody): ResponseEcho {
  const { instructions, tools, tool_choice, parallel_tool_calls, max_output_tokens, temperature, top_p, text, reasoning, metadata, user, service_tier } = body;
  return { instructions, tools, tool_choice, parallel_tool_calls, max_output_tokens, temperature, top_p, text, reasoning, metadata, user, service_tier };
}

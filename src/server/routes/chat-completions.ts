/**
 * `POST /v1/chat/completions` (OpenAI's contract, outcome in headers) and `POST /v2/chat/completions`
 * (the same input; the body adds `zumik`, and `background: true` returns at once). The request is
 * decided here, before any workflow (DESIGN.md §4.1): a refusal (policy, unknown alias, no eligible
 * target, rate or concurrency limit without a queue) is answered and recorded without one; otherwise
 * one chatRequestWorkflow carries the decision. See ChatGateway for delivery.
 */
import { Router, type Response } from 'express';
import type { ChatRequestInput, RequestOutcome } from '../../domain/request-outcome';
import type { ChatRequest } from '../../contract/chat';
import type { Delivery, StartedRequest } from '../chat-gateway';
import { chatRequestSchema, withoutNulls } from '../../contract/chat-request-schema';
import { badRequest } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { completionAsChunks } from '../../contract/openai-renderers';
import { outcomeComment, outcomeError, outcomeHeaders, streamHeaders } from '../outcome-http';
import { cancelOnClientGone, startCachedRequest, type ChatRouteDeps, type Intake } from '../request-intake';
import { replayCached } from '../response-cache-http';

export type { ChatRouteDeps } from '../request-intake';

export function chatCompletionRoutes(deps: ChatRouteDeps, surface: 'v1' | 'v2'): Router {
  const router = Router();
  router.post('/chat/completions', requireScope('inference'), async (request, response) => {
    const body = withoutNulls(parseBody(chatRequestSchema, request.body));
    if (surface === 'v1' && body.background !== undefined) throw badRequest('background is a /v2 feature: use POST /v2/chat/completions', 'background');
    const background = body.background === true;
    const { background: _background, ...forwarded } = body;
    const intake = await startCachedRequest(deps, request, {
      body: forwarded as ChatRequest, alias: body.model, stream: body.stream === true, background, surface, idPrefix: 'chatcmpl-',
      ingress: 'openai_chat', idempotencyScope: { surface, body }, serviceTier: body.service_tier ?? undefined,
    });
    if ('hit' in intake) {
      replayCached(response, intake.hit, intake.outcome, surface);
      return;
    }
    const { input, started, remember, retain } = intake;
    if (background) {
      response.status(202).set({ 'x-zumik-request-id': input.requestId }).json({
        id: input.requestId, object: 'request_outcome', status: 'in_progress', completion: null, poll: `/v2/requests/${input.requestId}`,
      });
      return;
    }
    const client = cancelOnClientGone(response, started);
    try {
      if (input.stream) await deliverStream(started, input, response, surface, remember, retain);
      else await deliverJson(started, response, surface, remember, retain);
    } finally {
      client.done();
    }
  });
  return router;
}

/** `remember`: the response cache keeps a completed answer once it is sent. */
/** `retain`: prompt retention keeps the request and its completed answer once it is sent. */
async function deliverJson(started: StartedRequest, response: Response, surface: 'v1' | 'v2', remember?: Intake['remember'],
  retain?: Intake['retain']): Promise<void> {
  for await (const delivery of started.deliveries) {
    if (delivery.type === 'final' && delivery.body) {
      sendCompletion(response, delivery.outcome, delivery.body, surface);
      if (delivery.outcome.completion === 'completed') {
        remember?.({ kind: 'json', body: delivery.body });
        retain?.(delivery.outcome, { body: delivery.body });
      }
      return;
    }
    if (delivery.type === 'result') {
      const { outcome, response: answer } = delivery.result;
      if (outcome.completion === 'completed' && answer) {
        sendCompletion(response, outcome, answer, surface);
        remember?.({ kind: 'json', body: answer });
        retain?.(outcome, { body: answer });
      } else throw outcomeError(outcome, surface);
      return;
    }
  }
}

function sendCompletion(response: Response, outcome: RequestOutcome, body: Record<string, unknown>, surface: 'v1' | 'v2'): void {
  response.status(200).set(outcomeHeaders(outcome)).json(surface === 'v2' ? { ...body, zumik: outcome } : body);
}

/** A shared bus lost chunks: the stream ends with this error event, never presented as a complete answer. */
const DELIVERY_GAP_EVENT = `data: ${JSON.stringify({ error: {
  message: 'chunks of this stream were lost in delivery; the answer is incomplete', type: 'server_error', code: 'stream_delivery_gap', param: null,
} })}\n\n`;

async function deliverStream(started: StartedRequest, input: ChatRequestInput, response: Response, surface: 'v1' | 'v2',
  remember?: Intake['remember'], retain?: Intake['retain']): Promise<void> {
  let open = false;
  // The chunks as sent, for the response cache and prompt retention (only when one of them keeps this answer).
  const sent: Array<Record<string, unknown>> | undefined = remember || retain ? [] : undefined;
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
          write(DELIVERY_GAP_EVENT);
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
        sent?.push(delivery.message.chunk as unknown as Record<string, unknown>);
        break;
      case 'final':
        if (open) {
          if (delivery.chunkCount !== undefined && delivery.chunkCount !== received && !failed) {
            failed = true;
            write(DELIVERY_GAP_EVENT);
          }
          end(delivery.outcome);
          if (!failed && delivery.outcome.completion === 'completed' && sent) {
            remember?.({ kind: 'stream', chunks: sent });
            retain?.(delivery.outcome, { chunks: sent });
          }
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
          if (!failed && outcome.completion === 'completed' && sent) {
            remember?.({ kind: 'stream', chunks: sent });
            retain?.(outcome, { chunks: sent });
          }
          return;
        }
        if (outcome.completion === 'completed' && answer) {
          // Nothing came over the bus (the attempt ran elsewhere, or a replay): send the answer as one stream.
          response.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...outcomeHeaders(outcome) });
          const chunks = completionAsChunks(answer, input.body.stream_options?.include_usage === true);
          for (const chunk of chunks) write(`data: ${JSON.stringify(chunk)}\n\n`);
          end(outcome);
          remember?.({ kind: 'stream', chunks: chunks as unknown as Array<Record<string, unknown>> });
          retain?.(outcome, { chunks: chunks as unknown as Array<Record<string, unknown>> });
          return;
        }
        throw outcomeError(outcome, surface);
      }
    }
  }
}

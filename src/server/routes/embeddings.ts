/**
 * `POST /v1/embeddings`: OpenAI's embeddings contract in and out, through an alias, on the same
 * durable path as chat (request-intake.ts: admission, plan, failover, outcome record, Idempotency-Key,
 * `x-zumik-*` headers). The workflow runs with `operation: 'embeddings'`; targets without an
 * embeddings API (Anthropic) are not eligible, and an alias with no other target is a 400
 * `no_eligible_target`. The answer is OpenAI's `CreateEmbeddingResponse` (float or base64).
 */
import { Router, type Response } from 'express';
import { embeddingsRequestSchema, type EmbeddingsRequest } from '../../contract/embeddings';
import { embeddingsAsBody } from '../../domain/request-operation';
import type { RequestOutcome } from '../../domain/request-outcome';
import type { StartedRequest } from '../chat-gateway';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { outcomeError, outcomeHeaders } from '../outcome-http';
import { cancelOnClientGone, startRequest, type ChatRouteDeps } from '../request-intake';

export function embeddingsRoutes(deps: ChatRouteDeps): Router {
  const router = Router();
  router.post('/embeddings', requireScope('inference'), async (request, response) => {
    const body = parseBody(embeddingsRequestSchema, request.body) as EmbeddingsRequest & { model: string };
    const { started } = await startRequest(deps, request, {
      body: embeddingsAsBody(body), alias: body.model, stream: false, background: false, surface: 'v1', idPrefix: 'emb-',
      ingress: 'openai_embeddings', operation: 'embeddings', idempotencyScope: { surface: 'v1/embeddings', body },
    });
    const client = cancelOnClientGone(response, started);
    try {
      await deliverEmbeddings(started, response);
    } finally {
      client.done();
    }
  });
  return router;
}

async function deliverEmbeddings(started: StartedRequest, response: Response): Promise<void> {
  const send = (outcome: RequestOutcome, body: Record<string, unknown>) => response.status(200).set(outcomeHeaders(outcome)).json(body);
  for await (const delivery of started.deliveries) {
    if (delivery.type === 'final' && delivery.body) {
      send(delivery.outcome, delivery.body);
      return;
    }
    if (delivery.type === 'result') {
      const { outcome, response: answer } = delivery.result;
      if (outcome.completion === 'completed' && answer) send(outcome, answer);
      else throw outcomeError(outcome);
      return;
    }
  }
}

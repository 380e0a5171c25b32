/**
 * `POST /v1/embeddings`: OpenAI's embeddings contract in and out, through an alias, on the same
 * durable path as chat (request-intake.ts: admission, plan, failover, outcome record, Idempotency-Key,
 * `x-zumik-*` headers). The workflow runs with `operation: 'embeddings'`; targets without an
 * embeddings API (Anthropic) are not eligible, and an alias with no other target is a 400
 * `no_eligible_target`. The answer is OpenAI's `CreateEmbeddingResponse` (float or base64).
 */
import { Router } from 'express';
import { embeddingsRequestSchema, type EmbeddingsRequest } from '../../contract/embeddings';
import { embeddingsAsBody } from '../../domain/request-operation';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { cancelOnClientGone, startRequest, type ChatRouteDeps } from '../request-intake';
import { deliverTranslatedJson } from '../translated-delivery';

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
      // The answer is OpenAI's own embeddings body: sent as it is.
      await deliverTranslatedJson(started, response, (body) => body);
    } finally {
      client.done();
    }
  });
  return router;
}

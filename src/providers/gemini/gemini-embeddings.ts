/**
 * Gemini embeddings: `POST /v1beta/models/{model}:batchEmbedContents` with
 * `{requests:[{model:"models/{model}", content:{parts:[{text}]}, outputDimensionality?}]}`, answered
 * `{embeddings:[{values:[…]}]}` — Google's documented format (PROVIDERS.md has no embeddings section).
 * At most 100 requests per call. Gemini reports no token counts for embeddings: usage is estimated
 * (four characters a token) and the result says so. Token-array inputs cannot be sent (the plan
 * never gives them a Gemini target).
 */
import { z } from 'zod';
import { embeddingInputs, type EmbeddingsRequest, type EmbeddingsResult } from '../../contract/embeddings';
import { embedInBatches } from '../embeddings-batching';
import { ProviderError } from '../provider-error';
import type { ProviderCallOptions } from '../types';
import type { UpstreamResponse } from '../upstream-http';
import { GEMINI_PROVIDER, geminiErrorFromText } from './gemini-error';
import { readGeminiBody } from './gemini-read-body';

/** `batchEmbedContents` takes at most 100 requests per call. */
export const GEMINI_EMBEDDINGS_MAX_PER_CALL = 100;

const batchEmbedAnswerSchema = z.looseObject({ embeddings: z.array(z.looseObject({ values: z.array(z.number()) })) });

export async function embedGemini(send: (method: string, body: unknown, signal: AbortSignal) => Promise<UpstreamResponse>,
  request: EmbeddingsRequest, options: ProviderCallOptions, signal: AbortSignal): Promise<EmbeddingsResult> {
  const model = `models/${options.model.replace(/^models\//, '')}`;
  return embedInBatches(embeddingInputs(request), GEMINI_EMBEDDINGS_MAX_PER_CALL, options.model, async (batch) => {
    const texts = batch.map((input) => {
      if (typeof input !== 'string') throw new ProviderError(`${GEMINI_PROVIDER}: token-array inputs cannot be embedded by Gemini`, { kind: 'invalid_request', provider: GEMINI_PROVIDER });
      return input;
    });
    const response = await send('batchEmbedContents', {
      requests: texts.map((text) => ({
        model, content: { parts: [{ text }] }, ...(request.dimensions !== undefined ? { outputDimensionality: request.dimensions } : {}),
      })),
    }, signal);
    const text = await readGeminiBody(response, options.timeouts?.firstTokenMs, signal);
    if (response.status < 200 || response.status >= 300) {
      throw geminiErrorFromText(text, { status: response.status, headers: response.headers, apiKey: options.credential.apiKey });
    }
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    const parsed = batchEmbedAnswerSchema.safeParse(json);
    if (!parsed.success) throw new ProviderError(`${GEMINI_PROVIDER}: the answer is not a BatchEmbedContentsResponse`, { kind: 'bad_response', provider: GEMINI_PROVIDER });
    return {
      vectors: parsed.data.embeddings.map((embedding) => embedding.values),
      promptTokens: texts.reduce((sum, input) => sum + Math.max(1, Math.ceil(input.length / 4)), 0),
      estimatedUsage: true,
    };
  });
}

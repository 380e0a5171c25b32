/**
 * `POST {baseUrl}/embeddings` for every OpenAI-compatible provider (OpenAI, Fireworks, xAI, BYOC,
 * OpenRouter): OpenAI's wire format both ways, always asking for floats (Zumik encodes base64
 * itself), inputs batched to the per-call maximum (OpenAI's 2,048 inputs per call; Fireworks and the
 * others accept OpenAI's limit too).
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { embeddingInputs, type EmbeddingsRequest, type EmbeddingsResult } from '../../contract/embeddings';
import { CallDeadline } from '../call-deadline';
import { embedInBatches } from '../embeddings-batching';
import { ProviderError } from '../provider-error';
import type { ProviderCallOptions } from '../types';
import { readBodyText, sendUpstream } from '../upstream-http';
import { openAICompatibleFailure, pickRequestId, type FailureContext } from './openai-compatible-error';
import { servedModelName, type OpenAICompatibleFlavour } from './openai-compatible-flavours';

/** Inputs per upstream call. */
export const OPENAI_EMBEDDINGS_MAX_PER_CALL = 2_048;

const embeddingsAnswerSchema = z.looseObject({
  data: z.array(z.looseObject({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
  model: z.string().optional(),
  usage: z.looseObject({ prompt_tokens: z.number().optional(), total_tokens: z.number().optional() }).nullish(),
});

export interface OpenAICompatibleEmbeddingsTarget {
  provider: string;
  flavour: OpenAICompatibleFlavour;
  /** Everything before `/embeddings`. */
  baseUrl: string;
  dispatcher: Dispatcher;
}

export async function embedOpenAICompatible(target: OpenAICompatibleEmbeddingsTarget, request: EmbeddingsRequest,
  options: ProviderCallOptions, maxPerCall = OPENAI_EMBEDDINGS_MAX_PER_CALL): Promise<EmbeddingsResult> {
  const failure: FailureContext = { provider: target.provider, flavour: target.flavour, apiKey: options.credential.apiKey };
  const deadline = new CallDeadline(options.signal, options.timeouts);
  try {
    return await embedInBatches(embeddingInputs(request), maxPerCall, options.model, async (batch) => {
      const response = await deadline.within('headers', deadline.timeouts.headersMs, sendUpstream({
        provider: target.provider, url: `${target.baseUrl.replace(/\/+$/, '')}/embeddings`,
        headers: { ...target.flavour.staticHeaders, accept: 'application/json', ...(target.flavour.credentialHeader
          ? { [target.flavour.credentialHeader]: options.credential.apiKey } : { authorization: `Bearer ${options.credential.apiKey}` }) },
        body: {
          model: target.flavour.modelPrefix ? `${target.flavour.modelPrefix}/${options.model}` : options.model, input: batch, encoding_format: 'float',
          ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
          ...(request.user !== undefined ? { user: request.user } : {}),
        },
        dispatcher: target.dispatcher, signal: deadline.signal, timeouts: options.timeouts,
      }), target.provider);
      const text = await deadline.within('first_token', deadline.timeouts.firstTokenMs, readBodyText(response, target.provider, deadline.signal), target.provider);
      let body: unknown = text;
      try { body = JSON.parse(text); } catch { /* an error body may be text */ }
      if (response.status >= 400) throw openAICompatibleFailure(failure, { status: response.status, headers: response.headers, body });
      const parsed = embeddingsAnswerSchema.safeParse(body);
      if (!parsed.success) {
        throw new ProviderError(`${target.provider}: the answer is not an embeddings list`, { kind: 'bad_response', provider: target.provider, status: response.status });
      }
      const vectors = [...parsed.data.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
      return {
        vectors, promptTokens: parsed.data.usage?.prompt_tokens ?? 0, model: parsed.data.model === undefined ? undefined : servedModelName(target.flavour, parsed.data.model),
        providerRequestId: pickRequestId(response.headers, target.flavour.requestIdHeaders),
      };
    });
  } catch (error) {
    if (error instanceof ProviderError) throw deadline.translate(error, target.provider);
    throw new ProviderError(`${target.provider}: ${(error as Error).message}`, { kind: 'bad_response', provider: target.provider }, { cause: error });
  } finally {
    deadline.dispose();
  }
}

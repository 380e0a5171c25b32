/**
 * Zumik's wire vocabulary for `POST /v1/embeddings`: OpenAI's request body (the public contract), its
 * validation at the edge, the provider-neutral result every embeddings adapter returns, and the
 * renderer back to OpenAI's `CreateEmbeddingResponse` (float or base64). Providers are always asked
 * for floats: base64 is Zumik's encoding of them (little-endian float32, as OpenAI encodes).
 */
import { z } from 'zod';
import { MODEL_MAX_LENGTH } from './limits';

/** Most inputs one request may carry (OpenAI's own limit). */
export const EMBEDDINGS_MAX_INPUTS = 2_048;

/** One input: text, or a token array (OpenAI-compatible targets only). */
export type EmbeddingInput = string | number[];

export interface EmbeddingsRequest {
  model?: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [extra: string]: unknown;
}

const tokenArray = z.array(z.number().int().nonnegative(), { error: 'a token array holds non-negative integers' }).min(1, 'a token array may not be empty');
const nonEmptyText = z.string().min(1, 'an input may not be an empty string');

export const embeddingsRequestSchema = z.looseObject({
  model: z.string({ error: 'model is required' }).min(1, 'model is required').max(MODEL_MAX_LENGTH),
  input: z.union([
    nonEmptyText,
    z.array(nonEmptyText).min(1).max(EMBEDDINGS_MAX_INPUTS),
    tokenArray,
    z.array(tokenArray).min(1).max(EMBEDDINGS_MAX_INPUTS),
  ], { error: `input must be a non-empty string, an array of up to ${EMBEDDINGS_MAX_INPUTS} non-empty strings, a token array or an array of token arrays` }),
  encoding_format: z.enum(['float', 'base64'], { error: "encoding_format must be 'float' or 'base64'" }).optional(),
  dimensions: z.number().int().min(1, 'dimensions must be at least 1').max(65_536).optional(),
  user: z.string().optional(),
});

/** The inputs as a list, in order: a single string or token array becomes one input. */
export function embeddingInputs(request: Pick<EmbeddingsRequest, 'input'>): EmbeddingInput[] {
  const { input } = request;
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [input as number[]];
  return input as EmbeddingInput[];
}

/** True when any input is a token array (only OpenAI-compatible targets accept those). */
export function hasTokenInputs(request: Pick<EmbeddingsRequest, 'input'>): boolean {
  return embeddingInputs(request).some((input) => typeof input !== 'string');
}

/** One embeddings answer, provider-neutral: one vector per input, in input order. */
export interface EmbeddingsResult {
  /** The model that served it, as its provider names it. */
  model: string;
  vectors: number[][];
  /** Input tokens (Gemini does not report them: estimated, and `estimatedUsage` says so). */
  promptTokens: number;
  estimatedUsage?: boolean;
  /** Upstream calls the inputs took (batched to the provider's per-call maximum). */
  calls: number;
  providerRequestId?: string;
}

/** OpenAI's `CreateEmbeddingResponse`. */
export interface EmbeddingsResponseBody {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** Little-endian float32 bytes in base64, which is what OpenAI sends for `encoding_format: "base64"`. */
export function encodeEmbeddingBase64(vector: readonly number[]): string {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  vector.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return Buffer.from(bytes).toString('base64');
}

export function toEmbeddingsResponse(result: EmbeddingsResult, encoding: 'float' | 'base64' = 'float'): EmbeddingsResponseBody {
  return {
    object: 'list',
    data: result.vectors.map((vector, index) => ({
      object: 'embedding', index, embedding: encoding === 'base64' ? encodeEmbeddingBase64(vector) : vector,
    })),
    model: result.model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

/**
 * Embeddings as the emulators answer them: deterministic vectors (a hash of the input text, so the
 * same input always gets the same unit vector and tests can recompute it), in OpenAI's
 * `CreateEmbeddingResponse` and Gemini's `BatchEmbedContentsResponse` / `EmbedContentResponse` wire
 * formats, with each provider's per-call input limit enforced the way the real API refuses it.
 */
import { createHash } from 'node:crypto';

/** Default dimensions per model family, as the providers document them. */
export function defaultDimensions(model: string): number {
  if (model.includes('3-large') || model === 'gemini-embedding-001') return 3_072;
  if (model.includes('text-embedding-004') || model.includes('nomic')) return 768;
  return 1_536;
}

/** The emulator's vector for one input: unit length, values from SHA-256 of the input (token arrays hashed as JSON). */
export function emulatedVector(input: string | number[], dimensions: number): number[] {
  const seed = typeof input === 'string' ? input : JSON.stringify(input);
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block += 1) {
    const digest = createHash('sha256').update(`${block}:${seed}`).digest();
    for (let offset = 0; offset + 2 <= digest.length && values.length < dimensions; offset += 2) values.push(digest.readUInt16BE(offset) / 32_768 - 1);
  }
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0)) || 1;
  // float32 precision, as the providers' vectors are.
  return values.map((value) => Math.fround(value / norm));
}

/** Tokens the emulator counts for an input (a token array counts its length; text four characters a token). */
export function emulatedTokens(input: string | number[]): number {
  return typeof input === 'string' ? Math.max(1, Math.ceil(input.length / 4)) : input.length;
}

/** OpenAI's limit: 2,048 inputs per call. */
export const OPENAI_MAX_INPUTS = 2_048;
/** Gemini's limit: 100 requests per batchEmbedContents call. */
export const GEMINI_MAX_REQUESTS = 100;

/** OpenAI's answer to `POST /v1/embeddings`, or an error body and status. */
export function openAIEmbeddingsAnswer(body: Record<string, unknown>): { status: number; body: unknown } {
  const raw = body.input;
  const inputs: Array<string | number[]> = typeof raw === 'string' ? [raw]
    : Array.isArray(raw) && raw.length > 0 && typeof raw[0] === 'number' ? [raw as number[]] : (Array.isArray(raw) ? raw as Array<string | number[]> : []);
  if (inputs.length === 0) return invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", 'input');
  if (inputs.length > OPENAI_MAX_INPUTS) return invalid(`'$.input' is invalid: at most ${OPENAI_MAX_INPUTS} inputs per request.`, 'input');
  const model = typeof body.model === 'string' ? body.model : 'text-embedding-3-small';
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : defaultDimensions(model);
  if (body.encoding_format !== undefined && body.encoding_format !== 'float') return invalid('this emulator answers floats only; ask for encoding_format float', 'encoding_format');
  const tokens = inputs.reduce((sum, input) => sum + emulatedTokens(input), 0);
  return {
    status: 200,
    body: {
      object: 'list', model,
      data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: emulatedVector(input, dimensions) })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

function invalid(message: string, param: string): { status: number; body: unknown } {
  return { status: 400, body: { error: { message, type: 'invalid_request_error', param, code: null } } };
}

interface GeminiEmbedRequest { model?: string; content?: { parts?: Array<{ text?: unknown }> }; outputDimensionality?: number }

/** Gemini's answer to `:batchEmbedContents` (`{requests:[…]}`) or `:embedContent` (one request), or an error status and message. */
export function geminiEmbeddingsAnswer(model: string, method: 'batchEmbedContents' | 'embedContent', body: unknown):
  { status: number; body?: unknown; message?: string } {
  const requests: GeminiEmbedRequest[] = method === 'embedContent' ? [body as GeminiEmbedRequest]
    : ((body as { requests?: GeminiEmbedRequest[] } | null)?.requests ?? []);
  if (requests.length === 0) return { status: 400, message: '* BatchEmbedContentsRequest.requests: requests is not specified' };
  if (requests.length > GEMINI_MAX_REQUESTS) return { status: 400, message: `* BatchEmbedContentsRequest.requests: at most ${GEMINI_MAX_REQUESTS} requests can be in one batch` };
  const vectors: number[][] = [];
  for (const [index, request] of requests.entries()) {
    if (method === 'batchEmbedContents' && request.model !== `models/${model}`) {
      return { status: 400, message: `* BatchEmbedContentsRequest.requests[${index}].model: model must be models/${model}` };
    }
    const texts = (request.content?.parts ?? []).map((part) => part.text);
    if (texts.length === 0 || texts.some((text) => typeof text !== 'string')) {
      return { status: 400, message: `* BatchEmbedContentsRequest.requests[${index}].content.parts: must hold text parts` };
    }
    vectors.push(emulatedVector((texts as string[]).join(' '), request.outputDimensionality ?? defaultDimensions(model)));
  }
  return { status: 200, body: method === 'embedContent' ? { embedding: { values: vectors[0] } } : { embeddings: vectors.map((values) => ({ values })) } };
}

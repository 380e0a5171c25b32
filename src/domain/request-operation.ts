/**
 * The operations a request's attempts can perform, and which targets can serve them. A chat
 * completion is the default; embeddings travel through the same workflow with `operation:
 * 'embeddings'` and their OpenAI embeddings body in the input's `body` field. Pure: the plan uses it.
 */
import { hasTokenInputs, type EmbeddingsRequest } from '../contract/embeddings';
import type { ChatRequest } from '../contract/chat';
import type { ChatRequestInput } from './request-outcome';

/** Providers without an embeddings API: their targets are not eligible for embeddings. */
const NO_EMBEDDINGS = new Set(['anthropic']);
/** Providers whose embeddings API takes text only (no token arrays). */
const TEXT_ONLY_EMBEDDINGS = new Set(['gemini']);

/** The embeddings body an embeddings request carries in `body`. */
export function embeddingsBodyOf(input: Pick<ChatRequestInput, 'body'>): EmbeddingsRequest {
  return input.body as unknown as EmbeddingsRequest;
}

/** The input's `body` for an embeddings request (the workflow input keeps one body field for every operation). */
export function embeddingsAsBody(request: EmbeddingsRequest): ChatRequest {
  return request as unknown as ChatRequest;
}

/** Why a target cannot serve this operation, or undefined when it can. */
export function operationIneligibility(input: Pick<ChatRequestInput, 'operation' | 'body'>, provider: string): string | undefined {
  if (input.operation !== 'embeddings') return undefined;
  if (NO_EMBEDDINGS.has(provider)) return `${provider} has no embeddings API`;
  if (TEXT_ONLY_EMBEDDINGS.has(provider) && hasTokenInputs(embeddingsBodyOf(input))) return `${provider} embeds text only, not token arrays`;
  return undefined;
}

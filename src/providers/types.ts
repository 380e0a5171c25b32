/**
 * The one narrow provider interface every adapter implements (generate, stream) and its call options.
 * The shapes it speaks live in src/contract/chat.ts. Arrows point inward: this file imports nothing
 * from a provider folder.
 */
import type { ChatRequest, ChatResult, StreamPart } from '../contract/chat';
import type { EmbeddingsRequest, EmbeddingsResult } from '../contract/embeddings';

/** Credentials resolved inside the activity by reference; never logged, never in workflow state. */
export interface ProviderCredential {
  apiKey: string;
}

/** Timeouts for one call; all optional, adapters have defaults. */
export interface CallTimeouts {
  /** No response headers within this many ms → `timeout`. */
  headersMs?: number;
  /** No first content (stream) / no body (non-stream) within this many ms after headers → `timeout` with `phase: 'first_token'`. */
  firstTokenMs?: number;
  /** No bytes for this many ms in the middle of a stream → `stream_stalled`. */
  stallMs?: number;
  /**
   * Once a stream's answer is complete (every choice has its finish), how long to wait for the rest
   * (usage, the terminal event) before ending the read as a complete answer.
   */
  finishGraceMs?: number;
  /** Whole call. */
  totalMs?: number;
}

export interface ProviderCallOptions {
  /** The provider's model id (the release target's `model`). */
  model: string;
  credential: ProviderCredential;
  /** Aborts the upstream request (client disconnect, workflow cancellation). */
  signal?: AbortSignal;
  timeouts?: CallTimeouts;
  /** Stable, non-secret key for provider-side cache routing (e.g. hash of tenant and alias). */
  cacheKeyHint?: string;
  /** Extra headers for this call (never secrets; those come through `credential`). */
  headers?: Record<string, string>;
}

/**
 * The narrow adapter interface (vercel/ai style). Errors are always thrown as `ProviderError`.
 * `stream` yields parts until `stream-end`; a stream that ends any other way throws.
 */
export interface ProviderAdapter {
  readonly provider: string;
  generate(request: ChatRequest, options: ProviderCallOptions): Promise<ChatResult>;
  stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamPart>;
}

/**
 * The optional embeddings ability (OpenAI-compatible providers, Gemini; not Anthropic, which has no
 * embeddings API). Inputs are batched to the provider's per-call maximum inside `embed`.
 */
export interface EmbeddingsAdapter {
  embed(request: EmbeddingsRequest, options: ProviderCallOptions): Promise<EmbeddingsResult>;
}

/** Whether an adapter can embed (checked at call time; the plan already left out providers that cannot). */
export function canEmbed(adapter: ProviderAdapter): adapter is ProviderAdapter & EmbeddingsAdapter {
  return typeof (adapter as Partial<EmbeddingsAdapter>).embed === 'function';
}

/**
 * The optional token-counting ability: the provider counts a request's input exactly, for free, without
 * generating (Anthropic's `POST /v1/messages/count_tokens`). Providers without such an endpoint do not
 * implement it, and Zumik does not estimate in their place.
 */
export interface TokenCountingAdapter {
  countTokens(request: ChatRequest, options: ProviderCallOptions): Promise<{ inputTokens: number }>;
}

export function canCountTokens(adapter: ProviderAdapter): adapter is ProviderAdapter & TokenCountingAdapter {
  return typeof (adapter as Partial<TokenCountingAdapter>).countTokens === 'function';
}

/**
 * Zumik's wire vocabulary for a chat completion, shared by every layer: the request (OpenAI's
 * chat-completions body, the public contract), and the provider-neutral answer and stream events every
 * adapter produces. The ground floor: imports nothing (vercel/ai keeps its shared vocabulary in one
 * `provider` package the same way).
 */

/** A content part of a user/system message, as OpenAI's chat API accepts it. */
export type ChatContentPart =
  | { type: 'text'; text: string; prompt_cache_breakpoint?: { mode: 'explicit' }; cache_control?: { type: 'ephemeral'; ttl?: string } }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: string; [key: string]: unknown };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * A thinking block of an earlier Anthropic answer, kept verbatim: Anthropic checks the `signature`
 * (and takes `redacted_thinking` back encrypted) when a tool-use turn continues. Only an Anthropic
 * target can use them; other targets drop them with a warning (their model did not write them).
 */
export type ThinkingBlock =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | ChatContentPart[]; name?: string }
  | { role: 'user'; content: string | ChatContentPart[]; name?: string }
  | { role: 'assistant'; content?: string | ChatContentPart[] | null; refusal?: string | null; tool_calls?: ChatToolCall[]; name?: string;
    /** Anthropic thinking blocks this turn began with (an Anthropic Messages client's history). */
    thinking_blocks?: ThinkingBlock[] }
  | { role: 'tool'; tool_call_id: string; content: string | ChatContentPart[] };

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ChatToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ChatResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean } };

/** Anthropic's `thinking` configuration. */
export type ChatThinking = { type: 'enabled'; budget_tokens: number } | { type: 'disabled' } | { type: 'adaptive' };

/**
 * The nearest OpenAI `reasoning_effort` for Anthropic's `thinking` (by budget: up to 4,096 tokens low, up
 * to 16,384 medium, more high; adaptive is medium); undefined when thinking is off. One rule for every
 * non-Anthropic target that takes an effort (OpenAI-compatible reasoning models, Gemini).
 */
export function thinkingAsReasoningEffort(thinking: ChatThinking | undefined): 'low' | 'medium' | 'high' | undefined {
  if (!thinking || thinking.type === 'disabled') return undefined;
  const budget = thinking.type === 'enabled' ? thinking.budget_tokens : 16_384;
  return budget <= 4_096 ? 'low' : budget <= 16_384 ? 'medium' : 'high';
}

/** OpenAI's `service_tier` values; `fast` is served as `priority`. */
export type ServiceTier = 'auto' | 'default' | 'flex' | 'scale' | 'priority' | 'fast';

/** The OpenAI chat-completions request body as Zumik forwards it (the `model` field is the alias and is ignored by adapters). */
export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  max_completion_tokens?: number;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  n?: number;
  seed?: number;
  stop?: string | string[];
  frequency_penalty?: number;
  presence_penalty?: number;
  logit_bias?: Record<string, number>;
  logprobs?: boolean;
  top_logprobs?: number;
  response_format?: ChatResponseFormat;
  reasoning_effort?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean; include_obfuscation?: boolean };
  service_tier?: ServiceTier;
  prompt_cache_key?: string;
  safety_identifier?: string;
  user?: string;
  metadata?: Record<string, string>;
  /**
   * Anthropic's extended-thinking switch (an Anthropic Messages client sends it): Anthropic targets get it
   * as is; OpenAI-compatible reasoning models get the nearest `reasoning_effort`; other targets drop it.
   */
  thinking?: ChatThinking;
  /**
   * Predicted output (speculative decoding): OpenAI and Fireworks take it as is; the usage reports
   * `completion_tokens_details.accepted_prediction_tokens` / `rejected_prediction_tokens`.
   */
  prediction?: { type: 'content'; content: string | Array<{ type: 'text'; text: string }> };
  /** Fields OpenAI clients may send that Zumik does not model; passed through to OpenAI-compatible providers. */
  [extra: string]: unknown;
}

/** OpenAI finish reasons; adapters map provider values into these (PROVIDERS.md §0.2). */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** OpenAI-shaped usage; `prompt_tokens` includes cached and cache-write tokens, `completion_tokens` includes reasoning. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number; audio_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number; audio_tokens?: number; accepted_prediction_tokens?: number; rejected_prediction_tokens?: number };
}

/** Something an adapter could not map faithfully (dropped parameter, approximated value). Reported, never fatal. */
export interface ProviderWarning {
  type: 'unsupported-setting' | 'approximated-setting' | 'other';
  setting?: string;
  message: string;
}

/** One non-streamed answer, normalised to OpenAI's shape. */
export interface ChatResult {
  /** The provider's own response id (Zumik replaces the public id with its request id). */
  providerResponseId: string;
  /** The model that served the answer, as its provider names it. */
  model: string;
  created: number;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; refusal?: string | null; tool_calls?: ChatToolCall[]; reasoning_content?: string;
      /** Anthropic's thinking blocks with their signatures (and redacted ones), in order; only an Anthropic target sends them. */
      thinking_blocks?: ThinkingBlock[] };
    finish_reason: FinishReason;
    /** The provider's raw stop reason, kept next to the unified one. */
    raw_finish_reason?: string;
  }>;
  usage: ChatUsage;
  /** The tier the provider says it served (`flex`, `priority`, `default`, …), when it says. */
  serviceTier?: string;
  systemFingerprint?: string;
  /** The provider's request id header, for support tickets. */
  providerRequestId?: string;
  warnings: ProviderWarning[];
}

/** One event of a streamed answer, provider-neutral. Adapters emit these; the front door re-emits OpenAI chunks. */
export type StreamPart =
  /** Response headers arrived and the stream opened. */
  | { type: 'stream-start'; providerResponseId?: string; model?: string; created?: number; providerRequestId?: string; warnings: ProviderWarning[] }
  | { type: 'text-delta'; choiceIndex: number; text: string }
  | { type: 'reasoning-delta'; choiceIndex: number; text: string }
  /** The signature that closes the current thinking block (Anthropic's `signature_delta`); later reasoning opens a new block. */
  | { type: 'reasoning-signature'; choiceIndex: number; signature: string }
  /** A whole `redacted_thinking` block (encrypted thinking, given back verbatim on the next turn). */
  | { type: 'redacted-reasoning'; choiceIndex: number; data: string }
  | { type: 'refusal-delta'; choiceIndex: number; text: string }
  /** A tool call fragment: the first fragment of a call carries `id` and `name`, later ones only argument text. */
  | { type: 'tool-call-delta'; choiceIndex: number; toolCallIndex: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'finish'; choiceIndex: number; finishReason: FinishReason; rawFinishReason?: string }
  /** Final usage (and served tier) — emitted once, before `stream-end`, when the provider reports it. */
  | { type: 'usage'; usage: ChatUsage; serviceTier?: string; model?: string }
  /** The answer is complete: the provider's terminal event came, or the body ended after every choice's finish. */
  | { type: 'stream-end' }
  /** An event that was not valid JSON was skipped (the stream goes on): counted in the attempt record, never sent to the client. */
  | { type: 'skipped-event'; reason: string };

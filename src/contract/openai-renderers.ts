/**
 * The front door's OpenAI wire format: re-emits any adapter's StreamParts as OpenAI
 * `chat.completion.chunk` objects, and turns a ChatResult into a `chat.completion` body. Whichever
 * provider served the answer, an OpenAI client sees exactly what OpenAI would send (validated against
 * OpenAI's own schemas in the tests). The `data: [DONE]` line is the caller's to write.
 */
import type { ChatResult, ChatUsage, FinishReason, ServiceTier, StreamPart } from './chat';

const OPENAI_SERVICE_TIERS: readonly string[] = ['auto', 'default', 'flex', 'scale', 'priority', 'fast'] satisfies ServiceTier[];

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number; cache_write_tokens?: number };
  completion_tokens_details: { reasoning_tokens: number; audio_tokens: number; accepted_prediction_tokens: number; rejected_prediction_tokens: number };
}

export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  service_tier?: string;
  system_fingerprint?: string;
  choices: Array<{
    index: number;
    delta: { role?: 'assistant'; content?: string; refusal?: string | null; reasoning_content?: string; tool_calls?: ChatCompletionChunkToolCall[];
      /** With `includeReasoning`: the signature closing the current thinking block, and a whole redacted thinking block (Anthropic's). */
      reasoning_signature?: string; redacted_thinking?: string };
    logprobs: null;
    finish_reason: FinishReason | null;
  }>;
  usage?: OpenAIUsage | null;
}

export interface ChunkStreamOptions {
  /** The public response id (Zumik's request id), the same on every chunk and across failover. */
  id: string;
  created: number;
  /** The model that serves the answer, as its provider names it. */
  model: string;
  /** The client's `stream_options.include_usage`: adds `usage: null` to every chunk and the final usage chunk. */
  includeUsage: boolean;
  /** Echoed on every chunk when it is one of OpenAI's tiers. */
  serviceTier?: string;
  systemFingerprint?: string;
  /**
   * Re-emit reasoning text as `delta.reasoning_content` (a common extension; OpenAI itself sends none),
   * and Anthropic's thinking signatures and redacted thinking as `reasoning_signature` / `redacted_thinking`.
   */
  includeReasoning?: boolean;
}

/** Re-emit parts as OpenAI chunks; the usage chunk (`choices: []`) comes last and only when `includeUsage`. */
export async function* toChatCompletionChunks(parts: AsyncIterable<StreamPart>, options: ChunkStreamOptions): AsyncGenerator<ChatCompletionChunk> {
  const started = new Set<number>();
  let usage: Extract<StreamPart, { type: 'usage' }> | undefined;
  const chunk = (choiceIndex: number, delta: ChatCompletionChunk['choices'][number]['delta'], finishReason: FinishReason | null = null): ChatCompletionChunk =>
    envelope(options, [{ index: choiceIndex, delta, logprobs: null, finish_reason: finishReason }]);

  for await (const part of parts) {
    if (part.type === 'usage') usage = part;
    if (part.type === 'stream-start' || part.type === 'usage' || part.type === 'stream-end' || part.type === 'skipped-event') continue;
    if ((part.type === 'reasoning-delta' || part.type === 'reasoning-signature' || part.type === 'redacted-reasoning') && !options.includeReasoning) continue;
    if (!started.has(part.choiceIndex)) {
      started.add(part.choiceIndex);
      yield chunk(part.choiceIndex, { role: 'assistant', content: '' });
    }
    switch (part.type) {
      case 'text-delta': yield chunk(part.choiceIndex, { content: part.text }); break;
      case 'refusal-delta': yield chunk(part.choiceIndex, { refusal: part.text }); break;
      case 'reasoning-delta': yield chunk(part.choiceIndex, { reasoning_content: part.text }); break;
      case 'reasoning-signature': yield chunk(part.choiceIndex, { reasoning_signature: part.signature }); break;
      case 'redacted-reasoning': yield chunk(part.choiceIndex, { redacted_thinking: part.data }); break;
      case 'tool-call-delta': yield chunk(part.choiceIndex, { tool_calls: [toolCallDelta(part)] }); break;
      case 'finish': yield chunk(part.choiceIndex, {}, part.finishReason); break;
    }
  }
  if (options.includeUsage && usage) {
    const tier = validTier(options.serviceTier) ?? validTier(usage.serviceTier);
    yield { ...envelope({ ...options, serviceTier: tier }, []), usage: toOpenAIUsage(usage.usage) };
  }
}

function envelope(options: ChunkStreamOptions, choices: ChatCompletionChunk['choices']): ChatCompletionChunk {
  const tier = validTier(options.serviceTier);
  return {
    id: options.id, object: 'chat.completion.chunk', created: options.created, model: options.model,
    ...(tier ? { service_tier: tier } : {}),
    ...(options.systemFingerprint ? { system_fingerprint: options.systemFingerprint } : {}),
    choices,
    ...(options.includeUsage ? { usage: null } : {}),
  };
}

function toolCallDelta(part: Extract<StreamPart, { type: 'tool-call-delta' }>): ChatCompletionChunkToolCall {
  // The first fragment of a call names it (as OpenAI sends it); later ones carry argument text only.
  if (part.id !== undefined || part.name !== undefined) {
    return { index: part.toolCallIndex, ...(part.id !== undefined ? { id: part.id } : {}), type: 'function',
      function: { ...(part.name !== undefined ? { name: part.name } : {}), arguments: part.argumentsDelta } };
  }
  return { index: part.toolCallIndex, function: { arguments: part.argumentsDelta } };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: string | null; tool_calls?: ChatResult['choices'][number]['message']['tool_calls'];
      annotations: []; reasoning_content?: string; thinking_blocks?: ChatResult['choices'][number]['message']['thinking_blocks'] };
    logprobs: null;
    finish_reason: FinishReason;
  }>;
  usage: OpenAIUsage;
  service_tier?: string;
  system_fingerprint?: string;
}

/** The exact `chat.completion` body for a ChatResult, under the public id; `model` defaults to the serving model. */
export function toChatCompletion(result: ChatResult, options: { id: string; model?: string; includeReasoning?: boolean }): ChatCompletion {
  const tier = validTier(result.serviceTier);
  return {
    id: options.id,
    object: 'chat.completion',
    created: result.created,
    model: options.model ?? result.model,
    choices: result.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: 'assistant',
        content: choice.message.content,
        refusal: choice.message.refusal ?? null,
        ...(choice.message.tool_calls?.length ? { tool_calls: choice.message.tool_calls } : {}),
        annotations: [],
        ...(options.includeReasoning && choice.message.reasoning_content ? { reasoning_content: choice.message.reasoning_content } : {}),
        ...(options.includeReasoning && choice.message.thinking_blocks ? { thinking_blocks: choice.message.thinking_blocks } : {}),
      },
      logprobs: null,
      finish_reason: choice.finish_reason,
    })),
    usage: toOpenAIUsage(result.usage),
    ...(tier ? { service_tier: tier } : {}),
    ...(result.systemFingerprint ? { system_fingerprint: result.systemFingerprint } : {}),
  };
}

/** OpenAI's full usage block: every detail field present (zero when the provider did not say). */
export function toOpenAIUsage(usage: ChatUsage): OpenAIUsage {
  const prompt = usage.prompt_tokens_details ?? {};
  const completion = usage.completion_tokens_details ?? {};
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    prompt_tokens_details: {
      cached_tokens: prompt.cached_tokens ?? 0, audio_tokens: prompt.audio_tokens ?? 0,
      ...(prompt.cache_write_tokens ? { cache_write_tokens: prompt.cache_write_tokens } : {}),
    },
    completion_tokens_details: {
      reasoning_tokens: completion.reasoning_tokens ?? 0, audio_tokens: completion.audio_tokens ?? 0,
      accepted_prediction_tokens: completion.accepted_prediction_tokens ?? 0, rejected_prediction_tokens: completion.rejected_prediction_tokens ?? 0,
    },
  };
}

function validTier(tier: string | undefined): string | undefined {
  return tier !== undefined && OPENAI_SERVICE_TIERS.includes(tier) ? tier : undefined;
}

/**
 * A completed answer as OpenAI chunks (role, content, tool calls, finish, and usage when asked); a body
 * rendered with reasoning (an Anthropic Messages client's) also gets its thinking back first, block by block.
 */
export function completionAsChunks(body: Record<string, unknown>, includeUsage: boolean): Array<Record<string, unknown>> {
  const base = { id: body.id, object: 'chat.completion.chunk', created: body.created, model: body.model,
    ...(body.service_tier ? { service_tier: body.service_tier } : {}), ...(includeUsage ? { usage: null } : {}) };
  const chunks: Array<Record<string, unknown>> = [];
  for (const choice of (body.choices as Array<{ index: number; message: Record<string, unknown>; finish_reason: string }>) ?? []) {
    const message = choice.message;
    const toolCalls = (message.tool_calls as Array<Record<string, unknown>> | undefined)?.map((call, index) => ({ index, ...call }));
    const reasoning = (delta: Record<string, unknown>) => chunks.push({ ...base, choices: [{ index: choice.index, delta, logprobs: null, finish_reason: null }] });
    const blocks = message.thinking_blocks as ChatResult['choices'][number]['message']['thinking_blocks'];
    if (blocks) {
      for (const block of blocks) {
        if (block.type === 'redacted_thinking') reasoning({ redacted_thinking: block.data });
        else { reasoning({ reasoning_content: block.thinking }); reasoning({ reasoning_signature: block.signature }); }
      }
    } else if (typeof message.reasoning_content === 'string' && message.reasoning_content) {
      reasoning({ reasoning_content: message.reasoning_content });
    }
    chunks.push({ ...base, choices: [{ index: choice.index, delta: { role: 'assistant', content: message.content ?? null,
      ...(toolCalls ? { tool_calls: toolCalls } : {}) }, logprobs: null, finish_reason: null }] });
    chunks.push({ ...base, choices: [{ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finish_reason }] });
  }
  if (includeUsage) chunks.push({ ...base, choices: [], usage: body.usage });
  return chunks;
}

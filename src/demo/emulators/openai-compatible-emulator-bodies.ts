/**
 * Wire bodies of the OpenAI-compatible emulator, shaped after the recorded fixtures in
 * test/fixtures/openai-compatible (openai/, xai/, compatible/) and PROVIDERS.md §1, §4–6: the JSON
 * answer, the SSE chunk sequence, and each provider's own error bodies.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export type OpenAICompatibleEmulatorFlavour = 'openai' | 'xai' | 'fireworks' | 'openrouter' | 'byoc' | 'bifrost';

/** What the emulated model answers. Token counts use OpenAI's meaning (`completionTokens` = visible output). */
export interface EmulatorReply {
  text: string;
  toolCalls: Array<{ id?: string; name: string; arguments: string }>;
  reasoning?: string;
  refusal?: string;
  /** Raw finish reason; defaults to `tool_calls` when tools are called, else `stop`. */
  finishReason?: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens?: number;
  reasoningTokens: number;
  /** Speculative decoding (`prediction`): predicted tokens the model kept and those it discarded (OpenAI's usage fields). */
  acceptedPredictionTokens?: number;
  rejectedPredictionTokens?: number;
  /** The tier "actually used"; defaults to the requested one (`fast` served as `priority`), else `default`. */
  serviceTier?: string;
  /** The served model name; defaults to the requested model. */
  model?: string;
}

export const DEFAULT_REPLY: EmulatorReply = {
  text: 'Hello from the emulator.', toolCalls: [], promptTokens: 16, completionTokens: 6, cachedTokens: 0, reasoningTokens: 0,
};

export interface AnswerContext {
  flavour: OpenAICompatibleEmulatorFlavour;
  reply: EmulatorReply;
  id: string;
  created: number;
  model: string;
  serviceTier?: string;
  includeUsage: boolean;
  includeObfuscation: boolean;
}

export function responseId(flavour: OpenAICompatibleEmulatorFlavour): string {
  if (flavour === 'xai') return randomUUID();
  if (flavour === 'openrouter') return `gen-${Date.now()}-${randomBytes(8).toString('hex')}`;
  return `chatcmpl-${randomBytes(12).toString('base64url')}`;
}

export function servedTier(flavour: OpenAICompatibleEmulatorFlavour, requested: unknown, reply: EmulatorReply): string | undefined {
  if (flavour !== 'openai' && flavour !== 'xai') return reply.serviceTier;
  if (reply.serviceTier) return reply.serviceTier;
  if (requested === 'fast' || requested === 'priority') return 'priority';
  return typeof requested === 'string' && requested !== 'auto' ? requested : 'default';
}

/** Usage as each provider reports it: xAI leaves reasoning out of `completion_tokens` (PROVIDERS.md §4.2). */
export function usageBody(context: AnswerContext): Record<string, unknown> {
  const { reply } = context;
  const completion = context.flavour === 'xai' ? reply.completionTokens : reply.completionTokens + reply.reasoningTokens;
  return {
    prompt_tokens: reply.promptTokens,
    completion_tokens: completion,
    total_tokens: reply.promptTokens + reply.completionTokens + reply.reasoningTokens,
    prompt_tokens_details: {
      ...(context.flavour === 'xai' ? { text_tokens: reply.promptTokens, image_tokens: 0 } : {}),
      cached_tokens: reply.cachedTokens, audio_tokens: 0,
      ...(reply.cacheWriteTokens !== undefined ? { cache_write_tokens: reply.cacheWriteTokens } : {}),
    },
    completion_tokens_details: {
      reasoning_tokens: reply.reasoningTokens, audio_tokens: 0,
      accepted_prediction_tokens: reply.acceptedPredictionTokens ?? 0, rejected_prediction_tokens: reply.rejectedPredictionTokens ?? 0,
    },
    ...(context.flavour === 'xai' ? { num_sources_used: 0, cost_in_usd_ticks: 1_176_500 } : {}),
  };
}

function finishReason(reply: EmulatorReply): string {
  return reply.finishReason ?? (reply.toolCalls.length > 0 ? 'tool_calls' : 'stop');
}

function toolCallId(flavour: OpenAICompatibleEmulatorFlavour, index: number, id?: string): string {
  return id ?? (flavour === 'xai' ? `call_${55117580 + index}` : `call_${randomBytes(9).toString('base64url')}`);
}

/** The non-streamed `chat.completion` body. */
export function completionBody(context: AnswerContext): Record<string, unknown> {
  const { reply, flavour } = context;
  const toolCalls = reply.toolCalls.map((call, index) => ({
    id: toolCallId(flavour, index, call.id), type: 'function', function: { name: call.name, arguments: call.arguments },
  }));
  return {
    id: context.id, object: 'chat.completion', created: context.created, model: context.model,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        // OpenAI sends null next to tool calls; xAI sends "" (fixture xai-tool-call.json).
        content: toolCalls.length > 0 && !reply.text ? (flavour === 'xai' ? '' : null) : reply.text,
        ...(reply.reasoning && flavour !== 'openai' ? { reasoning_content: reply.reasoning } : {}),
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        refusal: reply.refusal ?? null,
        ...(flavour === 'openai' ? { annotations: [] } : {}),
      },
      ...(flavour === 'xai' ? {} : { logprobs: null }),
      finish_reason: finishReason(reply),
    }],
    usage: usageBody(context),
    ...(context.serviceTier ? { service_tier: context.serviceTier } : {}),
    ...(flavour === 'openai' || flavour === 'xai' ? { system_fingerprint: 'fp_emulator01' } : {}),
  };
}

/** The `data:` payloads of a streamed answer, ending with `[DONE]` (the terminal). */
export function streamPayloads(context: AnswerContext): string[] {
  const { reply, flavour } = context;
  const chunks: Array<Record<string, unknown>> = [];
  const choice = (delta: Record<string, unknown>, finish: string | null = null) => [{
    index: 0, delta, ...(flavour === 'xai' ? {} : { logprobs: null }), ...(finish !== null || flavour !== 'xai' ? { finish_reason: finish } : {}),
  }];
  const first: Record<string, unknown> = flavour === 'xai' ? { role: 'assistant' } : { role: 'assistant', content: '', refusal: null };
  const reasoning = flavour === 'openai' ? [] : splitWords(reply.reasoning ?? '');
  if (reasoning.length > 0) first.reasoning_content = reasoning.shift();
  chunks.push({ choices: choice(first) });
  for (const piece of reasoning) chunks.push({ choices: choice({ reasoning_content: piece }) });
  for (const piece of splitWords(reply.text)) chunks.push({ choices: choice({ content: piece }) });
  if (reply.refusal) chunks.push({ choices: choice({ refusal: reply.refusal }) });
  reply.toolCalls.forEach((call, index) => {
    const id = toolCallId(flavour, index, call.id);
    if (flavour === 'xai') {
      // xAI sends a whole call in one fragment (fixture xai-tool-call.chunks.txt).
      chunks.push({ choices: choice({ tool_calls: [{ id, function: { name: call.name, arguments: call.arguments }, index, type: 'function' }] }) });
      return;
    }
    chunks.push({ choices: choice({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }) });
    for (const piece of splitInTwo(call.arguments)) chunks.push({ choices: choice({ tool_calls: [{ index, function: { arguments: piece } }] }) });
  });
  chunks.push({ choices: choice({}, finishReason(reply)) });
  // OpenRouter always reports usage at the end; the others only when asked.
  if (context.includeUsage || flavour === 'openrouter') chunks.push({ choices: [], usage: usageBody(context) });

  const withEnvelope = chunks.map((chunk, index) => ({
    id: context.id, object: 'chat.completion.chunk', created: context.created, model: context.model,
    ...(context.serviceTier ? { service_tier: context.serviceTier } : {}),
    ...(flavour === 'openai' || flavour === 'xai' ? { system_fingerprint: 'fp_emulator01' } : {}),
    ...chunk,
    ...(context.includeUsage && flavour !== 'xai' && index < chunks.length - 1 ? { usage: null } : {}),
    ...(flavour === 'openai' && context.includeObfuscation ? { obfuscation: randomBytes(6).toString('base64url').slice(0, 1 + (index % 8)) } : {}),
  }));
  return [...withEnvelope.map((chunk) => JSON.stringify(chunk)), '[DONE]'];
}

function splitWords(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function splitInTwo(text: string): string[] {
  if (text.length < 2) return [text];
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

/**
 * Prompt retention (README "Replay"): what a completed chat request leaves for a later replay — its body
 * as the client sent it, minus anything that could be a secret, and the answer served, reduced to what a
 * replay compares (text, finish reason, usage, timing). Pure: the front door builds these, the store keeps them.
 */
import type { RequestOutcome } from './request-outcome';

/** The answer a request was served, as a replay compares it. */
export interface RetainedAnswer {
  text: string;
  finish_reason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  ttft_ms: number | null;
  latency_ms: number;
  provider: string | null;
  model: string | null;
}

/** Fields of a chat body never kept: transport options of the original call, and anything named like a credential. */
const DROPPED_FIELDS = new Set(['stream', 'stream_options', 'background', 'api_key', 'apiKey', 'authorization', 'x-api-key']);

/** The request body to keep: messages and parameters; no transport options, no credential-like fields. */
export function retainedRequestBody(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !DROPPED_FIELDS.has(key)));
}

type Json = Record<string, unknown>;

const usageOf = (value: unknown): RetainedAnswer['usage'] => {
  const usage = value as Json | null | undefined;
  if (!usage || typeof usage.prompt_tokens !== 'number') return null;
  const prompt = usage.prompt_tokens;
  const completion = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : prompt + completion };
};

/** The served answer from a `chat.completion` body, or from the `chat.completion.chunk`s of a stream as they were sent. */
export function retainedAnswer(outcome: Pick<RequestOutcome, 'timing' | 'attempts'>, served: { body: Json } | { chunks: Json[] }): RetainedAnswer {
  let text = '';
  let finishReason: string | null = null;
  let usage: RetainedAnswer['usage'] = null;
  if ('body' in served) {
    const choice = (served.body.choices as Json[] | undefined)?.[0];
    const content = (choice?.message as Json | undefined)?.content;
    text = typeof content === 'string' ? content : '';
    finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null;
    usage = usageOf(served.body.usage);
  } else {
    for (const chunk of served.chunks) {
      for (const choice of (chunk.choices as Json[] | undefined) ?? []) {
        if (choice.index !== 0) continue;
        const content = (choice.delta as Json | undefined)?.content;
        if (typeof content === 'string') text += content;
        if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
      }
      usage = usageOf(chunk.usage) ?? usage;
    }
  }
  const winner = [...outcome.attempts].reverse().find((attempt) => attempt.status === 'succeeded');
  return {
    text, finish_reason: finishReason, usage: usage ?? winner?.usage ?? null,
    ttft_ms: outcome.timing.ttft_ms, latency_ms: outcome.timing.total_ms,
    provider: winner?.provider ?? null, model: winner?.served_model ?? winner?.model ?? null,
  };
}

/** When a row kept today expires. */
export function retentionExpiry(now: number, days: number): number {
  return now + days * 86_400_000;
}

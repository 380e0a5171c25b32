/**
 * Lenient zod schemas of what OpenAI-compatible providers send back. Lenient on purpose: providers
 * add fields (xAI `cost_in_usd_ticks`, OpenRouter `provider`) and leave out optional ones, and a
 * gateway must not fail an answer over a field it does not read. Only what we read is declared.
 */
import { z } from 'zod';

const count = z.number().nullish();

export const openAICompatibleUsageSchema = z.object({
  prompt_tokens: count,
  completion_tokens: count,
  total_tokens: count,
  prompt_tokens_details: z.object({ cached_tokens: count, cache_write_tokens: count, audio_tokens: count }).nullish(),
  completion_tokens_details: z.object({
    reasoning_tokens: count, audio_tokens: count, accepted_prediction_tokens: count, rejected_prediction_tokens: count,
  }).nullish(),
});
export type OpenAICompatibleUsage = z.infer<typeof openAICompatibleUsageSchema>;

const toolCallSchema = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});

export const openAICompatibleResponseSchema = z.object({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  choices: z.array(z.object({
    index: z.number().nullish(),
    message: z.object({
      content: z.string().nullish(),
      refusal: z.string().nullish(),
      reasoning_content: z.string().nullish(),
      /** OpenRouter's name for the reasoning text. */
      reasoning: z.string().nullish(),
      tool_calls: z.array(toolCallSchema).nullish(),
    }),
    finish_reason: z.string().nullish(),
  })),
  usage: openAICompatibleUsageSchema.nullish(),
  service_tier: z.string().nullish(),
  system_fingerprint: z.string().nullish(),
});
export type OpenAICompatibleResponse = z.infer<typeof openAICompatibleResponseSchema>;

export const openAICompatibleChunkSchema = z.object({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  choices: z.array(z.object({
    index: z.number().nullish(),
    delta: z.object({
      content: z.string().nullish(),
      refusal: z.string().nullish(),
      reasoning_content: z.string().nullish(),
      reasoning: z.string().nullish(),
      tool_calls: z.array(toolCallSchema.extend({ index: z.number().nullish() })).nullish(),
    }).nullish(),
    finish_reason: z.string().nullish(),
  })).nullish(),
  usage: openAICompatibleUsageSchema.nullish(),
  service_tier: z.string().nullish(),
  system_fingerprint: z.string().nullish(),
});
export type OpenAICompatibleChunk = z.infer<typeof openAICompatibleChunkSchema>;

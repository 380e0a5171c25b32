/**
 * Validation of the chat-completions body at the edge: strict where OpenAI itself is strict (types,
 * roles, ranges), passthrough for fields OpenAI clients send that Zumik does not model, so a 400 names
 * the bad field the way OpenAI does and any OpenAI SDK's requests pass.
 */
import { z } from 'zod';
import { MODEL_MAX_LENGTH } from './limits';

const text = z.string();
const contentPart = z.looseObject({ type: z.string({ error: 'each content part needs a type' }) }).superRefine((part, context) => {
  if (part.type === 'text' && typeof part.text !== 'string') context.addIssue({ code: 'custom', path: ['text'], message: 'a text part needs text' });
  if (part.type === 'image_url') {
    const image = part.image_url as { url?: unknown } | undefined;
    if (!image || typeof image.url !== 'string') context.addIssue({ code: 'custom', path: ['image_url', 'url'], message: 'an image_url part needs image_url.url' });
  }
});
const content = z.union([text, z.array(contentPart).min(1)], { error: 'content must be a string or an array of content parts' });
const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('developer'), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('user'), content, name: z.string().optional() }),
  z.looseObject({
    role: z.literal('assistant'), content: content.nullish(), refusal: z.string().nullish(), tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
  }),
  z.looseObject({ role: z.literal('tool'), content, tool_call_id: z.string({ error: 'a tool message needs tool_call_id' }) }),
], { error: (issue) => (issue.code === 'invalid_union' ? "role must be one of 'system', 'developer', 'user', 'assistant', 'tool'" : undefined) });

const tool = z.looseObject({
  type: z.literal('function', { error: "tools[].type must be 'function'" }),
  function: z.looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'function names are 1-64 characters of a-z, A-Z, 0-9, _ and -'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({ type: z.literal('json_schema'), json_schema: z.looseObject({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional() }) }),
], { error: "response_format.type must be 'text', 'json_object' or 'json_schema'" });

const nonNegativeInteger = z.number().int().min(0);

export const chatRequestSchema = z.looseObject({
  model: z.string({ error: (issue) => (issue.input === undefined ? 'you must provide a model parameter' : 'model must be a string') })
    .min(1, 'model must not be empty').max(MODEL_MAX_LENGTH, `model must be at most ${MODEL_MAX_LENGTH} characters`)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f\ufffd]*$/, 'model must not contain control characters or invalid text'),
  messages: z.array(message, { error: (issue) => (issue.input === undefined ? 'messages is required' : 'messages must be an array') })
    .min(1, 'messages must contain at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: nonNegativeInteger.nullish(),
  max_completion_tokens: nonNegativeInteger.nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)], { error: 'stop must be a string or an array of up to 4 strings' }).nullish(),
  tools: z.array(tool).nullish(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })], { error: "tool_choice must be 'none', 'auto', 'required' or an object" }).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority', 'fast'], { error: "service_tier must be one of 'auto', 'default', 'flex', 'scale', 'priority', 'fast'" }).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  /** Speculative decoding (OpenAI, Fireworks): the predicted output, passed through; its usage fields come back in `usage`. */
  prediction: z.strictObject({
    type: z.literal('content', { error: "prediction.type must be 'content'" }),
    content: z.union([z.string(), z.array(z.strictObject({ type: z.literal('text'), text: z.string() }))],
      { error: 'prediction.content must be a string or an array of text parts' }),
  }, { error: 'prediction must be an object with type and content' }).nullish(),
  /** Zumik /v2 only: return at once and poll GET /v2/requests/{id}. */
  background: z.boolean().optional(),
});

export type ValidatedChatRequest = z.infer<typeof chatRequestSchema>;

/** Drop explicit nulls (OpenAI treats them as absent), so adapters see only what was set. */
export function withoutNulls<T extends Record<string, unknown>>(body: T): T {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null)) as T;
}

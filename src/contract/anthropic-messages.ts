/**
 * Anthropic's Messages API as a front door: the request body (`POST /v1/messages`), validated at the
 * edge (strict on the fields Anthropic itself requires, lenient on the rest), and Anthropic's error
 * envelope. The translation to and from Zumik's chat vocabulary lives beside it
 * (anthropic-messages-to-chat.ts, anthropic-messages-renderers.ts).
 */
import { z } from 'zod';
import { MODEL_MAX_LENGTH } from './limits';

const cacheControl = z.looseObject({ type: z.literal('ephemeral', { error: "cache_control.type must be 'ephemeral'" }), ttl: z.enum(['5m', '1h']).optional() });
const textBlock = z.looseObject({ type: z.literal('text'), text: z.string({ error: 'a text block needs text' }), cache_control: cacheControl.nullish() });

export const anthropicMessagesRequestSchema = z.looseObject({
  model: z.string({ error: 'model: Field required' }).min(1, 'model: Field required').max(MODEL_MAX_LENGTH),
  max_tokens: z.number({ error: 'max_tokens: Field required' }).int('max_tokens must be an integer').min(1, 'max_tokens must be at least 1'),
  messages: z.array(z.looseObject({
    role: z.enum(['user', 'assistant'], { error: "role must be 'user' or 'assistant'" }),
    content: z.union([z.string(), z.array(z.looseObject({ type: z.string({ error: 'each content block needs a type' }) }))],
      { error: 'content must be a string or an array of content blocks' }),
  }), { error: 'messages: Field required' }).min(1, 'messages: at least one message is required'),
  system: z.union([z.string(), z.array(textBlock)], { error: 'system must be a string or an array of text blocks' }).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  tools: z.array(z.looseObject({ name: z.string({ error: 'a tool needs a name' }) })).optional(),
  tool_choice: z.looseObject({ type: z.enum(['auto', 'any', 'tool', 'none'], { error: "tool_choice.type must be 'auto', 'any', 'tool' or 'none'" }) }).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  thinking: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1024, 'thinking.budget_tokens must be at least 1024') }),
    z.looseObject({ type: z.literal('disabled') }),
    z.looseObject({ type: z.literal('adaptive') }),
  ], { error: "thinking.type must be 'enabled', 'disabled' or 'adaptive'" }).optional(),
  service_tier: z.enum(['auto', 'standard_only'], { error: "service_tier must be 'auto' or 'standard_only'" }).optional(),
});

export type AnthropicMessagesRequestBody = z.infer<typeof anthropicMessagesRequestSchema>;

/** `POST /v1/messages/count_tokens`: the Messages body without `max_tokens` (Anthropic's MessageCountTokensParams). */
export const anthropicCountTokensRequestSchema = anthropicMessagesRequestSchema.extend({
  max_tokens: z.number().int().min(1).optional(),
});

/** Anthropic's error `type` for an HTTP status, as its API and SDKs use them. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400: case 413: case 422: return status === 413 ? 'request_too_large' : 'invalid_request_error';
    case 401: return 'authentication_error';
    case 402: return 'billing_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 429: return 'rate_limit_error';
    case 504: return 'timeout_error';
    case 529: return 'overloaded_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export interface AnthropicErrorEnvelope {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}

export function anthropicErrorEnvelope(status: number, message: string, requestId?: string): AnthropicErrorEnvelope {
  return { type: 'error', error: { type: anthropicErrorType(status), message }, ...(requestId ? { request_id: requestId } : {}) };
}

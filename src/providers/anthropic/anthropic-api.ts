/**
 * Anthropic Messages API wire shapes (PROVIDERS.md §2): the request we build, typed strictly because
 * we define it, and lenient zod schemas for what Anthropic sends back, because new fields and block
 * types appear without notice and must not break parsing.
 */
import { z } from 'zod';
import type { ChatThinking } from '../../contract/chat';

/** The only API version Zumik speaks to Anthropic (PROVIDERS.md §0.1). */
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicCacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface AnthropicTextBlock { type: 'text'; text: string; cache_control?: AnthropicCacheControl }

export type AnthropicImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string };

export interface AnthropicImageBlock { type: 'image'; source: AnthropicImageSource; cache_control?: AnthropicCacheControl }

export interface AnthropicDocumentBlock {
  type: 'document';
  source: { type: 'base64'; media_type: 'application/pdf'; data: string } | { type: 'url'; url: string };
  title?: string;
  cache_control?: AnthropicCacheControl;
}

export interface AnthropicToolUseBlock { type: 'tool_use'; id: string; name: string; input: Record<string, unknown>; cache_control?: AnthropicCacheControl }

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string | Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock>;
  is_error?: boolean;
  cache_control?: AnthropicCacheControl;
}

/** Earlier thinking, given back verbatim (Anthropic verifies the signature; redacted thinking stays encrypted). Never cache-marked. */
export type AnthropicThinkingBlock =
  | { type: 'thinking'; thinking: string; signature: string; cache_control?: never }
  | { type: 'redacted_thinking'; data: string; cache_control?: never };

export type AnthropicContentBlock =
  | AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock | AnthropicToolUseBlock | AnthropicToolResultBlock | AnthropicThinkingBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  strict?: boolean;
  cache_control?: AnthropicCacheControl;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'none' }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

/** The `POST /v1/messages` body as this adapter sends it. */
export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: AnthropicTextBlock[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  output_config?: { effort?: 'low' | 'medium' | 'high' | 'xhigh' | 'max'; format?: { type: 'json_schema'; schema: Record<string, unknown> } };
  service_tier?: 'auto' | 'standard_only';
  metadata?: { user_id: string };
  /** Extended thinking, as the client's Anthropic Messages request asked for it. */
  thinking?: ChatThinking;
  stream?: boolean;
}

const count = z.number().nullish();

/** `usage` of a Message, of `message_start.message` and (cumulative, partial) of `message_delta`. */
export const anthropicUsageSchema = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  cache_creation_input_tokens: count,
  cache_read_input_tokens: count,
  cache_creation: z.looseObject({ ephemeral_5m_input_tokens: count, ephemeral_1h_input_tokens: count }).nullish(),
  output_tokens_details: z.looseObject({ thinking_tokens: count }).nullish(),
  service_tier: z.string().nullish(),
});
export type AnthropicUsage = z.infer<typeof anthropicUsageSchema>;

/** Refusal details sent with `stop_reason: "refusal"` (PROVIDERS.md §2.2). */
export const anthropicStopDetailsSchema = z.looseObject({
  type: z.string().nullish(),
  category: z.string().nullish(),
  explanation: z.string().nullish(),
});
export type AnthropicStopDetails = z.infer<typeof anthropicStopDetailsSchema>;

/** Any response content block; only the fields of the types we map are read (text, thinking, redacted_thinking, tool_use). */
export const anthropicResponseBlockSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  thinking: z.string().optional(),
  signature: z.string().optional(),
  data: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
});

/** A non-streamed Message (PROVIDERS.md §2.2). */
export const anthropicMessageSchema = z.looseObject({
  id: z.string(),
  model: z.string(),
  content: z.array(anthropicResponseBlockSchema),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  stop_details: anthropicStopDetailsSchema.nullish(),
  usage: anthropicUsageSchema,
});
export type AnthropicResponseMessage = z.infer<typeof anthropicMessageSchema>;

/**
 * What the Anthropic emulator answers: a configurable reply rendered as a Message (JSON) or as the
 * named-event SSE sequence of the recorded sdk-*.sse fixtures (message_start, content blocks with a
 * ping after the first start, message_delta with cumulative usage, message_stop).
 */
import { createHash } from 'node:crypto';
import type { SseEvent } from './emulator-kit';
import type { EmulatedInputUsage } from './anthropic-emulator-cache';

/** One scripted answer. Without text, thinking, tool use or refusal, a default greeting is sent. */
export interface AnthropicReply {
  text?: string;
  thinking?: string;
  /** A `redacted_thinking` block (its encrypted `data`) before any thinking. */
  redactedThinking?: string;
  toolUses?: Array<{ id?: string; name: string; input: Record<string, unknown> }>;
  /** Answer with `stop_reason: "refusal"` and these `stop_details`. */
  refusal?: { category?: string | null; explanation?: string | null };
  /** Overrides the stop reason derived from the content (`max_tokens`, `stop_sequence`, `pause_turn`, …). */
  stopReason?: string;
  /** The model named in the answer; the request's model when omitted. */
  model?: string;
  outputTokens?: number;
  thinkingTokens?: number;
  serviceTier?: 'standard' | 'priority' | 'batch';
  /** Stream: characters per text, thinking or JSON delta (default 8). */
  chunkSize?: number;
  /** Stream: after this many events send `event: error` of this type and end without message_stop. */
  streamError?: { afterEvents: number; type: string; message?: string };
  /** Stream: replay these recorded events verbatim instead of rendering the reply. */
  recordedEvents?: SseEvent[];
}

export const DEFAULT_REPLY_TEXT = 'Hello from the Anthropic emulator.';

/** What the emulator thinks when a request enables thinking and the reply scripts none. */
export const DEFAULT_THINKING_TEXT = 'The user asked a question; a short, direct answer will do.';

/**
 * The emulator's thinking signature: a digest of the thinking text, so a block given back with either
 * the text or the signature changed fails verification, as on Anthropic (which signs cryptographically).
 */
export function signThinking(thinking: string): string {
  return createHash('sha256').update(`zumik-emulator-thinking:${thinking}`).digest('base64');
}

/** Redacted thinking as the emulator encrypts it (opaque to clients; checked when given back). */
export function redactedThinkingData(secret: string): string {
  return `EmuRedacted${Buffer.from(secret).toString('base64')}`;
}

/** The reply a request gets: with thinking enabled (`enabled` or `adaptive`), a reply that scripts none thinks by default. */
export function withRequestedThinking(reply: AnthropicReply, body: Record<string, unknown>): AnthropicReply {
  const thinking = body.thinking as { type?: string } | undefined;
  const enabled = thinking?.type === 'enabled' || thinking?.type === 'adaptive';
  if (!enabled || reply.thinking !== undefined || reply.redactedThinking !== undefined || reply.recordedEvents) return reply;
  const text = reply.text ?? (reply.toolUses?.length || reply.refusal ? undefined : DEFAULT_REPLY_TEXT);
  return { ...reply, thinking: DEFAULT_THINKING_TEXT, ...(text !== undefined ? { text } : {}) };
}

let sequence = 0;

/** A fresh Anthropic-looking id (`msg_…`, `toolu_…`, `req_…`). */
export function anthropicId(prefix: string): string {
  sequence += 1;
  return `${prefix}_emu${Date.now().toString(36)}${sequence.toString(36).padStart(6, '0')}`;
}

interface RenderedBlock { type: string; [key: string]: unknown }

function contentBlocks(reply: AnthropicReply): RenderedBlock[] {
  const blocks: RenderedBlock[] = [];
  if (reply.redactedThinking) blocks.push({ type: 'redacted_thinking', data: redactedThinkingData(reply.redactedThinking) });
  if (reply.thinking) blocks.push({ type: 'thinking', thinking: reply.thinking, signature: signThinking(reply.thinking) });
  const text = reply.text ?? (reply.toolUses?.length || reply.refusal || reply.thinking || reply.redactedThinking ? undefined : DEFAULT_REPLY_TEXT);
  if (text) blocks.push({ type: 'text', text, citations: null });
  for (const tool of reply.toolUses ?? []) blocks.push({ type: 'tool_use', id: tool.id ?? anthropicId('toolu'), name: tool.name, input: tool.input });
  return blocks;
}

function stopReason(reply: AnthropicReply): string {
  return reply.stopReason ?? (reply.refusal ? 'refusal' : reply.toolUses?.length ? 'tool_use' : 'end_turn');
}

function stopDetails(reply: AnthropicReply): Record<string, unknown> | null {
  return reply.refusal ? { type: 'refusal', category: reply.refusal.category ?? null, explanation: reply.refusal.explanation ?? null } : null;
}

function outputUsage(reply: AnthropicReply, blocks: RenderedBlock[]): Record<string, unknown> {
  const estimated = Math.max(1, Math.ceil(JSON.stringify(blocks).length / 4));
  const thinkingTokens = reply.thinkingTokens ?? (reply.thinking ? Math.ceil(reply.thinking.length / 4) : undefined);
  return {
    output_tokens: reply.outputTokens ?? estimated,
    ...(thinkingTokens !== undefined ? { output_tokens_details: { thinking_tokens: thinkingTokens } } : {}),
  };
}

/** The non-streamed Message for a reply. */
export function renderMessage(reply: AnthropicReply, model: string, input: EmulatedInputUsage): Record<string, unknown> {
  const blocks = contentBlocks(reply);
  return {
    id: anthropicId('msg'), type: 'message', role: 'assistant', model: reply.model ?? model, content: blocks,
    stop_reason: stopReason(reply), stop_sequence: null, stop_details: stopDetails(reply), container: null,
    usage: { ...input, ...outputUsage(reply, blocks), service_tier: reply.serviceTier ?? 'standard', inference_geo: 'global' },
  };
}

/** The SSE events for a reply; the last one (`message_stop`) is the terminal event. */
export function renderStreamEvents(reply: AnthropicReply, model: string, input: EmulatedInputUsage): SseEvent[] {
  if (reply.recordedEvents) return reply.recordedEvents;
  const blocks = contentBlocks(reply);
  const size = reply.chunkSize ?? 8;
  const events: SseEvent[] = [];
  const push = (payload: Record<string, unknown>): void => { events.push({ event: String(payload.type), data: JSON.stringify(payload) }); };
  push({ type: 'message_start', message: {
    id: anthropicId('msg'), type: 'message', role: 'assistant', model: reply.model ?? model, content: [],
    stop_reason: null, stop_sequence: null, stop_details: null,
    usage: { ...input, output_tokens: 1, service_tier: reply.serviceTier ?? 'standard', inference_geo: 'global' },
  } });
  if (blocks.length === 0) events.push({ event: 'ping', data: '{"type": "ping"}' });
  blocks.forEach((block, index) => {
    if (block.type === 'redacted_thinking') {
      push({ type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: block.data } });
    } else if (block.type === 'thinking') {
      push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      for (const piece of chunks(String(block.thinking), size)) push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } });
      push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } });
    } else if (block.type === 'text') {
      push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of chunks(String(block.text), size)) push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    } else {
      push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (const piece of chunks(JSON.stringify(block.input), size)) push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    if (index === 0) events.splice(2, 0, { event: 'ping', data: '{"type": "ping"}' });
    push({ type: 'content_block_stop', index });
  });
  push({ type: 'message_delta', delta: { stop_reason: stopReason(reply), stop_sequence: null, stop_details: stopDetails(reply) },
    usage: { input_tokens: input.input_tokens, cache_creation_input_tokens: input.cache_creation_input_tokens,
      cache_read_input_tokens: input.cache_read_input_tokens, ...outputUsage(reply, blocks) } });
  push({ type: 'message_stop' });
  if (!reply.streamError) return events;
  const error = { type: 'error', error: { type: reply.streamError.type, message: reply.streamError.message ?? 'Overloaded' } };
  return [...events.slice(0, reply.streamError.afterEvents), { event: 'error', data: JSON.stringify(error) }];
}

function chunks(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

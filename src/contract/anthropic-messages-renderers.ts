/**
 * Zumik's answers (OpenAI chat completions and chunks, whichever provider served them) → Anthropic's
 * Messages wire format: a Message object, and the event sequence of a stream (`message_start`,
 * `ping`, `content_block_start` / `_delta` / `_stop` per block, `message_delta` with the stop reason
 * and usage, `message_stop`; `error` events). Thinking from an Anthropic target comes back block by
 * block with its signature (`signature_delta` just before the block stops) and redacted thinking as is,
 * so the client can give them back verbatim; other targets' reasoning (`reasoning_content`) has no
 * signature to give, and is sent with an empty one.
 */
import { anthropicErrorEnvelope } from './anthropic-messages';

type Json = Record<string, unknown>;

export interface AnthropicUsageOut {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** OpenAI usage (prompt includes cached and cache-written tokens) → Anthropic's (input excludes both). */
export function toAnthropicUsage(usage: Json | null | undefined): AnthropicUsageOut {
  const prompt = Number(usage?.prompt_tokens ?? 0);
  const details = (usage?.prompt_tokens_details ?? {}) as { cached_tokens?: number; cache_write_tokens?: number };
  const cached = details.cached_tokens ?? 0;
  const written = details.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, prompt - cached - written), output_tokens: Number(usage?.completion_tokens ?? 0),
    cache_creation_input_tokens: written, cache_read_input_tokens: cached,
  };
}

/** OpenAI finish reasons → Anthropic stop reasons. */
export function toAnthropicStopReason(finishReason: unknown): string {
  switch (finishReason) {
    case 'length': return 'max_tokens';
    case 'tool_calls': case 'function_call': return 'tool_use';
    case 'content_filter': return 'refusal';
    default: return 'end_turn';
  }
}

function parseInput(text: unknown): Json {
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value as Json : { value };
  } catch {
    return {};
  }
}

/** A chat completion → an Anthropic Message (`id` is Zumik's request id, `model` the one that served it). */
export function toAnthropicMessage(completion: Json): Json {
  const choice = ((completion.choices as Json[] | undefined) ?? [])[0] ?? {};
  const message = (choice.message ?? {}) as { content?: string | null; reasoning_content?: string; refusal?: string | null;
    tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; thinking_blocks?: Json[] };
  const content: Json[] = [];
  if (message.thinking_blocks) content.push(...message.thinking_blocks.map((block) => ({ ...block })));
  else if (message.reasoning_content) content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
  const text = message.content ?? message.refusal ?? '';
  if (text.length > 0) content.push({ type: 'text', text });
  for (const call of message.tool_calls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseInput(call.function.arguments) });
  return {
    id: completion.id, type: 'message', role: 'assistant', model: completion.model, content,
    stop_reason: toAnthropicStopReason(choice.finish_reason), stop_sequence: null,
    usage: toAnthropicUsage(completion.usage as Json | undefined),
  };
}

/** One SSE event in Anthropic's framing. */
export function anthropicEvent(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export function anthropicErrorEvent(status: number, message: string): string {
  const envelope = anthropicErrorEnvelope(status, message);
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: envelope.error })}\n\n`;
}

type OpenBlock = { kind: 'thinking' } | { kind: 'text' } | { kind: 'tool'; toolIndex: number };

type ChunkDelta = { content?: string | null; reasoning_content?: string; refusal?: string | null; reasoning_signature?: string; redacted_thinking?: string;
  tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> };

/**
 * Turns the OpenAI chunks of one answer (choice 0) into Anthropic events, in order. Stateful: one per
 * stream. `finish` closes the open block and sends `message_delta` and `message_stop`.
 */
export class AnthropicStreamTranslator {
  private started = false;
  private open?: OpenBlock;
  private index = -1;
  private stopReason: string | null = null;
  private usage: Json | undefined;

  constructor(private readonly id: string) {}

  /** The events for one chunk ('' when it carries nothing an Anthropic client sees). */
  chunk(chunk: Json): string {
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage as Json;
    const choice = ((chunk.choices as Json[] | undefined) ?? []).find((candidate) => candidate.index === 0);
    if (!choice) return out;
    const delta = (choice.delta ?? {}) as ChunkDelta;
    if (delta.redacted_thinking !== undefined) {
      out += this.close();
      this.index += 1;
      out += anthropicEvent('content_block_start', { index: this.index, content_block: { type: 'redacted_thinking', data: delta.redacted_thinking } });
      out += anthropicEvent('content_block_stop', { index: this.index });
    }
    if (delta.reasoning_content) {
      out += this.ensure({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
      out += anthropicEvent('content_block_delta', { index: this.index, delta: { type: 'thinking_delta', thinking: delta.reasoning_content } });
    }
    if (delta.reasoning_signature !== undefined) {
      // Anthropic sends the signature just before the thinking block stops: the next thinking is a new block.
      out += this.ensure({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
      out += anthropicEvent('content_block_delta', { index: this.index, delta: { type: 'signature_delta', signature: delta.reasoning_signature } });
      out += this.close();
    }
    const text = delta.content || delta.refusal;
    if (text) {
      out += this.ensure({ kind: 'text' }, { type: 'text', text: '' });
      out += anthropicEvent('content_block_delta', { index: this.index, delta: { type: 'text_delta', text } });
    }
    for (const call of delta.tool_calls ?? []) {
      const same = this.open?.kind === 'tool' && this.open.toolIndex === call.index;
      if (!same) {
        out += this.close();
        this.open = { kind: 'tool', toolIndex: call.index };
        this.index += 1;
        out += anthropicEvent('content_block_start', { index: this.index, content_block: { type: 'tool_use', id: call.id ?? `toolu_${this.index}`, name: call.function?.name ?? '', input: {} } });
      }
      if (call.function?.arguments) {
        out += anthropicEvent('content_block_delta', { index: this.index, delta: { type: 'input_json_delta', partial_json: call.function.arguments } });
      }
    }
    if (choice.finish_reason) this.stopReason = toAnthropicStopReason(choice.finish_reason);
    return out;
  }

  /** Anthropic's `error` event: the stream failed after it started; no `message_stop` follows. */
  error(status: number, message: string): string {
    return anthropicErrorEvent(status, message);
  }

  /** The end of a complete answer. */
  finish(): string {
    return `${this.start({})}${this.close()}${anthropicEvent('message_delta', {
      delta: { stop_reason: this.stopReason ?? 'end_turn', stop_sequence: null }, usage: toAnthropicUsage(this.usage),
    })}${anthropicEvent('message_stop', {})}`;
  }

  private start(chunk: Json): string {
    if (this.started) return '';
    this.started = true;
    const message = {
      id: this.id, type: 'message', role: 'assistant', model: chunk.model ?? '', content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return anthropicEvent('message_start', { message }) + anthropicEvent('ping', {});
  }

  private ensure(block: Exclude<OpenBlock, { kind: 'tool' }>, contentBlock: Json): string {
    if (this.open?.kind === block.kind) return '';
    const closed = this.close();
    this.open = block;
    this.index += 1;
    return closed + anthropicEvent('content_block_start', { index: this.index, content_block: contentBlock });
  }

  private close(): string {
    if (!this.open) return '';
    this.open = undefined;
    return anthropicEvent('content_block_stop', { index: this.index });
  }
}

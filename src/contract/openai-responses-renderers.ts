/**
 * Zumik's answers (OpenAI chat completions and chunks, whichever provider served them) → the
 * Responses API wire format: a `response` object, and the event sequence of a stream
 * (`response.created`, `response.in_progress`, per output item `response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta` … `.done`, function-call argument
 * deltas, `response.output_item.done`, then `response.completed` or `response.incomplete`; `error`
 * events). Item ids derive from the response id, so they are the same whichever attempt served it.
 */
import type { ResponsesRequestBody } from './openai-responses';

type Json = Record<string, unknown>;

/** What a `response` object echoes of its request (OpenAI returns the settings it ran with). */
export type ResponseEcho = Pick<ResponsesRequestBody, 'instructions' | 'tools' | 'tool_choice' | 'parallel_tool_calls' | 'max_output_tokens'
  | 'temperature' | 'top_p' | 'text' | 'reasoning' | 'metadata' | 'user' | 'service_tier'>;

const RESPONSE_TIERS = new Set(['auto', 'default', 'flex', 'scale', 'priority']);

/** OpenAI chat usage → Responses usage. */
export function toResponsesUsage(usage: Json | null | undefined): Json {
  const prompt = (usage?.prompt_tokens_details ?? {}) as { cached_tokens?: number; cache_write_tokens?: number };
  const completion = (usage?.completion_tokens_details ?? {}) as { reasoning_tokens?: number };
  const input = Number(usage?.prompt_tokens ?? 0);
  const output = Number(usage?.completion_tokens ?? 0);
  return {
    input_tokens: input, input_tokens_details: { cached_tokens: prompt.cached_tokens ?? 0, cache_write_tokens: prompt.cache_write_tokens ?? 0 },
    output_tokens: output, output_tokens_details: { reasoning_tokens: completion.reasoning_tokens ?? 0 }, total_tokens: Number(usage?.total_tokens ?? input + output),
  };
}

/** The response's status and `incomplete_details` for a chat finish reason. */
function ending(finishReason: unknown): { status: 'completed' | 'incomplete'; incomplete_details: { reason: string } | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

const itemSuffix = (id: string) => id.replace(/^resp_/, '');
const messageItemId = (id: string) => `msg_${itemSuffix(id)}`;
const functionItemId = (id: string, index: number) => `fc_${itemSuffix(id)}_${index}`;
const textPart = (text: string): Json => ({ type: 'output_text', text, annotations: [], logprobs: [] });

/** The `response` object around `output`, with what it echoes of the request. */
function responseObject(id: string, echo: ResponseEcho, fields: { createdAt: number; model: string; status: string; output: Json[];
  usage: Json | null; incompleteDetails?: Json | null; serviceTier?: unknown; error?: Json | null }): Json {
  return {
    id, object: 'response', created_at: fields.createdAt, status: fields.status, background: false,
    completed_at: fields.status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: fields.error ?? null, incomplete_details: fields.incompleteDetails ?? null,
    instructions: echo.instructions ?? null, max_output_tokens: echo.max_output_tokens ?? null, max_tool_calls: null,
    model: fields.model, output: fields.output, parallel_tool_calls: echo.parallel_tool_calls ?? true, previous_response_id: null,
    reasoning: { effort: echo.reasoning?.effort ?? null, summary: null },
    ...(typeof fields.serviceTier === 'string' && RESPONSE_TIERS.has(fields.serviceTier) ? { service_tier: fields.serviceTier } : {}),
    store: false, temperature: echo.temperature ?? 1, text: { format: echo.text?.format ?? { type: 'text' }, verbosity: echo.text?.verbosity ?? 'medium' },
    tool_choice: echo.tool_choice ?? 'auto', tools: (echo.tools ?? []).map(echoTool), top_logprobs: 0, top_p: echo.top_p ?? 1, truncation: 'disabled',
    ...(fields.usage ? { usage: fields.usage } : {}), ...(echo.user !== undefined ? { user: echo.user } : {}), metadata: echo.metadata ?? {},
  };
}

/** A function tool as a response echoes it (OpenAI fills `strict`, `parameters` and `description`). */
function echoTool(tool: Json): Json {
  return { ...tool, description: tool.description ?? null, parameters: tool.parameters ?? null, strict: tool.strict ?? null };
}

/** A chat completion → a Responses `response` (`id` is Zumik's request id, `model` the one that served it). */
export function toResponsesResponse(completion: Json, echo: ResponseEcho): Json {
  const id = String(completion.id);
  const choice = ((completion.choices as Json[] | undefined) ?? [])[0] ?? {};
  const message = (choice.message ?? {}) as { content?: string | null; refusal?: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }> };
  const { status, incomplete_details: incompleteDetails } = ending(choice.finish_reason);
  const output: Json[] = [];
  const parts: Json[] = [];
  if (message.content) parts.push(textPart(message.content));
  if (message.refusal) parts.push({ type: 'refusal', refusal: message.refusal });
  if (parts.length > 0) output.push({ id: messageItemId(id), type: 'message', status: status === 'completed' ? 'completed' : 'incomplete', role: 'assistant', content: parts });
  (message.tool_calls ?? []).forEach((call, index) => {
    output.push({ id: functionItemId(id, index), type: 'function_call', status: 'completed', call_id: call.id, name: call.function.name, arguments: call.function.arguments });
  });
  return responseObject(id, echo, { createdAt: Number(completion.created ?? Math.floor(Date.now() / 1000)), model: String(completion.model ?? ''), status, output,
    usage: toResponsesUsage(completion.usage as Json | undefined), incompleteDetails, serviceTier: completion.service_tier });
}

type OpenItem =
  | { kind: 'message'; index: number; item: Json; part?: { kind: 'text' | 'refusal'; index: number; text: string } }
  | { kind: 'function'; index: number; item: Json; toolIndex: number };

/**
 * Turns the OpenAI chunks of one answer (choice 0) into Responses events, in order, each numbered
 * (`sequence_number`). Stateful: one per stream. `finish` closes the open item and sends
 * `response.completed` (or `response.incomplete`) with the whole response.
 */
export class ResponsesStreamTranslator {
  private sequence = 0;
  private started = false;
  private createdAt = Math.floor(Date.now() / 1000);
  private model = '';
  private serviceTier: unknown;
  private readonly output: Json[] = [];
  private open?: OpenItem;
  private finishReason: unknown;
  private usage: Json | undefined;
  private messageCount = 0;

  constructor(private readonly id: string, private readonly echo: ResponseEcho) {}

  /** The events for one chunk ('' when it carries nothing a Responses client sees). */
  chunk(chunk: Json): string {
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage as Json;
    if (chunk.service_tier) this.serviceTier = chunk.service_tier;
    const choice = ((chunk.choices as Json[] | undefined) ?? []).find((candidate) => candidate.index === 0);
    if (!choice) return out;
    const delta = (choice.delta ?? {}) as { content?: string | null; refusal?: string | null;
      tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> };
    if (delta.content) out += this.text('text', delta.content);
    if (delta.refusal) out += this.text('refusal', delta.refusal);
    for (const call of delta.tool_calls ?? []) {
      if (!(this.open?.kind === 'function' && this.open.toolIndex === call.index)) {
        out += this.close();
        const item = { id: functionItemId(this.id, call.index), type: 'function_call', status: 'in_progress', call_id: call.id ?? '', name: call.function?.name ?? '', arguments: '' };
        this.open = { kind: 'function', index: this.output.length, item, toolIndex: call.index };
        this.output.push(item);
        out += this.event('response.output_item.added', { output_index: this.open.index, item: { ...item } });
      }
      const open = this.open as Extract<OpenItem, { kind: 'function' }>;
      if (call.function?.arguments) {
        open.item.arguments = `${String(open.item.arguments)}${call.function.arguments}`;
        out += this.event('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.index, delta: call.function.arguments });
      }
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  /** The end of a complete answer. */
  finish(): string {
    const out = this.start({}) + this.close();
    const { status, incomplete_details: incompleteDetails } = ending(this.finishReason);
    const response = responseObject(this.id, this.echo, { createdAt: this.createdAt, model: this.model, status, output: this.output,
      usage: toResponsesUsage(this.usage), incompleteDetails, serviceTier: this.serviceTier });
    return out + this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
  }

  /** An `error` event (code `server_error`, as OpenAI's own): the stream failed after it started; no `response.completed` follows. */
  error(_status: number, message: string): string {
    return this.event('error', { code: 'server_error', message, param: null });
  }

  private start(chunk: Json): string {
    if (this.started) return '';
    this.started = true;
    if (typeof chunk.created === 'number') this.createdAt = chunk.created;
    this.model = typeof chunk.model === 'string' ? chunk.model : '';
    const response = responseObject(this.id, this.echo, { createdAt: this.createdAt, model: this.model, status: 'in_progress', output: [], usage: null });
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  /** Text or refusal into the open message (opened, and its content part, as needed). */
  private text(kind: 'text' | 'refusal', text: string): string {
    let out = '';
    if (this.open?.kind !== 'message') {
      out += this.close();
      const item = { id: this.messageCount === 0 ? messageItemId(this.id) : `${messageItemId(this.id)}_${this.messageCount}`, type: 'message', status: 'in_progress', role: 'assistant', content: [] as Json[] };
      this.messageCount += 1;
      this.open = { kind: 'message', index: this.output.length, item };
      this.output.push(item);
      out += this.event('response.output_item.added', { output_index: this.open.index, item: { ...item, content: [] } });
    }
    const open = this.open as Extract<OpenItem, { kind: 'message' }>;
    if (open.part?.kind !== kind) {
      out += this.closePart(open);
      open.part = { kind, index: (open.item.content as Json[]).length, text: '' };
      (open.item.content as Json[]).push(kind === 'text' ? textPart('') : { type: 'refusal', refusal: '' });
      out += this.event('response.content_part.added', { item_id: open.item.id, output_index: open.index, content_index: open.part.index,
        part: kind === 'text' ? textPart('') : { type: 'refusal', refusal: '' } });
    }
    const part = open.part!;
    part.text += text;
    out += kind === 'text'
      ? this.event('response.output_text.delta', { item_id: open.item.id, output_index: open.index, content_index: part.index, delta: text, logprobs: [] })
      : this.event('response.refusal.delta', { item_id: open.item.id, output_index: open.index, content_index: part.index, delta: text });
    return out;
  }

  private closePart(open: Extract<OpenItem, { kind: 'message' }>): string {
    const part = open.part;
    if (!part) return '';
    open.part = undefined;
    const full = part.kind === 'text' ? textPart(part.text) : { type: 'refusal', refusal: part.text };
    (open.item.content as Json[])[part.index] = full;
    const where = { item_id: open.item.id, output_index: open.index, content_index: part.index };
    return (part.kind === 'text'
      ? this.event('response.output_text.done', { ...where, text: part.text, logprobs: [] })
      : this.event('response.refusal.done', { ...where, refusal: part.text }))
      + this.event('response.content_part.done', { ...where, part: full });
  }

  private close(): string {
    const open = this.open;
    if (!open) return '';
    this.open = undefined;
    let out = '';
    if (open.kind === 'message') {
      out += this.closePart(open);
      open.item.status = this.finishReason === 'length' || this.finishReason === 'content_filter' ? 'incomplete' : 'completed';
    } else {
      open.item.status = 'completed';
      out += this.event('response.function_call_arguments.done', { item_id: open.item.id, name: open.item.name, output_index: open.index, arguments: open.item.arguments });
    }
    return out + this.event('response.output_item.done', { output_index: open.index, item: { ...open.item } });
  }

  private event(type: string, data: Json): string {
    const payload = { type, ...data, sequence_number: this.sequence };
    this.sequence += 1;
    return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
  }
}

/**
 * Anthropic's named-event SSE stream (PROVIDERS.md §2.3) → provider-neutral StreamParts. The answer is
 * complete at `message_stop`, and also when the body ends (cleanly, cut, or silent past the finish
 * grace) after the `message_delta` that carries the `stop_reason` and the final usage: either yields
 * `finish`, the merged `usage` and `stream-end`. A stream that ends before a stop reason is
 * `stream_truncated`, an event whose data is not JSON is skipped (more than three: `bad_response`), an unparseable one is `bad_response`, and an `error` event after HTTP 200 is
 * classified like an HTTP error body.
 */
import { z } from 'zod';
import { ProviderError } from '../provider-error';
import { isEndOfBody, SKIPPED, SkippedEvents, type AnswerCompletion } from '../sse-reader';
import type { ProviderWarning, StreamPart } from '../../contract/chat';
import { anthropicStopDetailsSchema, anthropicUsageSchema, type AnthropicStopDetails, type AnthropicUsage } from './anthropic-api';
import { createAnthropicStreamError } from './anthropic-error';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason';
import { mapAnthropicServiceTier, mapAnthropicUsage, mergeAnthropicUsage } from './map-anthropic-usage';

const PROVIDER = 'anthropic';

const envelopeSchema = z.looseObject({ type: z.string() });
const messageStartSchema = z.looseObject({
  message: z.looseObject({ id: z.string(), model: z.string(), usage: anthropicUsageSchema.nullish() }),
});
const blockStartSchema = z.looseObject({
  index: z.number(),
  content_block: z.looseObject({ type: z.string(), text: z.string().optional(), thinking: z.string().optional(), data: z.string().optional(),
    id: z.string().optional(), name: z.string().optional() }),
});
const blockDeltaSchema = z.looseObject({
  index: z.number(),
  delta: z.looseObject({ type: z.string(), text: z.string().optional(), thinking: z.string().optional(), signature: z.string().optional(),
    partial_json: z.string().optional() }),
});
const messageDeltaSchema = z.looseObject({
  delta: z.looseObject({ stop_reason: z.string().nullish(), stop_details: anthropicStopDetailsSchema.nullish() }),
  usage: anthropicUsageSchema.nullish(),
});

export interface AnthropicStreamContext {
  warnings: ProviderWarning[];
  providerRequestId?: string;
  /** Removed from provider text quoted in errors. */
  apiKey?: string;
  /** Told after every event whether the answer is complete, so the reader stops waiting for `message_stop` after the grace. */
  completion?: AnswerCompletion;
}

type Block = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; toolCallIndex: number } | { kind: 'other' };

/** Map an SSE event sequence; `events` is usually `readSseEvents(...)`, whose transport failures pass through. */
export async function* mapAnthropicStream(events: AsyncIterable<{ event?: string; data: string }>,
  context: AnthropicStreamContext): AsyncGenerator<StreamPart> {
  const blocks = new Map<number, Block>();
  let started = false;
  let emittedContent = false;
  let toolCalls = 0;
  let model: string | undefined;
  let usage: AnthropicUsage = {};
  let stopReason: string | null | undefined;
  let stopDetails: AnthropicStopDetails | null | undefined;
  const skipped = new SkippedEvents(PROVIDER);
  try {
    for await (const event of events) {
      const payload = skipped.parse(event.data);
      if (payload === SKIPPED) {
        yield { type: 'skipped-event', reason: 'an event whose data is not JSON' };
        continue;
      }
      const type = parse(envelopeSchema, payload).type;
      if (type === 'error' || event.event === 'error') {
        throw createAnthropicStreamError(payload, { ...context, afterFirstToken: emittedContent });
      }
      if (type === 'ping') continue;
      if (type !== 'message_start' && !started) throw badResponse(`'${type}' arrived before message_start`);
      switch (type) {
        case 'message_start': {
          const { message } = parse(messageStartSchema, payload);
          started = true;
          model = message.model;
          usage = message.usage ?? {};
          yield { type: 'stream-start', providerResponseId: message.id, model: message.model, created: Math.floor(Date.now() / 1000),
            ...(context.providerRequestId ? { providerRequestId: context.providerRequestId } : {}), warnings: context.warnings };
          break;
        }
        case 'content_block_start': {
          const { index, content_block: block } = parse(blockStartSchema, payload);
          if (block.type === 'text') {
            blocks.set(index, { kind: 'text' });
            if (block.text) { emittedContent = true; yield { type: 'text-delta', choiceIndex: 0, text: block.text }; }
          } else if (block.type === 'thinking') {
            blocks.set(index, { kind: 'thinking' });
          } else if (block.type === 'redacted_thinking' && block.data !== undefined) {
            blocks.set(index, { kind: 'other' });
            emittedContent = true;
            yield { type: 'redacted-reasoning', choiceIndex: 0, data: block.data };
          } else if (block.type === 'tool_use' && block.id && block.name) {
            // OpenAI tool-call indexes count tool calls, not Anthropic content blocks.
            const toolCallIndex = toolCalls++;
            blocks.set(index, { kind: 'tool', toolCallIndex });
            emittedContent = true;
            yield { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex, id: block.id, name: block.name, argumentsDelta: '' };
          } else {
            blocks.set(index, { kind: 'other' }); // server tools, fallback markers: not exposed
          }
          break;
        }
        case 'content_block_delta': {
          const { index, delta } = parse(blockDeltaSchema, payload);
          const block = blocks.get(index);
          if (!block) throw badResponse(`a delta for content block ${index}, which was never started`);
          if (delta.type === 'text_delta' && block.kind === 'text' && delta.text) {
            emittedContent = true;
            yield { type: 'text-delta', choiceIndex: 0, text: delta.text };
          } else if (delta.type === 'thinking_delta' && block.kind === 'thinking' && delta.thinking) {
            emittedContent = true;
            yield { type: 'reasoning-delta', choiceIndex: 0, text: delta.thinking };
          } else if (delta.type === 'signature_delta' && block.kind === 'thinking' && delta.signature) {
            yield { type: 'reasoning-signature', choiceIndex: 0, signature: delta.signature };
          } else if (delta.type === 'input_json_delta' && block.kind === 'tool' && delta.partial_json) {
            yield { type: 'tool-call-delta', choiceIndex: 0, toolCallIndex: block.toolCallIndex, argumentsDelta: delta.partial_json };
          }
          break; // citations_delta and empty fragments carry nothing Zumik exposes
        }
        case 'message_delta': {
          const { delta, usage: deltaUsage } = parse(messageDeltaSchema, payload);
          stopReason = delta.stop_reason ?? stopReason;
          stopDetails = delta.stop_details ?? stopDetails;
          if (deltaUsage) usage = mergeAnthropicUsage(usage, deltaUsage);
          break;
        }
        case 'message_stop':
          yield* end();
          return;
        default:
          break; // content_block_stop, and event types added after this adapter was written
      }
      context.completion?.update(complete());
    }
  } catch (error) {
    // Cut or silent after the stop reason: the answer is whole, only message_stop is missing.
    if (!(complete() && isEndOfBody(error))) {
      if (error instanceof ProviderError && emittedContent) error.afterFirstToken = true;
      throw error;
    }
  }
  if (!complete()) {
    throw new ProviderError(`${PROVIDER}: the stream ended before its stop_reason`, {
      kind: 'stream_truncated', provider: PROVIDER, providerRequestId: context.providerRequestId, afterFirstToken: emittedContent,
    });
  }
  yield* end();

  /** `message_delta` carried the stop reason (and the final usage): only `message_stop` can follow. */
  function complete(): boolean {
    return stopReason != null;
  }

  /** The parts that close the answer: the refusal explanation, `finish`, the merged usage, `stream-end`. */
  function* end(): Generator<StreamPart> {
    if (stopReason === 'refusal' && stopDetails?.explanation) {
      yield { type: 'refusal-delta', choiceIndex: 0, text: stopDetails.explanation };
    }
    yield { type: 'finish', choiceIndex: 0, finishReason: mapAnthropicStopReason(stopReason), ...(stopReason ? { rawFinishReason: stopReason } : {}) };
    const serviceTier = mapAnthropicServiceTier(usage.service_tier);
    yield { type: 'usage', usage: mapAnthropicUsage(usage), ...(serviceTier ? { serviceTier } : {}), ...(model ? { model } : {}) };
    yield { type: 'stream-end' };
  }

  function badResponse(detail: string): ProviderError {
    return new ProviderError(`${PROVIDER}: unexpected stream event: ${detail}`, {
      kind: 'bad_response', provider: PROVIDER, providerRequestId: context.providerRequestId,
    });
  }

  function parse<T extends z.ZodType>(schema: T, payload: unknown): z.infer<T> {
    const result = schema.safeParse(payload);
    if (!result.success) throw badResponse(`an event not in Anthropic's format (${result.error.issues[0]?.path.join('.') || 'root'})`);
    return result.data;
  }
}

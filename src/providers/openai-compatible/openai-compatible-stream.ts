/**
 * Turns an OpenAI-compatible SSE body into provider-neutral StreamParts. The answer is complete at
 * `data: [DONE]`, and also when the body ends (cleanly, cut, or silent past the finish grace) after
 * every choice has its `finish_reason`: the usage chunk that follows the finish is taken when it
 * comes within the grace, and the answer is still whole without it. A body that ends before a finish
 * is `stream_truncated`, a data line that is not JSON is skipped (`skipped-event`; more than three: `bad_response`), and a `data:` object with an
 * `error` key (how OpenAI and OpenRouter report failures after the 200) is classified like an error answer.
 */
import type { EventSourceMessage } from 'eventsource-parser';
import { ProviderError } from '../provider-error';
import { isEndOfBody, SKIPPED, SkippedEvents, type AnswerCompletion } from '../sse-reader';
import type { StreamPart } from '../../contract/chat';
import { openAICompatibleChunkSchema, type OpenAICompatibleChunk, type OpenAICompatibleUsage } from './openai-compatible-api';
import { openAICompatibleFailure, type FailureContext } from './openai-compatible-error';
import { servedModelName, type OpenAICompatibleFlavour } from './openai-compatible-flavours';
import { mapOpenAICompatibleFinishReason } from './map-openai-compatible-finish-reason';
import { mapOpenAICompatibleUsage } from './map-openai-compatible-usage';

export interface StreamParseContext extends FailureContext {
  flavour: OpenAICompatibleFlavour;
  /** Told after every chunk whether the answer is complete, so the reader stops waiting for `[DONE]` after the grace. */
  completion?: AnswerCompletion;
}

/** Parse the events after `stream-start`; yields `stream-end` after `[DONE]`, or at the body's end once every choice finished. */
export async function* parseOpenAICompatibleStream(events: AsyncIterable<EventSourceMessage>, context: StreamParseContext): AsyncGenerator<StreamPart> {
  const state = new ChunkState();
  const skipped = new SkippedEvents(context.provider);
  try {
    for await (const event of events) {
      if (event.data === '[DONE]') {
        yield* state.end(context);
        return;
      }
      const payload = skipped.parse(event.data);
      if (payload === SKIPPED) {
        yield { type: 'skipped-event', reason: 'an event whose data is not JSON' };
        continue;
      }
      if (event.event === 'error' || isErrorPayload(payload)) {
        throw openAICompatibleFailure(context, { body: payload, afterFirstToken: state.contentSeen });
      }
      const chunk = openAICompatibleChunkSchema.safeParse(payload);
      if (!chunk.success) {
        throw new ProviderError(`${context.provider}: stream chunk is not a chat.completion.chunk`, {
          kind: 'bad_response', provider: context.provider, afterFirstToken: state.contentSeen,
        });
      }
      for (const part of state.read(chunk.data)) yield part;
      context.completion?.update(state.complete);
    }
  } catch (error) {
    // Cut or silent after the last finish: the answer is whole, only the terminal event is missing.
    if (!(state.complete && isEndOfBody(error))) throw error;
  }
  if (!state.complete) {
    throw new ProviderError(`${context.provider}: the stream ended before its finish_reason`, {
      kind: 'stream_truncated', provider: context.provider, afterFirstToken: state.contentSeen,
    });
  }
  yield* state.end(context);
}

function isErrorPayload(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && 'error' in payload && (payload as { error: unknown }).error != null;
}

/** Per-stream bookkeeping: dense tool-call indices, the latest usage and served tier, which choices finished. */
class ChunkState {
  usage?: OpenAICompatibleUsage;
  serviceTier?: string;
  model?: string;
  contentSeen = false;
  /** Provider tool-call index → our dense index, per choice (a bridge may start at 1). */
  private readonly toolIndices = new Map<number, Map<number, number>>();
  private readonly choicesSeen = new Set<number>();
  private readonly choicesFinished = new Set<number>();

  /** Every choice seen so far has its finish_reason (and there was at least one). */
  get complete(): boolean {
    return this.choicesFinished.size > 0 && this.choicesFinished.size === this.choicesSeen.size;
  }

  /** The parts that close the answer: the usage when reported, then `stream-end`. */
  *end(context: StreamParseContext): Generator<StreamPart> {
    if (this.usage !== undefined) {
      yield { type: 'usage', usage: mapOpenAICompatibleUsage(this.usage, context.flavour), serviceTier: this.serviceTier, model: this.model === undefined ? undefined : servedModelName(context.flavour, this.model) };
    }
    yield { type: 'stream-end' };
  }

  *read(chunk: OpenAICompatibleChunk): Generator<StreamPart> {
    if (chunk.usage) this.usage = chunk.usage;
    if (chunk.service_tier) this.serviceTier = chunk.service_tier;
    if (chunk.model) this.model = chunk.model;
    for (const choice of chunk.choices ?? []) {
      const choiceIndex = choice.index ?? 0;
      this.choicesSeen.add(choiceIndex);
      const delta = choice.delta ?? {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (reasoning) yield this.content({ type: 'reasoning-delta', choiceIndex, text: reasoning });
      if (delta.content) yield this.content({ type: 'text-delta', choiceIndex, text: delta.content });
      if (delta.refusal) yield this.content({ type: 'refusal-delta', choiceIndex, text: delta.refusal });
      for (const [position, call] of (delta.tool_calls ?? []).entries()) {
        yield this.content({
          type: 'tool-call-delta', choiceIndex, toolCallIndex: this.toolIndex(choiceIndex, call.index ?? position),
          ...(call.id ? { id: call.id } : {}), ...(call.function?.name ? { name: call.function.name } : {}),
          argumentsDelta: call.function?.arguments ?? '',
        });
      }
      if (choice.finish_reason) {
        this.choicesFinished.add(choiceIndex);
        yield { type: 'finish', choiceIndex, finishReason: mapOpenAICompatibleFinishReason(choice.finish_reason), rawFinishReason: choice.finish_reason };
      }
    }
  }

  private content(part: StreamPart): StreamPart {
    this.contentSeen = true;
    return part;
  }

  private toolIndex(choiceIndex: number, providerIndex: number): number {
    let indices = this.toolIndices.get(choiceIndex);
    if (!indices) this.toolIndices.set(choiceIndex, indices = new Map());
    let index = indices.get(providerIndex);
    if (index === undefined) indices.set(providerIndex, index = indices.size);
    return index;
  }
}

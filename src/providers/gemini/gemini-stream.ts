/**
 * Gemini's SSE stream (`:streamGenerateContent?alt=sse`, PROVIDERS.md §3.3) → Zumik `StreamPart`s.
 * Every event is a whole `GenerateContentResponse` chunk; there is no `[DONE]`, so the chunk carrying
 * a candidate's `finishReason` (or a prompt block) is the terminal signal: a body that ends before it
 * is `stream_truncated`. Once every candidate finished, a cut or a silence past the finish grace ends
 * the answer as complete too (a trailing usage chunk is taken when it comes within the grace). An
 * `{"error":…}` event is classified like an HTTP error; anything that is not a response chunk is
 * `bad_response`.
 */
import { ProviderError } from '../provider-error';
import { isEndOfBody, SKIPPED, SkippedEvents, type AnswerCompletion } from '../sse-reader';
import type { ProviderWarning, StreamPart } from '../../contract/chat';
import { GeminiFunctionCallAssembler } from './gemini-function-call-assembler';
import { GEMINI_PROVIDER, geminiErrorFromBody, parseGeminiErrorBody } from './gemini-error';
import { geminiResponseSchema, type GeminiResponse, type GeminiUsageMetadata } from './gemini-response-schema';
import { mapGeminiBlockReason, mapGeminiFinishReason } from './map-gemini-finish-reason';
import { mapGeminiServedTier, mapGeminiUsage } from './map-gemini-usage';

export interface GeminiStreamContext {
  /** The model id asked for, reported when chunks carry no `modelVersion`. */
  model: string;
  created: number;
  warnings: ProviderWarning[];
  servedTierHeader?: string;
  /** Removed from any upstream error text. */
  apiKey?: string;
  /** Told after every chunk whether every candidate finished, so the reader stops waiting for the body's end after the grace. */
  completion?: AnswerCompletion;
}

/** Convert SSE events (only `data` is read) into stream parts, ending with `usage` and `stream-end`. */
export async function* convertGeminiStream(events: AsyncIterable<{ data: string }>, context: GeminiStreamContext): AsyncGenerator<StreamPart> {
  const assembler = new GeminiFunctionCallAssembler();
  const seen = new Set<number>();
  const finished = new Set<number>();
  let usage: GeminiUsageMetadata | undefined;
  let model: string | undefined;
  let started = false;
  let emittedContent = false;
  const skipped = new SkippedEvents(GEMINI_PROVIDER);
  try {
    for await (const event of events) {
      if (event.data.trim() === '') continue;
      const json = skipped.parse(event.data);
      if (json === SKIPPED) {
        yield { type: 'skipped-event', reason: 'an event whose data is not JSON' };
        continue;
      }
      const chunk = parseChunk(json, context.apiKey);
      if (!started) {
        started = true;
        yield { type: 'stream-start', providerResponseId: chunk.responseId, model: chunk.modelVersion ?? context.model, created: context.created, warnings: context.warnings };
      }
      usage = chunk.usageMetadata ?? usage;
      model = chunk.modelVersion ?? model;
      const candidates = chunk.candidates ?? [];
      if (candidates.length === 0 && chunk.promptFeedback?.blockReason) {
        const raw = chunk.promptFeedback.blockReason;
        seen.add(0);
        finished.add(0);
        yield { type: 'finish', choiceIndex: 0, finishReason: mapGeminiBlockReason(raw), rawFinishReason: raw };
      }
      for (const [position, candidate] of candidates.entries()) {
        const choiceIndex = candidate.index ?? position;
        seen.add(choiceIndex);
        for (const part of candidate.content?.parts ?? []) {
          if (part.functionCall) {
            for (const call of assembler.accept(choiceIndex, part.functionCall, chunk.responseId)) {
              emittedContent = true;
              yield { type: 'tool-call-delta', choiceIndex, toolCallIndex: call.toolCallIndex, id: call.id, name: call.name, argumentsDelta: call.arguments };
            }
          } else if (part.text) {
            emittedContent = true;
            yield { type: part.thought ? 'reasoning-delta' : 'text-delta', choiceIndex, text: part.text };
          }
        }
        if (candidate.finishReason) {
          for (const call of assembler.flush(choiceIndex, chunk.responseId)) {
            yield { type: 'tool-call-delta', choiceIndex, toolCallIndex: call.toolCallIndex, id: call.id, name: call.name, argumentsDelta: call.arguments };
          }
          finished.add(choiceIndex);
          const finishReason = mapGeminiFinishReason(candidate.finishReason, assembler.count(choiceIndex) > 0);
          yield { type: 'finish', choiceIndex, finishReason, rawFinishReason: candidate.finishReason };
        }
      }
      context.completion?.update(complete());
    }
  } catch (error) {
    // Cut or silent after every candidate finished: the answer is whole.
    if (!(complete() && isEndOfBody(error))) {
      if (error instanceof ProviderError && emittedContent && error.afterFirstToken === undefined) error.afterFirstToken = true;
      throw error;
    }
  }
  if (!complete()) {
    throw new ProviderError(`${GEMINI_PROVIDER}: the stream ended before a finishReason`, { kind: 'stream_truncated', provider: GEMINI_PROVIDER, afterFirstToken: emittedContent });
  }
  if (usage) {
    const serviceTier = mapGeminiServedTier(context.servedTierHeader, usage);
    yield { type: 'usage', usage: mapGeminiUsage(usage), ...(serviceTier ? { serviceTier } : {}), model: model ?? context.model };
  }
  yield { type: 'stream-end' };

  function complete(): boolean {
    return finished.size > 0 && [...seen].every((choiceIndex) => finished.has(choiceIndex));
  }
}

function parseChunk(json: unknown, apiKey: string | undefined): GeminiResponse {
  const errorBody = parseGeminiErrorBody(json);
  if (errorBody) throw geminiErrorFromBody(errorBody, { status: errorBody.error.code ?? 500, apiKey });
  const parsed = geminiResponseSchema.safeParse(json);
  if (!parsed.success || typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProviderError(`${GEMINI_PROVIDER}: a stream event is not a GenerateContentResponse`, { kind: 'bad_response', provider: GEMINI_PROVIDER });
  }
  return parsed.data;
}

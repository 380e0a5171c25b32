/**
 * Streaming one attempt to the client over the StreamBus, chunk by chunk, and — for a continuation —
 * only what the client does not have yet, as part of the response it already holds.
 */
import type { ChatResult, ChatUsage, StreamPart } from '../src/contract/chat';
import { toChatCompletionChunks } from '../src/contract/openai-renderers';
import { addUsage } from '../src/domain/outcome';
import type { RequestMessage, StreamCheckpoint, StreamMeta } from '../src/domain/request-messages';
import { ProviderError } from '../src/providers/provider-error';
import { StreamResultAssembler } from '../src/providers/stream-result-assembler';
import type { ProviderAdapter, ProviderCallOptions } from '../src/providers/types';
import type { AttemptCall } from './attempt-core';
import { ContinuationFilter, type ContinuationMode } from './stream-continuation';

/** A continuation in progress: the front door's checkpoint, and how this target continues it. */
export interface Continuing {
  checkpoint: StreamCheckpoint;
  mode: ContinuationMode;
  priorUsage: ChatUsage | null;
}

/**
 * Stream one attempt: chunks go out on the bus as they arrive (the first carries `meta`); returns the
 * assembled result. A continuation keeps the first chunks' `created`/`model`, numbers its chunks on
 * from the checkpoint, sends no second role chunk and only text the client does not have, and adds the
 * earlier attempts' usage to its usage chunk; its result holds the whole answer (delivered text first).
 */
export async function streamAttempt(adapter: ProviderAdapter, input: AttemptCall, options: ProviderCallOptions, meta: Omit<StreamMeta, 'model'>,
  publish: (message: RequestMessage) => Promise<void>, onFirstToken: () => void, onDone: (chunkCount: number) => void,
  extras: { continuing?: Continuing; onSkipped: (reason: string) => void }): Promise<ChatResult> {
  const { request, attempt, n } = input;
  const { continuing } = extras;
  const created = continuing?.checkpoint.created || Math.floor(Date.now() / 1000);
  const iterator = adapter.stream(request.body, options)[Symbol.asyncIterator]();
  // The model name goes on every chunk: take it from the provider's first event (a continuation keeps the first attempt's).
  const first = await iterator.next();
  const firstPart: StreamPart | undefined = first.done ? undefined : first.value;
  const model = continuing?.checkpoint.model || (firstPart?.type === 'stream-start' && firstPart.model) || attempt.model;
  const assembler = new StreamResultAssembler(model, created);
  const filter = continuing ? new ContinuationFilter(continuing.mode, continuing.checkpoint.text, attempt.provider) : undefined;
  if (continuing) assembler.add({ type: 'text-delta', choiceIndex: 0, text: continuing.checkpoint.text });
  let ended = false;
  function take(raw: StreamPart): StreamPart | undefined {
    if (raw.type === 'skipped-event') { extras.onSkipped(raw.reason); return undefined; }
    const part = filter ? filter.map(raw) : raw;
    if (!part) return undefined;
    assembler.add(part);
    if (part.type === 'stream-end') ended = true;
    // The client's usage chunk covers the whole answer: the attempts it continues and this one.
    if (part.type === 'usage' && continuing?.priorUsage) return { ...part, usage: addUsage([continuing.priorUsage, part.usage])! };
    return part;
  }
  async function* parts(): AsyncGenerator<StreamPart> {
    if (firstPart) { const part = take(firstPart); if (part) yield part; }
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const part = take(next.value);
      if (part) yield part;
    }
  }
  const offset = continuing?.checkpoint.chunks ?? 0;
  let sent = 0;
  const includeUsage = request.body.stream_options?.include_usage === true;
  // An Anthropic Messages client gets the thinking back as thinking blocks: the chunks carry it as `reasoning_content`.
  const includeReasoning = request.ingress === 'anthropic_messages';
  for await (const chunk of toChatCompletionChunks(parts(), { id: request.requestId, created, model, includeUsage, includeReasoning })) {
    // The client has its role chunk from the attempt it continues.
    if (continuing && sent === 0 && chunk.choices[0]?.delta.role !== undefined) { onFirstToken(); continue; }
    if (sent === 0) onFirstToken();
    const seq = offset + sent;
    await publish({ type: 'chunk', attempt: n, seq, chunk: chunk as unknown as Record<string, unknown>, ...(seq === 0 ? { meta: { ...meta, model } } : {}) });
    sent += 1;
  }
  onDone(offset + sent);
  if (!ended) throw new ProviderError(`${attempt.provider}: the stream ended without its terminal event`, { kind: 'stream_truncated', provider: attempt.provider });
  return assembler.result();
}

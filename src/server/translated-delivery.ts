/**
 * Delivery for the front doors whose wire format is not OpenAI's chat format (Anthropic Messages,
 * OpenAI Responses): the same deliveries as chat (request-intake.ts), each answer rendered by the
 * door's own renderer, each stream translated chunk by chunk. A stream that fails after it opened
 * ends with the door's error event, never as a truncated success; the outcome comment ends it as on
 * /v1/chat/completions (an SSE comment, which every SDK ignores).
 */
import type { Response } from 'express';
import { completionAsChunks } from '../contract/openai-renderers';
import type { RequestOutcome } from '../domain/request-outcome';
import type { Delivery, StartedRequest } from './chat-gateway';
import type { Intake } from './request-intake';
import { outcomeComment, outcomeError, outcomeHeaders, streamHeaders } from './outcome-http';

type Json = Record<string, unknown>;

/** One door's stream format: events for each OpenAI chunk, the end of a whole answer, and its error event. */
export interface StreamTranslator {
  chunk(chunk: Json): string;
  finish(): string;
  error(status: number, message: string): string;
}

/**
 * Send the answer rendered by `render`, or throw the outcome's HTTP error; `headers` adds the door's own.
 * `retain`: prompt retention keeps the completed answer (in the chat form) once it is sent.
 */
export async function deliverTranslatedJson(started: StartedRequest, response: Response, render: (completion: Json) => Json,
  headers: (outcome: RequestOutcome) => Record<string, string> = () => ({}), retain?: Intake['retain']): Promise<void> {
  const send = (outcome: RequestOutcome, completion: Json) => {
    response.status(200).set({ ...outcomeHeaders(outcome), ...headers(outcome) }).json(render(completion));
    retain?.(outcome, { body: completion });
  };
  for await (const delivery of started.deliveries) {
    if (delivery.type === 'final' && delivery.body) {
      send(delivery.outcome, delivery.body);
      return;
    }
    if (delivery.type === 'result') {
      const { outcome, response: answer } = delivery.result;
      if (outcome.completion === 'completed' && answer) send(outcome, answer);
      else throw outcomeError(outcome);
      return;
    }
  }
}

const GAP_MESSAGE = 'chunks of this stream were lost in delivery; the answer is incomplete';

/**
 * Stream the answer through `translator`; `headers` adds the door's own to the stream's headers.
 * `retain`: prompt retention keeps a completed answer (its chat chunks) once it is sent.
 */
export async function deliverTranslatedStream(started: StartedRequest, requestId: string, response: Response, translator: StreamTranslator,
  headers: Record<string, string> = {}, retain?: Intake['retain']): Promise<void> {
  // The chat chunks as sent, for prompt retention (only when it keeps this answer).
  const sent: Json[] | undefined = retain ? [] : undefined;
  let open = false;
  let failed = false;
  let received = 0;
  const write = (text: string) => { if (text && !response.writableEnded) response.write(text); };
  const openStream = (outcomeOrMeta: Record<string, string>) => {
    open = true;
    response.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers, ...outcomeOrMeta });
    response.flushHeaders();
  };
  const fail = (status: number, message: string) => {
    // After the first event there is no status to change: the stream ends with the door's error event.
    failed = true;
    write(translator.error(status, message));
  };
  const end = (outcome: RequestOutcome) => {
    if (!failed) write(translator.finish());
    write(outcomeComment(outcome));
    response.end();
    if (!failed && sent) retain?.(outcome, { chunks: sent });
  };
  for await (const delivery of started.deliveries as AsyncIterable<Delivery>) {
    switch (delivery.type) {
      case 'chunk':
        if (failed) break;
        if (delivery.message.seq !== received) {
          fail(500, GAP_MESSAGE);
          break;
        }
        received += 1;
        if (!open) openStream(delivery.message.meta ? streamHeaders(requestId, delivery.message.meta) : { 'x-zumik-request-id': requestId });
        write(translator.chunk(delivery.message.chunk));
        sent?.push(delivery.message.chunk as unknown as Json);
        break;
      case 'final':
        if (open) {
          if (delivery.chunkCount !== undefined && delivery.chunkCount !== received && !failed) fail(500, GAP_MESSAGE);
          end(delivery.outcome);
          return;
        }
        break;
      case 'stream-error':
        if (!failed) fail(500, delivery.error.message);
        break;
      case 'result': {
        const { outcome, response: answer } = delivery.result;
        if (open) {
          if (outcome.completion !== 'completed' && !failed) fail(outcomeError(outcome).status, outcomeError(outcome).message);
          end(outcome);
          return;
        }
        if (outcome.completion === 'completed' && answer) {
          // Nothing came over the bus (the attempt ran elsewhere, or a replay): the answer as one stream.
          openStream(outcomeHeaders(outcome));
          for (const chunk of completionAsChunks(answer, true)) {
            write(translator.chunk(chunk));
            sent?.push(chunk);
          }
          end(outcome);
          return;
        }
        throw outcomeError(outcome);
      }
    }
  }
}

/**
 * What travels on the StreamBus channel of one request (channel = request id), from the attempt
 * activity to the HTTP handler waiting for it. The answer goes out as soon as an attempt has it;
 * the workflow's bookkeeping follows.
 */
import type { RequestOutcome } from './request-outcome';

/** Which attempt is streaming, sent with its first chunk so the headers can name it. */
export interface StreamMeta {
  attempt: number;
  provider: string;
  model: string;
  releaseId: string;
  admission: RequestOutcome['admission'];
  fallbackUsed: boolean;
}

export type RequestMessage =
  /** One OpenAI `chat.completion.chunk`, numbered from 0 within its attempt (the first carries `meta`). */
  | { type: 'chunk'; attempt: number; seq: number; chunk: Record<string, unknown>; meta?: StreamMeta }
  /**
   * The request succeeded: the provisional outcome (as the workflow will record it) and, for
   * non-streams, the body; for streams, how many chunks were sent, so a receiver that lost some on a
   * shared bus ends the stream with an error instead of presenting a truncated answer as complete.
   */
  | { type: 'final'; outcome: RequestOutcome; body?: Record<string, unknown>; chunkCount?: number }
  /** A stream failed after its first token: no failover; the handler ends the stream with this error. */
  | { type: 'stream-error'; attempt: number; error: { message: string; type: string; code: string } }
  /** The request ended without an answer on the bus (refused, failed, expired, cancelled): how it ended. */
  | { type: 'outcome'; outcome: RequestOutcome }
  /**
   * A stream's attempt runs again after its worker was lost: how much of the answer does the client
   * hold? The front door that holds the client answers with `delivered` on the control channel; no
   * answer means no front door holds it any more.
   */
  | { type: 'probe' };

export function requestChannel(requestId: string): string {
  return `request:${requestId}`;
}

/** The channel on which the front door tells a running attempt that its client is gone (abort now, before the next heartbeat). */
export function requestControlChannel(requestId: string): string {
  return `request-control:${requestId}`;
}

export type RequestControlMessage =
  | { type: 'cancel' }
  /** The front door's answer to a `probe`: how many chunks of the stream its client has been sent. */
  | ({ type: 'delivered'; chunks: number } & Partial<StreamCheckpoint>);

/**
 * What a front door knows of the stream its client holds: enough for a continuation to send on one
 * response (the first chunks' `created` and `model`; the chunk sequence) without repeating text (the
 * delivered content of choice 0). Travels over the bus only, never through workflow history.
 */
export interface StreamCheckpoint {
  /** Chunks the client has been sent. */
  chunks: number;
  /** The content text of choice 0 the client has (concatenated deltas). */
  text: string;
  created: number;
  model: string;
  /** False when the delivered part cannot be continued honestly: tool calls, refusals or several choices were sent. */
  resumable: boolean;
}

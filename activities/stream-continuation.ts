/**
 * Continuing a broken stream (README "Streams that survive their provider"): the front door that holds
 * the client is the stream's live checkpoint (it answers a `probe` with what its client has: chunk
 * count, choice 0's text, the first chunks' `created`/`model`), so the text never passes through
 * workflow history. A continuation either prefills the delivered text as a trailing assistant message
 * (targets that continue one: capabilities.ts `supportsAssistantPrefill`) or asks for the answer again
 * and sends on only what follows the delivered prefix — and fails (`resume_mismatch`) when the new
 * answer does not start with it, rather than splice two different answers.
 */
import type { ChatRequest, StreamPart } from '../src/contract/chat';
import { requestChannel, requestControlChannel, type RequestControlMessage, type StreamCheckpoint } from '../src/domain/request-messages';
import { ProviderError } from '../src/providers/provider-error';
import type { StreamBus } from '../src/streaming/stream-bus';

/** How long an attempt waits for the front door's answer to its probe; silence means no front door holds the client. */
export const CHECKPOINT_WAIT_MS = 1_000;

/** Ask the front door holding the request's client what it has; undefined when none answers. */
export async function fetchCheckpoint(bus: StreamBus, requestId: string, waitMs = CHECKPOINT_WAIT_MS): Promise<StreamCheckpoint | undefined> {
  let settle: (checkpoint: StreamCheckpoint | undefined) => void = () => undefined;
  const answer = new Promise<StreamCheckpoint | undefined>((resolve) => { settle = resolve; });
  const unsubscribe = await bus.subscribe(requestControlChannel(requestId), (message) => {
    const control = message as RequestControlMessage;
    if (control.type !== 'delivered') return;
    // A front door of an older release answers the count only: enough to refuse a splice, not to continue.
    settle({ chunks: control.chunks, text: control.text ?? '', created: control.created ?? 0, model: control.model ?? '',
      resumable: control.resumable === true && control.text !== undefined });
  });
  const timer = setTimeout(() => settle(undefined), waitMs);
  try {
    await bus.publish(requestChannel(requestId), { type: 'probe' });
    return await answer;
  } finally {
    clearTimeout(timer);
    await unsubscribe().catch(() => undefined);
  }
}

export type ContinuationMode = 'prefill' | 'regenerate';

/**
 * The body of a prefill continuation: the delivered text as a trailing assistant message. Trailing
 * whitespace is left off (Anthropic rejects a final assistant turn that ends with it); the filter
 * drops it from the continuation's start instead.
 */
export function prefillBody(body: ChatRequest, delivered: string): ChatRequest {
  return { ...body, messages: [...body.messages, { role: 'assistant', content: delivered.trimEnd() }] };
}

/**
 * Turns a continuation's parts into what the client does not have yet: text after the delivered
 * prefix (prefill: minus the whitespace the prefill left off; regenerate: once the new answer has been
 * seen to start with the whole prefix). Reasoning is dropped (the client has the first attempt's),
 * a tool call or refusal cannot be added honestly to delivered text: `resume_mismatch`.
 */
export class ContinuationFilter {
  private pendingWhitespace: string;
  private buffer = '';
  private verified: boolean;

  constructor(private readonly mode: ContinuationMode, private readonly delivered: string, private readonly provider: string) {
    this.pendingWhitespace = mode === 'prefill' ? delivered.slice(delivered.trimEnd().length) : '';
    this.verified = mode === 'prefill' || delivered.length === 0;
  }

  /** The part to send on (undefined: nothing yet), or throws `resume_mismatch`. */
  map(part: StreamPart): StreamPart | undefined {
    switch (part.type) {
      case 'text-delta': {
        const text = this.mode === 'prefill' ? this.afterWhitespace(part.text) : this.afterPrefix(part.text);
        return text.length > 0 ? { ...part, text } : undefined;
      }
      case 'reasoning-delta':
      case 'reasoning-signature':
      case 'redacted-reasoning': return undefined;
      case 'tool-call-delta':
      case 'refusal-delta':
        throw this.mismatch(`the continuation answered with a ${part.type === 'refusal-delta' ? 'refusal' : 'tool call'}`);
      case 'finish':
        if (!this.verified) throw this.mismatch('the regenerated answer ended before it reached the delivered text');
        return part;
      default: return part;
    }
  }

  private afterWhitespace(text: string): string {
    let index = 0;
    while (this.pendingWhitespace.length > 0 && index < text.length) {
      if (text[index] !== this.pendingWhitespace[0]) { this.pendingWhitespace = ''; break; }
      this.pendingWhitespace = this.pendingWhitespace.slice(1);
      index += 1;
    }
    if (index < text.length) this.pendingWhitespace = '';
    return text.slice(index);
  }

  private afterPrefix(text: string): string {
    if (this.verified) return text;
    this.buffer += text;
    if (this.buffer.length < this.delivered.length) {
      if (!this.delivered.startsWith(this.buffer)) throw this.mismatch('the regenerated answer does not start with the delivered text');
      return '';
    }
    if (!this.buffer.startsWith(this.delivered)) throw this.mismatch('the regenerated answer does not start with the delivered text');
    this.verified = true;
    const rest = this.buffer.slice(this.delivered.length);
    this.buffer = '';
    return rest;
  }

  private mismatch(reason: string): ProviderError {
    return new ProviderError(`${this.provider}: cannot continue the stream after ${this.delivered.length} delivered characters: ${reason}`,
      { kind: 'resume_mismatch', provider: this.provider, afterFirstToken: true });
  }
}

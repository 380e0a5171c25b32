/**
 * The time budget of one upstream call: the whole call (`timeouts.totalMs`, which undici has no
 * setting for) and precise per-phase limits (`headersMs`, and `firstTokenMs` for a JSON body), kept
 * with our own timers because undici's coarse timers fire up to a second late. A limit that runs
 * out aborts the request through the same signal as the caller; an abort caused by a limit (not by
 * the caller) is reported as `timeout` with its phase, an abort by the caller stays `cancelled`.
 */
import { ProviderError } from './provider-error';
import { DEFAULT_TIMEOUTS } from './upstream-http';
import type { CallTimeouts } from './types';

type Phase = 'headers' | 'first_token' | 'total';

export class CallDeadline {
  /** Pass this to the transport instead of the caller's signal. */
  readonly signal: AbortSignal;
  readonly timeouts: Required<CallTimeouts>;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private expired?: { phase: Phase; ms: number };

  /** `timeouts` is the call's CallTimeouts, or just its total budget in ms. */
  constructor(private readonly callerSignal: AbortSignal | undefined, timeouts: CallTimeouts | number = {}) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...(typeof timeouts === 'number' ? { totalMs: timeouts } : timeouts) };
    this.timer = setTimeout(() => this.expire('total', this.timeouts.totalMs), this.timeouts.totalMs);
    this.timer.unref();
    this.signal = callerSignal ? AbortSignal.any([callerSignal, this.controller.signal]) : this.controller.signal;
  }

  /** Await `work`, failing with `timeout` in `phase` (and aborting the request) when it takes longer than `ms`. */
  async within<T>(phase: 'headers' | 'first_token', ms: number, work: Promise<T>, provider: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.expire(phase, ms);
        reject(this.timeoutError(provider));
      }, ms);
    });
    work.catch(() => undefined); // the aborted request rejects after the limit has already answered
    try {
      return await Promise.race([work, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A `cancelled` error caused by a limit becomes that limit's `timeout`; everything else is returned unchanged. */
  translate(error: unknown, provider: string): unknown {
    if (this.expired && !this.callerSignal?.aborted && error instanceof ProviderError && error.kind === 'cancelled') {
      return this.timeoutError(provider, error);
    }
    return error;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private expire(phase: Phase, ms: number): void {
    this.expired ??= { phase, ms };
    this.controller.abort();
  }

  private timeoutError(provider: string, cause?: ProviderError): ProviderError {
    const { phase, ms } = this.expired!;
    const what = phase === 'headers' ? 'no response headers' : phase === 'first_token' ? 'no answer body' : 'no complete answer';
    return new ProviderError(`${provider}: ${what} within ${ms} ms`, {
      kind: 'timeout', provider, phase, afterFirstToken: cause?.afterFirstToken,
    }, { cause });
  }
}

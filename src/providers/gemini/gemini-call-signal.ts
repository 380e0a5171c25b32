/**
 * The abort signal of one Gemini call: the caller's signal (client gone, cancellation → `cancelled`)
 * combined with the whole-call deadline (`timeouts.totalMs` → `timeout` with `phase: 'total'`), so the
 * two are told apart although both abort the same undici request.
 */
import { ProviderError } from '../provider-error';
import { DEFAULT_TIMEOUTS } from '../upstream-http';
import { GEMINI_PROVIDER } from './gemini-error';

export interface CallSignal {
  signal: AbortSignal;
  /** Turn an error caused by the deadline into a `timeout`; other errors pass unchanged. */
  translate(error: unknown): unknown;
  /** Clear the deadline timer (always call, in `finally`). */
  dispose(): void;
}

export function startCallSignal(callerSignal: AbortSignal | undefined, totalMs = DEFAULT_TIMEOUTS.totalMs): CallSignal {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), totalMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, deadline.signal]) : deadline.signal;
  return {
    signal,
    translate(error) {
      if (!deadline.signal.aborted || callerSignal?.aborted) return error;
      return new ProviderError(`${GEMINI_PROVIDER}: the call exceeded its ${totalMs} ms deadline`,
        { kind: 'timeout', provider: GEMINI_PROVIDER, phase: 'total', afterFirstToken: (error as ProviderError | undefined)?.afterFirstToken }, { cause: error });
    },
    dispose: () => clearTimeout(timer),
  };
}

/**
 * callProvider: the attempt activity of chatRequestWorkflow's first released shape (its histories
 * schedule it by this name and input). Kept so that requests in flight across the upgrade finish; new
 * requests use runAttempt. It publishes the provisional outcome with the answer and returns the answer.
 */
import { computeOutcome } from '../src/domain/outcome';
import type { AttemptRecord } from '../src/domain/request-outcome';
import { toChatCompletion } from '../src/contract/openai-renderers';
import { performAttempt, type CallProviderDeps } from './attempt-core';
import type { CallProviderInput } from './types';

export type { CallProviderDeps, CircuitRecorder, CredentialSource } from './attempt-core';

export function createCallProvider(deps: CallProviderDeps) {
  return async function callProvider(input: CallProviderInput): Promise<{ attempt: AttemptRecord; body: Record<string, unknown> }> {
    const { request, attempt } = input;
    const previous = input.facts.previousAttempts;
    const meta = {
      releaseId: input.facts.release?.id ?? '', admission: input.facts.admission,
      fallbackUsed: previous.length > 0 && (previous[0]!.provider !== attempt.provider || previous[0]!.model !== attempt.model || previous[0]!.region !== attempt.region),
    };
    return performAttempt(deps, { ...input, manifestRevision: input.manifest.revision }, meta, async ({ record, result, chunkCount }, publish) => {
      const body = toChatCompletion(result, { id: request.requestId }) as unknown as Record<string, unknown>;
      const outcome = computeOutcome({
        ...input.facts, attempts: [...previous, record], endedAt: Date.now(), cancelled: false, deadlineExpired: false, bridged: attempt.role === 'bridge',
      }, input.manifest);
      await publish({ type: 'final', outcome, body: request.stream ? undefined : body, chunkCount });
      return { attempt: record, body };
    });
  };
}

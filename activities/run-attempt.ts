/**
 * runAttempt: one attempt of the lean request path (DESIGN.md §4.4, §4.7). On success it does, in
 * this order and in this one activity: hand the answer to the waiting client (bus), compute the
 * request's outcome (once: the workflow takes it from here), and write the request, its attempts and
 * the freed admission lease to Postgres in one statement. The workflow then only upserts the outcome's
 * search attributes: on the happy path one workflow task with one marker. A failed record write is
 * not a failed attempt: the result says `recorded: false` and the workflow writes it again.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { manifestFor } from '../src/domain/capabilities';
import { buildAttemptRecord } from '../src/domain/attempt-record';
import { computeOutcome, workflowRefFor } from '../src/domain/outcome';
import { requestChannel, requestControlChannel, type RequestControlMessage } from '../src/domain/request-messages';
import type { RequestOutcome } from '../src/domain/request-outcome';
import { toChatCompletion } from '../src/contract/openai-renderers';
import { performAttempt, type CallProviderDeps } from './attempt-core';
import { createRecordOutcome, type BatchResultSink, type OutcomeObserver, type OutcomeStore } from './record-outcome';
import { PROVIDER_FAILURE_PREFIX, type RunAttemptInput, type RunAttemptResult } from './types';

export interface RunAttemptDeps {
  calls: CallProviderDeps;
  outcomes: OutcomeStore & { find(tenantId: string, id: string): Promise<{ outcome: RequestOutcome; response?: unknown } | undefined> };
  batches?: BatchResultSink;
  logger: Logger;
  metrics?: OutcomeObserver;
}

/**
 * A stream's attempt that runs again after its worker was lost asks the front door holding the client
 * (the stream's live checkpoint: it knows what it sent) how much the client has. None, or no front
 * door (the client went with it and will resend with its Idempotency-Key): the attempt runs. Some:
 * never splice a second answer onto the first — the client gets an explicit error, and the attempt
 * fails as interrupted after its first token.
 */
async function refuseSplice(deps: RunAttemptDeps, input: RunAttemptInput, waitMs = 1_000): Promise<void> {
  const { bus } = deps.calls;
  const { requestId } = input.request;
  let settle: (chunks: number | undefined) => void = () => undefined;
  const answer = new Promise<number | undefined>((resolve) => { settle = resolve; });
  const unsubscribe = await bus.subscribe(requestControlChannel(requestId), (message) => {
    if ((message as RequestControlMessage).type === 'delivered') settle((message as Extract<RequestControlMessage, { type: 'delivered' }>).chunks);
  });
  const timer = setTimeout(() => settle(undefined), waitMs);
  let delivered: number | undefined;
  try {
    await bus.publish(requestChannel(requestId), { type: 'probe' });
    delivered = await answer;
  } finally {
    clearTimeout(timer);
    await unsubscribe().catch(() => undefined);
  }
  if (!delivered) return;
  const now = Date.now();
  await bus.publish(requestChannel(requestId), {
    type: 'stream-error', attempt: input.n,
    error: { message: `the worker serving this stream was lost after ${delivered} chunks; the answer is incomplete`, type: 'server_error', code: 'timeout' },
  });
  throw ApplicationFailure.create({
    type: `${PROVIDER_FAILURE_PREFIX}timeout`, message: `attempt ${input.n} was lost with its worker after ${delivered} chunks reached the client`,
    nonRetryable: true,
    details: [buildAttemptRecord({ n: input.n, attempt: input.attempt, retryCause: input.retryCause, startedAt: now, endedAt: now, firstTokenAt: null },
      { status: 'timed_out', failure_kind: 'timeout', after_first_token: true })],
  });
}

export function createRunAttempt(deps: RunAttemptDeps) {
  const record = createRecordOutcome(deps.outcomes, deps.batches, undefined, deps.metrics);
  return async function runAttempt(input: RunAttemptInput): Promise<RunAttemptResult> {
    const { request, attempt, facts } = input;
    if (input.recovering) {
      // The task that ran this attempt died with its worker: if it got as far as the record, the client has its answer.
      const stored = await deps.outcomes.find(request.tenantId, request.requestId);
      const won = stored?.outcome.attempts.at(-1);
      if (stored && stored.outcome.completion === 'completed' && won) {
        // A kept answer is recorded before it is sent: the lost worker may have died in between, so send it (again).
        if (request.delivery === 'sync' && request.keepResponse) {
          await deps.calls.bus.publish(requestChannel(request.requestId), {
            type: 'final', outcome: stored.outcome, body: request.stream ? undefined : (stored.response as Record<string, unknown> | undefined),
          }).catch(() => undefined);
        }
        return { attempt: won, outcome: { ...stored.outcome, attempts: [] }, recorded: true };
      }
      if (request.stream && request.delivery === 'sync') await refuseSplice(deps, input);
    }
    const previous = facts.previousAttempts;
    const first = previous[0];
    const meta = {
      releaseId: facts.release?.id ?? '', admission: facts.admission,
      fallbackUsed: first !== undefined && (first.provider !== attempt.provider || first.model !== attempt.model || first.region !== attempt.region),
    };
    return performAttempt(deps.calls, input, meta, async ({ record: done, result, chunkCount }, publish) => {
      const body = toChatCompletion(result, { id: request.requestId }) as unknown as Record<string, unknown>;
      const endedAt = Date.now();
      const info = Context.current().info;
      const outcome = computeOutcome({
        input: {
          requestId: request.requestId, tenantId: request.tenantId, alias: request.alias, qosClass: request.qosClass, receivedAt: request.receivedAt,
          deadlineAt: request.deadlineAt, stream: request.stream, requestedServiceTier: request.body.service_tier ?? undefined,
        },
        release: facts.release, admission: facts.admission, admittedAt: facts.admittedAt, targets: facts.targets,
        attempts: [...previous, done], endedAt, cancelled: false, deadlineExpired: false, bridged: attempt.role === 'bridge',
        workflow: workflowRefFor({ ...info.workflowExecution!, namespace: info.namespace }, request.uiBaseUrl),
      }, manifestFor(input.manifestRevision));
      const response = request.keepResponse || request.delivery === 'background' || request.batchLine ? body : undefined;
      const send = () => (request.delivery === 'sync' ? publish({ type: 'final', outcome, body: request.stream ? undefined : body, chunkCount }) : undefined);
      // The answer goes out before the bookkeeping — except an answer the client may ask for again (Idempotency-Key):
      // that one is recorded first, so what a resend reads is always what was sent (a lost worker's re-run resends it).
      if (!request.keepResponse) await send();
      let recorded = true;
      try {
        await record({
          outcome, apiKeyId: request.apiKeyId, receivedAt: request.receivedAt, endedAt, response, batchLine: request.batchLine,
          releaseLease: input.holdsLease,
        });
      } catch (error) {
        deps.logger.warn({ err: error, requestId: request.requestId }, 'recording the answered request failed; the workflow records it again');
        recorded = false;
      }
      if (request.keepResponse) await send();
      // The attempts travel once: the workflow holds them, and the marker keeps this one in `attempt`.
      return { attempt: done, outcome: { ...outcome, attempts: [] }, recorded, ...(!recorded && response ? { response } : {}) };
    });
  };
}

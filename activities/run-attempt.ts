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
import { addUsage } from '../src/domain/outcome';
import { priceOutcome } from '../src/domain/price-manifest';
import { requestChannel, type RequestMessage, type StreamCheckpoint } from '../src/domain/request-messages';
import type { RequestOutcome } from '../src/domain/request-outcome';
import { toChatCompletion } from '../src/contract/openai-renderers';
import { toEmbeddingsResponse } from '../src/contract/embeddings';
import { embeddingsBodyOf } from '../src/domain/request-operation';
import { performAttempt, type CallProviderDeps, type FinishedAttempt } from './attempt-core';
import { runHedged, type HedgeLane } from './hedge-race';
import { overThreshold, withFullBody, type PayloadRefs } from './payload-refs';
import { fetchCheckpoint } from './stream-continuation';
import { createRecordOutcome, type BatchResultSink, type OutcomeObserver, type OutcomeStore } from './record-outcome';
import { PROVIDER_FAILURE_PREFIX, type RunAttemptInput, type RunAttemptResult } from './types';

export interface RunAttemptDeps {
  calls: CallProviderDeps;
  outcomes: OutcomeStore & { find(tenantId: string, id: string): Promise<{ outcome: RequestOutcome; response?: unknown } | undefined> };
  batches?: BatchResultSink;
  /** The claim check's store: bodies that came by reference, answers too large for history. */
  payloads?: PayloadRefs;
  logger: Logger;
  metrics?: OutcomeObserver;
}

/**
 * A stream's attempt that runs again after its worker was lost, when the client already has part of
 * the answer and it may not be continued (resume off, or tool calls / several choices delivered):
 * never splice a second answer onto the first — the client gets an explicit error, and the attempt
 * fails as interrupted after its first token.
 */
async function refuseSplice(deps: RunAttemptDeps, input: RunAttemptInput, delivered: number): Promise<never> {
  const { bus } = deps.calls;
  const { requestId } = input.request;
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
  const record = createRecordOutcome(deps.outcomes, deps.batches, undefined, deps.payloads, deps.calls.tracer !== undefined, deps.metrics, deps.calls.prices);
  return async function runAttempt(carried: RunAttemptInput): Promise<RunAttemptResult> {
    // A body above the claim-check threshold came as a reference: the provider gets the real one.
    const input: RunAttemptInput = { ...carried, request: await withFullBody(deps.payloads, carried.request.tenantId, carried.request) };
    const { request } = input;
    let checkpoint: StreamCheckpoint | undefined;
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
      if (request.stream && request.delivery === 'sync') {
        // The front door holding the client is the stream's checkpoint: continue from what it has, or refuse to splice.
        const held = await fetchCheckpoint(deps.calls.bus, request.requestId);
        if (held && held.chunks > 0) {
          if (!input.resume || !held.resumable) await refuseSplice(deps, input, held.chunks);
          checkpoint = held;
        }
      }
    }
    const previous = input.facts.previousAttempts;
    // The usage of the attempts whose text the client has: a continuation's usage chunk adds it.
    const priorUsage = addUsage(previous.filter((earlier) => earlier.after_first_token).map((earlier) => earlier.usage));
    const run = (call: RunAttemptInput, lane?: HedgeLane) =>
      performAttempt(deps.calls, call, metaFor(call), finishFor(call, lane), { lane, checkpoint, priorUsage });
    // A hedge races for the first token: a re-run or a continuation already has a client with content.
    if (!input.hedge || request.delivery !== 'sync' || input.recovering || checkpoint || input.continuation) return run(input);
    return runHedged(input, input.hedge, run);
  };

  function metaFor(call: RunAttemptInput) {
    const first = call.facts.previousAttempts[0];
    const { attempt } = call;
    return {
      releaseId: call.facts.release?.id ?? '', admission: call.facts.admission,
      // A hedge beside the first attempt is a fallback too: it is not the target the request was planned on first.
      fallbackUsed: first !== undefined ? (first.provider !== attempt.provider || first.model !== attempt.model || first.region !== attempt.region)
        : call.retryCause?.startsWith('hedge') === true,
    };
  }

  function finishFor(input: RunAttemptInput, lane: HedgeLane | undefined) {
    const { request, attempt, facts } = input;
    const previous = facts.previousAttempts;
    return async ({ record: done, result, chunkCount, embeddings }: FinishedAttempt, publish: (message: RequestMessage) => Promise<void>): Promise<RunAttemptResult> => {
      // A hedge's winner: the other side was stopped at this attempt's first content; its record joins the outcome.
      const others = lane ? await lane.others() : [];
      const mine = [done, ...others].sort((a, b) => a.n - b.n);
      const body = (embeddings ? toEmbeddingsResponse(embeddings, embeddingsBodyOf(request).encoding_format)
        : toChatCompletion(result, { id: request.requestId, includeReasoning: request.ingress === 'anthropic_messages' })) as unknown as Record<string, unknown>;
      const endedAt = Date.now();
      const info = Context.current().info;
      const computed = computeOutcome({
        input: {
          requestId: request.requestId, tenantId: request.tenantId, alias: request.alias, qosClass: request.qosClass, receivedAt: request.receivedAt,
          deadlineAt: request.deadlineAt, stream: request.stream, requestedServiceTier: request.body.service_tier ?? undefined,
          ...(request.ingress ? { ingress: request.ingress } : {}),
        },
        release: facts.release, admission: facts.admission, admittedAt: facts.admittedAt, targets: facts.targets,
        ...(facts.routing ? { routing: facts.routing } : {}),
        attempts: [...previous, ...mine], endedAt, cancelled: false, deadlineExpired: false, bridged: attempt.role === 'bridge',
        workflow: workflowRefFor({ ...info.workflowExecution!, namespace: info.namespace }, request.uiBaseUrl),
      }, manifestFor(input.manifestRevision));
      const outcome = deps.calls.prices ? priceOutcome(computed, await deps.calls.prices.current(), manifestFor(input.manifestRevision)) : computed;
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
      const attemptResult: RunAttemptResult = {
        attempt: done, outcome: { ...outcome, attempts: [] }, recorded, ...(others.length > 0 ? { hedged: others } : {}),
      };
      if (!recorded && response) {
        // The workflow records it again: a large answer goes by reference (the marker would carry it otherwise).
        if (deps.payloads && overThreshold(response)) attemptResult.responseRef = await deps.payloads.put(request.tenantId, response, request.deadlineAt);
        else attemptResult.response = response;
      }
      return attemptResult;
    };
  }
}

/**
 * chatRequestWorkflow: one chat completion as a durable workflow (DESIGN.md §4). The front door has
 * already decided (release, plan, policy, admission: the input's `decision`); a batch line decides in
 * its first local activity. On the happy path the whole request is one workflow task: the attempt as a
 * local activity that answers the client, computes the outcome and records it, then one upsert of the
 * outcome's search attributes. Queued admission waits durably; failed attempts are retried and failed
 * over by the workflow, each attempt its own record in history; the outcome of a request that did not
 * complete is computed and recorded here. A stream that broke after content is continued by the next
 * attempt (`continuation`: the attempt fetches the delivered text from the front door, never from
 * history); a slow first token is hedged inside the attempt activity (`hedge`), whose result or failure
 * then carries the other side's record too.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  CancellationScope, continueAsNew, isCancellation, log, patched, proxyActivities, proxyLocalActivities, setHandler, sleep, upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RecordOutcomeInput, RunAttemptInput, RunAttemptResult } from '../activities/types';
import { computeOutcome, workflowRefFor } from '../src/domain/outcome';
import { manifestFor } from '../src/domain/capabilities';
import type { ReasonCode } from '../src/domain/reason-codes';
import { admissionOfRefusal, attemptRunsLocally, type PolicySnapshot, type RequestDecision } from '../src/domain/request-decision';
import {
  QUEUE_POLLS_PER_RUN, type Admission, type AttemptRecord, type ChatRequestInput, type ChatRequestResult, type PlannedAttempt, type RequestOutcome,
} from '../src/domain/request-outcome';
import { decideNextStep } from '../src/domain/retry-decision';
import { RECORD_INVALID_DATA } from '../src/domain/record-failures';
import { SearchAttributes } from '../src/temporal/search-attributes';
import { bridgeAfterOutage } from '../src/domain/outage-bridge';
import { attemptFromFailure, legacyBridgeCandidate, otherAttemptsOfFailure } from './attempt-failure';
import { legacyChatRequestWorkflow } from './legacy-chat-request-workflow';
import { outcomeQuery, stateQuery } from './request-queries';

export { outcomeQuery, stateQuery } from './request-queries';

const decideOptions = { startToCloseTimeout: '10s', retry: { maximumAttempts: 5, initialInterval: '50ms', maximumInterval: '1s' } } as const;
/**
 * Bounded: a record that keeps failing (about 6 s of retries; at once when Postgres refuses its data) is
 * then written sanitised — never retried for minutes inside a workflow task. Only a store that is down
 * gets more time, on durable timers (FALLBACK_RECORD_ROUNDS).
 */
const bookkeepingOptions = { startToCloseTimeout: '30s', retry: { maximumAttempts: 6, initialInterval: '200ms', maximumInterval: '3s' } } as const;
/** Rounds of the sanitised fallback record on durable timers (1 s doubling to 30 s: about 3 min) while the store is down. */
const FALLBACK_RECORD_ROUNDS = 10;
/** One attempt = one activity execution; the workflow owns retries so every attempt stays in history. */
const attemptOptions = { retry: { maximumAttempts: 1 }, heartbeatTimeout: '10s' } as const;
const localAttemptOptions = { retry: { maximumAttempts: 1 } } as const;

const admission = proxyLocalActivities<Activities>(decideOptions);
const bookkeeping = proxyLocalActivities<Activities>(bookkeepingOptions);
const remoteAttempt = proxyActivities<Activities>({ ...attemptOptions, startToCloseTimeout: '10m' }).runAttempt;
const localAttempt = proxyLocalActivities<Activities>({ ...localAttemptOptions, startToCloseTimeout: '10m' }).runAttempt;

/** The bridge needs a verified total outage (every candidate tried, outage kinds only); histories before it replay the first rules. */
export const BRIDGE_VERIFIED_OUTAGE_PATCH = 'bridge-verified-outage';

export async function chatRequestWorkflow(input: ChatRequestInput): Promise<ChatRequestResult> {
  // More than the started event and the first task's two: an earlier first task was lost with its worker.
  const lostTask = workflowInfo().historyLength > 3;
  // The first released shape's histories have neither (their inputs predate both): they replay the first shape.
  if (!input.decision && !input.decideInWorkflow) return legacyChatRequestWorkflow(input);

  let state = 'admitting';
  let finalOutcome: RequestOutcome | null = null;
  setHandler(outcomeQuery, () => finalOutcome);
  setHandler(stateQuery, () => state);

  let decision: RequestDecision | undefined = input.decision;
  let policy: PolicySnapshot | undefined = decision?.policy;
  let release: RequestDecision['release'] | null = decision?.release ?? null;
  let refusal: ReasonCode | undefined;
  if (!decision) {
    const decided = await admission.decideRequest({
      requestId: input.requestId, tenantId: input.tenantId, apiKeyId: input.apiKeyId, alias: input.alias, qosClass: input.qosClass, body: input.body,
      ...(input.bodyRef ? { bodyRef: input.bodyRef } : {}),
      // An embeddings batch line: only targets with an embeddings API are planned (absent for chat: the same input as before).
      ...(input.operation ? { operation: input.operation } : {}),
    });
    if ('refusal' in decided) {
      refusal = decided.refusal;
      policy = decided.policy;
      release = decided.release ?? null;
    } else {
      decision = decided.decision;
      policy = decision.policy;
      release = decision.release;
    }
  }

  const attempts: AttemptRecord[] = [];
  let admissionState: Admission = refusal ? admissionOfRefusal(refusal) : decision?.admission === 'queued' ? 'queued' : 'admitted';
  let admittedAt: number | null = refusal ? null : (input.decidedAt ?? input.receivedAt);
  let holdsLease = decision?.admission === 'leased';
  let answered: RunAttemptResult | undefined;
  let cancelled = false;
  let deadlineExpired = false;
  let bridged = false;

  try {
    // ---- queued admission: durable, FIFO-fair, bounded by the class's queue wait ----
    if (decision?.admission === 'queued') {
      admittedAt = null;
      const queueDeadline = Math.min(input.deadlineAt, input.receivedAt + decision.policy.qos.maxQueueWaitMs);
      let position = input.queueWait ? input.queueWait.position : decision.position;
      let delay = input.queueWait?.delay ?? 50;
      let polls = 0;
      for (;;) {
        state = `queued (position ${position ?? '?'})`;
        const left = queueDeadline - Date.now();
        if (left <= 0) break;
        if (polls >= (input.queuePollsPerRun ?? QUEUE_POLLS_PER_RUN) || workflowInfo().continueAsNewSuggested) {
          // A long wait goes on in a fresh run (same workflow id, same ticket): its history stays bounded.
          await continueAsNew<typeof chatRequestWorkflow>({ ...input, queueWait: { position, delay, runs: (input.queueWait?.runs ?? 0) + 1 } });
        }
        polls += 1;
        await sleep(Math.min(delay, left), { summary: `waiting for capacity (position ${position ?? '?'})` });
        delay = Math.min(delay * 2, 2_000);
        const polled = await admission.pollAdmission({
          requestId: input.requestId, tenantId: input.tenantId, apiKeyId: input.apiKeyId, qosClass: input.qosClass,
        });
        if (polled.state === 'admitted') {
          holdsLease = true;
          admittedAt = Date.now();
          break;
        }
        if (polled.state === 'rejected') {
          refusal = polled.reason;
          admissionState = 'rejected';
          break;
        }
        position = polled.position;
      }
      if (admittedAt === null && !refusal) {
        admissionState = 'expired_before_start';
        refusal = 'expired_before_start';
      }
    }

    // ---- attempts ----
    if (!refusal && decision) {
      const plan = decision.plan;
      const activePolicy = decision.policy;
      // Continuation of a broken stream (policy, alias, request header; decided at the front door). Off in older histories.
      const resume = input.stream && input.delivery === 'sync' && activePolicy.streamResume === true;
      let hedgesLeft = input.batchLine || input.qosClass === 'batch' ? 0 : activePolicy.maxHedges ?? 0;
      let continuation: { fromAttempt: number } | null = null;
      const run = async (candidate: PlannedAttempt, retryCause: string | null, hedgeWith?: PlannedAttempt): Promise<AttemptRecord | undefined> => {
        const n = attempts.length + 1;
        state = `attempt ${n}: ${candidate.provider}/${candidate.model} @${candidate.region}`;
        // A local first attempt that runs while its task is replayed has no marker: the worker that ran it died
        // before the task completed (lostTask: before its first completion; replaying: after a task heartbeat). Its
        // answer may be delivered and recorded already; the activity checks before calling again. (Only activity
        // inputs depend on this, never commands: replay stays deterministic.)
        const lostFirst = n === 1 && (lostTask || workflowInfo().unsafe.isReplaying);
        const args: RunAttemptInput = {
          request: {
            requestId: input.requestId, tenantId: input.tenantId, apiKeyId: input.apiKeyId, alias: input.alias, qosClass: input.qosClass,
            stream: input.stream, body: input.body, ...(input.bodyRef ? { bodyRef: input.bodyRef } : {}), receivedAt: input.receivedAt, deadlineAt: input.deadlineAt, delivery: input.delivery,
            batchLine: input.batchLine, keepResponse: input.keepResponse, uiBaseUrl: input.uiBaseUrl,
            ...(input.operation ? { operation: input.operation } : {}), ...(input.ingress ? { ingress: input.ingress } : {}),
          },
          attempt: candidate, n, retryCause: retryCause ?? (lostFirst ? 'worker_lost' : null),
          timeouts: { firstTokenMs: activePolicy.qos.firstTokenTimeoutMs, stallMs: activePolicy.qos.stallTimeoutMs },
          manifestRevision: decision!.release.capability_manifest_revision,
          facts: {
            release, admission: admissionState, admittedAt, previousAttempts: [...attempts],
            targets: { ttftTargetMs: activePolicy.qos.ttftTargetMs, totalTargetMs: activePolicy.qos.totalTargetMs },
            ...(decision!.routing ? { routing: decision!.routing } : {}),
          },
          holdsLease, recovering: lostFirst,
          ...(resume ? { resume } : {}),
          ...(continuation ? { continuation } : {}),
          ...(hedgeWith ? { hedge: { candidate: hedgeWith, afterMs: activePolicy.qos.ttftTargetMs } } : {}),
        };
        const summary = `attempt ${n}: ${candidate.provider}/${candidate.model} @${candidate.region} (${candidate.role}${args.retryCause ? `, ${args.retryCause}` : ''})`;
        const startToCloseTimeout = Math.max(1_000, input.deadlineAt - Date.now());
        const startedAt = Date.now();
        try {
          const result = attemptRunsLocally(input, n)
            ? await localAttempt.executeWithOptions({ ...localAttemptOptions, startToCloseTimeout, summary }, [args])
            : await remoteAttempt.executeWithOptions({ ...attemptOptions, activityId: `attempt-${n}`, summary, startToCloseTimeout }, [args]);
          attempts.push(...[result.attempt, ...(result.hedged ?? [])].sort((a, b) => a.n - b.n));
          answered = result;
          return undefined;
        } catch (error) {
          const record = attemptFromFailure(error, candidate, n, args.retryCause, startedAt, Date.now());
          attempts.push(...[record, ...otherAttemptsOfFailure(error)].sort((a, b) => a.n - b.n));
          if (isCancellation(error)) throw error;
          return record;
        }
      };

      let index = 0;
      let sameCandidateAttempts = 0;
      let retryCause: string | null = null;
      for (;;) {
        // Hedged first token: the next eligible target may start beside this attempt when its TTFT target passes.
        const hedgeWith = hedgesLeft > 0 && activePolicy.retry.failover && activePolicy.qos.ttftTargetMs < activePolicy.qos.firstTokenTimeoutMs
          ? plan[index + 1] : undefined;
        const before = attempts.length;
        const ran = await run(plan[index]!, retryCause, hedgeWith);
        // The attempt that decides what happens next: the one that failed last (not a hedge's loser).
        const failed = ran && (attempts.slice(before).filter((attempt) => attempt.failure_kind !== 'hedge_lost').at(-1) ?? ran);
        if (attempts.length - before > 1) {
          // The hedge ran and used one of the request's hedges. Unless the first target won it and then broke (it is the
          // one to retry), the hedge's target is the current one now, so a failover goes past it.
          hedgesLeft -= 1;
          if (!(failed && failed.n === before + 1 && failed.after_first_token)) index += 1;
        }
        if (!failed) break;
        // Workflow time stands still while local activities run inside one task: the attempt's own end is the later clock.
        const now = Math.max(Date.now(), Date.parse(failed.ended_at));
        if (failed.status === 'timed_out' && now >= input.deadlineAt) {
          deadlineExpired = true;
          break;
        }
        if (failed.failure_kind === 'cancelled') {
          // The client went away (the attempt heard it first): nothing more to try.
          cancelled = true;
          break;
        }
        sameCandidateAttempts += 1;
        const step = decideNextStep(
          { kind: failed.failure_kind ?? 'unknown', retryAfterMs: failed.retry_after_ms ?? null, afterFirstToken: failed.after_first_token,
            resumable: resume && failed.after_first_token === true },
          { attemptsMade: attempts.length, sameCandidateAttempts, candidatesLeft: plan.length - index - 1, now, deadlineAt: input.deadlineAt },
          activePolicy.retry, Math.random);
        if (step.action === 'stop') {
          if (step.reason === 'expired_during_execution') deadlineExpired = true;
          // Only a tenant that allows brokered execution ever asks (and only its new requests record the patch marker).
          const bridge = !activePolicy.allowBrokered ? undefined : patched(BRIDGE_VERIFIED_OUTAGE_PATCH)
            ? bridgeAfterOutage({ candidates: plan, skipped: decision.skipped ?? [] }, attempts, failed, true, deadlineExpired)
            : legacyBridgeCandidate(plan[0]!, attempts, failed, true, deadlineExpired);
          if (bridge) bridged = !(await run(bridge, `bridge:${failed.failure_kind}`));
          break;
        }
        if (step.action === 'failover') {
          index += 1;
          sameCandidateAttempts = 0;
        }
        retryCause = step.cause;
        // After content reached the client, the next attempt continues the stream from the front door's checkpoint.
        if (resume && failed.after_first_token) continuation = { fromAttempt: failed.n };
        if (step.delayMs > 0) await sleep(step.delayMs, { summary: `backoff ${step.delayMs} ms before attempt ${attempts.length + 1} (${step.cause})` });
      }
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    cancelled = true;
  }

  // ---- the outcome: computed once (by the winning attempt, or here), recorded, and its search attributes ----
  // The happy path (the winning attempt recorded its outcome) completes here, synchronously: no cancellation scope and no
  // await, so no promise of ours reaches the SDK's per-promise stack-trace hook (about 70 µs each on this machine; the
  // nonCancellable scope was six of them: bench/README.md). A scope emits no command, so histories replay either way.
  state = 'recording';
  const won = answered && attempts.some((attempt) => attempt.status === 'succeeded') ? answered : undefined;
  if (won?.recorded) {
    const outcome: RequestOutcome = { ...won.outcome, attempts };
    finalOutcome = outcome;
    upsertSearchAttributes(outcomeAttributes(input, outcome));
    state = 'done';
    return { outcome: { ...outcome, attempts: [] }, response: null };
  }
  return CancellationScope.nonCancellable(async () => {
    const lastEnded = attempts.at(-1)?.ended_at;
    const endedAt = Math.max(Date.now(), lastEnded ? Date.parse(lastEnded) : 0);
    const outcome = won ? { ...won.outcome, attempts } : computeOutcome({
      input: {
        requestId: input.requestId, tenantId: input.tenantId, alias: input.alias, qosClass: input.qosClass, receivedAt: input.receivedAt,
        deadlineAt: input.deadlineAt, stream: input.stream, requestedServiceTier: input.body.service_tier ?? undefined,
        ...(input.ingress ? { ingress: input.ingress } : {}),
      },
      release, admission: admissionState, refusal, admittedAt, attempts, endedAt, cancelled, deadlineExpired, bridged,
      targets: { ttftTargetMs: policy?.qos.ttftTargetMs ?? 0, totalTargetMs: policy?.qos.totalTargetMs ?? 0 },
      workflow: workflowRefFor(workflowInfo(), input.uiBaseUrl),
      ...(decision?.routing ? { routing: decision.routing } : {}),
    }, manifestFor(release?.capability_manifest_revision ?? 'cap_custom'));
    finalOutcome = outcome;
    upsertSearchAttributes(outcomeAttributes(input, outcome));
    let unrecorded = false;
    if (!won?.recorded) {
      const record: RecordOutcomeInput = {
        outcome, apiKeyId: input.apiKeyId, receivedAt: input.receivedAt, endedAt, response: won?.response, responseRef: won?.responseRef,
        batchLine: input.batchLine,
        // A waiter that was cancelled or expired while queued gives up its ticket now, not at the ticket's TTL.
        releaseLease: holdsLease || admissionState === 'queued' || admissionState === 'expired_before_start',
        publish: input.delivery === 'sync' && !won,
      };
      try {
        await bookkeeping.recordOutcome(record);
      } catch (error) {
        // Bounded retries are spent (or the data was refused): the fallback record, every string made well-formed. A
        // store that is down gets more time on durable timers (cheap: no task held open); refused data does not.
        log.warn('recording the outcome failed; writing the sanitised fallback', { requestId: input.requestId, error: String(error) });
        for (let round = 0; ; round += 1) {
          try {
            await bookkeeping.recordOutcome({ ...record, publish: false, sanitize: true });
            break;
          } catch (fallbackError) {
            const refused = (fallbackError as { cause?: { type?: string } }).cause?.type === RECORD_INVALID_DATA;
            if (refused || round >= FALLBACK_RECORD_ROUNDS) {
              log.error('the sanitised fallback record failed; the outcome stays in this history', { requestId: input.requestId, error: String(fallbackError) });
              unrecorded = true;
              break;
            }
            await sleep(Math.min(30_000, 1_000 * 2 ** round), { summary: 'waiting for the store to record the outcome' });
          }
        }
      }
    }
    state = 'done';
    // The answer went to the client on the bus and, when kept, to Postgres with the whole outcome: the result is how it ended.
    // Unrecorded (Postgres refused even the fallback): the full outcome stays in the result, the audit of last resort.
    return { outcome: unrecorded ? outcome : { ...outcome, attempts: [] }, response: null };
  });
}

/**
 * Written once, at the end: how the request ended. Tenant, alias, release and QoS class were set at
 * start by the front door; a batch line (started by its batch) gets them here.
 */
function outcomeAttributes(input: ChatRequestInput, outcome: RequestOutcome): SearchAttributeUpdatePair[] {
  const winner = outcome.attempts.find((attempt) => attempt.status === 'succeeded');
  const pairs: SearchAttributeUpdatePair[] = [
    { key: SearchAttributes.completion, value: outcome.completion ?? 'none' },
    { key: SearchAttributes.reasonCode, value: outcome.reason_code },
    { key: SearchAttributes.provider, value: winner?.provider ?? outcome.attempts.at(-1)?.provider ?? 'none' },
    { key: SearchAttributes.fallbackUsed, value: outcome.fallback_used },
  ];
  if (input.decision) return pairs;
  return [...pairs, { key: SearchAttributes.tenant, value: input.tenantId }, { key: SearchAttributes.alias, value: input.alias },
    { key: SearchAttributes.release, value: outcome.release_id ?? 'none' }, { key: SearchAttributes.qosClass, value: input.qosClass }];
}

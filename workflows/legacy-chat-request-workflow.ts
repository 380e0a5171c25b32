/**
 * The first released shape of chatRequestWorkflow, kept verbatim so that its histories replay and its
 * requests in flight across the upgrade finish (chatRequestWorkflow runs it for an input without a
 * front-door decision and no `decideInWorkflow` flag: inputs of that shape only). New requests never come here:
 * delete this file once no workflow of this shape can be running (the longest deadline, 24 h, after
 * the upgrade), together with the `admitRequest`/`callProvider` activities.
 *
 * Admission (local activity, durable queueing), resolution through the alias's live release, a plan
 * from src/domain, one `callProvider` activity per attempt with the workflow owning retry, backoff and
 * failover, then the outcome: computed by a pure function, rolled into search attributes and written
 * to Postgres after the answer has already gone out.
 */
import {
  CancellationScope, isCancellation, proxyActivities,
  proxyLocalActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AdmitResult, CallProviderInput, PolicySnapshot, Resolution } from '../activities/types';
import { buildAttemptPlan, seededRandom } from '../src/domain/attempt-plan';
import { modelCapability, supportsFlex } from '../src/domain/capabilities';
import { computeOutcome } from '../src/domain/outcome';
import type { ReasonCode } from '../src/domain/reason-codes';
import type {
  Admission, AttemptRecord, ChatRequestInput, ChatRequestResult, OutcomeFacts, PlannedAttempt, RequestOutcome,
} from '../src/domain/request-outcome';
import { decideNextStep } from '../src/domain/retry-decision';
import { SearchAttributes } from '../src/temporal/search-attributes';
import { attemptFromFailure, legacyBridgeCandidate } from './attempt-failure';
import { outcomeQuery, stateQuery } from './request-queries';


const admissionOptions = { startToCloseTimeout: '10s', retry: { maximumAttempts: 5, initialInterval: '50ms', maximumInterval: '1s' } } as const;
const bookkeepingOptions = { startToCloseTimeout: '30s', retry: { maximumAttempts: 20, initialInterval: '200ms', maximumInterval: '10s' } } as const;
/** One attempt = one activity execution; the workflow owns retries so every attempt stays in history. */
const attemptOptions = { retry: { maximumAttempts: 1 }, heartbeatTimeout: '10s' } as const;

const { admitRequest, releaseAdmission } = proxyLocalActivities<Activities>(admissionOptions);
const bookkeeping = proxyLocalActivities<Activities>(bookkeepingOptions);
const { callProvider } = proxyActivities<Activities>({ ...attemptOptions, startToCloseTimeout: '10m' });


export async function legacyChatRequestWorkflow(input: ChatRequestInput): Promise<ChatRequestResult> {
  const info = workflowInfo();
  const workflow = {
    id: info.workflowId, run_id: info.runId,
    ui_url: input.uiBaseUrl ? `${input.uiBaseUrl}/namespaces/${info.namespace}/workflows/${encodeURIComponent(info.workflowId)}/${info.runId}/history` : null,
  };
  let state = 'admitting';
  let finalOutcome: RequestOutcome | null = null;
  setHandler(outcomeQuery, () => finalOutcome);
  setHandler(stateQuery, () => state);

  const attempts: AttemptRecord[] = [];
  let admission: Admission = 'admitted';
  let admittedAt: number | null = null;
  let refusal: ReasonCode | undefined;
  let resolution: Resolution | undefined;
  let policy: PolicySnapshot | undefined;
  let response: Record<string, unknown> | null = null;
  let cancelled = false;
  let deadlineExpired = false;
  let bridged = false;
  let holdsLease = false;

  try {
    // ---- admission (durable, FIFO-fair queueing with bounded wait) ----
    let admitted: AdmitResult = await admitRequest({ ...admissionInput(input), retry: false });
    policy = admitted.policy;
    if (admitted.state === 'queued') {
      admission = 'queued';
      const queueDeadline = Math.min(input.deadlineAt, input.receivedAt + policy.qos.maxQueueWaitMs);
      let delay = 50;
      while (admitted.state === 'queued') {
        state = `queued (position ${admitted.position ?? '?'})`;
        const left = queueDeadline - Date.now();
        if (left <= 0) break;
        await sleep(Math.min(delay, left), { summary: `waiting for capacity (position ${admitted.position ?? '?'})` });
        delay = Math.min(delay * 2, 2_000);
        admitted = await admitRequest({ ...admissionInput(input), retry: true });
      }
      if (admitted.state === 'queued') {
        admission = 'expired_before_start';
        refusal = 'expired_before_start';
        await releaseAdmission(input.requestId);
      }
    }
    if (admitted.state === 'rejected') {
      admission = 'rejected';
      refusal = admitted.reason ?? 'rejected_policy';
    }
    if (admitted.state === 'admitted') {
      holdsLease = true;
      admittedAt = Date.now();
      resolution = admitted.resolution!;
      if (!resolution.release) {
        admission = 'rejected';
        refusal = 'unknown_alias';
      }
    }

    // ---- attempts ----
    if (!refusal && resolution?.release) {
      const release = resolution.release;
      const manifest = resolution.manifest;
      const random = seededRandom(input.requestId);
      const plan = buildAttemptPlan(release, {
        random, regions: resolution.regions, openCircuits: new Set(resolution.openCircuits), promptTokens: resolution.promptTokens,
        contextWindow: (provider, model) => modelCapability(manifest, provider, model)?.contextWindow,
      });
      // Flex runs at the provider's flex tier; targets without one serve it only where policy lets flex fall back to standard.
      if (input.qosClass === 'flex' && !policy.flexFallbackToStandard) {
        plan.candidates = plan.candidates.filter((candidate) => supportsFlex(manifest, candidate.provider, candidate.model));
      }
      if (plan.candidates.length === 0) {
        refusal = 'no_eligible_target';
      } else {
        const factsBase = (): CallProviderInput['facts'] => ({
          input: outcomeInput(input), release: { id: release.id, capability_manifest_revision: release.capability_manifest_revision },
          admission, admittedAt, targets: { ttftTargetMs: policy!.qos.ttftTargetMs, totalTargetMs: policy!.qos.totalTargetMs },
          workflow, previousAttempts: [...attempts],
        });
        const run = async (candidate: PlannedAttempt, retryCause: string | null) => {
          const n = attempts.length + 1;
          state = `attempt ${n}: ${candidate.provider}/${candidate.model} @${candidate.region}`;
          const startedAt = Date.now();
          try {
            const result = await callProvider.executeWithOptions({
              ...attemptOptions,
              activityId: `attempt-${n}`,
              summary: `attempt ${n}: ${candidate.provider}/${candidate.model} @${candidate.region} (${candidate.role}${retryCause ? `, ${retryCause}` : ''})`,
              startToCloseTimeout: Math.max(1_000, input.deadlineAt - Date.now()),
            }, [{
              request: { requestId: input.requestId, tenantId: input.tenantId, alias: input.alias, qosClass: input.qosClass, stream: input.stream,
                body: input.body, receivedAt: input.receivedAt, deadlineAt: input.deadlineAt, delivery: input.delivery },
              attempt: candidate, n, retryCause,
              timeouts: { firstTokenMs: policy!.qos.firstTokenTimeoutMs, stallMs: policy!.qos.stallTimeoutMs },
              facts: factsBase(), manifest,
            }]);
            attempts.push(result.attempt);
            response = result.body;
            return undefined;
          } catch (error) {
            const record = attemptFromFailure(error, candidate, n, retryCause, startedAt, Date.now());
            attempts.push(record);
            if (isCancellation(error)) throw error;
            return record;
          }
        };

        let index = 0;
        let sameCandidateAttempts = 0;
        let retryCause: string | null = null;
        for (;;) {
          const failed = await run(plan.candidates[index]!, retryCause);
          if (!failed) break;
          if (failed.status === 'timed_out' && Date.now() >= input.deadlineAt) {
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
            { kind: failed.failure_kind ?? 'unknown', retryAfterMs: failed.retry_after_ms ?? null, afterFirstToken: failed.after_first_token },
            { attemptsMade: attempts.length, sameCandidateAttempts, candidatesLeft: plan.candidates.length - index - 1, now: Date.now(), deadlineAt: input.deadlineAt },
            policy.retry, random);
          if (step.action === 'stop') {
            if (step.reason === 'expired_during_execution') deadlineExpired = true;

            const bridge = legacyBridgeCandidate(plan.candidates[0]!, attempts, failed, policy.allowBrokered, deadlineExpired);
            if (bridge) bridged = !(await run(bridge, `bridge:${failed.failure_kind}`));
            break;
          }
          if (step.action === 'failover') {
            index += 1;
            sameCandidateAttempts = 0;
          }
          retryCause = step.cause;
          if (step.delayMs > 0) await sleep(step.delayMs, { summary: `backoff ${step.delayMs} ms before attempt ${attempts.length + 1} (${step.cause})` });
        }
      }
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    cancelled = true;
  }

  // ---- bookkeeping: after the answer went out, and even when the client went away ----
  return CancellationScope.nonCancellable(async () => {
    state = 'recording';
    const endedAt = Date.now();
    // A waiter that was cancelled while queued must give up its ticket now, not hold its place until the ticket's TTL.
    if (holdsLease || admission === 'queued') await releaseAdmission(input.requestId);
    const facts: OutcomeFacts = {
      input: outcomeInput(input),
      release: resolution?.release ? { id: resolution.release.id, capability_manifest_revision: resolution.release.capability_manifest_revision } : null,
      admission, refusal, admittedAt, attempts, endedAt, cancelled, deadlineExpired, bridged,
      targets: { ttftTargetMs: policy?.qos.ttftTargetMs ?? 0, totalTargetMs: policy?.qos.totalTargetMs ?? 0 }, workflow,
    };
    const outcome = computeOutcome(facts, resolution?.manifest ?? { revision: 'cap_custom', models: {} });
    finalOutcome = outcome;
    const winner = attempts.find((attempt) => attempt.status === 'succeeded');
    upsertSearchAttributes([
      { key: SearchAttributes.release, value: outcome.release_id ?? 'none' },
      { key: SearchAttributes.admission, value: outcome.admission },
      { key: SearchAttributes.completion, value: outcome.completion ?? 'none' },
      { key: SearchAttributes.reasonCode, value: outcome.reason_code },
      { key: SearchAttributes.provider, value: winner?.provider ?? attempts.at(-1)?.provider ?? 'none' },
      { key: SearchAttributes.providersTried, value: [...new Set(attempts.map((attempt) => attempt.provider))] },
      { key: SearchAttributes.attempts, value: attempts.length },
      { key: SearchAttributes.fallbackUsed, value: outcome.fallback_used },
    ]);
    await bookkeeping.recordOutcome({
      outcome, apiKeyId: input.apiKeyId, receivedAt: input.receivedAt, endedAt,
      response: input.delivery === 'background' && response ? response : undefined, batchLine: input.batchLine,
    });
    state = 'done';
    // A batch line's parent needs only how it ended: keep the parent's history small.
    if (input.batchLine) return { outcome: { ...outcome, attempts: [] }, response: null };
    return { outcome, response: outcome.completion === 'completed' ? response : null };
  });
}

function admissionInput(input: ChatRequestInput) {
  return { requestId: input.requestId, tenantId: input.tenantId, apiKeyId: input.apiKeyId, alias: input.alias, qosClass: input.qosClass, body: input.body };
}

function outcomeInput(input: ChatRequestInput): OutcomeFacts['input'] {
  return {
    requestId: input.requestId, tenantId: input.tenantId, alias: input.alias, qosClass: input.qosClass, receivedAt: input.receivedAt,
    deadlineAt: input.deadlineAt, stream: input.stream,
  };
}

/**
 * createActivities(deps): every activity of Zumik's workflows, built from injected dependencies so
 * tests can swap them. Workflows import only the `Activities` type.
 */
import { hostname } from 'node:os';
import { createAdmissionActivities, type AdmissionDeps } from './admit-request';
import { createBatchActivities, type BatchActivityDeps } from './batch-activities';
import { createCallProvider, type CallProviderDeps } from './call-provider';
import { createProviderBatchActivities, type ProviderBatchDeps } from './provider-batch-activities';
import type { PayloadRefs } from './payload-refs';
import { createRecordOutcome, type BatchResultSink, type OutcomeObserver } from './record-outcome';
import { createRunAttempt, type RunAttemptDeps } from './run-attempt';
import { createReplayActivities, type ReplayActivityDeps } from './replay-activities';

export interface ActivityDeps {
  /** Identifies this worker process in probe results and logs. */
  workerIdentity?: string;
  admission?: AdmissionDeps;
  calls?: CallProviderDeps;
  outcomes?: RunAttemptDeps['outcomes'];
  batches?: BatchActivityDeps;
  providerBatches?: ProviderBatchDeps;
  /** Counts every recorded outcome (Prometheus); absent when metrics are off. */
  metrics?: OutcomeObserver;
  /** The claim check's store (large bodies and answers by reference). */
  payloads?: PayloadRefs;
  /** replayWorkflow's stores (retained prompts, replays, endpoints, releases); the calls come from `calls`. */
  replays?: Omit<ReplayActivityDeps, 'calls'>;
}

export function createActivities(deps: ActivityDeps = {}) {
  const identity = deps.workerIdentity ?? `${hostname()}:${process.pid}`;
  const missing = (name: string) => async (): Promise<never> => {
    throw new Error(`activity ${name} is not configured in this worker`);
  };
  const admission = deps.admission ? createAdmissionActivities({ ...deps.admission, payloads: deps.payloads }) : undefined;
  const batches = deps.batches ? createBatchActivities({ ...deps.batches, payloads: deps.payloads }) : undefined;
  const batchResults: BatchResultSink | undefined = deps.batches?.files;
  type BatchActivities = ReturnType<typeof createBatchActivities>;
  const native = deps.providerBatches ? createProviderBatchActivities(deps.providerBatches) : undefined;
  type NativeActivities = ReturnType<typeof createProviderBatchActivities>;
  const replays = deps.replays && deps.calls ? createReplayActivities({ ...deps.replays, calls: deps.calls }) : undefined;
  type ReplayActivities = ReturnType<typeof createReplayActivities>;
  return {
    /** Used by probeWorkflow: which worker ran the activity, and when. */
    async reportWorker(): Promise<{ worker: string; activityAt: string }> {
      return { worker: identity, activityAt: new Date().toISOString() };
    },
    admitRequest: admission?.admitRequest ?? (missing('admitRequest') as ReturnType<typeof createAdmissionActivities>['admitRequest']),
    releaseAdmission: admission?.releaseAdmission ?? (missing('releaseAdmission') as ReturnType<typeof createAdmissionActivities>['releaseAdmission']),
    decideRequest: admission?.decideRequest ?? (missing('decideRequest') as ReturnType<typeof createAdmissionActivities>['decideRequest']),
    pollAdmission: admission?.pollAdmission ?? (missing('pollAdmission') as ReturnType<typeof createAdmissionActivities>['pollAdmission']),
    runAttempt: deps.calls && deps.outcomes
      ? createRunAttempt({ calls: deps.calls, outcomes: deps.outcomes, batches: batchResults, payloads: deps.payloads, logger: deps.calls.logger, metrics: deps.metrics })
      : (missing('runAttempt') as ReturnType<typeof createRunAttempt>),
    callProvider: deps.calls ? createCallProvider(deps.calls) : (missing('callProvider') as ReturnType<typeof createCallProvider>),
    recordOutcome: deps.outcomes ? createRecordOutcome(deps.outcomes, batchResults, deps.calls?.bus, deps.payloads, deps.calls?.tracer !== undefined, deps.metrics, deps.calls?.prices) : (missing('recordOutcome') as ReturnType<typeof createRecordOutcome>),
    startBatch: batches?.startBatch ?? (missing('startBatch') as BatchActivities['startBatch']),
    readBatchLines: batches?.readBatchLines ?? (missing('readBatchLines') as BatchActivities['readBatchLines']),
    finalizeBatch: batches?.finalizeBatch ?? (missing('finalizeBatch') as BatchActivities['finalizeBatch']),
    readBatchLinesAt: batches?.readBatchLinesAt ?? (missing('readBatchLinesAt') as BatchActivities['readBatchLinesAt']),
    planBatch: native?.planBatch ?? (missing('planBatch') as NativeActivities['planBatch']),
    submitProviderBatch: native?.submitProviderBatch ?? (missing('submitProviderBatch') as NativeActivities['submitProviderBatch']),
    pollProviderBatch: native?.pollProviderBatch ?? (missing('pollProviderBatch') as NativeActivities['pollProviderBatch']),
    cancelProviderBatch: native?.cancelProviderBatch ?? (missing('cancelProviderBatch') as NativeActivities['cancelProviderBatch']),
    collectProviderBatch: native?.collectProviderBatch ?? (missing('collectProviderBatch') as NativeActivities['collectProviderBatch']),
    selectReplaySample: replays?.selectReplaySample ?? (missing('selectReplaySample') as ReplayActivities['selectReplaySample']),
    replayRequest: replays?.replayRequest ?? (missing('replayRequest') as ReplayActivities['replayRequest']),
    finishReplay: replays?.finishReplay ?? (missing('finishReplay') as ReplayActivities['finishReplay']),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * batchWorkflow: one OpenAI-style batch as a long-running workflow. Where the tenant's policy allows
 * and the target has one, lines first go to the provider's native batch API (jobs polled with durable
 * timers, results mapped back by custom_id); every other line — and, by policy, every line a provider
 * job failed — runs as a child chatRequestWorkflow (the same request path, QoS class `batch`) through
 * a sliding window. Each result line is written exactly once per custom_id. The run continues-as-new
 * before its history grows large; a cancel signal stops new lines (and optionally cancels in-flight
 * ones); the completion window expires what is unfinished; finalisation publishes the files.
 */
import {
  CancellationScope, ParentClosePolicy, WorkflowIdReusePolicy, condition, continueAsNew, defineQuery, defineSignal, isCancellation,
  proxyActivities, setHandler, sleep, startChild, workflowInfo, type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BatchPlan, ProviderJobRef } from '../activities/provider-batch-activities';
import type { BatchLineRef } from '../activities/types';
import { INPUT_FILE_MISSING } from '../src/domain/batch-failures';
import type { ChatRequestInput, ChatRequestResult } from '../src/domain/request-outcome';

export interface BatchWorkflowInput {
  batchId: string;
  tenantId: string;
  apiKeyId: string;
  inputFileId: string;
  totalLines: number;
  /** Epoch ms: the end of the completion window. */
  expiresAt: number;
  /** Child requests in flight at once (the tenant's `batch.max_concurrency`). */
  window: number;
  /** Lines per workflow run before continue-as-new (bounds each run's history). */
  linesPerRun?: number;
  /** Provider-job poll rounds per workflow run before continue-as-new (default NATIVE_POLLS_PER_RUN). */
  pollsPerRun?: number;
  uiBaseUrl?: string | null;
}

export interface BatchRunState {
  /** Sequential phase: the next input line to start. */
  nextLine: number;
  /** Set after a provider-native phase: only these lines run online, from `queuePos`. */
  onlineQueue?: number[];
  queuePos: number;
  plan?: BatchPlan;
  nativeDone: boolean;
  /** The provider-native phase in progress: carried across continue-as-new while its jobs are polled. */
  native?: NativeProgress;
  completed: number;
  failed: number;
  cancel: 'none' | 'finish' | 'cancel';
  runs: number;
}

/** What the provider-native phase has done so far (its jobs, their lines sent online, the polling's backoff). */
export interface NativeProgress {
  jobs: ProviderJobRef[];
  online: number[];
  /** Job ids not done yet. */
  pending: string[];
  delay: number;
  cancelled: boolean;
}

/**
 * Provider-job poll rounds per run (each a timer plus one activity per job) before continue-as-new: a
 * day of polling at a short interval never nears Temporal's 51,200-event history limit.
 */
const NATIVE_POLLS_PER_RUN = 500;

export interface BatchProgress extends Omit<BatchRunState, 'onlineQueue' | 'plan' | 'native'> {
  total: number;
  inFlight: number;
  status: string;
  mode: BatchPlan['mode'] | 'planning';
  onlineLines: number | null;
}

/** Stop starting lines; `cancelInFlight` also cancels the running ones. */
export const cancelBatchSignal = defineSignal<[{ cancelInFlight: boolean }]>('cancelBatch');
export const batchProgressQuery = defineQuery<BatchProgress>('progress');

const activities = proxyActivities<Activities>({ startToCloseTimeout: '10m', retry: { initialInterval: '1s', maximumInterval: '30s' } });

/** Most lines a page holds; the page read also stops at a byte budget (BATCH_PAGE_BYTES), so big lines make short pages. */
const PAGE_SIZE = 100;

/** The message of an input-file-missing failure (an activity's cause), else undefined. */
function inputFileMissing(error: unknown): string | undefined {
  const cause = (error as { cause?: { type?: string; message?: string } } | undefined)?.cause;
  return cause?.type === INPUT_FILE_MISSING ? cause.message ?? 'The input file is gone.' : undefined;
}

export async function batchWorkflow(input: BatchWorkflowInput, carried?: BatchRunState): Promise<BatchProgress> {
  const state: BatchRunState = carried ?? { nextLine: 0, queuePos: 0, nativeDone: false, completed: 0, failed: 0, cancel: 'none', runs: 0 };
  state.runs += 1;
  let status = 'in_progress';
  const inFlight = new Map<number, ChildWorkflowHandle<never> | undefined>();
  const progress = (): BatchProgress => {
    const { onlineQueue, plan, native: _native, ...rest } = state;
    return { ...rest, total: input.totalLines, inFlight: inFlight.size, status, mode: plan?.mode ?? 'planning', onlineLines: onlineQueue?.length ?? null };
  };
  setHandler(batchProgressQuery, progress);
  setHandler(cancelBatchSignal, ({ cancelInFlight }) => {
    state.cancel = cancelInFlight ? 'cancel' : state.cancel === 'cancel' ? 'cancel' : 'finish';
  });

  let expired = Date.now() >= input.expiresAt;
  const expiryScope = new CancellationScope();
  void expiryScope.run(() => sleep(Math.max(0, input.expiresAt - Date.now()), { summary: 'completion window' }))
    .then(() => { expired = true; }, () => undefined);
  // The input file deleted or expired under the batch: no more lines can be read; what runs finishes, the batch fails.
  let missingInput: string | undefined;
  const stopping = () => expired || state.cancel !== 'none' || missingInput !== undefined;
  const readingInput = async <T>(read: () => Promise<T>, otherwise: T): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      missingInput = inputFileMissing(error);
      if (missingInput === undefined) throw error;
      return otherwise;
    }
  };

  if (!carried) {
    await activities.startBatch({ batchId: input.batchId, tenantId: input.tenantId });
    state.plan = await readingInput(() => activities.planBatch({ batchId: input.batchId, tenantId: input.tenantId, inputFileId: input.inputFileId }),
      { mode: 'online' } as BatchPlan);
  }
  // A native phase already under way (this run continued it) resumes even when stopping: it cancels its jobs.
  if (state.plan?.mode === 'provider_native' && !state.nativeDone && (state.native !== undefined || !stopping())) {
    status = 'provider_native';
    const plan = state.plan;
    const continueRun = async () => {
      expiryScope.cancel();
      await continueAsNew<typeof batchWorkflow>(input, state);
    };
    state.onlineQueue = await readingInput(() => runProviderNative(input, plan, stopping, state, continueRun), []);
    state.nativeDone = true;
    state.native = undefined;
    status = 'in_progress';
  }

  // ---- the online path: a sliding window of child request workflows ----
  const childrenScope = new CancellationScope();
  const linesPerRun = input.linesPerRun ?? 500;
  let startedThisRun = 0;
  let page: BatchLineRef[] = [];
  const more = () => (state.onlineQueue ? state.queuePos < state.onlineQueue.length : state.nextLine < input.totalLines);

  while (more() && !stopping()) {
    if (startedThisRun >= linesPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(() => inFlight.size === 0);
      expiryScope.cancel();
      await continueAsNew<typeof batchWorkflow>(input, state);
    }
    await condition(() => inFlight.size < input.window || stopping());
    if (stopping()) break;
    if (page.length === 0) {
      const onlineQueue = state.onlineQueue;
      page = await readingInput(() => (onlineQueue
        ? activities.readBatchLinesAt({ tenantId: input.tenantId, inputFileId: input.inputFileId,
          indices: onlineQueue.slice(state.queuePos, state.queuePos + PAGE_SIZE), keepUntil: input.expiresAt })
        : activities.readBatchLines({ batchId: input.batchId, tenantId: input.tenantId, inputFileId: input.inputFileId, fromLine: state.nextLine,
          count: Math.min(PAGE_SIZE, input.totalLines - state.nextLine), keepUntil: input.expiresAt })), []);
      if (page.length === 0) break; // fewer lines than counted (finalisation reports the missing ones), or the input is gone
    }
    const line = page.shift()!;
    if (state.onlineQueue) state.queuePos += 1;
    else state.nextLine = line.lineIndex + 1;
    startedThisRun += 1;
    // Not awaited: every free slot gets its child in the same workflow task (a start per round trip would crawl).
    inFlight.set(line.lineIndex, undefined);
    void childrenScope.run(() => runLine(input, line, inFlight, state)).catch(() => {
      inFlight.delete(line.lineIndex); // not started: finalisation writes this line's error
    });
  }

  status = stopping() ? (expired ? 'expiring' : missingInput !== undefined ? 'failing' : 'cancelling') : 'finishing';
  if (expired || state.cancel === 'cancel') childrenScope.cancel();
  await condition(() => inFlight.size === 0);
  expiryScope.cancel();

  let finalStatus: 'expired' | 'cancelled' | 'completed' | 'failed' = expired ? 'expired' : state.cancel !== 'none' ? 'cancelled'
    : missingInput !== undefined ? 'failed' : 'completed';
  // Finalisation reads the input for lines without a result: a file gone by then fails the batch the same way.
  if (finalStatus !== 'failed') {
    await CancellationScope.nonCancellable(() => readingInput(
      () => activities.finalizeBatch({ batchId: input.batchId, tenantId: input.tenantId, status: finalStatus }), undefined));
  }
  if (missingInput !== undefined) {
    finalStatus = 'failed';
    const error = { code: 'input_file_missing', message: missingInput, param: 'input_file_id', line: null };
    await CancellationScope.nonCancellable(() => activities.finalizeBatch({ batchId: input.batchId, tenantId: input.tenantId, status: 'failed', error }));
  }
  status = finalStatus;
  return progress();
}

/**
 * Submit the lines as provider jobs, poll them with durable timers (backing off to the policy's
 * interval), cancel them if the batch stops, and collect their results. Returns the lines that go online.
 */
async function runProviderNative(input: BatchWorkflowInput, plan: Extract<BatchPlan, { mode: 'provider_native' }>, stopping: () => boolean,
  state: BatchRunState, continueRun: () => Promise<void>): Promise<number[]> {
  const range = { batchId: input.batchId, tenantId: input.tenantId, inputFileId: input.inputFileId };
  if (!state.native) {
    const jobs: ProviderJobRef[] = [];
    const online: number[] = [];
    for (let fromLine = 0; fromLine < input.totalLines && !stopping(); fromLine += plan.linesPerJob) {
      const count = Math.min(plan.linesPerJob, input.totalLines - fromLine);
      const submitted = await activities.submitProviderBatch({ ...range, fromLine, count, alias: plan.alias, target: plan.target });
      online.push(...submitted.online);
      if (submitted.job) jobs.push(submitted.job);
    }
    state.native = { jobs, online, pending: jobs.map((job) => job.jobId), delay: 1_000, cancelled: false };
  }
  const native = state.native;
  let polls = 0;
  while (native.pending.length > 0) {
    if (polls >= (input.pollsPerRun ?? NATIVE_POLLS_PER_RUN) || workflowInfo().continueAsNewSuggested) await continueRun();
    polls += 1;
    if (stopping() && !native.cancelled) {
      native.cancelled = true;
      for (const jobId of native.pending) await activities.cancelProviderBatch({ tenantId: input.tenantId, target: plan.target, jobId });
    }
    await condition(() => stopping() && !native.cancelled, Math.min(native.delay, plan.pollIntervalMs));
    native.delay = Math.min(native.delay * 2, plan.pollIntervalMs);
    for (const jobId of [...native.pending]) {
      const job = await activities.pollProviderBatch({ tenantId: input.tenantId, target: plan.target, jobId });
      if (job.done) native.pending = native.pending.filter((id) => id !== jobId);
    }
  }
  const online = [...native.online];
  for (const job of native.jobs) {
    const collected = await activities.collectProviderBatch({
      ...range, fromLine: job.fromLine, count: job.count, alias: plan.alias, target: plan.target, jobId: job.jobId,
      fallbackOnline: plan.fallbackOnline && !stopping(),
    });
    online.push(...collected.online);
  }
  return online.sort((a, b) => a - b);
}

async function runLine(input: BatchWorkflowInput, line: BatchLineRef, inFlight: Map<number, ChildWorkflowHandle<never> | undefined>,
  state: BatchRunState): Promise<void> {
  const childInput: ChatRequestInput = {
    requestId: `batch_req_${input.batchId.replace(/^batch_/, '')}_${line.lineIndex}`,
    tenantId: input.tenantId, apiKeyId: input.apiKeyId, alias: String(line.body.model ?? ''), qosClass: 'batch',
    receivedAt: Date.now(), deadlineAt: input.expiresAt, stream: false,
    // An embeddings line's body is OpenAI's embeddings request, as on POST /v1/embeddings (no stream field).
    body: line.operation === 'embeddings' ? line.body : { ...line.body, stream: false },
    ...(line.bodyRef ? { bodyRef: line.bodyRef } : {}),
    ...(line.operation === 'embeddings' ? { operation: 'embeddings' as const, ingress: 'openai_embeddings' as const } : {}),
    delivery: 'background', uiBaseUrl: input.uiBaseUrl, decideInWorkflow: true,
    batchLine: { batchId: input.batchId, customId: line.customId, lineIndex: line.lineIndex },
  };
  const handle = await startChild('chatRequestWorkflow', {
    workflowId: `batch:${input.tenantId}:${input.batchId}:${line.lineIndex}`,
    args: [childInput],
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: `batch ${input.batchId} line ${line.lineIndex} (${line.customId})`,
  }).catch((error: unknown) => {
    // Already started (a replayed start after a restart): its result line is already recorded or will be.
    if ((error as Error)?.name === 'WorkflowExecutionAlreadyStartedError') return undefined;
    throw error;
  });
  if (!handle) {
    inFlight.delete(line.lineIndex);
    return;
  }
  inFlight.set(line.lineIndex, handle as ChildWorkflowHandle<never>);
  (handle.result() as Promise<ChatRequestResult>).then(
    (result) => {
      if (result.outcome.completion === 'completed') state.completed += 1;
      else state.failed += 1;
    },
    (error: unknown) => {
      if (!isCancellation(error)) state.failed += 1;
    },
  ).finally(() => inFlight.delete(line.lineIndex));
}

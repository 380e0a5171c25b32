/**
 * batchWorkflow: one OpenAI-style batch as a long-running workflow. Lines run as child
 * chatRequestWorkflows (the same request path, QoS class `batch`) through a sliding window; each
 * child records its own result line exactly once (keyed by custom_id). The run continues-as-new
 * before its history grows large; a cancel signal stops new lines (and optionally cancels in-flight
 * ones); the completion window expires what is unfinished. Finalisation writes the missing lines
 * into the error file and publishes the output and error files.
 */
import {
  ParentClosePolicy, WorkflowIdReusePolicy, condition, continueAsNew, defineQuery, defineSignal, isCancellation, proxyActivities,
  setHandler, sleep, startChild, workflowInfo, CancellationScope, type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BatchLineRef } from '../activities/types';
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
  uiBaseUrl?: string | null;
}

export interface BatchRunState {
  nextLine: number;
  completed: number;
  failed: number;
  cancel: 'none' | 'finish' | 'cancel';
  runs: number;
}

export interface BatchProgress extends BatchRunState {
  total: number;
  inFlight: number;
  status: string;
}

/** Stop starting lines; `cancelInFlight` also cancels the running ones. */
export const cancelBatchSignal = defineSignal<[{ cancelInFlight: boolean }]>('cancelBatch');
export const batchProgressQuery = defineQuery<BatchProgress>('progress');

const { startBatch, readBatchLines, finalizeBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5m', retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const PAGE_SIZE = 100;

export async function batchWorkflow(input: BatchWorkflowInput, carried?: BatchRunState): Promise<BatchProgress> {
  const state: BatchRunState = carried ?? { nextLine: 0, completed: 0, failed: 0, cancel: 'none', runs: 0 };
  state.runs += 1;
  let status = 'in_progress';
  const inFlight = new Map<number, ChildWorkflowHandle<never> | undefined>();
  const progress = (): BatchProgress => ({ ...state, total: input.totalLines, inFlight: inFlight.size, status });
  setHandler(batchProgressQuery, progress);
  setHandler(cancelBatchSignal, ({ cancelInFlight }) => {
    state.cancel = cancelInFlight ? 'cancel' : state.cancel === 'cancel' ? 'cancel' : 'finish';
  });

  if (!carried) await startBatch({ batchId: input.batchId, tenantId: input.tenantId });

  let expired = Date.now() >= input.expiresAt;
  const expiryScope = new CancellationScope();
  void expiryScope.run(() => sleep(Math.max(0, input.expiresAt - Date.now()), { summary: 'completion window' }))
    .then(() => { expired = true; }, () => undefined);
  const childrenScope = new CancellationScope();

  const linesPerRun = input.linesPerRun ?? 500;
  const runStart = state.nextLine;
  let page: BatchLineRef[] = [];
  const stopping = () => expired || state.cancel !== 'none';

  while (state.nextLine < input.totalLines && !stopping()) {
    if (state.nextLine - runStart >= linesPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(() => inFlight.size === 0);
      expiryScope.cancel();
      await continueAsNew<typeof batchWorkflow>(input, state);
    }
    await condition(() => inFlight.size < input.window || stopping());
    if (stopping()) break;
    if (page.length === 0) {
      page = await readBatchLines({
        batchId: input.batchId, tenantId: input.tenantId, inputFileId: input.inputFileId, fromLine: state.nextLine,
        count: Math.min(PAGE_SIZE, input.totalLines - state.nextLine),
      });
      if (page.length === 0) break; // the file has fewer lines than counted: finalisation reports it
    }
    const line = page.shift()!;
    state.nextLine = line.lineIndex + 1;
    // Not awaited: every free slot gets its child in the same workflow task (a start per round trip would crawl).
    inFlight.set(line.lineIndex, undefined);
    void childrenScope.run(() => runLine(input, line, inFlight, state)).catch(() => {
      inFlight.delete(line.lineIndex); // not started: finalisation writes this line's error
    });
  }

  status = stopping() ? (expired ? 'expiring' : 'cancelling') : 'finishing';
  if (expired || state.cancel === 'cancel') childrenScope.cancel();
  await condition(() => inFlight.size === 0);
  expiryScope.cancel();

  const finalStatus = expired ? 'expired' : state.cancel !== 'none' ? 'cancelled' : 'completed';
  status = finalStatus;
  await CancellationScope.nonCancellable(() => finalizeBatch({ batchId: input.batchId, tenantId: input.tenantId, status: finalStatus }));
  return progress();
}

async function runLine(input: BatchWorkflowInput, line: BatchLineRef, inFlight: Map<number, ChildWorkflowHandle<never> | undefined>, state: BatchRunState): Promise<void> {
  const childInput: ChatRequestInput = {
    requestId: `batch_req_${input.batchId.replace(/^batch_/, '')}_${line.lineIndex}`,
    tenantId: input.tenantId, apiKeyId: input.apiKeyId, alias: String(line.body.model ?? ''), qosClass: 'batch',
    receivedAt: Date.now(), deadlineAt: input.expiresAt, stream: false, body: { ...line.body, stream: false },
    delivery: 'background', uiBaseUrl: input.uiBaseUrl,
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

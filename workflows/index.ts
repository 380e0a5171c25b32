/** Every workflow Zumik's worker runs; bundled once by the build step (scripts/build-workflow-bundle.ts). */
export { probeWorkflow } from './probe-workflow';
export { chatRequestWorkflow, outcomeQuery, stateQuery } from './chat-request-workflow';
export { batchWorkflow, batchProgressQuery, cancelBatchSignal } from './batch-workflow';
export { replayWorkflow, replayProgressQuery } from './replay-workflow';

/**
 * The smallest real workflow: one local activity that reports which worker ran it. Zumik runs it once
 * at start-up to prove the whole path (eager start on the shared connection, the prebuilt bundle, the
 * worker, activities) before it reports ready.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const probeActivityOptions = { startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } } as const;

const { reportWorker } = proxyLocalActivities<Activities>(probeActivityOptions);

export interface ProbeResult {
  worker: string;
  activityAt: string;
}

export async function probeWorkflow(): Promise<ProbeResult> {
  return reportWorker();
}

/**
 * createActivities(deps): the activities of Zumik's workflows, built from injected dependencies so
 * tests can swap them. Workflows import only the `Activities` type.
 */
import { hostname } from 'node:os';

export interface ActivityDeps {
  /** Identifies this worker process in probe results and logs. */
  workerIdentity?: string;
}

export function createActivities(deps: ActivityDeps = {}) {
  const identity = deps.workerIdentity ?? `${hostname()}:${process.pid}`;
  return {
    /** Used by probeWorkflow: which worker ran the activity, and when. */
    async reportWorker(): Promise<{ worker: string; activityAt: string }> {
      return { worker: identity, activityAt: new Date().toISOString() };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

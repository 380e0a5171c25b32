/**
 * replayWorkflow: one replay (README "Replay") as a durable workflow. It draws the sample once (an
 * activity reads retained prompts and stores the request ids in Postgres), replays each sampled request
 * against the candidate in shadow (one activity per request, a few at a time; each activity reads its
 * prompt by id and writes its result by id), and finishes with the report. History holds ids and counts
 * only. A run replays at most `pageSize` requests, then continues as new, so no history nears
 * Temporal's 51,200-event limit however large the sample. Progress: the `progress` query, the
 * activities' summaries (`replay 12/200 (req …)`) and the run's current details in the UI.
 */
import { continueAsNew, defineQuery, proxyActivities, setCurrentDetails, setHandler, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface ReplayWorkflowInput {
  replayId: string;
  tenantId: string;
  /** Requests replayed per run before continue-as-new (default REPLAY_PAGE_SIZE). */
  pageSize?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Carried across continue-as-new: the sample size once drawn, the next item, and how many succeeded so far. */
  count?: number;
  next?: number;
  succeeded?: number;
  runs?: number;
}

export interface ReplayProgress {
  replayId: string;
  status: 'sampling' | 'replaying' | 'reporting' | 'completed';
  count: number | null;
  done: number;
  succeeded: number;
  runs: number;
  verdict: 'pass' | 'fail' | null;
}

/**
 * Requests per run: each is about 3 events (scheduled, started, completed) plus its share of workflow
 * tasks, so 2,000 stays far below the 51,200-event history limit.
 */
export const REPLAY_PAGE_SIZE = 2_000;

export const replayProgressQuery = defineQuery<ReplayProgress>('progress');

const bookkeeping = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 10, initialInterval: '500ms', maximumInterval: '10s' } });
/** A shadow call that fails is a result (stored, counted); only the activity's own trouble (the store down) is retried. */
const shadowOptions: ActivityOptions = {
  startToCloseTimeout: '3m', retry: { maximumAttempts: 5, initialInterval: '1s', maximumInterval: '15s', nonRetryableErrorTypes: ['Replay.candidate_missing'] },
};
const shadow = proxyActivities<Activities>(shadowOptions);

export async function replayWorkflow(input: ReplayWorkflowInput): Promise<{ verdict: 'pass' | 'fail'; count: number }> {
  const pageSize = Math.max(1, input.pageSize ?? REPLAY_PAGE_SIZE);
  const concurrency = Math.max(1, input.concurrency ?? 4);
  const progress: ReplayProgress = {
    replayId: input.replayId, status: input.count === undefined ? 'sampling' : 'replaying', count: input.count ?? null,
    done: input.next ?? 0, succeeded: input.succeeded ?? 0, runs: (input.runs ?? 0) + 1, verdict: null,
  };
  setHandler(replayProgressQuery, () => progress);
  const describe = () => setCurrentDetails(`**${progress.status}** · ${progress.done}/${progress.count ?? '?'} replayed · ${progress.succeeded} answered · run ${progress.runs}`);

  const count = input.count ?? (await bookkeeping.selectReplaySample({ replayId: input.replayId })).count;
  progress.count = count;
  progress.status = 'replaying';
  describe();

  const end = Math.min(count, progress.done + pageSize);
  let next = progress.done;
  const lane = async () => {
    while (next < end) {
      const seq = next;
      next += 1;
      const { ok } = await shadow.replayRequest.executeWithOptions(
        { ...shadowOptions, activityId: `replay-${seq}`, summary: `replay ${seq + 1}/${count}` },
        [{ replayId: input.replayId, tenantId: input.tenantId, seq }]);
      progress.done += 1;
      if (ok) progress.succeeded += 1;
      describe();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(0, end - next)) }, lane));

  if (end < count) {
    return continueAsNew<typeof replayWorkflow>({
      ...input, count, next: end, succeeded: progress.succeeded, runs: progress.runs,
    });
  }
  progress.status = 'reporting';
  describe();
  const finished = await bookkeeping.finishReplay({ replayId: input.replayId });
  progress.status = 'completed';
  progress.verdict = finished.verdict;
  describe();
  return finished;
}

/**
 * recordOutcome (local activity, after the answer): the request and its attempts into Postgres (with
 * its admission lease freed in the same statement), the outcome to a waiting client that got no answer
 * on the bus, and,
 * for a batch line, its result line — exactly once per custom_id (the batch's result rows are keyed
 * by it). A cancelled line writes no result: the batch decides what a cancelled line means.
 */
import { requestChannel } from '../src/domain/request-messages';
import type { RequestOutcome } from '../src/domain/request-outcome';
import { outcomeErrorShape } from '../src/domain/reason-code-errors';
import type { BatchResultBody, ResultKind } from '../src/store/batch-result-store';
import type { StreamBus } from '../src/streaming/stream-bus';
import type { RecordOutcomeInput } from './types';

export interface OutcomeStore {
  record(input: Omit<RecordOutcomeInput, 'batchLine'>): Promise<void>;
}

export interface BatchResultSink {
  appendResult(result: { batchId: string; customId: string; lineIndex: number; kind: ResultKind; body: BatchResultBody }): Promise<boolean>;
}

/** OpenAI's batch output/error line body (without `id` and `custom_id`, which the file adds). */
export function batchResultLine(outcome: RequestOutcome, response: Record<string, unknown> | undefined): { kind: ResultKind; body: BatchResultBody } {
  if (outcome.completion === 'completed' && response) {
    return { kind: 'output', body: { response: { status_code: 200, request_id: outcome.id, body: response }, error: null } };
  }
  const error = outcomeErrorShape(outcome);
  return { kind: 'error', body: { response: { status_code: error.status, request_id: outcome.id, body: error.envelope }, error: null } };
}

/** Counts a recorded outcome (ZumikMetrics); absent when metrics are off. */
export interface OutcomeObserver {
  observeOutcome(outcome: RequestOutcome, options?: { batchLine?: boolean }): void;
}

export function createRecordOutcome(store: OutcomeStore, batches?: BatchResultSink, bus?: Pick<StreamBus, 'publish'>, metrics?: OutcomeObserver) {
  return async function recordOutcome(input: RecordOutcomeInput): Promise<void> {
    const { batchLine, publish, ...record } = input;
    // The waiting client hears first; the record follows.
    if (publish && bus) await bus.publish(requestChannel(input.outcome.id), { type: 'outcome', outcome: input.outcome }).catch(() => undefined);
    await store.record(batchLine ? { ...record, response: undefined } : record);
    // Counted once it is recorded: a failed write is recorded (and counted) again by the workflow.
    metrics?.observeOutcome(input.outcome, { batchLine: batchLine !== undefined });
    if (batchLine && input.outcome.completion !== 'cancelled') {
      if (!batches) throw new Error('recordOutcome: a batch line needs the batch result store');
      const line = batchResultLine(input.outcome, input.response);
      await batches.appendResult({ batchId: batchLine.batchId, customId: batchLine.customId, lineIndex: batchLine.lineIndex, ...line });
    }
  };
}

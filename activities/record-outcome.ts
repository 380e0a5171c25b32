/**
 * recordOutcome (local activity, after the answer): the request and its attempts into Postgres (with
 * its admission lease freed in the same statement), the outcome to a waiting client that got no answer
 * on the bus, and,
 * for a batch line, its result line — exactly once per custom_id (the batch's result rows are keyed
 * by it). A cancelled line writes no result: the batch decides what a cancelled line means.
 */
import { ApplicationFailure } from '@temporalio/common';
import { priceOutcome, type PriceManifest } from '../src/domain/price-manifest';
import { RECORD_INVALID_DATA } from '../src/domain/record-failures';
import { requestChannel } from '../src/domain/request-messages';
import { wellFormed } from '../src/domain/well-formed';
import type { RequestOutcome } from '../src/domain/request-outcome';
import { outcomeErrorShape } from '../src/domain/reason-code-errors';
import type { BatchResultBody, ResultKind } from '../src/store/batch-result-store';
import type { StreamBus } from '../src/streaming/stream-bus';
import { activeTraceId, recordReasonCode } from './provider-call-span';
import type { PayloadRefs } from './payload-refs';
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

/** The outcome with the trace this activity runs in; the reason code on the span that records it. */
function withTraceId<T extends { outcome: RequestOutcome }>(input: T): T {
  recordReasonCode(input.outcome.reason_code);
  const traceId = input.outcome.trace_id ?? activeTraceId();
  return traceId ? { ...input, outcome: { ...input.outcome, trace_id: traceId } } : input;
}

/** Counts a recorded outcome (ZumikMetrics); absent when metrics are off. */
export interface OutcomeObserver {
  observeOutcome(outcome: RequestOutcome, options?: { batchLine?: boolean }): void;
}

/** `tracing`: the recorded outcome carries the trace it ran in (`trace_id`), and the span its reason code. `metrics`: counts it. */
export function createRecordOutcome(store: OutcomeStore, batches?: BatchResultSink, bus?: Pick<StreamBus, 'publish'>, payloads?: PayloadRefs, tracing = false,
  metrics?: OutcomeObserver, prices?: { current(): Promise<PriceManifest> }) {
  return async function recordOutcome(carried: RecordOutcomeInput): Promise<void> {
    const { responseRef, ...rest } = carried;
    let input: Omit<RecordOutcomeInput, 'responseRef'> = rest;
    if (responseRef) {
      if (!payloads) throw new Error('an answer passed by reference needs the payload store in this worker');
      input = { ...rest, response: await payloads.get<Record<string, unknown>>(input.outcome.tenant, responseRef) };
    }
    // An outcome the workflow computed (no answer: failed, cancelled, expired) is costed here, with the current prices.
    if (prices && input.outcome.price_manifest_revision === undefined) input = { ...input, outcome: priceOutcome(input.outcome, await prices.current()) };
    if (input.sanitize) input = { ...input, outcome: wellFormed(input.outcome), response: wellFormed(input.response) };
    if (tracing) input = withTraceId(input);
    const { batchLine, publish, sanitize: _sanitize, ...record } = input;
    // The waiting client hears first; the record follows.
    if (publish && bus) await bus.publish(requestChannel(input.outcome.id), { type: 'outcome', outcome: input.outcome }).catch(() => undefined);
    // A batch line's result goes first (exactly once per line): a worker lost between the two writes then leaves a
    // request unrecorded, which its re-run records, never a recorded request whose line has no result (a re-run that
    // finds the request recorded takes it as done).
    if (batchLine && input.outcome.completion !== 'cancelled') {
      if (!batches) throw new Error('recordOutcome: a batch line needs the batch result store');
      const line = batchResultLine(input.outcome, input.response);
      await batches.appendResult({ batchId: batchLine.batchId, customId: batchLine.customId, lineIndex: batchLine.lineIndex, ...line });
    }
    try {
      await store.record(batchLine ? { ...record, response: undefined } : record);
    } catch (error) {
      // SQLSTATE class 22 (data exception: an invalid string, a number out of range) fails the same way every time.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('22')) {
        throw ApplicationFailure.create({ type: RECORD_INVALID_DATA, nonRetryable: true, message: `the record was refused (${code}): ${(error as Error).message}` });
      }
      throw error;
    }
    // Counted once it is recorded: a failed write is recorded (and counted) again by the workflow.
    metrics?.observeOutcome(input.outcome, { batchLine: batchLine !== undefined });
  };
}

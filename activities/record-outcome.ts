/** recordOutcome (local activity, after the answer): the request and its attempts into Postgres. */
import type { RecordOutcomeInput } from './types';

export interface OutcomeStore {
  record(input: RecordOutcomeInput): Promise<void>;
}

export function createRecordOutcome(store: OutcomeStore) {
  return async function recordOutcome(input: RecordOutcomeInput): Promise<void> {
    await store.record(input);
  };
}

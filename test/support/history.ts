/**
 * Reading a request's attempts back from its Temporal history, the way an operator sees them in the
 * UI: a local attempt is a `core_local_activity` marker, a regular one an ActivityTaskScheduled event,
 * each with its summary.
 */
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
const ATTEMPT_ACTIVITIES = new Set(['runAttempt', 'callProvider']);

export interface HistoryAttempt {
  via: 'local' | 'activity';
  /** The activity id of a regular attempt (`attempt-2`); the local activity's sequence number for a marker. */
  id: string;
  summary: string;
}

function text(payload: { data?: Uint8Array | null } | null | undefined): string {
  return payload?.data ? Buffer.from(payload.data).toString() : '';
}

/** A payload codec's synchronous decryption (EncryptionCodec): summaries are encrypted payloads like any other. */
export interface HistoryDecoder { decrypt(payload: Payload): Payload }

export function attemptsInHistory(history: History, codec?: HistoryDecoder): HistoryAttempt[] {
  const attempts: HistoryAttempt[] = [];
  for (const event of history.events ?? []) {
    const raw = event.userMetadata?.summary as Payload | null | undefined;
    const summary = text(raw && codec ? codec.decrypt(raw) : raw).replace(/^"|"$/g, '');
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled && ATTEMPT_ACTIVITIES.has(scheduled.activityType?.name ?? '')) {
      attempts.push({ via: 'activity', id: scheduled.activityId ?? '', summary });
    }
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const data = JSON.parse(text(marker.details?.data?.payloads?.[0]) || '{}') as { activity_type?: string; activity_id?: string };
      if (ATTEMPT_ACTIVITIES.has(data.activity_type ?? '')) attempts.push({ via: 'local', id: data.activity_id ?? '', summary });
    }
  }
  return attempts;
}

/** The event type names of a history, in order (`WorkflowExecutionStarted`, …). */
export function eventTypes(history: History): string[] {
  return (history.events ?? []).map((event) => eventTypeName(Number(event.eventType)));
}

function eventTypeName(type: number): string {
  const name = temporal.api.enums.v1.EventType[type] ?? String(type);
  return name.replace(/^EVENT_TYPE_/, '').toLowerCase().replace(/(^|_)([a-z])/g, (_match, _sep, letter: string) => letter.toUpperCase());
}

/**
 * The largest payload anywhere in a history (inputs, results, markers, search attributes, failures),
 * in bytes: what the claim check keeps under its threshold. Every Temporal payload's bytes are a
 * `data` Uint8Array; a walk over the decoded events finds them all.
 */
export function largestPayloadBytes(history: History): number {
  let largest = 0;
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) { largest = Math.max(largest, value.length); return; }
    if (Array.isArray(value)) { for (const item of value) walk(item); return; }
    if (value && typeof value === 'object') for (const item of Object.values(value)) walk(item);
  };
  walk(history.events ?? []);
  return largest;
}

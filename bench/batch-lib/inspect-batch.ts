/**
 * What the batch benchmark reads back from Temporal after a batch: every run of the batch workflow
 * (each continue-as-new is a run of its own: listed by workflow id), with its event count and size as
 * the server accounts them (`historyLength`, `historySizeBytes` from DescribeWorkflowExecution, the
 * numbers Temporal's own history limits are checked against), the event types of the largest run, the
 * workflow's final result (its `runs` counter), and every child request workflow's history length and
 * size from visibility, plus a few children read in full (`batch:<tenant>:<batchId>:<line>`).
 * Every loop is bounded by a count and by the time budget.
 */
import { Client, Connection } from '@temporalio/client';

export interface RunReport {
  runId: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  events: number;
  bytes: number | null;
  /** Events by type, for the largest run only. */
  eventTypes?: Record<string, number>;
  /** Payload bytes (inputs, results, markers: every binary field) by event type, for the largest run only. */
  payloadBytesByType?: Record<string, number>;
  /** Children started in this run (StartChildWorkflowExecutionInitiated events), when the history was read. */
  childrenStarted?: number;
}

export interface ChildSample {
  workflowId: string;
  status: string;
  events: number;
  bytes: number | null;
  eventTypes: Record<string, number>;
  payloadBytesByType: Record<string, number>;
}

export interface HistoryReport {
  workflowId: string;
  runs: RunReport[];
  runCount: number;
  largestRun: RunReport | null;
  /** The workflow's return value (BatchProgress), which counts the runs itself. */
  result: Record<string, unknown> | null;
  resultError?: string;
  children: {
    executions: number;
    distinctWorkflowIds: number;
    byStatus: Record<string, number>;
    events: { max: number; p50: number; p99: number; mean: number } | null;
    /** How many children had each history length (a clean line has one length; longer ones retried something). */
    eventsHistogram: Record<string, number>;
    bytes: { max: number; p50: number; p99: number; mean: number } | null;
    largest: { workflowId: string; events: number; bytes: number | null } | null;
    /** Children read in full: first, second, middle and last line, and the largest by size. */
    samples: ChildSample[];
    listComplete: boolean;
  };
  inspectMs: number;
  notes: string[];
}

export async function inspectBatchHistories(options: {
  address: string; namespace?: string; tenantId: string; batchId: string; totalLines: number; budgetMs: number;
}): Promise<HistoryReport> {
  const started = Date.now();
  const deadline = started + options.budgetMs;
  const notes: string[] = [];
  const namespace = options.namespace ?? 'default';
  const workflowId = `batch:${options.tenantId}:${options.batchId}`;
  const connection = await Connection.connect({ address: options.address, connectTimeout: 10_000 });
  try {
    const client = new Client({ connection, namespace });

    // ---- the batch workflow's runs ----
    const runs: RunReport[] = [];
    for await (const info of client.workflow.list({ query: `WorkflowId = '${workflowId}'`, pageSize: 1000 })) {
      runs.push({
        runId: info.runId, status: info.status.name, startTime: info.startTime.toISOString(), closeTime: info.closeTime?.toISOString() ?? null,
        events: info.historyLength, bytes: info.historySize ?? null,
      });
      if (runs.length >= 10_000 || Date.now() > deadline) break;
    }
    runs.sort((a, b) => a.startTime.localeCompare(b.startTime));
    // Visibility may lag or leave sizes unset: describe each run (the server's own numbers) and read its history.
    for (const run of runs) {
      if (Date.now() > deadline) { notes.push('time budget reached while reading the batch runs'); break; }
      const handle = client.workflow.getHandle(workflowId, run.runId);
      try {
        const described = await handle.describe();
        run.events = described.historyLength;
        run.bytes = described.historySize ?? run.bytes;
      } catch (error) {
        notes.push(`describe ${run.runId}: ${(error as Error).message}`);
      }
      try {
        const history = await handle.fetchHistory();
        const { counts: types, payloadBytes } = countTypes(history.events ?? []);
        run.childrenStarted = types.StartChildWorkflowExecutionInitiated ?? 0;
        if (run.events === 0) run.events = history.events?.length ?? 0;
        Object.assign(run, { _types: types, _bytes: payloadBytes });
      } catch (error) {
        notes.push(`fetchHistory ${run.runId}: ${(error as Error).message}`);
      }
    }
    const largestRun = runs.reduce<RunReport | null>((best, run) => (!best || (run.bytes ?? 0) > (best.bytes ?? 0)
      || ((run.bytes ?? 0) === (best.bytes ?? 0) && run.events > best.events) ? run : best), null);
    for (const run of runs) {
      const extra = run as RunReport & { _types?: Record<string, number>; _bytes?: Record<string, number> };
      const { _types: types, _bytes: bytes } = extra;
      delete extra._types;
      delete extra._bytes;
      if (run === largestRun && types) Object.assign(run, { eventTypes: types, payloadBytesByType: bytes });
    }

    let result: Record<string, unknown> | null = null;
    let resultError: string | undefined;
    try {
      result = await withTimeout(client.workflow.getHandle(workflowId).result() as Promise<Record<string, unknown>>, 20_000, 'batch workflow result');
    } catch (error) {
      resultError = (error as Error).message;
    }

    // ---- the children: every chatRequestWorkflow of this batch, from visibility ----
    const prefix = `${workflowId}:`;
    const children: Array<{ workflowId: string; status: string; events: number; bytes: number | null }> = [];
    let listComplete = true;
    try {
      for await (const info of client.workflow.list({ query: `WorkflowType = 'chatRequestWorkflow'`, pageSize: 1000 })) {
        if (info.workflowId.startsWith(prefix)) {
          children.push({ workflowId: info.workflowId, status: info.status.name, events: info.historyLength, bytes: info.historySize ?? null });
        }
        if (children.length >= options.totalLines * 3 + 100 || Date.now() > deadline) { listComplete = false; break; }
      }
    } catch (error) {
      listComplete = false;
      notes.push(`listing children: ${(error as Error).message}`);
    }
    const byStatus: Record<string, number> = {};
    for (const child of children) byStatus[child.status] = (byStatus[child.status] ?? 0) + 1;
    const withEvents = children.filter((child) => child.events > 0);
    const withBytes = children.filter((child) => (child.bytes ?? 0) > 0);
    if (children.length > 0 && withEvents.length < children.length) notes.push(`${children.length - withEvents.length} children without a history length in visibility`);
    const largestChild = children.reduce<(typeof children)[number] | null>((best, child) => (!best || (child.bytes ?? 0) > (best.bytes ?? 0)
      || ((child.bytes ?? 0) === (best.bytes ?? 0) && child.events > best.events) ? child : best), null);

    const sampleIds = new Set<string>();
    for (const line of [0, 1, Math.floor(options.totalLines / 2), options.totalLines - 1]) if (line >= 0) sampleIds.add(`${prefix}${line}`);
    if (largestChild) sampleIds.add(largestChild.workflowId);
    const mostEvents = children.reduce<(typeof children)[number] | null>((best, child) => (!best || child.events > best.events ? child : best), null);
    if (mostEvents) sampleIds.add(mostEvents.workflowId);
    const samples: ChildSample[] = [];
    for (const id of sampleIds) {
      if (Date.now() > deadline) break;
      try {
        const handle = client.workflow.getHandle(id);
        const described = await handle.describe();
        const history = await handle.fetchHistory();
        const { counts, payloadBytes } = countTypes(history.events ?? []);
        samples.push({ workflowId: id, status: described.status.name, events: described.historyLength, bytes: described.historySize ?? null,
          eventTypes: counts, payloadBytesByType: payloadBytes });
      } catch (error) {
        notes.push(`child ${id}: ${(error as Error).message}`);
      }
    }
    const sampledMax = samples.reduce<ChildSample | null>((best, sample) => (!best || (sample.bytes ?? 0) > (best.bytes ?? 0) ? sample : best), null);
    const largest = largestChild && (largestChild.bytes ?? 0) >= (sampledMax?.bytes ?? 0)
      ? { workflowId: largestChild.workflowId, events: largestChild.events, bytes: largestChild.bytes }
      : sampledMax ? { workflowId: sampledMax.workflowId, events: sampledMax.events, bytes: sampledMax.bytes } : null;

    return {
      workflowId, runs, runCount: runs.length, largestRun, result, resultError,
      children: {
        executions: children.length, distinctWorkflowIds: new Set(children.map((child) => child.workflowId)).size, byStatus,
        events: distribution(withEvents.map((child) => child.events)), eventsHistogram: histogram(children.map((child) => child.events)), bytes: distribution(withBytes.map((child) => child.bytes!)),
        largest, samples, listComplete,
      },
      inspectMs: Date.now() - started, notes,
    };
  } finally {
    await connection.close();
  }
}

function histogram(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

function distribution(values: number[]): { max: number; p50: number; p99: number; mean: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { max: sorted.at(-1)!, p50: at(0.5), p99: at(0.99), mean: Math.round((sorted.reduce((sum, value) => sum + value, 0) / sorted.length) * 10) / 10 };
}

/** Event counts and payload bytes by type (`workflowTaskScheduledEventAttributes` → `WorkflowTaskScheduled`). */
function countTypes(events: Array<Record<string, any>>): { counts: Record<string, number>; payloadBytes: Record<string, number> } {
  const counts: Record<string, number> = {};
  const payloadBytes: Record<string, number> = {};
  for (const event of events) {
    let type = `type_${String(event.eventType)}`;
    for (const [key, value] of Object.entries(event)) {
      if (value && key.endsWith('EventAttributes')) { type = key.charAt(0).toUpperCase() + key.slice(1, -'EventAttributes'.length); break; }
    }
    counts[type] = (counts[type] ?? 0) + 1;
    payloadBytes[type] = (payloadBytes[type] ?? 0) + binaryBytes(event, 0);
  }
  return { counts, payloadBytes };
}

/** Bytes in every binary field of a decoded proto message (payload data and metadata). */
function binaryBytes(value: unknown, depth: number): number {
  if (value instanceof Uint8Array) return value.length;
  if (!value || typeof value !== 'object' || depth > 12) return 0;
  let total = 0;
  for (const child of Array.isArray(value) ? value : Object.values(value)) total += binaryBytes(child, depth + 1);
  return total;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); })]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

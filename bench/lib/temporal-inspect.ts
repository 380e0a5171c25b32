/**
 * What the benchmark reads back from a gateway's Temporal server after its run:
 * - every workflow of the gateway's type (visibility list), bucketed by phase from its start time;
 * - whether each was eagerly started: `WorkflowExecutionStarted.eagerExecutionAccepted`, which server
 *   >= 1.29 sets exactly when it accepted the eager request and handed the first workflow task back in
 *   the start response (`service/history/api/startworkflow`: the flag is copied from the request after
 *   the handler cleared it for every denial);
 * - the server's own counters `workflow_eager_execution` (eager requested) and
 *   `workflow_eager_execution_denied{reason}` from its Prometheus endpoint, as a cross-check;
 * - the median event timeline of a sample of histories (where the time goes inside Temporal).
 */
import { Client, Connection } from '@temporalio/client';
import { listeningPorts } from './proc';

export interface PhaseWindow {
  name: string;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
}

export interface EagerReport {
  workflowType: string;
  workflows: number;
  byStatus: Record<string, number>;
  /** Histories whose first event was read. */
  scanned: number;
  eagerAccepted: number;
  share: number;
  byPhase: Record<string, { workflows: number; eagerAccepted: number; share: number }>;
  scanMs: number;
  scanComplete: boolean;
  /** How long after the inspection began the last workflow of the type closed (bookkeeping still running). */
  drainMs: number;
  metrics?: { url: string; requested: number; denied: Record<string, number> };
}

export interface TimelineReport {
  /** How many histories were sampled, and how many had the most common shape (used below). */
  sampled: number;
  sameShape: number;
  eventsPerWorkflow: number;
  /** Median ms from WorkflowExecutionStarted to each event of the common shape. */
  events: Array<{ index: number; type: string; medianMs: number }>;
  /** Event count by type over the sampled histories (all shapes), per workflow. */
  typesPerWorkflow: Record<string, number>;
  /**
   * Where the client's request sits on the same (host) clock, for the sampled workflows whose request
   * the bench sent: median ms from WorkflowExecutionStarted, negative = before it.
   */
  client?: { n: number; sentMs: number; answeredMs: number };
}

export interface InspectOptions {
  address: string;
  namespace?: string;
  workflowType: string;
  phases: PhaseWindow[];
  /** Phase whose last workflows are sampled for the timeline. */
  timelinePhase: string;
  timelineSample: number;
  /** Total time allowed for listing and scanning. */
  budgetMs: number;
  temporalPid?: number;
  /** Ports of the server known not to be the metrics endpoint (frontend, UI). */
  knownPorts?: number[];
  /** When the bench sent the request a workflow serves, and got its answer (wall clock), if known. */
  clientTimes?: (workflowId: string) => { sentAt: number; answeredAt: number } | undefined;
}

export async function inspectTemporal(options: InspectOptions): Promise<{ eager: EagerReport; timeline?: TimelineReport; workflowIds: string[] }> {
  const namespace = options.namespace ?? 'default';
  const deadline = Date.now() + options.budgetMs;
  const connection = await Connection.connect({ address: options.address, connectTimeout: 10_000 });
  try {
    const client = new Client({ connection, namespace });
    const query = `WorkflowType = '${options.workflowType}'`;
    // Bookkeeping may still be finishing: wait (bounded) until none of the type is running.
    const drainStarted = Date.now();
    for (let index = 0; index < 120 && Date.now() < deadline; index++) {
      const { count } = await client.workflow.count(`${query} AND ExecutionStatus = 'Running'`);
      if (count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const drainMs = Date.now() - drainStarted;
    const executions: Array<{ workflowId: string; runId: string; status: string; startMs: number }> = [];
    for await (const info of client.workflow.list({ query, pageSize: 1000 })) {
      executions.push({ workflowId: info.workflowId, runId: info.runId, status: info.status.name, startMs: info.startTime.getTime() });
      if (executions.length >= 200_000 || Date.now() > deadline) break;
    }
    const byStatus: Record<string, number> = {};
    for (const execution of executions) byStatus[execution.status] = (byStatus[execution.status] ?? 0) + 1;

    // First event of every history, a few at a time, within the budget.
    const scanStarted = Date.now();
    const eager = new Map<string, boolean>();
    let next = 0;
    const scanner = async () => {
      while (next < executions.length && Date.now() < deadline) {
        const execution = executions[next++]!;
        try {
          const response = await connection.workflowService.getWorkflowExecutionHistory({
            namespace, execution: { workflowId: execution.workflowId, runId: execution.runId }, maximumPageSize: 1,
          });
          const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
          if (started) eager.set(execution.runId, started.eagerExecutionAccepted === true);
        } catch { /* counted as not scanned */ }
      }
    };
    await Promise.all(Array.from({ length: 16 }, scanner));
    const scanned = [...eager.values()];
    const accepted = scanned.filter(Boolean).length;
    const byPhase: EagerReport['byPhase'] = {};
    for (const phase of options.phases) {
      const inPhase = executions.filter((execution) => execution.startMs >= phase.startedAt && execution.startMs <= phase.endedAt && eager.has(execution.runId));
      const phaseAccepted = inPhase.filter((execution) => eager.get(execution.runId)).length;
      byPhase[phase.name] = { workflows: inPhase.length, eagerAccepted: phaseAccepted, share: inPhase.length ? phaseAccepted / inPhase.length : NaN };
    }
    const report: EagerReport = {
      workflowType: options.workflowType, workflows: executions.length, byStatus, scanned: scanned.length, eagerAccepted: accepted,
      share: scanned.length ? accepted / scanned.length : NaN, byPhase, scanMs: Date.now() - scanStarted,
      scanComplete: scanned.length === executions.length, drainMs,
    };
    if (options.temporalPid) report.metrics = await eagerMetrics(options.temporalPid, options.knownPorts ?? [], options.workflowType);

    // Median event timeline of the last workflows of one phase.
    const window = options.phases.find((phase) => phase.name === options.timelinePhase);
    let timeline: TimelineReport | undefined;
    if (window && Date.now() < deadline) {
      const sample = executions.filter((execution) => execution.startMs >= window.startedAt && execution.startMs <= window.endedAt)
        .sort((a, b) => b.startMs - a.startMs).slice(0, options.timelineSample);
      const histories: Array<Array<{ type: string; ms: number }>> = [];
      const offsets: Array<{ sentMs: number; answeredMs: number }> = [];
      for (const execution of sample) {
        if (Date.now() > deadline) break;
        try {
          const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
          const events = history.events ?? [];
          const t0 = timestampMs(events[0]?.eventTime);
          histories.push(events.map((event) => ({ type: eventTypeName(event), ms: timestampMs(event.eventTime) - t0 })));
          const times = options.clientTimes?.(execution.workflowId);
          if (times) offsets.push({ sentMs: times.sentAt - t0, answeredMs: times.answeredAt - t0 });
        } catch { /* skipped */ }
      }
      timeline = summarizeTimelines(histories);
      if (offsets.length > 0) {
        const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
        timeline.client = { n: offsets.length, sentMs: median(offsets.map((entry) => entry.sentMs)), answeredMs: median(offsets.map((entry) => entry.answeredMs)) };
      }
    }
    return { eager: report, timeline, workflowIds: executions.map((execution) => execution.workflowId) };
  } finally {
    await connection.close();
  }
}

/** The event's type from the attributes field it carries (`workflowTaskScheduledEventAttributes` → `WorkflowTaskScheduled`). */
function eventTypeName(event: Record<string, any>): string {
  for (const [key, value] of Object.entries(event)) {
    if (value && key.endsWith('EventAttributes')) return key.charAt(0).toUpperCase() + key.slice(1, -'EventAttributes'.length);
  }
  return `type_${String(event.eventType)}`;
}

function timestampMs(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!timestamp) return NaN;
  const seconds = timestamp.seconds as { toNumber?: () => number } | number | string | undefined;
  const whole = typeof seconds === 'object' && seconds?.toNumber ? seconds.toNumber() : Number(seconds ?? 0);
  return whole * 1000 + (timestamp.nanos ?? 0) / 1e6;
}

function summarizeTimelines(histories: Array<Array<{ type: string; ms: number }>>): TimelineReport {
  const shapes = new Map<string, Array<Array<{ type: string; ms: number }>>>();
  const typeCounts: Record<string, number> = {};
  for (const history of histories) {
    const shape = history.map((event) => event.type).join(',');
    shapes.set(shape, [...(shapes.get(shape) ?? []), history]);
    for (const event of history) typeCounts[event.type] = (typeCounts[event.type] ?? 0) + 1;
  }
  const common = [...shapes.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
  };
  const events = (common[0] ?? []).map((event, index) => ({
    index: index + 1, type: event.type, medianMs: Math.round(median(common.map((history) => history[index]!.ms)) * 10) / 10,
  }));
  const typesPerWorkflow = Object.fromEntries(Object.entries(typeCounts).map(([type, count]) => [type, Math.round((count / Math.max(1, histories.length)) * 100) / 100]));
  return { sampled: histories.length, sameShape: common.length, eventsPerWorkflow: events.length, events, typesPerWorkflow };
}

/** Find the dev server's Prometheus endpoint (a random port unless --metrics-port) among its listening ports. */
export async function findMetricsUrl(temporalPid: number, knownPorts: number[]): Promise<string | undefined> {
  for (const port of listeningPorts(temporalPid).filter((port) => !knownPorts.includes(port))) {
    const url = `http://127.0.0.1:${port}/metrics`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_500) });
      const text = await response.text();
      if (response.status === 200 && text.includes('# TYPE')) return url;
    } catch { /* a gRPC or membership port */ }
  }
  return undefined;
}

async function eagerMetrics(temporalPid: number, knownPorts: number[], workflowType: string): Promise<EagerReport['metrics']> {
  const url = await findMetricsUrl(temporalPid, knownPorts);
  if (!url) return undefined;
  const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
  let requested = 0;
  const denied: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(workflow_eager_execution(?:_denied)?)\{([^}]*)\}\s+([0-9.eE+-]+)$/.exec(line.trim());
    if (!match) continue;
    const labels = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1], label[2]]));
    if (labels.workflowType && labels.workflowType !== workflowType) continue;
    const value = Number(match[3]);
    if (match[1] === 'workflow_eager_execution') requested += value;
    else denied[labels.reason ?? 'unknown'] = (denied[labels.reason ?? 'unknown'] ?? 0) + value;
  }
  return { url, requested, denied };
}

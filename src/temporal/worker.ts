/**
 * Temporal bootstrap: one NativeConnection shared by the client and the worker (eager workflow start
 * needs that), the prebuilt workflow bundle, and a Runtime that leaves signals to Zumik's own shutdown.
 */
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { PayloadCodec } from '@temporalio/common';
import { PROJECT_ROOT } from '../project-root';
import { TASK_QUEUE } from './task-queues';
import type { Tracing } from './tracing';

export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');
export const DEFAULT_BUNDLE_PATH = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
/** The same workflows with the OpenTelemetry workflow interceptors: run only when tracing is on. */
export const DEFAULT_TRACING_BUNDLE_PATH = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle-tracing.js');

let runtimeInstalled = false;
let runtimeMetricsAddress: string | undefined;

/**
 * Install the SDK runtime once per process: our logger, no signal handlers of its own and, when
 * `prometheusAddress` is given, the Core runtime's own Prometheus exporter on that host:port (worker
 * metrics: task slots, poll latencies, sticky cache, activity and workflow task counts). Returns the
 * exporter's address in effect for this process (the first install decides).
 */
export function installTemporalRuntime(logger: Logger, prometheusAddress?: string): string | undefined {
  if (runtimeInstalled) return runtimeMetricsAddress;
  runtimeInstalled = true;
  const temporalLogger = logger.child({ component: 'temporal-sdk' });
  const forward = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level];
    temporalLogger[method](meta ?? {}, message);
  };
  try {
    installRuntime(forward, prometheusAddress);
    runtimeMetricsAddress = prometheusAddress;
  } catch (error) {
    // Either another part of this process (a test harness) installed the runtime first (keep it), or the
    // exporter could not start (its port taken): then run without Temporal's metrics rather than not at all.
    if (prometheusAddress) {
      try {
        installRuntime(forward);
        logger.warn({ err: error, address: prometheusAddress }, 'the Temporal SDK metrics exporter did not start; /metrics has no temporal_* series');
      } catch { /* installed already */ }
    }
  }
  return runtimeMetricsAddress;
}

function installRuntime(forward: (level: LogLevel, message: string, meta?: LogMetadata) => void, prometheusAddress?: string): void {
  Runtime.install({
    shutdownSignals: [],
    logger: {
      log: forward,
      trace: (message, meta) => forward('TRACE', message, meta),
      debug: (message, meta) => forward('DEBUG', message, meta),
      info: (message, meta) => forward('INFO', message, meta),
      warn: (message, meta) => forward('WARN', message, meta),
      error: (message, meta) => forward('ERROR', message, meta),
    },
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(prometheusAddress ? { metrics: { prometheus: { bindAddress: prometheusAddress, useSecondsForDurations: true } } } : {}),
    },
  });
}

/** Connect, retrying while the frontend comes up. */
export async function connectTemporal(address: string, timeoutMs = 60_000): Promise<NativeConnection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await NativeConnection.connect({ address });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not answer: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * `codec`: the payload codec (EncryptionCodec) every payload passes through; none in tests of the engine alone.
 * `tracing`: a workflow start joins the caller's trace (its span context travels in the start's headers).
 */
export function createClient(connection: NativeConnection, namespace: string, codec?: PayloadCodec, tracing?: Tracing): Client {
  return new Client({
    connection, namespace, ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
    ...(tracing ? { interceptors: tracing.clientInterceptors() } : {}),
  });
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  activities: object;
  bundlePath?: string;
  taskQueue?: string;
  /** The same codec as the client's: the worker decodes what the client encoded, and the other way round. */
  codec?: PayloadCodec;
  /** Tracing on: activity spans, workflow spans through the exporter sink, and the tracing workflow bundle. */
  tracing?: Tracing;
  /** Prebuilt tracing workflow bundle (default dist/workflow-bundle-tracing.js). */
  tracingBundlePath?: string;
  /** On shutdown: how long running activities get before they are cancelled with WORKER_SHUTDOWN (default 10 s). */
  shutdownGraceMs?: number;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const { tracing } = options;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowBundle: {
      codePath: tracing ? options.tracingBundlePath ?? DEFAULT_TRACING_BUNDLE_PATH : options.bundlePath ?? DEFAULT_BUNDLE_PATH,
    },
    activities: options.activities,
    ...(tracing ? tracing.workerOptions() : {}),
    ...(options.codec ? { dataConverter: { payloadCodecs: [options.codec] } } : {}),
    // Provider calls are I/O-bound: many in flight per worker.
    maxConcurrentActivityTaskExecutions: 512,
    maxConcurrentLocalActivityExecutions: 512,
    maxConcurrentWorkflowTaskExecutions: 200,
    // Drain (SIGTERM): no new tasks; running attempts get the grace, then fail as worker_shutdown and run again on
    // another worker. Past grace + 15 s the worker gives up waiting (a hung activity never blocks an exit).
    shutdownGraceTime: options.shutdownGraceMs ?? 10_000,
    shutdownForceTime: (options.shutdownGraceMs ?? 10_000) + 15_000,
    // Attempts heartbeat every 2 s, and the first token's heartbeat carries news the workflow needs if the worker
    // dies (no failover after the client has content): send each at once, not after the SDK's 0.8 × heartbeatTimeout.
    maxHeartbeatThrottleInterval: '200ms',
    // A worker that died holds its workflows' next tasks on its sticky queue until this passes: keep recovery quick.
    stickyQueueScheduleToStartTimeout: '5s',
  });
}

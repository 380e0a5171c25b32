/**
 * OpenTelemetry tracing (issue 11), off by default. When on, one trace follows a request from the
 * front door through Temporal (the SDK's OpenTelemetry interceptors: client, workflow, activity) to
 * the provider call; workflow spans leave the sandbox through the interceptors' exporter sink. When
 * off (the default), startTracing returns undefined and nothing is installed: no interceptor, no
 * context manager, no span, the worker runs the workflow bundle without the tracing modules, and the
 * OpenTelemetry SDK is never loaded (./tracing-sdk: 238 module files, about 9 MB of RSS and up to
 * 0.1 s of start-up on this machine, bench/README.md).
 */
import type { Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions as SdkWorkerOptions } from '@temporalio/worker';

/** The tracing modules the tracing workflow bundle is built with (bundled at build time, never at start). */
export const WORKFLOW_TRACING_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface Tracing {
  tracer: Tracer;
  /** The client's interceptors: a workflow start joins the caller's trace (its span context travels in the start's headers). */
  clientInterceptors(): ClientInterceptors;
  /** The worker's: activity spans, and workflow spans through the exporter sink, where every other span goes. */
  workerOptions(): Pick<SdkWorkerOptions, 'interceptors' | 'sinks'>;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  exporter: 'otlp' | 'console' | 'none';
  serviceName: string;
  /** The OTLP/HTTP traces URL (config.ts derives it from the OTEL_* variables). */
  otlpTracesUrl?: string;
  /** Spans go here, exported one by one, whatever `exporter` says (tests: InMemorySpanExporter). */
  spanExporter?: SpanExporter;
}

/** Tracing as configured, or undefined when it is off (and then nothing of the OpenTelemetry SDK is loaded). */
export function startTracing(options: TracingOptions): Tracing | undefined {
  if (!options.spanExporter && options.exporter === 'none') return undefined;
  // Loaded on demand, so that tracing that is off costs no start-up and no memory.
  const sdk = require('./tracing-sdk') as typeof import('./tracing-sdk');
  return sdk.startTracingSdk(options);
}

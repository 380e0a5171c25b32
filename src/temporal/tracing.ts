/**
 * OpenTelemetry tracing (issue 11), off by default. When on, one trace follows a request from the
 * front door through Temporal (the SDK's OpenTelemetry interceptors: client, workflow, activity) to
 * the provider call; workflow spans leave the sandbox through the interceptors' exporter sink. When
 * off (the default), startTracing returns undefined and nothing is installed: no interceptor, no
 * context manager, no span, and the worker runs the workflow bundle without the tracing modules.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, propagation, ROOT_CONTEXT, type Context, type ContextManager, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** The tracing modules the tracing workflow bundle is built with (bundled at build time, never at start). */
export const WORKFLOW_TRACING_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface Tracing {
  tracer: Tracer;
  /** Where workflow spans go (through the workflow exporter sink), like every other span. */
  spanProcessor: SpanProcessor;
  resource: Resource;
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

/** Tracing as configured, or undefined when it is off. */
export function startTracing(options: TracingOptions): Tracing | undefined {
  const spanProcessor = options.spanExporter ? new SimpleSpanProcessor(options.spanExporter)
    // The URL from the configuration; the exporter reads the other OTEL_EXPORTER_OTLP_* settings (headers, timeout) itself.
    : options.exporter === 'otlp' ? new BatchSpanProcessor(new OTLPTraceExporter(options.otlpTracesUrl ? { url: options.otlpTracesUrl } : {}))
      : options.exporter === 'console' ? new SimpleSpanProcessor(new ConsoleSpanExporter())
        : undefined;
  if (!spanProcessor) return undefined;
  installContextPropagation();
  const resource = new Resource({ [ATTR_SERVICE_NAME]: options.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  return {
    tracer: provider.getTracer('zumik'), spanProcessor, resource,
    shutdown: () => provider.shutdown(),
  };
}

let propagationInstalled = false;

/**
 * The active span follows async calls (AsyncLocalStorage), and crosses Temporal in W3C trace-context
 * headers. Process-wide, installed once: the Temporal interceptors read these globals.
 */
function installContextPropagation(): void {
  if (propagationInstalled) return;
  propagationInstalled = true;
  context.setGlobalContextManager(new AsyncLocalContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/** OpenTelemetry's context manager on Node's AsyncLocalStorage (what @opentelemetry/context-async-hooks provides). */
class AsyncLocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(active: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(active, () => fn.call(thisArg, ...args));
  }

  bind<T>(active: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const storage = this.storage;
    return function bound(this: unknown, ...args: unknown[]) {
      return storage.run(active, () => (target as (...params: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

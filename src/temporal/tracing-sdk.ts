/**
 * OpenTelemetry tracing when it is on (src/temporal/tracing.ts decides, and loads this module only
 * then): the SDK's tracer provider and exporters, the context manager and propagator, and the Temporal
 * SDK's OpenTelemetry interceptors (client, activity, and the workflow spans' exporter sink): 238
 * module files that a process with tracing off never loads.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, propagation, ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Context as ActivityContext } from '@temporalio/activity';
import {
  makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { Tracing, TracingOptions } from './tracing';

/** Tracing as configured; startTracing calls it only when tracing is on (a span exporter, or `otlp` / `console`). */
export function startTracingSdk(options: TracingOptions): Tracing {
  const spanProcessor = options.spanExporter ? new SimpleSpanProcessor(options.spanExporter)
    // The URL from the configuration; the exporter reads the other OTEL_EXPORTER_OTLP_* settings (headers, timeout) itself.
    : options.exporter === 'otlp' ? new BatchSpanProcessor(new OTLPTraceExporter(options.otlpTracesUrl ? { url: options.otlpTracesUrl } : {}))
      : new SimpleSpanProcessor(new ConsoleSpanExporter());
  installContextPropagation();
  const resource = new Resource({ [ATTR_SERVICE_NAME]: options.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const tracer = provider.getTracer('zumik');
  return {
    tracer,
    clientInterceptors: () => ({ workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] }),
    workerOptions: () => ({
      interceptors: {
        activity: [(activityContext: ActivityContext) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(activityContext, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(activityContext),
        })],
      },
      // Workflow spans leave the sandbox through this sink and go where every other span goes.
      sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    }),
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

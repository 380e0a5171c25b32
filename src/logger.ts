/** One pino logger; credentials are redacted wherever they could appear. */
import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

/** pino mixin: a line written inside a traced request carries its `trace_id` and `span_id`. */
export function traceIdsMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** `options.traceIds`: tracing is on (off, no mixin runs on any log line). */
export function createLogger(level: string, destination?: pino.DestinationStream, options: { traceIds?: boolean } = {}): Logger {
  return pino({
    level,
    base: { service: 'zumik' },
    ...(options.traceIds ? { mixin: traceIdsMixin } : {}),
    redact: {
      paths: ['*.authorization', '*.headers.authorization', '*.headers["x-api-key"]', '*.headers["x-goog-api-key"]', '*.apiKey',
        '*.api_key', '*.key', '*.secret', '*.credential'],
      censor: '[redacted]',
    },
  }, destination);
}

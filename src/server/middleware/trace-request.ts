/**
 * The front door's span (installed only when tracing is on): one SERVER span per HTTP request, active
 * while its handlers run, so the workflow start joins it and the request's log lines carry its trace
 * id. A caller's W3C `traceparent` makes it a child of the caller's trace. Named by route template,
 * never by a path holding ids.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';

export function traceRequest(tracer: Tracer): RequestHandler {
  return (request, response, next) => {
    const parent = propagation.extract(context.active(), request.headers);
    const span = tracer.startSpan(`${request.method}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'url.scheme': request.protocol, 'server.address': request.hostname },
    }, parent);
    response.on('finish', () => {
      const route = routeOf(request);
      if (route) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', response.statusCode);
      const requestId = response.getHeader('x-request-id');
      if (typeof requestId === 'string') span.setAttribute('zumik.http_request_id', requestId);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/**
 * `/v1/chat/completions`, `/v2/requests/:id`: the matched route's template, when one matched. A route
 * that passed an error on is answered after Express has left its router (baseUrl reset): the mount is
 * then the path's `/v1` or `/v2`, where app.ts mounts every router.
 */
function routeOf(request: Request): string | undefined {
  const path = request.route?.path;
  if (typeof path !== 'string') return undefined;
  return `${request.baseUrl || (/^\/v\d+(?=\/)/.exec(request.originalUrl)?.[0] ?? '')}${path}`;
}

/**
 * For an outcome the front door records itself (a request refused before any workflow): the trace of
 * the HTTP request, with the reason code on its span. Undefined when tracing is off.
 */
export function frontDoorTraceId(reasonCode: string): string | undefined {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  span.setAttribute('zumik.reason_code', reasonCode);
  return span.spanContext().traceId;
}

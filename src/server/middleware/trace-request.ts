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

/** `/v1/chat/completions`, `/v2/requests/:id`: the matched route's template, when one matched. */
function routeOf(request: Request): string | undefined {
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl}${path}` : undefined;
}

/**
 * `GET /metrics`: Prometheus exposition (ZumikMetrics, plus the Temporal SDK runtime's worker metrics
 * when bridged). On the API port it needs an operator key (`Authorization: Bearer`, as Prometheus's
 * `authorization` scrape setting sends it); with ZUMIK_METRICS_PORT it is served on its own listener,
 * bound to loopback by default, without a key (see src/zumik.ts).
 */
import { Router, type RequestHandler } from 'express';
import { authenticate, requireScope, type ApiKeyAuthenticator } from '../middleware/authenticate';

export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

export function metricsHandler(metrics: MetricsSource): RequestHandler {
  return async (_request, response) => {
    const text = await metrics.text();
    response.set('content-type', metrics.contentType).send(text);
  };
}

/** /metrics behind the operator scope, for the API port. */
export function metricsRoutes(metrics: MetricsSource, authenticator: ApiKeyAuthenticator): Router {
  const router = Router();
  router.get('/metrics', authenticate(authenticator), requireScope('operator'), metricsHandler(metrics));
  return router;
}

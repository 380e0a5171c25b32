/**
 * `/healthz` (the process answers) and `/readyz` (every dependency answers, and the process is not
 * draining: from SIGTERM on it answers 503 `draining`, so a load balancer stops sending), unauthenticated.
 */
import { Router } from 'express';

export type ReadinessCheck = () => Promise<void>;

export function healthRoutes(checks: Record<string, ReadinessCheck>, options: { draining?: () => boolean; timeoutMs?: number } = {}): Router {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), timeoutMs);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, `error: ${error instanceof Error ? error.message : String(error)}`] as const;
      }
    }));
    if (options.draining?.()) {
      response.status(503).json({ status: 'draining', checks: Object.fromEntries(results) });
      return;
    }
    const ready = results.every(([, result]) => result === 'ok');
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  return router;
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<void>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

/**
 * One /v2 router over real HTTP on 127.0.0.1, behind a fixed principal instead of API-key
 * authentication and in front of the real error middleware: for admin routers the lead mounts in
 * createApp. `call` sends JSON and parses the answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';
import pino from 'pino';
import type { Principal } from '../../src/server/middleware/authenticate';
import { errorHandler, notFoundHandler } from '../../src/server/middleware/error-handler';

export interface RouterTestApp {
  url: string;
  /** Principal for the next calls; tenant admin of `acme` by default. */
  principal: Principal;
  call(method: string, path: string, options?: { body?: unknown; rawBody?: string }): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

export const ADMIN_PRINCIPAL: Principal = { keyId: 'key_admin', tenantId: 'acme', scopes: ['admin'] };
/** The deployment's operator (the bootstrap key's role): may act on any tenant with `?tenant=`. */
export const OPERATOR_PRINCIPAL: Principal = { keyId: 'key_operator', tenantId: 'acme', scopes: ['operator'] };
export const INFERENCE_PRINCIPAL: Principal = { keyId: 'key_inference', tenantId: 'acme', scopes: ['inference'] };

export async function startRouterTestApp(router: Router): Promise<RouterTestApp> {
  const state = { principal: ADMIN_PRINCIPAL };
  const app = express()
    .use(express.json())
    .use((request, _response, next) => { request.principal = state.principal; next(); })
    .use('/v2', router)
    .use(notFoundHandler())
    .use(errorHandler(pino({ level: 'silent' })));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get principal() { return state.principal; },
    set principal(principal: Principal) { state.principal = principal; },
    async call(method, path, options = {}) {
      const body = options.body === undefined ? options.rawBody : JSON.stringify(options.body);
      const response = await fetch(`${url}${path}`, { method, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
      const text = await response.text();
      let parsed: unknown = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON */ }
      return { status: response.status, body: parsed, text };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

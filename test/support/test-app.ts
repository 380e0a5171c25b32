/**
 * The front door in-process over real HTTP (createApp + listen on 127.0.0.1:0) against a real test
 * database, with an operator key (`adminKey`) and an inference key ready to use.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../src/server/app';
import { answerClientErrors } from '../../src/server/client-error';
import { ApiKeyAuthenticator } from '../../src/server/middleware/authenticate';
import type { ReadinessCheck } from '../../src/server/routes/health';
import { ApiKeyRepository } from '../../src/store/api-key-repository';
import { ModelAliasRepository } from '../../src/store/model-alias-repository';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  url: string;
  database: TestDatabase;
  adminKey: string;
  inferenceKey: string;
  apiKeys: ApiKeyRepository;
  modelAliases: ModelAliasRepository;
  /** fetch against the app with a bearer key (admin by default) and a JSON body. */
  call(method: string, path: string, options?: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> }):
    Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export async function startTestApp(options: { readiness?: Record<string, ReadinessCheck>; bodyLimit?: string } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const apiKeys = new ApiKeyRepository(database.pool);
  const modelAliases = new ModelAliasRepository(database.pool);
  const admin = await apiKeys.create({ tenantId: 'default', name: 'test operator', scopes: ['operator'] });
  const inference = await apiKeys.create({ tenantId: 'acme', name: 'test inference', scopes: ['inference'] });
  const app = createApp({
    logger: pino({ level: 'silent' }), apiKeys, modelAliases, authenticator: new ApiKeyAuthenticator(apiKeys),
    readiness: options.readiness ?? { postgres: async () => { await database.pool.query('SELECT 1'); } }, bodyLimit: options.bodyLimit,
  });
  const server = http.createServer(app);
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, database, adminKey: admin.secret, inferenceKey: inference.secret, apiKeys, modelAliases,
    async call(method, path, callOptions = {}) {
      const key = callOptions.key === undefined ? admin.secret : callOptions.key;
      const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...callOptions.headers };
      let body: string | undefined = callOptions.rawBody;
      if (callOptions.body !== undefined) body = JSON.stringify(callOptions.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON */ }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.drop();
    },
  };
}

/**
 * A whole Zumik in-process for request-path tests: startZumik on a fresh real Postgres database,
 * the suite's real Temporal dev server (its own task queue, so test files never steal each other's
 * workflows), and loopback provider emulators as its providers.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { traceIdsMixin } from '../../src/logger';
import { loadConfig } from '../../src/config';
import { startZumik, type Zumik } from '../../src/zumik';
import { AnthropicEmulator } from '../emulators/anthropic-emulator';
import { GeminiEmulator } from '../emulators/gemini-emulator';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { createTestDatabase, type TestDatabase } from './test-database';

export const EMULATOR_KEY = 'sk-emulator-test-key';

export interface Harness {
  zumik: Zumik;
  url: string;
  adminKey: string;
  database: TestDatabase;
  taskQueue: string;
  openai: OpenAICompatibleEmulator;
  anthropic: AnthropicEmulator;
  gemini: GeminiEmulator;
  xai: OpenAICompatibleEmulator;
  fireworks: OpenAICompatibleEmulator;
  openrouter: OpenAICompatibleEmulator;
  /** Install an alias release through the API (admin). */
  installAlias(alias: string, targets: Array<Record<string, unknown>>, extra?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Install a capability manifest revision (operator) and answer its `cap_…` id: it becomes the current one. */
  installManifest(models: Record<string, Record<string, unknown>>): Promise<string>;
  /**
   * Register a BYOC endpoint (admin) and activate it at once with the operator's audited override: for tests
   * that route to an endpoint but are not about replay-gated activation (a new endpoint starts pending).
   */
  registerEndpoint(id: string, body: Record<string, unknown>, options?: { tenant?: string; key?: string }): Promise<Record<string, any>>;
  /** fetch against Zumik with the admin key (or another) and a JSON body. */
  call(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startHarness(options: {
  /** Overrides of the harness's environment; `undefined` leaves a variable unset (a provider without its key). */
  env?: Record<string, string | undefined>; emulatorOptions?: { eventIntervalMs?: number };
  /** Collects every log line Zumik writes (at debug level) instead of discarding them. */
  logs?: string[];
  /** Tracing on, spans exported here; the worker runs `tracingBundlePath` (a bundle built with the tracing interceptors). */
  tracing?: { exporter: SpanExporter; tracingBundlePath: string };
} = {}): Promise<Harness> {
  const database = await createTestDatabase({ migrate: false });
  const emulatorOptions = { apiKey: EMULATOR_KEY, ...options.emulatorOptions };
  const openai = await new OpenAICompatibleEmulator({ flavour: 'openai', ...emulatorOptions }).start();
  const xai = await new OpenAICompatibleEmulator({ flavour: 'xai', ...emulatorOptions }).start();
  const fireworks = await new OpenAICompatibleEmulator({ flavour: 'fireworks', ...emulatorOptions }).start();
  const openrouter = await new OpenAICompatibleEmulator({ flavour: 'openrouter', ...emulatorOptions }).start();
  const anthropic = await new AnthropicEmulator(emulatorOptions).start();
  const gemini = await new GeminiEmulator(emulatorOptions).start();
  const adminKey = `zk_test_admin_${randomBytes(16).toString('hex')}`;
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-harness-'));
  const config = loadConfig({
    PORT: '0', DATABASE_URL: database.url, TEMPORAL_ADDRESS: process.env.ZUMIK_TEST_TEMPORAL_ADDRESS!, ZUMIK_TASK_QUEUE: taskQueue,
    ZUMIK_DATA_DIR: dataDir, ZUMIK_ADMIN_KEY: adminKey, ZUMIK_TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    OPENAI_API_KEY: EMULATOR_KEY, OPENAI_BASE_URL: openai.baseUrl,
    XAI_API_KEY: EMULATOR_KEY, XAI_BASE_URL: xai.baseUrl,
    FIREWORKS_API_KEY: EMULATOR_KEY, FIREWORKS_BASE_URL: fireworks.baseUrl,
    OPENROUTER_API_KEY: EMULATOR_KEY, OPENROUTER_BASE_URL: openrouter.baseUrl,
    ANTHROPIC_API_KEY: EMULATOR_KEY, ANTHROPIC_BASE_URL: anthropic.url,
    GEMINI_API_KEY: EMULATOR_KEY, GEMINI_BASE_URL: gemini.url,
    ...options.env,
  }, []);
  const logger = options.logs
    ? pino({ level: 'debug', ...(options.tracing ? { mixin: traceIdsMixin } : {}) }, { write: (line: string) => { options.logs!.push(line); } })
    : pino({ level: process.env.ZUMIK_TEST_LOG_LEVEL ?? 'silent' });
  const zumik = await startZumik(config, {
    logger, workflowBundlePath: process.env.ZUMIK_TEST_WORKFLOW_BUNDLE,
    ...(options.tracing ? { spanExporter: options.tracing.exporter, tracingBundlePath: options.tracing.tracingBundlePath } : {}),
  });
  const call: Harness['call'] = async (method, requestPath, callOptions = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${callOptions.key ?? adminKey}`, ...callOptions.headers };
    if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${zumik.url}${requestPath}`, { method, headers, body: callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body) });
    const text = await response.text();
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* SSE or text */ }
    return { status: response.status, body, headers: response.headers };
  };
  return {
    zumik, url: zumik.url, adminKey, database, taskQueue, openai, anthropic, gemini, xai, fireworks, openrouter, call,
    async installAlias(alias, targets, extra = {}) {
      const response = await call('PUT', `/v2/model-aliases/${alias}`, { body: { targets, ...extra } });
      if (response.status !== 200) throw new Error(`installAlias ${alias}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
    async registerEndpoint(id, body, endpointOptions = {}) {
      const query = endpointOptions.tenant ? `?tenant=${endpointOptions.tenant}` : '';
      const registered = await call('PUT', `/v2/byoc-endpoints/${id}${query}`, { key: endpointOptions.key, body });
      if (registered.status !== 200) throw new Error(`registerEndpoint ${id}: ${registered.status} ${JSON.stringify(registered.body)}`);
      const activated = await call('POST', `/v2/byoc-endpoints/${id}/activate${query}`, { body: { override: true, reason: 'test setup: not a test of replay-gated activation' } });
      if (activated.status !== 200) throw new Error(`activate ${id}: ${activated.status} ${JSON.stringify(activated.body)}`);
      return activated.body;
    },
    async installManifest(models) {
      const response = await call('POST', '/v2/capability-manifests', { body: { models } });
      if (response.status !== 200) throw new Error(`installManifest: ${response.status} ${JSON.stringify(response.body)}`);
      return (response.body as { id: string }).id;
    },
    async stop() {
      await zumik.stop();
      await Promise.all([openai, xai, fireworks, openrouter, anthropic, gemini].map((emulator) => emulator.close()));
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const target = (provider: string, model: string, weight = 1, extra: Record<string, unknown> = {}) =>
  ({ execution_profile: 'managed_provider', provider, model, model_revision: '1', weight, ...extra });

/**
 * Environment → typed configuration, parsed once at start-up with zod (DESIGN.md §2). A bad value
 * stops start-up with a message that names the variable; nothing else in Zumik reads process.env.
 */
import path from 'node:path';
import { z } from 'zod';
import { BUILT_IN_PROVIDERS, type BuiltInProvider } from './domain/built-in-providers';
import { REQUEST_BODY_LIMIT_SETTING } from './contract/limits';
import { EgressPolicy } from './net/egress-policy';

const optionalString = z.string().trim().min(1).optional();
const port = z.coerce.number().int().min(0).max(65_535);
const url = z.string().trim().url();
const circuitSetting = z.coerce.number().int().min(1).max(2_147_483_647);

const schema = z.object({
  PORT: port.default(8080),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATABASE_URL: url.optional(),
  ZUMIK_DATA_DIR: z.string().trim().min(1).default('.zumik'),
  TEMPORAL_ADDRESS: z.string().trim().regex(/^[^\s:/]+:\d+$/, 'expected host:port').optional(),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  ZUMIK_TEMPORAL_PORT: port.default(7233),
  ZUMIK_TEMPORAL_UI_PORT: port.default(8233),
  ZUMIK_TEMPORAL_BIN: optionalString,
  ZUMIK_TEMPORAL_UI_URL: url.optional(),
  ZUMIK_TASK_QUEUE: z.string().trim().regex(/^[A-Za-z0-9._:-]{1,200}$/, 'letters, digits, . _ : -').default('zumik'),
  ZUMIK_BATCH_LINES_PER_RUN: z.coerce.number().int().min(1).max(10_000).default(500),
  ZUMIK_REPLAY_PAGE_SIZE: z.coerce.number().int().min(1).max(2_000).default(2_000),
  ZUMIK_POLLS_PER_RUN: z.coerce.number().int().min(1).max(5_000).optional(),
  ZUMIK_STREAM_BUS: z.string().trim().regex(/^(memory|redis:\/\/\S+)$/, 'expected memory or redis://host:port').default('memory'),
  ZUMIK_ADMIN_KEY: z.string().trim().min(20, 'must be at least 20 characters').optional(),
  ZUMIK_MASTER_KEY: z.string().trim().regex(/^[A-Za-z0-9+/=_-]{43,}$/, 'expected 32 bytes, base64 or base64url').optional(),
  ZUMIK_PREVIOUS_MASTER_KEYS: z.string().trim().regex(/^[A-Za-z0-9+/=_-]{43,}(\s*,\s*[A-Za-z0-9+/=_-]{43,})*$/, 'expected comma-separated keys of 32 bytes, base64 or base64url').optional(),
  ZUMIK_PAYLOAD_ENCRYPTION: z.enum(['on', 'off']).default('on'),
  ZUMIK_PROVIDERS_FILE: optionalString,
  /** A Bifrost deployment serving managed providers (the providers file's `bifrost` names which): its base URL and virtual key. */
  ZUMIK_BIFROST_URL: url.optional(),
  ZUMIK_BIFROST_VIRTUAL_KEY: optionalString,
  /** Exceptions to the egress rules for customer-supplied endpoints: CIDR ranges, addresses, `http`. */
  ZUMIK_EGRESS_ALLOW: z.string().trim().default('').superRefine((value, context) => {
    try { new EgressPolicy(value); } catch (error) { context.addIssue({ code: 'custom', message: (error as Error).message }); }
  }),
  ZUMIK_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ZUMIK_BODY_LIMIT: z.string().trim().regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 10mb').default(REQUEST_BODY_LIMIT_SETTING),
  ZUMIK_CIRCUIT_FAILURE_THRESHOLD: circuitSetting.optional(),
  ZUMIK_CIRCUIT_WINDOW_MS: circuitSetting.optional(),
  ZUMIK_CIRCUIT_OPEN_MS: circuitSetting.optional(),
  ZUMIK_CIRCUIT_MAX_OPEN_MS: circuitSetting.optional(),
  ZUMIK_CIRCUIT_MAX_PROBES: circuitSetting.optional(),
  ZUMIK_CIRCUIT_PROBE_TTL_MS: circuitSetting.optional(),
  /** OpenTelemetry's standard variables (the OTLP exporter reads its own OTEL_EXPORTER_OTLP_* settings too). */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default('zumik'),
  ZUMIK_METRICS: z.enum(['on', 'off']).default('on'),
  ZUMIK_METRICS_PORT: port.optional(),
  ZUMIK_METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  ZUMIK_METRICS_MAX_TENANTS: z.coerce.number().int().min(1).max(10_000).default(50),
  ZUMIK_METRICS_MAX_ALIASES: z.coerce.number().int().min(1).max(10_000).default(100),
  ZUMIK_CACHE_MAX_ENTRY_BYTES: z.coerce.number().int().min(1_024).max(64 * 1_048_576).default(1_048_576),
  ZUMIK_CACHE_MAX_TENANT_BYTES: z.coerce.number().int().min(1_024).max(1_099_511_627_776).default(64 * 1_048_576),
  ZUMIK_TEMPORAL_METRICS_ADDRESS: z.string().trim().regex(/^(off|[^\s:/]+:\d+)$/, 'expected host:port or off').optional(),
  ZUMIK_DEMO: z.enum(['0', '1', 'true', 'false']).optional(),
  ZUMIK_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  ZUMIK_SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  ZUMIK_WORKFLOW_BUNDLE: optionalString,
  OPENAI_API_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  GEMINI_API_KEY: optionalString,
  XAI_API_KEY: optionalString,
  FIREWORKS_API_KEY: optionalString,
  OPENROUTER_API_KEY: optionalString,
  OPENAI_BASE_URL: url.optional(),
  ANTHROPIC_BASE_URL: url.optional(),
  GEMINI_BASE_URL: url.optional(),
  XAI_BASE_URL: url.optional(),
  FIREWORKS_BASE_URL: url.optional(),
  OPENROUTER_BASE_URL: url.optional(),
});

/** Every environment variable Zumik reads: what the README's configuration table and docker-compose.yml may name. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  role: Role;
  dataDir: string;
  databaseUrl?: string;
  temporal: {
    /** Set: connect to this frontend. Unset: start the embedded dev server. */
    address?: string;
    namespace: string;
    devServerPort: number;
    devServerUiPort: number;
    binary?: string;
    /** Web UI base for outcome links (the dev server's when Zumik started it). */
    uiUrl?: string;
    taskQueue: string;
  };
  /** StreamBus: `memory` (one process) or `redis://…` (API and workers in several processes). */
  streamBus: string;
  /** Batch lines per batchWorkflow run before it continues-as-new. */
  batchLinesPerRun: number;
  /** Requests a replay workflow run replays before continue-as-new. */
  replayPageSize: number;
  /** Durable polls (a queued request's admission, a batch's provider jobs) per workflow run before continue-as-new (unset: the workflows' defaults). */
  pollsPerRun?: number;
  adminKey?: string;
  masterKey?: string;
  /** Master keys retired by a rotation: sealed secrets and encrypted payloads still open with them. */
  previousMasterKeys: string[];
  /** Encrypt every Temporal payload (TemporalPayloadCodec) with a key derived from the master key. */
  payloadEncryption: boolean;
  providersFile?: string;
  /** The Bifrost deployment (ZUMIK_BIFROST_URL, ZUMIK_BIFROST_VIRTUAL_KEY); which providers it serves is the providers file's `bifrost`. */
  bifrost: { url?: string; virtualKey?: string };
  /** ZUMIK_EGRESS_ALLOW as written (src/net/egress-policy.ts): what customer-supplied endpoints may reach beyond the default. */
  egressAllow: string;
  logLevel: z.infer<typeof schema>['ZUMIK_LOG_LEVEL'];
  bodyLimit: string;
  /** Circuit breaker settings (CircuitBreakerStore); unset (undefined) ones take the store's defaults. */
  circuits: {
    failureThreshold?: number; windowMs?: number; openMs?: number; maxOpenMs?: number; maxProbes?: number; probeTtlMs?: number;
  };
  /**
   * OpenTelemetry tracing, off unless OTEL_TRACES_EXPORTER is `otlp` or `console`, or an OTLP endpoint is
   * set without OTEL_TRACES_EXPORTER. Off, Zumik installs no interceptor and makes no span.
   */
  tracing: {
    exporter: 'otlp' | 'console' | 'none'; serviceName: string;
    /** Where OTLP/HTTP spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces` (unset: the exporter's default, localhost:4318). */
    otlpTracesUrl?: string;
  };
  /** Prometheus metrics (src/metrics): on by default; ZUMIK_METRICS=off leaves the request path without them. */
  metrics: {
    enabled: boolean;
    /** Set: /metrics is served only on this port (bound to `host`, loopback by default), without a key. Unset: on the API port, operator key. */
    port?: number;
    host: string;
    /** Distinct tenant and alias label values before further ones are counted as `other`. */
    maxTenants: number;
    maxAliases: number;
    /** The Temporal SDK runtime's own Prometheus exporter (worker metrics), host:port; unset: a free loopback port; `off`: none. */
    temporalAddress?: string;
  };
  /** The exact-match response cache's size caps: the largest answer kept, and the bytes kept per tenant (LRU beyond). */
  responseCache: { maxEntryBytes: number; maxTenantBytes: number };
  /** Demo mode (`--demo` or ZUMIK_DEMO=1): loopback provider emulators stand in for the managed providers. */
  demo: boolean;
  /**
   * SIGTERM/SIGINT (docs/operations.md): `delayMs` of not-ready /readyz while still serving (a load
   * balancer's time to stop sending), then no new connections and no new tasks; in-flight responses and
   * activities get `graceMs` to finish, after which a worker's unfinished attempts run again elsewhere.
   */
  shutdown: { graceMs: number; delayMs: number };
  /** A prebuilt workflow bundle to run instead of dist/workflow-bundle.js (pinning a build's workflow code). */
  workflowBundle?: string;
  /** Managed-profile credentials and endpoints by provider; a provider without a key is unavailable. */
  providers: Record<ProviderName, { apiKey?: string; baseUrl?: string }>;
}

export const PROVIDER_NAMES = BUILT_IN_PROVIDERS;
export type ProviderName = BuiltInProvider;

/** Thrown when the environment is invalid; its message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  const role = parseRole(argv);
  if (!parsed.success || typeof role !== 'string') {
    const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    if (typeof role !== 'string') problems.push(role.problem);
    throw new ConfigError(problems);
  }
  const values = parsed.data;
  if (role !== 'all' && values.ZUMIK_STREAM_BUS === 'memory') {
    throw new ConfigError([`ZUMIK_STREAM_BUS: --role ${role} needs a shared bus (redis://…): answers cross processes`]);
  }
  const provider = (name: string) => ({
    apiKey: values[`${name.toUpperCase()}_API_KEY` as 'OPENAI_API_KEY'],
    baseUrl: values[`${name.toUpperCase()}_BASE_URL` as 'OPENAI_BASE_URL'],
  });
  return {
    port: values.PORT,
    host: values.HOST,
    role,
    dataDir: path.resolve(values.ZUMIK_DATA_DIR),
    databaseUrl: values.DATABASE_URL,
    temporal: {
      address: values.TEMPORAL_ADDRESS,
      namespace: values.TEMPORAL_NAMESPACE,
      devServerPort: values.ZUMIK_TEMPORAL_PORT,
      devServerUiPort: values.ZUMIK_TEMPORAL_UI_PORT,
      binary: values.ZUMIK_TEMPORAL_BIN,
      uiUrl: values.ZUMIK_TEMPORAL_UI_URL?.replace(/\/+$/, ''),
      taskQueue: values.ZUMIK_TASK_QUEUE,
    },
    streamBus: values.ZUMIK_STREAM_BUS,
    batchLinesPerRun: values.ZUMIK_BATCH_LINES_PER_RUN,
    replayPageSize: values.ZUMIK_REPLAY_PAGE_SIZE,
    pollsPerRun: values.ZUMIK_POLLS_PER_RUN,
    adminKey: values.ZUMIK_ADMIN_KEY,
    masterKey: values.ZUMIK_MASTER_KEY,
    previousMasterKeys: values.ZUMIK_PREVIOUS_MASTER_KEYS?.split(',').map((key) => key.trim()) ?? [],
    payloadEncryption: values.ZUMIK_PAYLOAD_ENCRYPTION === 'on',
    providersFile: values.ZUMIK_PROVIDERS_FILE,
    bifrost: { url: values.ZUMIK_BIFROST_URL, virtualKey: values.ZUMIK_BIFROST_VIRTUAL_KEY },
    egressAllow: values.ZUMIK_EGRESS_ALLOW,
    logLevel: values.ZUMIK_LOG_LEVEL,
    bodyLimit: values.ZUMIK_BODY_LIMIT,
    circuits: {
      failureThreshold: values.ZUMIK_CIRCUIT_FAILURE_THRESHOLD, windowMs: values.ZUMIK_CIRCUIT_WINDOW_MS,
      openMs: values.ZUMIK_CIRCUIT_OPEN_MS, maxOpenMs: values.ZUMIK_CIRCUIT_MAX_OPEN_MS,
      maxProbes: values.ZUMIK_CIRCUIT_MAX_PROBES, probeTtlMs: values.ZUMIK_CIRCUIT_PROBE_TTL_MS,
    },
    tracing: {
      exporter: values.OTEL_TRACES_EXPORTER
        ?? (values.OTEL_EXPORTER_OTLP_ENDPOINT || values.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none'),
      serviceName: values.OTEL_SERVICE_NAME,
      otlpTracesUrl: values.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        ?? (values.OTEL_EXPORTER_OTLP_ENDPOINT ? `${values.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined),
    },
    metrics: {
      enabled: values.ZUMIK_METRICS === 'on', port: values.ZUMIK_METRICS_PORT, host: values.ZUMIK_METRICS_HOST,
      maxTenants: values.ZUMIK_METRICS_MAX_TENANTS, maxAliases: values.ZUMIK_METRICS_MAX_ALIASES,
      temporalAddress: values.ZUMIK_TEMPORAL_METRICS_ADDRESS,
    },
    responseCache: { maxEntryBytes: values.ZUMIK_CACHE_MAX_ENTRY_BYTES, maxTenantBytes: values.ZUMIK_CACHE_MAX_TENANT_BYTES },
    demo: argv.includes('--demo') || values.ZUMIK_DEMO === '1' || values.ZUMIK_DEMO === 'true',
    shutdown: { graceMs: values.ZUMIK_SHUTDOWN_GRACE_MS, delayMs: values.ZUMIK_SHUTDOWN_DELAY_MS },
    ...(values.ZUMIK_WORKFLOW_BUNDLE ? { workflowBundle: path.resolve(values.ZUMIK_WORKFLOW_BUNDLE) } : {}),
    providers: Object.fromEntries(PROVIDER_NAMES.map((name) => [name, provider(name)])) as Config['providers'],
  };
}

function parseRole(argv: string[]): Role | { problem: string } {
  const index = argv.findIndex((arg) => arg === '--role' || arg.startsWith('--role='));
  if (index === -1) return 'all';
  const value = argv[index]!.includes('=') ? argv[index]!.split('=')[1] : argv[index + 1];
  if (value === 'api' || value === 'worker' || value === 'all') return value;
  return { problem: `--role: expected api, worker or all, got ${JSON.stringify(value ?? '')}` };
}

/**
 * startZumik(config): brings up one Zumik process in its role — Postgres (external or embedded),
 * Temporal (external or the supervised dev server), the worker and the HTTP front door — and returns
 * a handle whose stop() takes everything down in reverse order. main.ts and the tests both use it.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createActivities } from '../activities';
import { AttemptAdapters } from '../activities/attempt-adapters';
import { createTokenCounter } from '../activities/count-tokens';
import { CredentialResolver, targetMayHaveCredential } from '../activities/credential-resolver';
import { EgressPolicy } from './net/egress-policy';
import { ProviderDirectory } from './providers/provider-directory';
import { decodeMasterKey, loadMasterKey } from './secrets/master-key';
import { EncryptionCodec } from './temporal/payload-codec';
import { SecretBox } from './secrets/secret-box';
import { ChatGateway } from './server/chat-gateway';
import { createStreamBus } from './streaming/create-stream-bus';
import { AdmissionStore } from './store/admission-store';
import { BatchRepository } from './store/batch-repository';
import { ByocEndpointRepository } from './store/byoc-endpoint-repository';
import { CircuitBreakerStore } from './store/circuit-breaker-store';
import { ConfigFeed } from './store/config-feed';
import { ReplayRepository } from './store/replay-repository';
import { RetainedPromptStore } from './store/retained-prompt-store';
import { PriceManifestRepository } from './store/price-manifest-repository';
import { BudgetRepository } from './store/budget-repository';
import { ResponseCacheStore } from './store/response-cache-store';
import { CircuitCache, circuitRecorder, ReleaseCache } from './store/hot-config';
import { LaneLeaseStore } from './store/lane-lease-store';
import { RequestDecider } from './store/request-decider';
import { CredentialRepository } from './store/credential-repository';
import { FileStore } from './store/file-store';
import { PayloadStore } from './store/payload-store';
import { RequestRepository } from './store/request-repository';
import { TenantPolicyRepository } from './store/tenant-policy-repository';
import { bootstrapAdminKey } from './bootstrap-admin';
import { PROVIDER_NAMES, type Config } from './config';
import { DEMO_ALIAS, DEMO_OWNER, DEMO_RELEASE, startDemoProviders } from './demo/demo-mode';
import { createApp } from './server/app';
import { answerClientErrors } from './server/client-error';
import { ApiKeyAuthenticator } from './server/middleware/authenticate';
import { healthRoutes } from './server/routes/health';
import { ApiKeyRepository } from './store/api-key-repository';
import { openDatabase, type Database } from './store/database';
import { migrate } from './store/migrate';
import { ModelAliasRepository } from './store/model-alias-repository';
import { startDevServer, type DevServer } from './temporal/dev-server';
import { registerSearchAttributes } from './temporal/search-attributes';
import { findTemporalBinary } from './temporal/temporal-binary';
import { startTracing } from './temporal/tracing';
import { connectTemporal, createClient, createWorker, installTemporalRuntime } from './temporal/worker';
import express from 'express';
import { ZumikMetrics } from './metrics/zumik-metrics';
import { freePorts } from './net/free-ports';
import { metricsHandler, metricsRoutes } from './server/routes/metrics';
import { closeOrphanWatchdog } from './process/orphan-watchdog';
import { HttpDrain } from './server/http-drain';

export interface Zumik {
  /** The front door's base URL (`http://host:port`). */
  url: string;
  /** The Temporal Web UI, when Zumik started the dev server. */
  temporalUiUrl?: string;
  temporalAddress: string;
  database: Database;
  client: Client;
  /** The payload codec (absent when ZUMIK_PAYLOAD_ENCRYPTION=off): what reads this instance's raw histories. */
  codec?: EncryptionCodec;
  devServer?: DevServer;
  /** Where /metrics is served (on the API port with an operator key, or ZUMIK_METRICS_PORT's listener); absent when off. */
  metricsUrl?: string;
  /** Built-in providers with a key (names only); in demo mode, all of them (emulated). */
  configuredProviders: string[];
  /** Demo mode: the providers are loopback emulators. */
  demo: boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Prebuilt workflow bundle (default dist/workflow-bundle.js). */
  workflowBundlePath?: string;
  /** Where the one-time generated admin key is printed. */
  print?: (text: string) => void;
  /** Turns tracing on with spans going here (tests: InMemorySpanExporter), whatever OTEL_TRACES_EXPORTER says. */
  spanExporter?: SpanExporter;
  /** Prebuilt tracing workflow bundle (default dist/workflow-bundle-tracing.js), run when tracing is on. */
  tracingBundlePath?: string;
}

export async function startZumik(configured: Config, options: StartOptions): Promise<Zumik> {
  const { logger } = options;
  let config = configured;
  const started = Date.now();
  const cleanups: Array<() => Promise<void>> = [];
  /**
   * Run first and all at once on stop (docs/operations.md): the front door stops taking requests and
   * finishes its responses, the worker stops taking tasks and finishes (or hands over) its attempts,
   * each within ZUMIK_SHUTDOWN_GRACE_MS. Then the cleanups, in reverse order of start.
   */
  const drains: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    await Promise.all(drains.map((drain) => drain().catch((error: unknown) => logger.error({ err: error }, 'error during drain'))));
    for (const cleanup of cleanups.reverse()) {
      try { await cleanup(); } catch (error) { logger.error({ err: error }, 'error during shutdown'); }
    }
  };

  // Last of all: the embedded children are stopped by then, so the orphan watchdog (if any) may go.
  cleanups.push(async () => closeOrphanWatchdog());
  const drain = new HttpDrain(config.shutdown);
  try {
    // Off unless configured: then nothing below installs an interceptor or makes a span.
    const tracing = startTracing({ ...config.tracing, spanExporter: options.spanExporter });
    if (tracing) {
      cleanups.push(() => tracing.shutdown());
      logger.info({ exporter: options.spanExporter ? 'injected' : config.tracing.exporter, service: config.tracing.serviceName }, 'OpenTelemetry tracing is on');
    }
    if (config.demo) {
      // Demo mode: loopback emulators stand in for every managed provider (src/demo); said loudly, in logs and /v1/models.
      const demo = await startDemoProviders();
      cleanups.push(() => demo.close());
      config = { ...config, providers: demo.providers };
      logger.warn({ demo: true, alias: DEMO_ALIAS, providers: Object.fromEntries(Object.entries(demo.providers).map(([name, provider]) => [name, provider.baseUrl])) },
        'DEMO MODE: every managed provider is a local emulator answering canned text; no real model is called');
    }
    const configuredProviders = PROVIDER_NAMES.filter((name) => config.providers[name].apiKey);
    // Names only, never keys: what a first run needs to know before its first request.
    logger.info({ configured: configuredProviders, unconfigured: PROVIDER_NAMES.filter((name) => !config.providers[name].apiKey) }, 'managed providers');
    fs.mkdirSync(config.dataDir, { recursive: true });
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
    cleanups.push(() => database.close());
    await migrate(database.pool, logger);
    const apiKeys = new ApiKeyRepository(database.pool);
    const modelAliases = new ModelAliasRepository(database.pool);
    await modelAliases.manifests.seedBuiltIn();
    const prices = new PriceManifestRepository(database.pool);
    const budgets = new BudgetRepository(database.pool);
    await prices.seedBuiltIn();
    const masterKey = loadMasterKey({ masterKey: config.masterKey, dataDir: config.dataDir });
    const previousKeys = config.previousMasterKeys.map((key, index) => decodeMasterKey(key, `ZUMIK_PREVIOUS_MASTER_KEYS[${index}]`));
    const secretBox = new SecretBox(masterKey, previousKeys);
    // Every Temporal payload encrypted under the master key: no prompt or answer in the engine's stores in plaintext.
    const codec = config.payloadEncryption ? new EncryptionCodec(masterKey, previousKeys) : undefined;
    const credentials = new CredentialRepository(database.pool, secretBox);
    const endpoints = new ByocEndpointRepository(database.pool, secretBox);
    const policies = new TenantPolicyRepository(database.pool);
    const requests = new RequestRepository(database.pool);
    const files = new FileStore(database.pool);
    const payloads = new PayloadStore(database.pool);
    const batches = new BatchRepository(database.pool);
    const circuits = new CircuitBreakerStore(database.pool, config.circuits);
    const retainedPrompts = new RetainedPromptStore(database.pool);
    const replays = new ReplayRepository(database.pool);
    const bus = createStreamBus(config.streamBus, {
      onError: (error, channel) => logger.warn({ err: error, channel }, 'stream bus error'),
    });
    cleanups.push(() => bus.close());
    if (config.role !== 'worker') await bootstrapAdminKey(apiKeys, config.adminKey, logger, options.print);
    if (config.demo && config.role !== 'worker' && !(await modelAliases.findActive(null, DEMO_ALIAS))) {
      await modelAliases.install(DEMO_ALIAS, DEMO_RELEASE);
    }

    let devServer: DevServer | undefined;
    let temporalAddress = config.temporal.address;
    if (!temporalAddress) {
      devServer = await startDevServer({
        binary: findTemporalBinary(config.temporal.binary), dataDir: config.dataDir, port: config.temporal.devServerPort,
        uiPort: config.temporal.devServerUiPort, namespace: config.temporal.namespace, logger,
      });
      cleanups.push(() => devServer!.stop());
      temporalAddress = devServer.address;
    }

    // Metrics: ours in memory; the Temporal SDK's from its Core runtime's exporter on a loopback port, bridged into /metrics.
    const metrics = config.metrics.enabled ? new ZumikMetrics(config.metrics) : undefined;
    const wantedTemporalMetrics = !metrics || config.metrics.temporalAddress === 'off' ? undefined
      : config.metrics.temporalAddress ?? `127.0.0.1:${(await freePorts(1))[0]}`;
    const temporalMetricsAddress = installTemporalRuntime(logger, wantedTemporalMetrics);
    metrics?.scrapeFrom({
      queueDepth: async () => Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM admission_tickets')).rows[0]!.n),
      circuits: async () => (await circuits.list()).map((circuit) => ({ key: circuit.key, state: circuit.state })),
      ...(temporalMetricsAddress ? { temporalMetrics: async () => (await fetch(`http://${temporalMetricsAddress}/metrics`, { signal: AbortSignal.timeout(2_000) })).text() } : {}),
    });
    const connection: NativeConnection = await connectTemporal(temporalAddress);
    cleanups.push(() => connection.close());
    if (!devServer) {
      const added = await registerSearchAttributes(connection.operatorService, config.temporal.namespace);
      if (added.length > 0) logger.info({ added }, 'registered search attributes');
    }
    const client = createClient(connection, config.temporal.namespace, codec, tracing);

    // What the request path decides from: per-process caches, invalidated by the zumik_config feed.
    const directory = new ProviderDirectory({ providers: config.providers, providersFile: config.providersFile, bifrostUrl: config.bifrost.url });
    const bifrost = { serves: (provider: string) => directory.viaBifrost(provider), virtualKey: config.bifrost.virtualKey };
    const egress = new EgressPolicy(config.egressAllow);
    const releases = new ReleaseCache(modelAliases);
    const circuitCache = new CircuitCache(circuits);
    const authenticator = new ApiKeyAuthenticator(apiKeys);
    const admissionStore = new AdmissionStore(database.pool);
    const decider = new RequestDecider({
      policies, releases, circuits: circuitCache, admission: admissionStore, regions: (provider) => directory.regions(provider),
      keyAllowList: async (keyId) => (await apiKeys.findById(keyId))?.allowList,
      hasCredential: (target) => targetMayHaveCredential(config.providers, target, bifrost),
      viaBifrost: bifrost.serves,
      manifests: modelAliases.manifests, routingPolicies: modelAliases.routingPolicies,
      lanes: new LaneLeaseStore(database.pool),
      budgets, prices, ...(metrics ? { budgetObserver: metrics } : {}),
    });
    const feed = new ConfigFeed(database.pool.options, logger.child({ component: 'config-feed' }));
    feed.subscribe((topic) => {
      if (topic === '*') {
        releases.invalidate(); policies.invalidate(); circuitCache.invalidate(); authenticator.forgetAll(); decider.forgetLanes(); prices.invalidate(); budgets.invalidate();
      } else if (topic.startsWith('lane:')) decider.forgetLanes(topic.slice('lane:'.length));
      else if (topic.startsWith('budgets:')) budgets.invalidate(topic.slice('budgets:'.length));
      else if (topic === 'prices') prices.invalidate();
      else if (topic === 'circuits') circuitCache.invalidate();
      else if (topic.startsWith('alias:')) releases.invalidate(topic.slice('alias:'.length));
      else if (topic.startsWith('policy:')) policies.invalidate(topic.slice('policy:'.length));
      else if (topic.startsWith('key:')) authenticator.forget(topic.slice('key:'.length));
    });
    await feed.start();
    cleanups.push(() => feed.close());

    const taskQueue = config.temporal.taskQueue;
    if (config.role !== 'api') {
      const adapters = new AttemptAdapters(directory, egress);
      cleanups.push(() => adapters.close());
      const resolver = new CredentialResolver({ providers: config.providers, credentials, endpoints, secretBox, bifrost });
      // Aborted when the drain's grace is over: the attempts still running end as worker_shutdown and run again elsewhere.
      const shutdownGrace = new AbortController();
      const activities = createActivities({
        admission: {
          admission: admissionStore, policies, aliases: modelAliases, circuits,
          regions: (provider) => directory.regions(provider), decider,
        },
        calls: {
          adapters, circuits: circuitRecorder(circuits, circuitCache), bus, logger: logger.child({ component: 'call-provider' }),
          credentials: resolver, manifests: modelAliases.manifests, prices, ...(tracing ? { tracer: tracing.tracer } : {}), shutdown: shutdownGrace.signal,
        },
        outcomes: requests, metrics,
        batches: { files, batches },
        providerBatches: { directory, credentials: resolver, policies, aliases: modelAliases, files },
        payloads,
        replays: { replays, prompts: retainedPrompts, endpoints, aliases: modelAliases, regions: (provider) => directory.regions(provider) },
      });
      const worker: Worker = await createWorker({
        connection, namespace: config.temporal.namespace, activities, bundlePath: options.workflowBundlePath ?? config.workflowBundle, taskQueue, codec,
        tracing, tracingBundlePath: options.tracingBundlePath, shutdownGraceMs: config.shutdown.graceMs,
      });
      // Which build of the workflow code this worker runs (a rolling deploy has two at once: docs/operations.md).
      logger.info({ taskQueue, workflowBundle: options.workflowBundlePath ?? config.workflowBundle ?? 'dist/workflow-bundle.js' }, 'worker started');
      const running = worker.run();
      running.catch((error: unknown) => logger.fatal({ err: error }, 'the Temporal worker stopped with an error'));
      const stopWorker = async () => {
        if (worker.getState() === 'RUNNING') {
          logger.info({ graceMs: config.shutdown.graceMs }, 'worker draining: no new tasks; running attempts finish within the grace or run again elsewhere');
          worker.shutdown();
          setTimeout(() => shutdownGrace.abort(), config.shutdown.graceMs).unref();
        }
        await running.catch(() => undefined);
      };
      drains.push(stopWorker);
      cleanups.push(stopWorker);
      const probeStarted = Date.now();
      const handle = await client.workflow.start('probeWorkflow', {
        taskQueue, workflowId: `probe:${process.pid}:${Date.now()}`, args: [], requestEagerStart: true,
        workflowTaskTimeout: '5s', staticSummary: 'start-up self-test',
      });
      await handle.result();
      logger.info({ eagerlyStarted: handle.eagerlyStarted, ms: Date.now() - probeStarted }, 'start-up self-test workflow completed');
    }

    const readiness = {
      postgres: async () => { await database.pool.query('SELECT 1'); },
      temporal: async () => { await connection.workflowService.getSystemInfo({}); },
    };
    // ZUMIK_METRICS_PORT: /metrics on its own listener (loopback by default), no key; else on this port, operator key.
    const appMetrics = metrics && config.metrics.port === undefined ? metrics : undefined;
    const app = config.role === 'worker'
      ? express().use(healthRoutes(readiness, { draining: () => drain.draining }), ...(appMetrics ? [metricsRoutes(appMetrics, authenticator)] : []))
      : createApp({
        logger, apiKeys, modelAliases, authenticator, readiness, draining: () => drain.draining, bodyLimit: config.bodyLimit, tracer: tracing?.tracer,
        chat: {
          // Sockets this process closes itself at the end of a drain are not clients that left: their requests go on.
          gateway: new ChatGateway({ client, bus, taskQueue, eager: config.role === 'all', requests, logger, ownSocketsClosing: () => drain.closingSockets }),
          policies, decider, requests, payloads, queuePollsPerRun: config.pollsPerRun, cache: new ResponseCacheStore(database.pool, config.responseCache),
          retention: retainedPrompts,
          onBackgroundError: (error, what) => logger.warn({ err: error }, `${what} failed`), uiBaseUrl: devServer?.uiUrl ?? config.temporal.uiUrl ?? null, metrics,
        },
        requests, client, credentials, endpoints, egress, policies, files, circuits,
        ...(codec ? { codec: { codec, corsOrigins: [devServer?.uiUrl, config.temporal.uiUrl].filter((origin): origin is string => !!origin).map((origin) => new URL(origin).origin) } } : {}),
        batches: { batches, files, client, taskQueue, policies, uiBaseUrl: devServer?.uiUrl ?? config.temporal.uiUrl ?? null,
          linesPerRun: config.batchLinesPerRun, pollsPerRun: config.pollsPerRun },
        replays: { replays, prompts: retainedPrompts, endpoints, aliases: modelAliases, policies, client, taskQueue, pageSize: config.replayPageSize },
        metrics: appMetrics, prices, budgets: { repository: budgets, pool: database.pool }, modelOwner: config.demo ? DEMO_OWNER : undefined, viaBifrost: bifrost.serves,
        countTokens: createTokenCounter({
          releases, adapter: (provider) => directory.adapter(provider),
          // No `bifrost` here: token counting calls the provider's own API, which must never see Bifrost's virtual key.
          credentials: new CredentialResolver({ providers: config.providers, credentials, endpoints, secretBox }),
        }),
      });
    const server = http.createServer(app);
    server.keepAliveTimeout = 65_000;
    answerClientErrors(server);
    drain.track(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    drains.push(() => drain.drain(server, logger));
    cleanups.push(() => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host}:${port}`;
    let metricsUrl = appMetrics ? `${url}/metrics` : undefined;
    if (metrics && config.metrics.port !== undefined) {
      const metricsServer = http.createServer(express().get('/metrics', metricsHandler(metrics)));
      await new Promise<void>((resolve, reject) => {
        metricsServer.once('error', reject);
        metricsServer.listen(config.metrics.port, config.metrics.host, () => resolve());
      });
      cleanups.push(() => new Promise<void>((resolve) => { metricsServer.close(() => resolve()); metricsServer.closeAllConnections(); }));
      metricsUrl = `http://${config.metrics.host}:${(metricsServer.address() as AddressInfo).port}/metrics`;
    }
    logger.info({ url, role: config.role, temporal: temporalAddress, temporalUi: devServer?.uiUrl, database: database.mode,
      metrics: metricsUrl ?? 'off', temporalMetrics: temporalMetricsAddress ?? 'off', startupMs: Date.now() - started }, 'Zumik is ready');

    let stopping: Promise<void> | undefined;
    return {
      url, temporalUiUrl: devServer?.uiUrl, temporalAddress, database, client, codec, devServer, metricsUrl,
      configuredProviders, demo: config.demo,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

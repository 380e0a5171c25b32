/** createApp(deps): the Express front door without listen(), so tests call it in-process. */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Client } from '@temporalio/client';
import type { Tracer } from '@opentelemetry/api';
import { REQUEST_BODY_LIMIT_SETTING } from '../contract/limits';
import type { TokenCounter } from '../domain/token-count';
import type { EgressPolicy } from '../net/egress-policy';
import type { ApiKeyRepository } from '../store/api-key-repository';
import type { ByocEndpointRepository } from '../store/byoc-endpoint-repository';
import type { CredentialRepository } from '../store/credential-repository';
import type { FileStore } from '../store/file-store';
import type { ModelAliasRepository } from '../store/model-alias-repository';
import type { RequestRepository } from '../store/request-repository';
import type { TenantPolicyRepository } from '../store/tenant-policy-repository';
import { authenticate, type ApiKeyAuthenticator } from './middleware/authenticate';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { jsonBodyGuard } from './middleware/json-body-guard';
import { requestId } from './middleware/request-id';
import { traceRequest } from './middleware/trace-request';
import { urlGuard } from './middleware/url-guard';
import { openApiDocument } from './openapi/openapi-document';
import { apiKeyRoutes } from './routes/api-keys';
import { byocEndpointRoutes } from './routes/byoc-endpoints';
import { chatCompletionRoutes, type ChatRouteDeps } from './routes/chat-completions';
import { embeddingsRoutes } from './routes/embeddings';
import { responsesRoutes } from './routes/responses';
import { anthropicMessagesRoutes } from './routes/anthropic-messages';
import { anthropicErrorHandler } from './middleware/anthropic-front-door';
import { circuitRoutes, type CircuitRouteDeps } from './routes/circuits';
import { codecCors, codecRoutes, type CodecRouteDeps } from './routes/codec';
import { credentialRoutes } from './routes/credentials';
import { batchRoutes, type BatchRouteDeps } from './routes/batches';
import { fileRoutes } from './routes/files';
import { requestRoutes } from './routes/requests';
import { tenantPolicyRoutes } from './routes/tenant-policies';
import { healthRoutes, type ReadinessCheck } from './routes/health';
import { modelAliasRoutes } from './routes/model-aliases';
import { metricsRoutes, type MetricsSource } from './routes/metrics';
import { capabilityManifestRoutes } from './routes/capability-manifests';
import { routingPolicyRoutes } from './routes/routing-policies';
import { modelRoutes } from './routes/models';
import { priceRoutes } from './routes/prices';
import { budgetRoutes } from './routes/budgets';
import { replayRoutes, type ReplayRouteDeps } from './routes/replays';
import type { BudgetRepository } from '../store/budget-repository';
import type { Pool } from 'pg';
import type { PriceManifestRepository } from '../store/price-manifest-repository';

export interface AppDeps {
  logger: Logger;
  apiKeys: ApiKeyRepository;
  modelAliases: ModelAliasRepository;
  authenticator: ApiKeyAuthenticator;
  readiness: Record<string, ReadinessCheck>;
  /** True from SIGTERM on: /readyz answers 503 `draining`. */
  draining?: () => boolean;
  /** Largest accepted JSON body, e.g. `10mb` (default: REQUEST_BODY_LIMIT_SETTING). */
  bodyLimit?: string;
  /** The request path (absent in tests of the registry alone). */
  chat?: ChatRouteDeps;
  requests?: RequestRepository;
  client?: Client;
  credentials?: CredentialRepository;
  endpoints?: ByocEndpointRepository;
  /** The egress rules a registered BYOC base_url must pass (default: https to public addresses only). */
  egress?: EgressPolicy;
  policies?: TenantPolicyRepository;
  /** /v1/files (the Batch API's input and output files). */
  files?: FileStore;
  /** /v1/batches. */
  batches?: BatchRouteDeps;
  /** /v2/circuits (admin view of the shared circuit breakers). */
  circuits?: CircuitRouteDeps;
  /** /v2/codec (Temporal's remote codec protocol for the payload encryption), when payloads are encrypted. */
  codec?: CodecRouteDeps;
  /** Tracing on: a span per HTTP request (absent: no middleware at all). */
  tracer?: Tracer;
  /** GET /metrics on this port (operator key); absent when metrics are off or served on ZUMIK_METRICS_PORT. */
  metrics?: MetricsSource;
  /** `POST /v1/messages/count_tokens` (absent: that path is a 404). */
  countTokens?: TokenCounter;
  /** /v2/prices (operator): the price manifest revisions outcomes are costed with. */
  prices?: PriceManifestRepository;
  /** /v2/budgets and /v2/spend (admin): budgets with their spend, and recorded costs by key, alias, provider and day. */
  budgets?: { repository: BudgetRepository; pool: Pool };
  /** Whether the Bifrost deployment serves a managed provider: releases may then name models outside the manifest (broader coverage). */
  viaBifrost?: (provider: string) => boolean;
  /** /v2/replays and endpoint activation (README "Replay"); absent: neither route. */
  replays?: ReplayRouteDeps;
  /** `owned_by` of /v1/models entries (`zumik-demo` in demo mode); default `zumik`. */
  modelOwner?: string;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestId());
  app.use(urlGuard());
  // Mounted on their paths (not as routers every request enters and leaves: bench/README.md, fifth wave).
  app.get(['/healthz', '/readyz'], healthRoutes(deps.readiness, { draining: deps.draining }));
  // After the health routes: probes every few seconds are not traffic worth a trace.
  if (deps.tracer) app.use(traceRequest(deps.tracer));
  // The API's description needs no key: what a client generator or an operator's tool reads first.
  app.get('/openapi.json', (_request, response) => { response.json(openApiDocument()); });
  if (deps.metrics) app.get('/metrics', metricsRoutes(deps.metrics, deps.authenticator));
  app.use(express.json({
    limit: deps.bodyLimit ?? REQUEST_BODY_LIMIT_SETTING, type: ['application/json', 'application/*+json'],
    verify: (request, _response, buffer) => { (request as express.Request).bodyBytes = buffer.length; },
  }));
  app.use(jsonBodyGuard());

  // Anthropic's Messages API: its own key header and error envelope, so it is mounted before /v1's bearer check.
  if (deps.chat) app.use('/v1/messages', anthropicMessagesRoutes(deps.chat, deps.authenticator, deps.countTokens));
  const v1 = express.Router();
  v1.use(authenticate(deps.authenticator));
  // Chat completions first: the hot path passes through no other router.
  if (deps.chat) v1.use(chatCompletionRoutes(deps.chat, 'v1'));
  v1.use(modelRoutes(deps.modelAliases, deps.policies, deps.modelOwner));
  if (deps.chat) v1.use(embeddingsRoutes(deps.chat));
  if (deps.chat) v1.use(responsesRoutes(deps.chat));
  if (deps.files) v1.use(fileRoutes(deps.files));
  if (deps.batches) v1.use(batchRoutes(deps.batches));
  app.use('/v1', v1);

  // The codec's CORS preflight carries no key: answered before authentication.
  if (deps.codec) app.use('/v2/codec', codecCors(deps.codec.corsOrigins));
  const v2 = express.Router();
  v2.use(authenticate(deps.authenticator));
  if (deps.chat) v2.use(chatCompletionRoutes(deps.chat, 'v2'));
  v2.use(modelAliasRoutes(deps.modelAliases, { viaBifrost: deps.viaBifrost, policies: deps.policies }));
  v2.use(capabilityManifestRoutes(deps.modelAliases.manifests));
  v2.use(routingPolicyRoutes(deps.modelAliases.routingPolicies));
  v2.use(apiKeyRoutes(deps.apiKeys, deps.authenticator));
  if (deps.requests && deps.client) v2.use(requestRoutes({ requests: deps.requests, client: deps.client }));
  if (deps.credentials) v2.use(credentialRoutes(deps.credentials));
  if (deps.endpoints) {
    v2.use(byocEndpointRoutes(deps.endpoints, deps.egress, deps.modelAliases,
      deps.replays && deps.policies ? { replays: deps.replays.replays, policies: deps.policies } : undefined));
  }
  if (deps.replays) v2.use(replayRoutes(deps.replays));
  if (deps.policies) v2.use(tenantPolicyRoutes(deps.policies));
  if (deps.circuits) v2.use(circuitRoutes(deps.circuits));
  if (deps.prices) v2.use(priceRoutes(deps.prices));
  if (deps.budgets) v2.use(budgetRoutes(deps.budgets.repository, deps.budgets.pool));
  if (deps.codec) v2.use(codecRoutes(deps.codec));
  app.use('/v2', v2);

  app.use('/v1/messages', anthropicErrorHandler(deps.logger));
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}

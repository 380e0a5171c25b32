/**
 * The OpenAPI 3.1 description of what Zumik serves (`GET /openapi.json`): the /v1 subset of OpenAI's
 * API and the native /v2 surface. Request bodies are generated from the zod schemas the routes
 * validate with (zod's own `z.toJSONSchema`, JSON Schema 2020-12 as OpenAPI 3.1 uses), so the
 * description cannot drift from what the server accepts; answers from ./response-schemas.
 */
import { z } from 'zod';
import { anthropicCountTokensRequestSchema, anthropicMessagesRequestSchema } from '../../contract/anthropic-messages';
import { chatRequestSchema } from '../../contract/chat-request-schema';
import { embeddingsRequestSchema } from '../../contract/embeddings';
import { responsesRequestSchema } from '../../contract/openai-responses';
import { installReleaseSchema } from '../../domain/model-alias';
import { budgetInputSchema } from '../../domain/budget';
import { putPricesSchema } from '../../domain/price-manifest';
import { tenantPolicySchema } from '../../domain/tenant-policy';
import { createKeySchema } from '../routes/api-keys';
import { createBatchSchema } from '../routes/batches';
import { activateEndpointSchema, putEndpointSchema } from '../routes/byoc-endpoints';
import { createReplaySchema } from '../routes/replays';
import { putCanarySchema, rollbackSchema } from '../routes/model-aliases';
import { putCredentialSchema } from '../routes/credentials';
import * as responses from './response-schemas';

const REQUEST_BODIES = {
  CreateChatCompletionRequest: chatRequestSchema,
  CreateEmbeddingRequest: embeddingsRequestSchema,
  CreateMessageRequest: anthropicMessagesRequestSchema,
  CountMessageTokensRequest: anthropicCountTokensRequestSchema,
  CreateResponseRequest: responsesRequestSchema,
  CreateBatchRequest: createBatchSchema,
  InstallReleaseRequest: installReleaseSchema,
  TenantPolicy: tenantPolicySchema,
  CreateApiKeyRequest: createKeySchema,
  PutCredentialRequest: putCredentialSchema,
  PutByocEndpointRequest: putEndpointSchema,
  ActivateByocEndpointRequest: activateEndpointSchema,
  CreateReplayRequest: createReplaySchema,
  PutCanaryRequest: putCanarySchema,
  RollbackRequest: rollbackSchema,
  PutPricesRequest: putPricesSchema,
  BudgetRequest: budgetInputSchema,
} as const;

const RESPONSES = {
  ErrorResponse: responses.ErrorResponse, CreateChatCompletionResponse: responses.CreateChatCompletionResponse,
  ListModelsResponse: responses.ListModelsResponse, Model: responses.Model, OpenAIFile: responses.OpenAIFile,
  ListFilesResponse: responses.ListFilesResponse, DeleteFileResponse: responses.DeleteFileResponse, Batch: responses.Batch,
  ListBatchesResponse: responses.ListBatchesResponse, CompletionUsage: responses.CompletionUsage, AttemptRecord: responses.AttemptRecord,
  RequestOutcome: responses.RequestOutcome, RequestInProgress: responses.RequestInProgress,
  ChatCompletionWithOutcome: responses.ChatCompletionWithOutcome, ModelAliasRelease: responses.ModelAliasRelease,
  ModelAliasReleaseList: responses.ModelAliasReleaseList, ApiKey: responses.ApiKey, ApiKeyList: responses.ApiKeyList,
  Deleted: responses.Deleted, JsonObject: responses.JsonObject, PriceManifest: responses.PriceManifest,
  PriceManifestRevisionList: responses.PriceManifestRevisionList, Budget: responses.Budget, BudgetList: responses.BudgetList, Spend: responses.Spend,
} as const;

export type ComponentName = keyof typeof REQUEST_BODIES | keyof typeof RESPONSES;

/** Every named schema as a component; references between them by `#/components/schemas/<name>`. */
function components(): Record<string, unknown> {
  const generate = (schemas: Record<string, z.ZodType>, io: 'input' | 'output') => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
    const { schemas: generated } = z.toJSONSchema(registry, {
      target: 'draft-2020-12', io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}`,
    }) as { schemas: Record<string, Record<string, unknown>> };
    return Object.fromEntries(Object.entries(generated).map(([id, { $id: _id, $schema: _schema, ...schema }]) => [id, schema]));
  };
  // Requests as a client writes them (defaults optional), answers as the server sends them.
  return { ...generate(RESPONSES, 'output'), ...generate(REQUEST_BODIES, 'input') };
}

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const body = (name: ComponentName) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const errors = {
  '400': json('ErrorResponse', 'Bad input: `param` names the field'),
  '401': json('ErrorResponse', 'No valid API key'),
  '403': json('ErrorResponse', 'The key lacks the scope, or the allow-list refuses'),
  '404': json('ErrorResponse', 'Not found (or another tenant\'s)'),
  '429': json('ErrorResponse', 'Rate or concurrency limit, a spent hard budget (`budget_exceeded`, with Retry-After), or provider rate limits on every attempt'),
  '5XX': json('ErrorResponse', 'The providers failed (reason code in the headers and the outcome)'),
};
const pathParameter = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });
const operation = (operationId: string, summary: string, ok: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  operationId, summary, ...extra, responses: { ...ok, ...errors },
});

/** The response cache's request headers (chat completions). */
const CACHE_HEADERS = [
  { name: 'x-zumik-cache', in: 'header', required: false, schema: { type: 'string', enum: ['use', 'refresh', 'skip'] },
    description: 'The exact-match response cache: use (hit or keep), refresh (call and replace), skip; default from the tenant policy' },
  { name: 'x-zumik-cache-ttl', in: 'header', required: false, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Seconds the kept answer lives (1 to 2592000)' },
];

function paths(): Record<string, unknown> {
  const chatStream = { 'text/event-stream': { schema: { type: 'string', description: '`data: {chat.completion.chunk}` events, then `data: [DONE]`' } } };
  return {
    '/v1/chat/completions': {
      post: operation('createChatCompletion', 'Chat completion (OpenAI-compatible); the outcome travels in x-zumik-* headers', {
        '200': { description: 'The answer, or its stream', content: { 'application/json': { schema: ref('CreateChatCompletionResponse') }, ...chatStream } },
      }, { requestBody: body('CreateChatCompletionRequest'), parameters: CACHE_HEADERS }),
    },
    '/v1/embeddings': {
      post: operation('createEmbedding', 'Embeddings through an alias (OpenAI-compatible); the outcome travels in x-zumik-* headers', {
        '200': json('JsonObject', 'OpenAI\'s CreateEmbeddingResponse: `object: list`, `data[].embedding` (floats or base64), `model`, `usage`'),
      }, { requestBody: body('CreateEmbeddingRequest') }),
    },
    '/v1/responses': {
      post: operation('createResponse', 'OpenAI\'s Responses API through an alias (non-background; no stored responses: previous_response_id, store: true and '
        + 'background: true are a 400 naming the field); the outcome travels in x-zumik-* headers', {
        '200': {
          description: 'A `response` object, or its event stream (`response.created` … `response.completed`, `error` events)',
          content: { 'application/json': { schema: ref('JsonObject') }, 'text/event-stream': { schema: { type: 'string' } } },
        },
      }, { requestBody: body('CreateResponseRequest') }),
    },
    '/v1/messages': {
      post: operation('createMessage', 'Anthropic\'s Messages API through an alias (errors in Anthropic\'s envelope); key in x-api-key or Authorization', {
        '200': {
          description: 'An Anthropic `message`, or its event stream (`message_start` … `message_stop`)',
          content: { 'application/json': { schema: ref('JsonObject') }, 'text/event-stream': { schema: { type: 'string' } } },
        },
      }, { requestBody: body('CreateMessageRequest') }),
    },
    '/v1/messages/count_tokens': {
      post: operation('countMessageTokens', 'Anthropic\'s exact input count (its count_tokens endpoint) for an alias whose every weighted target is an Anthropic model; '
        + 'other aliases are a 400 naming `model` (no estimate). Not a workflow: nothing is generated', {
        '200': { description: '`{"input_tokens": n}`', content: { 'application/json': { schema: {
          type: 'object', required: ['input_tokens'], properties: { input_tokens: { type: 'integer', minimum: 0 } } } } } },
      }, { requestBody: body('CountMessageTokensRequest') }),
    },
    '/v1/models': { get: operation('listModels', 'The model aliases the caller may request', { '200': json('ListModelsResponse', 'Models') }) },
    '/v1/models/{model}': {
      get: operation('retrieveModel', 'One model alias', { '200': json('Model', 'The model') }, { parameters: [pathParameter('model', 'The alias')] }),
    },
    '/v1/files': {
      post: operation('createFile', 'Upload a batch input file (multipart: `file`, `purpose=batch`)', { '200': json('OpenAIFile', 'The file') }, {
        requestBody: { required: true, content: { 'multipart/form-data': { schema: {
          type: 'object', required: ['file', 'purpose'], properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' }, purpose: { type: 'string' } },
        } } } },
      }),
      get: operation('listFiles', "The tenant's files", { '200': json('ListFilesResponse', 'Files') }),
    },
    '/v1/files/{file_id}': {
      get: operation('retrieveFile', 'One file', { '200': json('OpenAIFile', 'The file') }, { parameters: [pathParameter('file_id', 'The file id')] }),
      delete: operation('deleteFile', 'Delete a file', { '200': json('DeleteFileResponse', 'Deleted') }, { parameters: [pathParameter('file_id', 'The file id')] }),
    },
    '/v1/files/{file_id}/content': {
      get: operation('downloadFile', "A file's content (JSONL)", { '200': { description: 'The content', content: { 'application/octet-stream': { schema: { type: 'string' } } } } },
        { parameters: [pathParameter('file_id', 'The file id')] }),
    },
    '/v1/batches': {
      post: operation('createBatch', 'Run a file of chat completions within 24 h', { '200': json('Batch', 'The batch') }, { requestBody: body('CreateBatchRequest') }),
      get: operation('listBatches', "The tenant's batches", { '200': json('ListBatchesResponse', 'Batches') }),
    },
    '/v1/batches/{batch_id}': {
      get: operation('retrieveBatch', 'One batch', { '200': json('Batch', 'The batch') }, { parameters: [pathParameter('batch_id', 'The batch id')] }),
    },
    '/v1/batches/{batch_id}/cancel': {
      post: operation('cancelBatch', 'Cancel a batch', { '200': json('Batch', 'The batch') }, { parameters: [pathParameter('batch_id', 'The batch id')] }),
    },
    '/v2/chat/completions': {
      post: operation('createChatCompletionWithOutcome', 'Chat completion with its outcome in the body; `background: true` answers 202 at once', {
        '200': { description: 'The answer with `zumik` (the outcome), or its stream', content: { 'application/json': { schema: ref('ChatCompletionWithOutcome') }, ...chatStream } },
        '202': json('RequestInProgress', 'Background: poll /v2/requests/{id}'),
      }, { requestBody: body('CreateChatCompletionRequest'), parameters: CACHE_HEADERS }),
    },
    '/v2/requests/{id}': {
      get: operation('retrieveRequest', "A request's outcome: attempts, usage, cost, the Temporal UI link, the trace id", {
        '200': { description: 'The outcome, or the request still running', content: { 'application/json': { schema: { anyOf: [ref('RequestOutcome'), ref('RequestInProgress')] } } } },
      }, { parameters: [pathParameter('id', 'The request id (chatcmpl-…)')] }),
    },
    '/v2/model-aliases': { get: operation('listModelAliases', 'The active release of every alias', { '200': json('ModelAliasReleaseList', 'Releases') }) },
    '/v2/model-aliases/{alias}': {
      get: operation('retrieveModelAlias', "An alias's active release", { '200': json('ModelAliasRelease', 'The release') }, { parameters: [pathParameter('alias', 'The alias')] }),
      put: operation('installModelAlias', 'Install a new release of an alias (admin)', { '200': json('ModelAliasRelease', 'The new release') },
        { parameters: [pathParameter('alias', 'The alias')], requestBody: body('InstallReleaseRequest') }),
    },
    '/v2/model-aliases/{alias}/canary': {
      put: operation('putModelAliasCanary', "Start or change a canary: `weight` percent of the alias's requests run on a candidate release of it (admin)",
        { '200': json('JsonObject', 'The canary: `release_id`, `weight`, `live_release_id`') },
        { parameters: [pathParameter('alias', 'The alias')], requestBody: body('PutCanaryRequest') }),
      delete: operation('deleteModelAliasCanary', 'End the canary (admin)', { '200': json('JsonObject', 'Deleted') }, { parameters: [pathParameter('alias', 'The alias')] }),
    },
    '/v2/model-aliases/{alias}/rollback': {
      post: operation('rollbackModelAlias', 'Install a new release copying an earlier one of the alias (`copied_from`); ends a canary (admin)',
        { '200': json('ModelAliasRelease', 'The new release') }, { parameters: [pathParameter('alias', 'The alias')], requestBody: body('RollbackRequest') }),
    },
    '/v2/model-aliases/{alias}/releases': {
      get: operation('listModelAliasReleases', "Every release of an alias, newest first", { '200': json('ModelAliasReleaseList', 'Releases') },
        { parameters: [pathParameter('alias', 'The alias')] }),
    },
    '/v2/model-alias-releases/{id}': {
      get: operation('retrieveModelAliasRelease', 'One release', { '200': json('ModelAliasRelease', 'The release') }, { parameters: [pathParameter('id', 'The release id (alr_…)')] }),
    },
    '/v2/api-keys': {
      post: operation('createApiKey', 'Create an API key; its secret is shown once', { '201': json('ApiKey', 'The key, with `key`') }, { requestBody: body('CreateApiKeyRequest') }),
      get: operation('listApiKeys', "The tenant's keys (never their secrets)", { '200': json('ApiKeyList', 'Keys') }),
    },
    '/v2/api-keys/{id}': {
      delete: operation('revokeApiKey', 'Revoke a key', { '200': json('Deleted', 'Revoked') }, { parameters: [pathParameter('id', 'The key id (key_…)')] }),
    },
    '/v2/tenants/{tenant}/policy': {
      get: operation('retrieveTenantPolicy', "A tenant's policy (admin)", { '200': json('JsonObject', 'The policy') }, { parameters: [pathParameter('tenant', 'The tenant')] }),
      put: operation('putTenantPolicy', "Replace a tenant's policy (admin)", { '200': json('JsonObject', 'The policy') },
        { parameters: [pathParameter('tenant', 'The tenant')], requestBody: body('TenantPolicy') }),
    },
    '/v2/credentials/{provider}': {
      put: operation('putCredential', "The tenant's own key for a provider (BYOK, admin); never shown again", { '200': json('JsonObject', 'The credential, without its secret') },
        { parameters: [pathParameter('provider', 'The provider')], requestBody: body('PutCredentialRequest') }),
    },
    '/v2/prices': {
      get: operation('retrievePrices', 'The current price manifest revision (operator)', { '200': json('PriceManifest', 'The current revision') }),
      put: operation('putPrices', 'Install a new price manifest revision, whole; it is current from now on (operator)', { '200': json('PriceManifest', 'The new revision') },
        { requestBody: body('PutPricesRequest') }),
    },
    '/v2/prices/revisions': {
      get: operation('listPriceRevisions', 'Every price manifest revision (operator)', { '200': json('PriceManifestRevisionList', 'Revisions') }),
    },
    '/v2/prices/revisions/{revision}': {
      get: operation('retrievePriceRevision', 'One price manifest revision (operator)', { '200': json('PriceManifest', 'The revision') },
        { parameters: [pathParameter('revision', 'The revision (price_builtin, price_…)')] }),
    },
    '/v2/budgets': {
      get: operation('listBudgets', "The tenant's budgets with their current period's spend (admin)", { '200': json('BudgetList', 'Budgets') }),
      post: operation('createBudget', 'Create a budget for the tenant, an API key, or an alias (admin)', { '201': json('Budget', 'The budget') },
        { requestBody: body('BudgetRequest') }),
    },
    '/v2/budgets/{id}': {
      get: operation('retrieveBudget', 'One budget with its spend (admin)', { '200': json('Budget', 'The budget') }, { parameters: [pathParameter('id', 'The budget id (bud_…)')] }),
      put: operation('updateBudget', "Replace a budget's amount, period and mode (admin)", { '200': json('Budget', 'The budget') },
        { parameters: [pathParameter('id', 'The budget id (bud_…)')], requestBody: body('BudgetRequest') }),
      delete: operation('deleteBudget', 'Delete a budget (admin)', { '200': json('Deleted', 'Deleted') }, { parameters: [pathParameter('id', 'The budget id (bud_…)')] }),
    },
    '/v2/spend': {
      get: operation('retrieveSpend', "The tenant's recorded costs by key, alias, provider and day (admin)", { '200': json('Spend', 'Spend') }, {
        parameters: [
          { name: 'from', in: 'query', required: false, schema: { type: 'string' }, description: 'Unix seconds or ISO 8601 (default: 30 days before `to`)' },
          { name: 'to', in: 'query', required: false, schema: { type: 'string' }, description: 'Unix seconds or ISO 8601 (default: now)' },
        ],
      }),
    },
    '/v2/byoc-endpoints/{id}': {
      put: operation('putByocEndpoint', "Register the tenant's own endpoint (admin)", { '200': json('JsonObject', 'The endpoint, without its secret') },
        { parameters: [pathParameter('id', 'The endpoint name')], requestBody: body('PutByocEndpointRequest') }),
    },
    '/v2/byoc-endpoints/{id}/activate': {
      post: operation('activateByocEndpoint', 'Activate a pending endpoint with a passing replay report younger than the policy allows, '
        + 'or (operator only) an audited override with a reason (admin)', { '200': json('JsonObject', 'The endpoint: `status: active` and its `activation`') },
      { parameters: [pathParameter('id', 'The endpoint name')], requestBody: body('ActivateByocEndpointRequest') }),
    },
    '/v2/replays': {
      post: operation('createReplay', "Replay retained prompts of an alias against a candidate (a BYOC endpoint or a release) in shadow; 422 `replay_no_sample` when none match (admin)",
        { '202': json('JsonObject', 'The replay (`rpl_…`, `status: running`)') }, { requestBody: body('CreateReplayRequest') }),
      get: operation('listReplays', "The tenant's replays, newest first (admin)", { '200': json('JsonObject', '`object: list`, `data`: replays') }),
    },
    '/v2/replays/{id}': {
      get: operation('retrieveReplay', 'A replay and, once completed, its report: numbers, agreement, each threshold with `pass`, the `verdict` (admin)',
        { '200': json('JsonObject', 'The replay') }, { parameters: [pathParameter('id', 'The replay id (rpl_…)')] }),
    },
  };
}

let cached: Record<string, unknown> | undefined;

/** The document (built once per process: the schemas do not change while it runs). */
export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Zumik', version: '0.1.0',
      description: "An LLM gateway where every request is a durable Temporal workflow: OpenAI's API on /v1 (the subset below), Zumik's own on /v2.",
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: paths(),
    components: { schemas: components(), securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Zumik API key (zk_…)' } } },
  };
  return cached;
}

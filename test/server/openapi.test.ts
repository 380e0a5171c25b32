/**
 * GET /openapi.json on a whole Zumik, and real answers of the main routes validated against it; the
 * /v1 components held to OpenAI's own schemas of the same names.
 */
import { validateAgainstSchema } from '../support/openapi-validator';
import { ZumikOpenApi } from '../support/zumik-openapi-validator';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { waitForRecorded } from '../request-path/request-path-helpers';

describe('OpenAPI 3.1 at /openapi.json', () => {
  let harness: Harness;
  let api: ZumikOpenApi;

  beforeAll(async () => {
    harness = await startHarness();
    const response = await fetch(`${harness.url}/openapi.json`);
    expect(response.status).toBe(200);
    api = new ZumikOpenApi(await response.json());
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });

  /** Call, then hold the answer to the document (and to OpenAI's schema of the same name, for /v1). */
  async function conforming(method: string, documented: string, path: string, options: { body?: unknown; openai?: string } = {}) {
    if (options.body !== undefined) expect(api.validateRequest(method, documented, options.body)).toEqual([]);
    const response = await harness.call(method, path, options.body === undefined ? {} : { body: options.body });
    expect([method, path, api.validateResponse(method, documented, response.status, response.body)]).toEqual([method, path, []]);
    if (options.openai) expect(validateAgainstSchema(options.openai, response.body)).toEqual([]);
    return response;
  }

  it('is served without a key, as OpenAPI 3.1 whose every component compiles as JSON Schema 2020-12', () => {
    expect(api.document).toMatchObject({ openapi: '3.1.0', jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema' });
    expect(Object.keys(api.document.paths)).toEqual(expect.arrayContaining(['/v1/chat/completions', '/v1/embeddings', '/v1/messages', '/v1/messages/count_tokens', '/v1/responses', '/v1/models', '/v2/requests/{id}', '/v2/model-aliases/{alias}']));
    // Every front door's body as its route validates it: what the server refuses, the document refuses.
    expect(api.validateRequest('post', '/v1/embeddings', { model: 'embed.small', input: ['alpha'] })).toEqual([]);
    expect(api.validateRequest('post', '/v1/embeddings', { model: 'embed.small' })).not.toEqual([]);
    expect(api.validateRequest('post', '/v1/messages', { model: 'code.fast', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })).toEqual([]);
    expect(api.validateRequest('post', '/v1/messages', { model: 'code.fast', messages: [{ role: 'user', content: 'hi' }] })).not.toEqual([]);
    expect(api.validateRequest('post', '/v1/messages/count_tokens', { model: 'code.fast', messages: [{ role: 'user', content: 'hi' }] })).toEqual([]);
    expect(api.validateRequest('post', '/v1/messages/count_tokens', { model: 'code.fast' })).not.toEqual([]);
    expect(api.validateRequest('post', '/v1/responses', { model: 'code.fast', input: 'hi', text: { format: { type: 'json_schema', name: 'a', schema: {} } } })).toEqual([]);
    expect(api.validateRequest('post', '/v1/responses', { model: 'code.fast' })).not.toEqual([]);
    expect(() => api.compileAll()).not.toThrow();
  });

  it('describes /v2 model aliases, /v1 models and chat completions as they are answered', async () => {
    const release = await conforming('PUT', '/v2/model-aliases/{alias}', '/v2/model-aliases/docs.chat', {
      body: { targets: [target('openai', 'gpt-4o-mini')] },
    });
    expect(release.status).toBe(200);
    await conforming('GET', '/v2/model-aliases', '/v2/model-aliases');
    await conforming('GET', '/v2/model-aliases/{alias}/releases', '/v2/model-aliases/docs.chat/releases');
    await conforming('GET', '/v2/model-alias-releases/{id}', `/v2/model-alias-releases/${release.body.id}`);
    // Canary and rollback (issue 12), on an alias of their own.
    const stable = await conforming('PUT', '/v2/model-aliases/{alias}', '/v2/model-aliases/docs.canary', { body: { targets: [target('openai', 'gpt-4o-mini')] } });
    await conforming('PUT', '/v2/model-aliases/{alias}', '/v2/model-aliases/docs.canary', {
      body: { targets: [target('anthropic', 'claude-haiku-4-5')], sticky: { by: 'prefix', prefix_chars: 256 } },
    });
    expect((await conforming('PUT', '/v2/model-aliases/{alias}/canary', '/v2/model-aliases/docs.canary/canary', { body: { release_id: stable.body.id, weight: 10 } })).status).toBe(200);
    expect(api.validateRequest('PUT', '/v2/model-aliases/{alias}/canary', { release_id: stable.body.id, weight: 100 })).not.toEqual([]);
    expect((await conforming('DELETE', '/v2/model-aliases/{alias}/canary', '/v2/model-aliases/docs.canary/canary')).status).toBe(200);
    const rolled = await conforming('POST', '/v2/model-aliases/{alias}/rollback', '/v2/model-aliases/docs.canary/rollback', { body: { release_id: stable.body.id } });
    expect(rolled.body.copied_from).toBe(stable.body.id);
    await conforming('GET', '/v1/models', '/v1/models', { openai: 'ListModelsResponse' });
    await conforming('GET', '/v1/models/{model}', '/v1/models/docs.chat', { openai: 'Model' });
    const missing = await conforming('GET', '/v1/models/{model}', '/v1/models/no.such', { openai: 'ErrorResponse' });
    expect(missing.status).toBe(404);

    const chatBody = { model: 'docs.chat', messages: [{ role: 'user', content: 'Say hi' }], max_tokens: 16 };
    expect(validateAgainstSchema('CreateChatCompletionRequest', chatBody)).toEqual([]);
    const completion = await conforming('POST', '/v1/chat/completions', '/v1/chat/completions', { body: chatBody, openai: 'CreateChatCompletionResponse' });
    expect(completion.status).toBe(200);
    const native = await conforming('POST', '/v2/chat/completions', '/v2/chat/completions', { body: chatBody });
    expect(native.status).toBe(200);
    await waitForRecorded(harness, completion.body.id);
    const outcome = await conforming('GET', '/v2/requests/{id}', `/v2/requests/${completion.body.id}`);
    expect(outcome.body).toMatchObject({ object: 'request_outcome', reason_code: 'ok' });

    const refused = await conforming('POST', '/v1/chat/completions', '/v1/chat/completions', { openai: 'ErrorResponse', body: undefined });
    expect(refused.status).toBe(400);
  });

  it('describes API keys as they are answered, and refuses in its schema what the server refuses', async () => {
    const created = await conforming('POST', '/v2/api-keys', '/v2/api-keys', { body: { name: 'docs', scopes: ['inference'] } });
    expect(created.status).toBe(201);
    await conforming('GET', '/v2/api-keys', '/v2/api-keys');
    await conforming('DELETE', '/v2/api-keys/{id}', `/v2/api-keys/${created.body.id}`);
    const badKey = { name: 'docs', scopes: ['everything'] };
    expect(api.validateRequest('POST', '/v2/api-keys', badKey)).not.toEqual([]);
    expect((await harness.call('POST', '/v2/api-keys', { body: badKey })).status).toBe(400);
    const badRelease = { targets: [target('openai', 'gpt-4o-mini')], colour: 'blue' };
    expect(api.validateRequest('PUT', '/v2/model-aliases/{alias}', badRelease)).not.toEqual([]);
    expect((await harness.call('PUT', '/v2/model-aliases/docs.bad', { body: badRelease })).status).toBe(400);
  });

  it('describes prices, budgets and spend as they are answered, and refuses in its schema what the server refuses', async () => {
    const prices = await conforming('PUT', '/v2/prices', '/v2/prices', { body: { models: { 'openai/gpt-4o-mini': { input: 0.15, output: 0.6, tiers: { batch: 0.5 } } } } });
    expect(prices.status).toBe(200);
    await conforming('GET', '/v2/prices', '/v2/prices');
    await conforming('GET', '/v2/prices/revisions', '/v2/prices/revisions');
    await conforming('GET', '/v2/prices/revisions/{revision}', '/v2/prices/revisions/price_builtin');
    const badPrices = { models: { 'openai/gpt-4o-mini': { input: -1, output: 0.6 } } };
    expect(api.validateRequest('PUT', '/v2/prices', badPrices)).not.toEqual([]);
    expect((await harness.call('PUT', '/v2/prices', { body: badPrices })).status).toBe(400);

    const budget = await conforming('POST', '/v2/budgets', '/v2/budgets', { body: { amount_usd: 5, period: 'rolling', window_seconds: 3_600, mode: 'soft' } });
    expect(budget.status).toBe(201);
    await conforming('GET', '/v2/budgets', '/v2/budgets');
    await conforming('PUT', '/v2/budgets/{id}', `/v2/budgets/${budget.body.id}`, { body: { amount_usd: 6, period: 'daily' } });
    await conforming('GET', '/v2/budgets/{id}', `/v2/budgets/${budget.body.id}`);
    await conforming('GET', '/v2/spend', '/v2/spend');
    await conforming('DELETE', '/v2/budgets/{id}', `/v2/budgets/${budget.body.id}`);
    const badBudget = { amount_usd: 5, period: 'weekly' };
    expect(api.validateRequest('POST', '/v2/budgets', badBudget)).not.toEqual([]);
    expect((await harness.call('POST', '/v2/budgets', { body: badBudget })).status).toBe(400);
  });

  it('describes files and batches as they are answered (OpenAI schemas too)', async () => {
    const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'docs.chat', messages: [{ role: 'user', content: 'hi' }] } });
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([`${line}\n`], { type: 'application/jsonl' }), 'input.jsonl');
    const upload = await fetch(`${harness.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}` }, body: form });
    const file: any = await upload.json();
    expect(api.validateResponse('POST', '/v1/files', upload.status, file)).toEqual([]);
    // OpenAI's API answers `status_details: null` (deprecated), which its own spec types as a string: Zumik answers as the API does.
    const { status_details: _deprecated, ...fileAsSpecified } = file;
    expect(validateAgainstSchema('OpenAIFile', fileAsSpecified)).toEqual([]);
    await conforming('GET', '/v1/files', '/v1/files');
    await conforming('GET', '/v1/files/{file_id}', `/v1/files/${file.id}`);
    const batch = await conforming('POST', '/v1/batches', '/v1/batches', {
      body: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, openai: 'Batch',
    });
    await conforming('GET', '/v1/batches/{batch_id}', `/v1/batches/${batch.body.id}`, { openai: 'Batch' });
    await conforming('GET', '/v1/batches', '/v1/batches', { openai: 'ListBatchesResponse' });
  });
});

import OpenAI from 'openai';
import { startTestApp, type TestApp } from '../support/test-app';

describe('GET /v1/models', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    for (const alias of ['models.b', 'models.a']) {
      await app.call('PUT', `/v2/model-aliases/${alias}`, {
        body: { targets: [{ execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4', model_revision: '2026-03-05', weight: 1 }] },
      });
    }
  });
  afterAll(async () => { await app.close(); });

  it('lists the live aliases as OpenAI model objects that the official SDK reads', async () => {
    const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: app.inferenceKey, maxRetries: 0 });
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models).toEqual([
      { id: 'models.a', object: 'model', created: expect.any(Number), owned_by: 'zumik' },
      { id: 'models.b', object: 'model', created: expect.any(Number), owned_by: 'zumik' },
    ]);
    expect(await client.models.retrieve('models.a')).toMatchObject({ id: 'models.a', object: 'model' });
    await expect(client.models.retrieve('models.none')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("lists and retrieves only the aliases the key's allow-list lets it request", async () => {
    const narrow = await app.apiKeys.create({ tenantId: 'acme', name: 'narrow', scopes: ['inference'], allowList: { aliases: ['models.a'] } });
    const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: narrow.secret, maxRetries: 0 });
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(['models.a']);
    await expect(client.models.retrieve('models.b')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('rejects a wrong key the way OpenAI does (AuthenticationError)', async () => {
    const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'zk_wrong', maxRetries: 0 });
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

import { randomBytes } from 'node:crypto';
import { credentialRoutes } from '../../src/server/routes/credentials';
import { SecretBox } from '../../src/secrets/secret-box';
import { CredentialRepository } from '../../src/store/credential-repository';
import { ADMIN_PRINCIPAL, INFERENCE_PRINCIPAL, OPERATOR_PRINCIPAL, startRouterTestApp, type RouterTestApp } from '../support/router-test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const OPENAI_KEY = 'sk-proj-acme-0123456789-SECRET-abcd';

describe('credentialRoutes (/v2/credentials)', () => {
  let database: TestDatabase;
  let secretBox: SecretBox;
  let app: RouterTestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    secretBox = new SecretBox(randomBytes(32));
    app = await startRouterTestApp(credentialRoutes(new CredentialRepository(database.pool, secretBox)));
  });
  afterAll(async () => { await app.close(); await database.drop(); });
  afterEach(() => { app.principal = ADMIN_PRINCIPAL; });

  async function storedRows(): Promise<string[]> {
    const { rows } = await database.pool.query('SELECT row_to_json(c)::text AS row FROM tenant_credentials c');
    return rows.map((row: { row: string }) => row.row);
  }

  describe('PUT /v2/credentials/{provider}', () => {
    it("stores the caller's tenant's key sealed, and answers with a hint, never the key", async () => {
      const response = await app.call('PUT', '/v2/credentials/openai', { body: { api_key: OPENAI_KEY } });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        object: 'credential', provider: 'openai', tenant: 'acme', hint: '…abcd', created_at: expect.any(Number), updated_at: expect.any(Number),
      });
      expect(response.text).not.toContain(OPENAI_KEY);
      const rows = await storedRows();
      expect(rows).toHaveLength(1);
      expect(rows[0]).not.toContain(OPENAI_KEY);
      expect(rows[0]).not.toContain('SECRET');
      const { rows: [stored] } = await database.pool.query("SELECT sealed_secret FROM tenant_credentials WHERE tenant_id = 'acme' AND provider = 'openai'");
      expect(secretBox.open(stored.sealed_secret, { tenantId: 'acme', kind: 'credential', id: 'openai' })).toBe(OPENAI_KEY);
    });

    it('replaces the key on a second PUT, keeping created_at', async () => {
      const first = await app.call('PUT', '/v2/credentials/gemini', { body: { api_key: 'AIza-first-0000000000000001' } });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const second = await app.call('PUT', '/v2/credentials/gemini', { body: { api_key: '  AIza-second-000000000000002  ' } });
      expect(second.body).toMatchObject({ hint: '…0002', created_at: first.body.created_at });
      expect(second.body.updated_at).toBeGreaterThan(first.body.updated_at);
    });

    it('acts on another tenant with ?tenant= for the operator only', async () => {
      const refused = await app.call('PUT', '/v2/credentials/anthropic?tenant=globex', { body: { api_key: 'sk-ant-globex-00000000009999' } });
      expect(refused.status).toBe(403); // a tenant admin acts on its own tenant only
      expect(refused.body.error).toMatchObject({ code: 'insufficient_scope', param: 'tenant' });
      app.principal = OPERATOR_PRINCIPAL;
      const response = await app.call('PUT', '/v2/credentials/anthropic?tenant=globex', { body: { api_key: 'sk-ant-globex-00000000009999' } });
      expect(response.body).toMatchObject({ tenant: 'globex', provider: 'anthropic', hint: '…9999' });
      expect((await app.call('GET', '/v2/credentials')).body.data.map((credential: { provider: string }) => credential.provider))
        .not.toContain('anthropic');
    });

    it.each([
      ['an unknown provider', '/v2/credentials/mistral', { api_key: 'x-000000000000000' }, 'provider'],
      ['a missing api_key', '/v2/credentials/openai', {}, 'api_key'],
      ['an empty api_key', '/v2/credentials/openai', { api_key: '   ' }, 'api_key'],
      ['an api_key with a newline', '/v2/credentials/openai', { api_key: 'sk-abc\ndef-000000' }, 'api_key'],
      ['a numeric api_key', '/v2/credentials/openai', { api_key: 1234 }, 'api_key'],
      ['an unknown field', '/v2/credentials/openai', { api_key: 'sk-000000000000000', base_url: 'http://x' }, 'base_url'],
      ['a bad ?tenant=', '/v2/credentials/openai?tenant=no%20spaces', { api_key: 'sk-000000000000000' }, 'tenant'],
    ])('answers 400 for %s, naming %s', async (_case, path, body, param) => {
      const response = await app.call('PUT', path, { body });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ param, type: 'invalid_request_error' });
      expect(response.text).not.toContain('sk-abc');
    });
  });

  describe('GET /v2/credentials', () => {
    it("lists the tenant's credentials with hints only", async () => {
      const response = await app.call('GET', '/v2/credentials');
      expect(response.status).toBe(200);
      expect(response.body.object).toBe('list');
      expect(response.body.data.map((credential: { provider: string }) => credential.provider)).toEqual(['gemini', 'openai']);
      expect(response.body.data[1]).toEqual({ object: 'credential', provider: 'openai', tenant: 'acme', hint: '…abcd',
        created_at: expect.any(Number), updated_at: expect.any(Number) });
      expect(response.text).not.toContain(OPENAI_KEY);
      app.principal = OPERATOR_PRINCIPAL;
      expect((await app.call('GET', '/v2/credentials?tenant=globex')).body.data).toHaveLength(1);
      expect((await app.call('GET', '/v2/credentials?tenant=nobody')).body).toEqual({ object: 'list', data: [] });
    });

    it('retrieves one credential, and 404s a provider without one', async () => {
      expect((await app.call('GET', '/v2/credentials/openai')).body).toMatchObject({ provider: 'openai', hint: '…abcd' });
      const missing = await app.call('GET', '/v2/credentials/xai');
      expect(missing.status).toBe(404);
      expect(missing.body.error.param).toBe('provider');
    });
  });

  describe('DELETE /v2/credentials/{provider}', () => {
    it('deletes the stored key, then 404s', async () => {
      await app.call('PUT', '/v2/credentials/fireworks', { body: { api_key: 'fw-delete-me-000000000000' } });
      const deleted = await app.call('DELETE', '/v2/credentials/fireworks');
      expect(deleted.body).toEqual({ object: 'credential', provider: 'fireworks', tenant: 'acme', deleted: true });
      const { rowCount } = await database.pool.query("SELECT 1 FROM tenant_credentials WHERE tenant_id = 'acme' AND provider = 'fireworks'");
      expect(rowCount).toBe(0);
      const again = await app.call('DELETE', '/v2/credentials/fireworks');
      expect(again.status).toBe(404);
      expect(again.body.error).toMatchObject({ param: 'provider', code: 'invalid_request_error' });
    });
  });

  it('answers 403 insufficient_scope to a key without admin scope, and changes nothing', async () => {
    app.principal = INFERENCE_PRINCIPAL;
    for (const [method, path] of [['GET', '/v2/credentials'], ['GET', '/v2/credentials/openai'], ['PUT', '/v2/credentials/openai'],
      ['DELETE', '/v2/credentials/openai']] as const) {
      const response = await app.call(method, path, { body: method === 'PUT' ? { api_key: 'sk-attacker-000000000000' } : undefined });
      expect(response.status).toBe(403);
      expect(response.body.error).toMatchObject({ code: 'insufficient_scope', type: 'invalid_request_error' });
    }
    app.principal = ADMIN_PRINCIPAL;
    expect((await app.call('GET', '/v2/credentials/openai')).body.hint).toBe('…abcd');
  });

  it('never returns or stores a secret in clear', async () => {
    app.principal = OPERATOR_PRINCIPAL;
    const responses = await Promise.all(['/v2/credentials', '/v2/credentials?tenant=globex'].map((path) => app.call('GET', path)));
    for (const response of responses) expect(response.text).not.toMatch(/sk-proj|AIza|sk-ant/);
    for (const row of await storedRows()) expect(row).not.toMatch(/sk-proj|AIza-|sk-ant|fw-delete/);
  });
});

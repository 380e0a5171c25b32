import { startTestApp, type TestApp } from '../support/test-app';

describe('API keys (/v2/api-keys) and authentication', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startTestApp(); });
  afterAll(async () => { await app.close(); });

  describe('authenticate', () => {
    it.each([
      ['no Authorization header', null, {}],
      ['a wrong key', 'zk_not-a-real-key-at-all-000000000000', {}],
      ['a malformed header', null, { authorization: 'Basic dXNlcjpwYXNz' }],
    ])('answers 401 invalid_api_key for %s', async (_case, key, headers) => {
      const response = await app.call('GET', '/v1/models', { key, headers });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    });

    it('answers 403 insufficient_scope when a non-admin key calls an admin route', async () => {
      for (const [method, path] of [['GET', '/v2/api-keys'], ['POST', '/v2/api-keys'], ['DELETE', '/v2/api-keys/key_x']]) {
        const response = await app.call(method!, path!, { key: app.inferenceKey, body: method === 'POST' ? {} : undefined });
        expect(response.status).toBe(403);
        expect(response.body.error).toMatchObject({ code: 'insufficient_scope', type: 'invalid_request_error' });
      }
    });
  });

  describe('POST /v2/api-keys', () => {
    it('creates a key shown once, stored only as a hash, that authenticates at once', async () => {
      const created = await app.call('POST', '/v2/api-keys', { body: { name: 'ci', tenant: 'team-a' } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^key_/), object: 'api_key', name: 'ci', tenant: 'team-a', scopes: ['inference'],
        allowed_aliases: null, allowed_providers: null, prefix: expect.any(String), created_at: expect.any(Number), last_used_at: null, revoked_at: null, key: expect.stringMatching(/^zk_/),
      });
      const secret: string = created.body.key;
      const { rows } = await app.database.pool.query('SELECT row_to_json(k)::text AS row FROM api_keys k WHERE id = $1', [created.body.id]);
      expect(rows[0].row).not.toContain(secret);
      expect(rows[0].row).not.toContain(secret.slice(3, 30));
      expect((await app.call('GET', '/v1/models', { key: secret })).status).toBe(200);
      const listed = await app.call('GET', '/v2/api-keys?tenant=team-a');
      expect(listed.body.data).toHaveLength(1);
      expect(listed.body.data[0]).not.toHaveProperty('key');
      expect(JSON.stringify(listed.body)).not.toContain(secret);
    });

    it('creates admin keys that can administer', async () => {
      const created = await app.call('POST', '/v2/api-keys', { body: { name: 'ops', scopes: ['admin'] } });
      expect(created.body.scopes).toEqual(['admin']);
      expect((await app.call('GET', '/v2/api-keys', { key: created.body.key })).status).toBe(200);
    });

    it.each([
      [{ scopes: ['root'] }, 'scopes[0]'],
      [{ name: 42 }, 'name'],
      [{ name: 'x', expires: 3 }, 'expires'],
      [{ tenant: 'no spaces please' }, 'tenant'],
    ])('rejects %j with a 400 naming %s', async (body, param) => {
      const response = await app.call('POST', '/v2/api-keys', { body });
      expect(response.status).toBe(400);
      expect(response.body.error.param).toBe(param);
    });
  });

  describe('DELETE /v2/api-keys/{id}', () => {
    it('revokes a key: it stops authenticating at once and the list shows it revoked', async () => {
      const created = await app.call('POST', '/v2/api-keys', { body: { name: 'short-lived' } });
      expect((await app.call('GET', '/v1/models', { key: created.body.key })).status).toBe(200);
      const deleted = await app.call('DELETE', `/v2/api-keys/${created.body.id}`);
      expect(deleted.body).toEqual({ id: created.body.id, object: 'api_key', deleted: true });
      expect((await app.call('GET', '/v1/models', { key: created.body.key })).status).toBe(401);
      const listed = await app.call('GET', '/v2/api-keys');
      expect(listed.body.data.find((key: { id: string }) => key.id === created.body.id).revoked_at).toEqual(expect.any(Number));
    });

    it('404s an unknown key id', async () => {
      const response = await app.call('DELETE', '/v2/api-keys/key_unknown');
      expect(response.status).toBe(404);
      expect(response.body.error).toMatchObject({ param: 'id', code: 'invalid_request_error' });
    });
  });
});

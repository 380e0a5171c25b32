import { randomBytes } from 'node:crypto';
import { EgressPolicy } from '../../src/net/egress-policy';
import { byocEndpointRoutes } from '../../src/server/routes/byoc-endpoints';
import { SecretBox } from '../../src/secrets/secret-box';
import { ByocEndpointRepository } from '../../src/store/byoc-endpoint-repository';
import { ADMIN_PRINCIPAL, INFERENCE_PRINCIPAL, OPERATOR_PRINCIPAL, startRouterTestApp, type RouterTestApp } from '../support/router-test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const ENDPOINT_KEY = 'dynamo-SECRET-key-0000000000000wxyz';

describe('byocEndpointRoutes (/v2/byoc-endpoints)', () => {
  let database: TestDatabase;
  let secretBox: SecretBox;
  let app: RouterTestApp;
  let strict: RouterTestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    secretBox = new SecretBox(randomBytes(32));
    // The subscription endpoint below is on a private network over http: the operator allows that range (ZUMIK_EGRESS_ALLOW).
    app = await startRouterTestApp(byocEndpointRoutes(new ByocEndpointRepository(database.pool, secretBox), new EgressPolicy('10.0.0.0/8,http')));
    strict = await startRouterTestApp(byocEndpointRoutes(new ByocEndpointRepository(database.pool, secretBox)));
  });
  afterAll(async () => { await app.close(); await strict.close(); await database.drop(); });
  afterEach(() => { app.principal = ADMIN_PRINCIPAL; });

  const sealedKeyOf = async (id: string, tenant = 'acme') =>
    (await database.pool.query('SELECT sealed_api_key FROM byoc_endpoints WHERE tenant_id = $1 AND id = $2', [tenant, id])).rows[0]?.sealed_api_key;

  describe('PUT /v2/byoc-endpoints/{id}', () => {
    it('creates an endpoint with a sealed key, answered without it', async () => {
      const response = await app.call('PUT', '/v2/byoc-endpoints/acme-dynamo', {
        body: { profile: 'byoc_dynamo', base_url: 'https://dynamo.acme.internal/v1', api_key: ENDPOINT_KEY },
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: 'acme-dynamo', object: 'byoc_endpoint', tenant: 'acme', profile: 'byoc_dynamo', base_url: 'https://dynamo.acme.internal/v1',
        has_api_key: true, api_key_hint: '…wxyz', max_concurrency: null, metadata: {}, status: 'pending', activation: null,
        created_at: expect.any(Number), updated_at: expect.any(Number),
      });
      expect(response.text).not.toContain(ENDPOINT_KEY);
      const sealed = await sealedKeyOf('acme-dynamo');
      expect(sealed).not.toContain(ENDPOINT_KEY);
      expect(secretBox.open(sealed, { tenantId: 'acme', kind: 'byoc_endpoint', id: 'acme-dynamo' })).toBe(ENDPOINT_KEY);
    });

    it('creates a keyless subscription endpoint with metadata', async () => {
      const metadata = { reserved_capacity: { tokens_per_minute: 2_000_000 }, contract: 'PT-2025-07' };
      const response = await app.call('PUT', '/v2/byoc-endpoints/acme-reserved', {
        body: { profile: 'subscription', base_url: 'http://10.0.0.7:8000/v1', metadata },
      });
      expect(response.body).toMatchObject({ profile: 'subscription', has_api_key: false, api_key_hint: null, metadata });
    });

    it('keeps the stored key when api_key is omitted, and removes it with null', async () => {
      const before = await sealedKeyOf('acme-dynamo');
      const moved = await app.call('PUT', '/v2/byoc-endpoints/acme-dynamo', { body: { profile: 'byoc_dynamo', base_url: 'https://dynamo2.acme.internal/v1' } });
      expect(moved.body).toMatchObject({ base_url: 'https://dynamo2.acme.internal/v1', has_api_key: true, api_key_hint: '…wxyz' });
      expect(await sealedKeyOf('acme-dynamo')).toBe(before);
      const cleared = await app.call('PUT', '/v2/byoc-endpoints/acme-dynamo', { body: { profile: 'byoc_dynamo', base_url: 'https://dynamo2.acme.internal/v1', api_key: null } });
      expect(cleared.body).toMatchObject({ has_api_key: false, api_key_hint: null });
      expect(await sealedKeyOf('acme-dynamo')).toBeNull();
      const rekeyed = await app.call('PUT', '/v2/byoc-endpoints/acme-dynamo', { body: { profile: 'byoc_dynamo', base_url: 'https://dynamo.acme.internal/v1', api_key: ENDPOINT_KEY } });
      expect(rekeyed.body).toMatchObject({ has_api_key: true, created_at: moved.body.created_at });
    });

    it('acts on another tenant with ?tenant= for the operator only, leaving the caller\'s endpoints alone', async () => {
      const refused = await app.call('PUT', '/v2/byoc-endpoints/acme-dynamo?tenant=globex', { body: { profile: 'byoc_epp', base_url: 'https://epp.globex.example/v1' } });
      expect(refused.status).toBe(403); // a tenant admin acts on its own tenant only
      expect(refused.body.error).toMatchObject({ code: 'insufficient_scope', param: 'tenant' });
      app.principal = OPERATOR_PRINCIPAL;
      const response = await app.call('PUT', '/v2/byoc-endpoints/acme-dynamo?tenant=globex', { body: { profile: 'byoc_epp', base_url: 'https://epp.globex.example/v1' } });
      expect(response.body).toMatchObject({ tenant: 'globex', profile: 'byoc_epp' });
      expect((await app.call('GET', '/v2/byoc-endpoints/acme-dynamo')).body.profile).toBe('byoc_dynamo');
    });

    it.each([
      ['an unknown profile', 'e1', { profile: 'managed_provider', base_url: 'https://x.example/v1' }, 'profile'],
      ['a missing base_url', 'e1', { profile: 'byoc_epp' }, 'base_url'],
      ['a non-http base_url', 'e1', { profile: 'byoc_epp', base_url: 'ftp://x.example/v1' }, 'base_url'],
      ['a base_url that is not a URL', 'e1', { profile: 'byoc_epp', base_url: 'dynamo.local' }, 'base_url'],
      ['a base_url carrying credentials', 'e1', { profile: 'byoc_epp', base_url: 'https://user:pw-SECRET@x.example/v1' }, 'base_url'],
      ['an api_key with spaces', 'e1', { profile: 'byoc_epp', base_url: 'https://x.example/v1', api_key: 'a b c d e f g h' }, 'api_key'],
      ['metadata that is not an object', 'e1', { profile: 'byoc_epp', base_url: 'https://x.example/v1', metadata: [1] }, 'metadata'],
      ['an unknown field', 'e1', { profile: 'byoc_epp', base_url: 'https://x.example/v1', region: 'eu' }, 'region'],
      ['an id with upper case', 'Acme', { profile: 'byoc_epp', base_url: 'https://x.example/v1' }, 'id'],
      ['an id that is a built-in provider', 'openai', { profile: 'byoc_epp', base_url: 'https://x.example/v1' }, 'id'],
    ])('answers 400 for %s, naming %s', async (_case, id, body, param) => {
      const response = await app.call('PUT', `/v2/byoc-endpoints/${id}`, { body });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ param, type: 'invalid_request_error' });
      expect(response.text).not.toContain('SECRET');
    });
  });

  describe('egress rules (default: https to public addresses only)', () => {
    it.each([
      ['plain http', 'http://api.example.com/v1', /https/],
      ['a private address', 'https://10.0.0.7:8000/v1', /private/],
      ['loopback', 'https://127.0.0.1:8000/v1', /loopback/],
      ['localhost', 'https://localhost/v1', /loopback/],
      ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data', /metadata/],
      ['the IPv6 metadata address', 'https://[fd00:ec2::254]/', /unique local/],
      ['a CGNAT address', 'https://100.100.100.200/', /CGNAT/],
    ])('refuses %s at registration with a 400 naming base_url, storing nothing', async (_case, baseUrl, message) => {
      const response = await strict.call('PUT', '/v2/byoc-endpoints/probe', { body: { profile: 'byoc_epp', base_url: baseUrl } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ param: 'base_url', type: 'invalid_request_error', message: expect.stringMatching(message) });
      expect((await database.pool.query("SELECT 1 FROM byoc_endpoints WHERE id = 'probe'")).rowCount).toBe(0);
    });

    it("accepts what the operator's allow-list opens, and nothing beyond it", async () => {
      expect((await app.call('PUT', '/v2/byoc-endpoints/lab', { body: { profile: 'byoc_epp', base_url: 'http://10.1.2.3:8000/v1' } })).status).toBe(200);
      const metadata = await app.call('PUT', '/v2/byoc-endpoints/lab', { body: { profile: 'byoc_epp', base_url: 'http://169.254.169.254/' } });
      expect(metadata.status).toBe(400);
      expect(metadata.body.error.param).toBe('base_url');
      expect((await app.call('DELETE', '/v2/byoc-endpoints/lab')).status).toBe(200);
    });
  });

  describe('GET', () => {
    it("lists the tenant's endpoints without keys", async () => {
      const response = await app.call('GET', '/v2/byoc-endpoints');
      expect(response.body.object).toBe('list');
      expect(response.body.data.map((endpoint: { id: string }) => endpoint.id)).toEqual(['acme-dynamo', 'acme-reserved']);
      expect(response.text).not.toContain(ENDPOINT_KEY);
      for (const endpoint of response.body.data) expect(Object.keys(endpoint)).not.toContain('api_key');
      app.principal = OPERATOR_PRINCIPAL;
      expect((await app.call('GET', '/v2/byoc-endpoints?tenant=globex')).body.data).toHaveLength(1);
    });

    it('retrieves one, and 404s an unknown id', async () => {
      expect((await app.call('GET', '/v2/byoc-endpoints/acme-reserved')).body).toMatchObject({ id: 'acme-reserved', has_api_key: false });
      const missing = await app.call('GET', '/v2/byoc-endpoints/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.error.param).toBe('id');
    });
  });

  describe('DELETE /v2/byoc-endpoints/{id}', () => {
    it('deletes, then 404s', async () => {
      expect((await app.call('DELETE', '/v2/byoc-endpoints/acme-reserved')).body)
        .toEqual({ id: 'acme-reserved', object: 'byoc_endpoint', tenant: 'acme', deleted: true });
      expect((await app.call('GET', '/v2/byoc-endpoints/acme-reserved')).status).toBe(404);
      expect((await app.call('DELETE', '/v2/byoc-endpoints/acme-reserved')).status).toBe(404);
    });
  });

  it('answers 403 insufficient_scope to a key without admin scope', async () => {
    app.principal = INFERENCE_PRINCIPAL;
    for (const [method, path] of [['GET', '/v2/byoc-endpoints'], ['GET', '/v2/byoc-endpoints/acme-dynamo'],
      ['PUT', '/v2/byoc-endpoints/evil'], ['DELETE', '/v2/byoc-endpoints/acme-dynamo']] as const) {
      const response = await app.call(method, path, { body: method === 'PUT' ? { profile: 'byoc_epp', base_url: 'https://evil.example/v1' } : undefined });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('insufficient_scope');
    }
    app.principal = ADMIN_PRINCIPAL;
    expect((await app.call('GET', '/v2/byoc-endpoints/evil')).status).toBe(404);
    expect((await app.call('GET', '/v2/byoc-endpoints/acme-dynamo')).status).toBe(200);
  });

  it('never stores a key in clear', async () => {
    const { rows } = await database.pool.query('SELECT row_to_json(e)::text AS row FROM byoc_endpoints e');
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) expect(row).not.toContain(ENDPOINT_KEY);
  });
});

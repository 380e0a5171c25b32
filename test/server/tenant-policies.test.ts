import { DEFAULT_TENANT_POLICY } from '../../src/domain/tenant-policy';
import { tenantPolicyRoutes } from '../../src/server/routes/tenant-policies';
import { TenantPolicyRepository } from '../../src/store/tenant-policy-repository';
import { ADMIN_PRINCIPAL, INFERENCE_PRINCIPAL, OPERATOR_PRINCIPAL, startRouterTestApp, type RouterTestApp } from '../support/router-test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const DEFAULT_JSON = {
  limits: { max_queue: 100 },
  qos: {},
  allowed_qos_classes: ['interactive', 'standard', 'flex', 'batch'],
  failover: true,
  content_filter_failover: false,
  aliases: {},
  stream_resume: true,
  max_hedges: 1,
  hedge_non_streaming: false,
  response_cache: { enabled: false, ttl_seconds: 3_600 },
  prompt_retention: { enabled: false, days: 7 },
  replay: { min_success_rate: 0.95, min_agreement: 0.5, min_sample: 1, max_report_age_s: 86_400 },
  max_attempts: 4,
  allow_brokered_execution: false,
  allow_bifrost_broader_coverage: false,
  flex: { fallback_to_standard: false },
  batch: { provider_native: false, fallback_to_online: true, poll_interval_ms: 60_000, max_concurrency: 50 },
  default_qos_class: 'standard',
  allowed_aliases: null,
  allowed_providers: null,
};

describe('tenantPolicyRoutes (/v2/tenants/{tenant}/policy)', () => {
  let database: TestDatabase;
  let app: RouterTestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startRouterTestApp(tenantPolicyRoutes(new TenantPolicyRepository(database.pool)));
  });
  afterAll(async () => { await app.close(); await database.drop(); });
  // The operator writes policies (limits and allow-lists are its fields); the tenant admin's view is below.
  beforeEach(() => { app.principal = OPERATOR_PRINCIPAL; });

  it('answers the defaults for a tenant without a stored policy', async () => {
    const response = await app.call('GET', '/v2/tenants/acme/policy');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ object: 'tenant_policy', tenant: 'acme', ...DEFAULT_JSON, updated_at: null });
  });

  it('stores a policy and answers it with the defaults applied', async () => {
    const response = await app.call('PUT', '/v2/tenants/acme/policy', {
      body: { limits: { concurrency: 20, key_requests_per_minute: 600 }, qos: { interactive: { deadline_ms: 30_000, priority: 1 } },
        allow_brokered_execution: true, batch: { provider_native: true } },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      object: 'tenant_policy', tenant: 'acme', ...DEFAULT_JSON,
      limits: { concurrency: 20, key_requests_per_minute: 600, max_queue: 100 },
      qos: { interactive: { deadline_ms: 30_000, priority: 1 } },
      allow_brokered_execution: true,
      batch: { provider_native: true, fallback_to_online: true, poll_interval_ms: 60_000, max_concurrency: 50 },
      updated_at: expect.any(Number),
    });
    expect((await app.call('GET', '/v2/tenants/acme/policy')).body).toEqual(response.body);
    const { rows } = await database.pool.query("SELECT policy FROM tenant_policies WHERE tenant_id = 'acme'");
    expect(rows[0].policy).not.toHaveProperty('max_attempts');
  });

  it('accepts a GET answer sent back with one field changed (GET → edit → PUT)', async () => {
    const current = (await app.call('GET', '/v2/tenants/acme/policy')).body;
    const response = await app.call('PUT', '/v2/tenants/acme/policy', { body: { ...current, max_attempts: 2 } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ...current, max_attempts: 2, updated_at: expect.any(Number) });
  });

  it('replaces the whole policy: a field left out returns to its default', async () => {
    const response = await app.call('PUT', '/v2/tenants/acme/policy', { body: { failover: false } });
    expect(response.body).toEqual({ object: 'tenant_policy', tenant: 'acme', ...DEFAULT_JSON, failover: false, updated_at: expect.any(Number) });
  });

  it('keeps tenants apart', async () => {
    await app.call('PUT', '/v2/tenants/globex/policy', { body: { max_attempts: 7 } });
    expect((await app.call('GET', '/v2/tenants/globex/policy')).body.max_attempts).toBe(7);
    expect((await app.call('GET', '/v2/tenants/acme/policy')).body.max_attempts).toBe(4);
  });

  it.each([
    [{ limits: { concurrency: 0 } }, 'limits.concurrency'],
    [{ limits: { burst: 5 } }, 'limits.burst'],
    [{ surprise: true }, 'surprise'],
    [{ qos: { interactive: { deadline_ms: 'soon' } } }, 'qos.interactive.deadline_ms'],
    [{ qos: { interactive: { deadlineMs: 1000 } } }, 'qos.interactive.deadlineMs'],
    [{ allowed_qos_classes: ['batch'] }, 'default_qos_class'],
    [{ allowed_qos_classes: ['gold'] }, 'allowed_qos_classes[0]'],
    [{ max_attempts: 100 }, 'max_attempts'],
    [{ tenant: 'globex' }, 'tenant'],
    [{ object: 'api_key' }, 'object'],
  ])('answers 400 for %j, naming %s, and keeps the stored policy', async (body, param) => {
    const response = await app.call('PUT', '/v2/tenants/acme/policy', { body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ param, type: 'invalid_request_error', code: 'invalid_request_error' });
    expect((await app.call('GET', '/v2/tenants/acme/policy')).body.failover).toBe(false);
  });

  it.each([['an array', '[]'], ['not JSON', '{']])('answers 400 for a body that is %s', async (_case, rawBody) => {
    expect((await app.call('PUT', '/v2/tenants/acme/policy', { rawBody })).status).toBe(400);
  });

  it('answers 400 for a malformed tenant in the path', async () => {
    const response = await app.call('GET', '/v2/tenants/-bad/policy');
    expect(response.status).toBe(400);
    expect(response.body.error.param).toBe('tenant');
  });

  describe("a tenant admin (acme's)", () => {
    beforeEach(async () => {
      app.principal = OPERATOR_PRINCIPAL;
      await app.call('PUT', '/v2/tenants/acme/policy', { body: { limits: { concurrency: 5 }, allowed_aliases: ['code.fast'], max_attempts: 2 } });
      app.principal = ADMIN_PRINCIPAL;
    });

    it("answers 404 for another tenant's policy, read or written, as for a tenant that does not exist", async () => {
      app.principal = OPERATOR_PRINCIPAL;
      await app.call('PUT', '/v2/tenants/globex/policy', { body: { max_attempts: 7 } });
      app.principal = ADMIN_PRINCIPAL;
      for (const tenant of ['globex', 'nobody']) {
        for (const method of ['GET', 'PUT'] as const) {
          const response = await app.call(method, `/v2/tenants/${tenant}/policy`, { body: method === 'PUT' ? { max_attempts: 1 } : undefined });
          expect(response.status).toBe(404);
          expect(response.body.error).toMatchObject({ param: 'tenant', code: 'invalid_request_error' });
        }
      }
      app.principal = OPERATOR_PRINCIPAL;
      expect((await app.call('GET', '/v2/tenants/globex/policy')).body.max_attempts).toBe(7);
    });

    it("writes its own tenant's fields and keeps the operator's limits and allow-lists as they are", async () => {
      const response = await app.call('PUT', '/v2/tenants/acme/policy', { body: { max_attempts: 3 } });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ max_attempts: 3, limits: { concurrency: 5 }, allowed_aliases: ['code.fast'] });
      // GET → edit → PUT with the operator's fields sent back unchanged works too.
      const { updated_at: _updatedAt, ...current } = (await app.call('GET', '/v2/tenants/acme/policy')).body;
      expect((await app.call('PUT', '/v2/tenants/acme/policy', { body: { ...current, failover: false } })).status).toBe(200);
    });

    it.each([
      ['limits', { limits: { concurrency: 500 } }],
      ['allowed_aliases', { allowed_aliases: null }],
      ['allowed_providers', { allowed_providers: ['openai'] }],
      // Broader coverage spends the deployment's Bifrost account on models Zumik cannot price: the operator's call.
      ['allow_bifrost_broader_coverage', { allow_bifrost_broader_coverage: true }],
    ])('answers 403 naming %s when it tries to change an operator field, and changes nothing', async (field, body) => {
      const response = await app.call('PUT', '/v2/tenants/acme/policy', { body });
      expect(response.status).toBe(403);
      expect(response.body.error).toMatchObject({ code: 'insufficient_scope', param: field });
      expect((await app.call('GET', '/v2/tenants/acme/policy')).body).toMatchObject({ limits: { concurrency: 5 }, allowed_aliases: ['code.fast'], allowed_providers: null, allow_bifrost_broader_coverage: false });
    });
  });

  it('validates allow-lists, naming the bad entry', async () => {
    const response = await app.call('PUT', '/v2/tenants/acme/policy', { body: { allowed_providers: ['OpenAI!'] } });
    expect(response.status).toBe(400);
    expect(response.body.error.param).toBe('allowed_providers[0]');
  });

  it('answers 403 insufficient_scope to a key without admin scope', async () => {
    app.principal = INFERENCE_PRINCIPAL;
    for (const method of ['GET', 'PUT'] as const) {
      const response = await app.call(method, '/v2/tenants/acme/policy', { body: method === 'PUT' ? { allow_brokered_execution: true } : undefined });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('insufficient_scope');
    }
    app.principal = ADMIN_PRINCIPAL;
    expect((await app.call('GET', '/v2/tenants/acme/policy')).body.allow_brokered_execution).toBe(false);
  });
});

describe('TenantPolicyRepository', () => {
  let database: TestDatabase;
  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(async () => { await database.drop(); });

  it('returns DEFAULT_TENANT_POLICY for a tenant with none stored', async () => {
    await expect(new TenantPolicyRepository(database.pool).get('nobody')).resolves.toBe(DEFAULT_TENANT_POLICY);
  });

  it("serves get from its cache for the TTL, sees its own writes at once and other processes' after the TTL", async () => {
    let now = 1_000_000;
    const here = new TenantPolicyRepository(database.pool, { ttlMs: 5_000, now: () => now });
    const elsewhere = new TenantPolicyRepository(database.pool);
    expect((await here.get('cached')).max_attempts).toBe(4);

    await elsewhere.put('cached', { max_attempts: 2 });
    expect((await here.get('cached')).max_attempts).toBe(4);
    now += 5_001;
    expect((await here.get('cached')).max_attempts).toBe(2);

    await here.put('cached', { max_attempts: 3 });
    expect((await here.get('cached')).max_attempts).toBe(3);
  });

  it('refuses an invalid policy before writing anything', async () => {
    const repository = new TenantPolicyRepository(database.pool);
    await expect(repository.put('strict', { max_attempts: 0 })).rejects.toThrow();
    expect((await repository.find('strict')).updatedAt).toBeNull();
  });
});

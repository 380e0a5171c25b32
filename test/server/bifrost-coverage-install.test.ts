/**
 * Installing a release with broader coverage through Bifrost (issue 12): a managed model outside the
 * capability manifest is accepted, and marked `coverage: bifrost_broader`, only for a tenant-owned alias
 * whose tenant's policy sets `allow_bifrost_broader_coverage` (the operator's field) and only when the
 * Bifrost deployment serves the provider; the operator's shared catalogue may hold one (request planning
 * serves it only to allowed tenants). Otherwise a 400 names `targets[i].model` and why.
 */
import { Router } from 'express';
import { modelAliasRoutes } from '../../src/server/routes/model-aliases';
import { tenantPolicyRoutes } from '../../src/server/routes/tenant-policies';
import { ModelAliasRepository } from '../../src/store/model-alias-repository';
import { TenantPolicyRepository } from '../../src/store/tenant-policy-repository';
import { ADMIN_PRINCIPAL, OPERATOR_PRINCIPAL, startRouterTestApp, type RouterTestApp } from '../support/router-test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const target = (model: string, provider = 'openai', extra: Record<string, unknown> = {}) =>
  ({ execution_profile: 'managed_provider', provider, model, model_revision: '1', weight: 1, ...extra });
/** Bifrost knows it; Zumik's built-in manifest does not. */
const BROADER = 'gpt-oss-bifrost-only';

describe('installing broader-coverage targets (PUT /v2/model-aliases/{alias})', () => {
  let database: TestDatabase;
  let app: RouterTestApp;
  let noBifrost: RouterTestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const aliases = new ModelAliasRepository(database.pool);
    const policies = new TenantPolicyRepository(database.pool);
    app = await startRouterTestApp(Router().use(modelAliasRoutes(aliases, { viaBifrost: (provider) => provider === 'openai', policies }), tenantPolicyRoutes(policies)));
    noBifrost = await startRouterTestApp(modelAliasRoutes(aliases, { policies }));
  });
  afterAll(async () => { await app.close(); await noBifrost.close(); await database.drop(); });
  afterEach(() => { app.principal = ADMIN_PRINCIPAL; });

  const setPolicy = async (tenant: string, allowed: boolean) => {
    app.principal = OPERATOR_PRINCIPAL;
    expect((await app.call('PUT', `/v2/tenants/${tenant}/policy`, { body: { allow_bifrost_broader_coverage: allowed } })).status).toBe(200);
    app.principal = ADMIN_PRINCIPAL;
  };
  const install = (on: RouterTestApp, alias: string, targets: unknown[], query = '') =>
    on.call('PUT', `/v2/model-aliases/${alias}${query}`, { body: { targets } });

  it("refuses it for a tenant whose policy does not allow it, naming targets[i].model and the switch", async () => {
    const response = await install(app, 'wide', [target('gpt-5.4'), target(BROADER)]);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param: 'targets[1].model' });
    expect(response.body.error.message).toMatch(/not in capability manifest .*allow_bifrost_broader_coverage, which is off for tenant 'acme'/);
    expect((await app.call('GET', '/v2/model-aliases/wide')).status).toBe(404);
  });

  it('installs it for a tenant whose policy allows it, marked bifrost_broader (the manifest model is not)', async () => {
    await setPolicy('acme', true);
    const response = await install(app, 'wide', [target('gpt-5.4'), target(BROADER)]);
    expect(response.status).toBe(200);
    expect(response.body.targets).toEqual([target('gpt-5.4'), target(BROADER, 'openai', { coverage: 'bifrost_broader' })]);
    expect((await app.call('GET', `/v2/model-alias-releases/${response.body.id}`)).body.targets[1].coverage).toBe('bifrost_broader');
  });

  it('refuses it, even for an allowed tenant, when Bifrost does not serve the provider (or there is no Bifrost)', async () => {
    const anthropic = await install(app, 'wide.anthropic', [target('claude-bifrost-only', 'anthropic')]);
    expect(anthropic.status).toBe(400);
    expect(anthropic.body.error.param).toBe('targets[0].model');
    expect(anthropic.body.error.message).toMatch(/anthropic is not served through a Bifrost deployment/);
    noBifrost.principal = ADMIN_PRINCIPAL;
    expect((await install(noBifrost, 'wide.none', [target(BROADER)])).body.error).toMatchObject({ param: 'targets[0].model' });
  });

  it('never takes the mark from the client: coverage is not an input field', async () => {
    const response = await install(app, 'wide.sent', [target('gpt-5.4', 'openai', { coverage: 'bifrost_broader' })]);
    expect(response.status).toBe(400);
    expect(response.body.error.param).toBe('targets[0].coverage');
  });

  it("installs it in the operator's shared catalogue, served later only to tenants whose policy allows it", async () => {
    app.principal = OPERATOR_PRINCIPAL;
    const response = await install(app, 'shared.wide', [target(BROADER)]);
    expect(response.status).toBe(200);
    expect(response.body.targets[0].coverage).toBe('bifrost_broader');
    // The operator installing for a tenant follows that tenant's policy.
    expect((await install(app, 'globex.wide', [target(BROADER)], '?tenant=globex')).body.error)
      .toMatchObject({ param: 'targets[0].model', message: expect.stringContaining("off for tenant 'globex'") });
  });

  it("re-checks a rollback: once the operator turns the policy off, rolling back to the broader release is refused", async () => {
    const broader = (await app.call('GET', '/v2/model-aliases/wide')).body;
    expect((await install(app, 'wide', [target('gpt-5.4')])).status).toBe(200);
    await setPolicy('acme', false);
    const response = await app.call('POST', '/v2/model-aliases/wide/rollback', { body: { release_id: broader.id } });
    expect(response.status).toBe(400);
    expect(response.body.error.param).toBe('targets[1].model');
    await setPolicy('acme', true);
    const rolled = await app.call('POST', '/v2/model-aliases/wide/rollback', { body: { release_id: broader.id } });
    expect(rolled.status).toBe(200);
    expect(rolled.body.targets[1].coverage).toBe('bifrost_broader');
  });
});

/**
 * One scheduler per profile, when an endpoint changes (issue 12): re-registering a BYOC endpoint with
 * PUT /v2/byoc-endpoints/{id} re-checks the releases already installed that name it (live ones and a
 * canary's candidate) and refuses, with 409 naming the release and the rule, a change that would make
 * one of them invalid; the endpoint stays as it was. A change that keeps them valid goes through.
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { EgressPolicy } from '../../src/net/egress-policy';
import { SecretBox } from '../../src/secrets/secret-box';
import { byocEndpointRoutes } from '../../src/server/routes/byoc-endpoints';
import { modelAliasRoutes } from '../../src/server/routes/model-aliases';
import { ByocEndpointRepository } from '../../src/store/byoc-endpoint-repository';
import { ModelAliasRepository } from '../../src/store/model-alias-repository';
import { ADMIN_PRINCIPAL, OPERATOR_PRINCIPAL, startRouterTestApp, type RouterTestApp } from '../support/router-test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const target = (provider: string, execution_profile: string, model = 'llama-3.3-70b') =>
  ({ execution_profile, provider, model, model_revision: '1', weight: 1 });
const managed = { execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4-mini', model_revision: '1', weight: 1 };

describe('PUT /v2/byoc-endpoints/{id} re-checks the releases that name the endpoint', () => {
  let database: TestDatabase;
  let app: RouterTestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const aliases = new ModelAliasRepository(database.pool);
    const endpoints = new ByocEndpointRepository(database.pool, new SecretBox(randomBytes(32)));
    app = await startRouterTestApp(Router().use(modelAliasRoutes(aliases), byocEndpointRoutes(endpoints, new EgressPolicy(), aliases)));
  });
  afterAll(async () => { await app.close(); await database.drop(); });
  afterEach(() => { app.principal = ADMIN_PRINCIPAL; });

  const putEndpoint = (id: string, body: Record<string, unknown>) => app.call('PUT', `/v2/byoc-endpoints/${id}`, { body });
  const install = async (alias: string, targets: unknown[]) => {
    const response = await app.call('PUT', `/v2/model-aliases/${alias}`, { body: { capability_manifest_revision: 'cap_custom', targets } });
    expect(response.status).toBe(200);
    return response.body as { id: string };
  };

  it('refuses a profile change under a live release with 409 naming the release, and keeps the endpoint', async () => {
    expect((await putEndpoint('front', { profile: 'byoc_dynamo', base_url: 'https://dynamo.acme.example/v1' })).status).toBe(200);
    const release = await install('lane.dynamo', [target('front', 'byoc_dynamo'), managed]);

    const response = await putEndpoint('front', { profile: 'byoc_epp', base_url: 'https://dynamo.acme.example/v1' });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'endpoint_in_use', param: 'profile', type: 'invalid_request_error' });
    expect(response.body.error.message).toContain(`release ${release.id} of the model alias 'lane.dynamo'`);
    expect(response.body.error.message).toMatch(/registered as byoc_epp, not byoc_dynamo/);
    expect((await app.call('GET', '/v2/byoc-endpoints/front')).body.profile).toBe('byoc_dynamo');
  });

  it('lets a change through that keeps the releases valid (a new URL)', async () => {
    const response = await putEndpoint('front', { profile: 'byoc_dynamo', base_url: 'https://dynamo-b.acme.example/v1' });
    expect(response.status).toBe(200);
    expect(response.body.base_url).toBe('https://dynamo-b.acme.example/v1');
  });

  it('refuses making the endpoint a replica behind a picker (metadata.replica_of)', async () => {
    expect((await putEndpoint('gateway', { profile: 'byoc_epp', base_url: 'https://gateway.acme.example/v1' })).status).toBe(200);
    const response = await putEndpoint('front', { profile: 'byoc_dynamo', base_url: 'https://dynamo-b.acme.example/v1', metadata: { replica_of: 'gateway' } });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'endpoint_in_use', param: 'metadata' });
    expect(response.body.error.message).toMatch(/replica behind the byoc_epp endpoint 'gateway'/);
  });

  it('refuses a URL change that makes two targets of one release the same scheduler', async () => {
    expect((await putEndpoint('second', { profile: 'byoc_dynamo', base_url: 'https://second.acme.example/v1' })).status).toBe(200);
    const release = await install('lane.split', [target('front', 'byoc_dynamo'), target('second', 'byoc_dynamo')]);
    const response = await putEndpoint('second', { profile: 'byoc_dynamo', base_url: 'https://dynamo-b.acme.example/v1/' });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'endpoint_in_use', param: 'base_url' });
    expect(response.body.error.message).toContain(release.id);
  });

  it("checks a canary's candidate release too, not only live ones", async () => {
    expect((await putEndpoint('canaried', { profile: 'subscription', base_url: 'https://reserved.acme.example/v1' })).status).toBe(200);
    const candidate = await install('lane.canary', [target('canaried', 'subscription')]);
    await install('lane.canary', [managed]);
    expect((await app.call('PUT', '/v2/model-aliases/lane.canary/canary', { body: { release_id: candidate.id, weight: 10 } })).status).toBe(200);
    const refused = await putEndpoint('canaried', { profile: 'byoc_dynamo', base_url: 'https://reserved.acme.example/v1' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(candidate.id);
    // Once the canary is gone, nothing installed names the endpoint under its old profile: the change goes through.
    expect((await app.call('DELETE', '/v2/model-aliases/lane.canary/canary')).status).toBe(200);
    expect((await putEndpoint('canaried', { profile: 'byoc_dynamo', base_url: 'https://reserved.acme.example/v1' })).status).toBe(200);
  });

  it("checks the shared releases a tenant resolves, against that tenant's own endpoint", async () => {
    app.principal = OPERATOR_PRINCIPAL;
    expect((await putEndpoint('edge?tenant=globex', { profile: 'byoc_epp', base_url: 'https://edge.globex.example/v1' })).status).toBe(200);
    const shared = await install('shared.lane', [target('edge', 'byoc_epp')]);
    const refused = await putEndpoint('edge?tenant=globex', { profile: 'byoc_dynamo', base_url: 'https://edge.globex.example/v1' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(shared.id);
    expect(refused.body.error.message).toContain("model alias 'shared.lane'");
  });

  it('lets the change through once the release that named it is replaced by one that fits', async () => {
    await install('lane.dynamo', [target('gateway', 'byoc_epp'), managed]);
    await install('lane.split', [managed]);
    const response = await putEndpoint('front', { profile: 'byoc_epp', base_url: 'https://dynamo-b.acme.example/v1' });
    expect(response.status).toBe(200);
    expect(response.body.profile).toBe('byoc_epp');
  });
});

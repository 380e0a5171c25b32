/**
 * One scheduler per profile (issue 12): a Dynamo frontend or a Gateway API endpoint picker is one
 * target; a release that would make Zumik pick among its replicas is refused at install with a 400
 * naming the target, and a release that sends to the picker once is installed.
 */
import { startTestApp, type TestApp } from '../support/test-app';

const target = (provider: string, execution_profile: string, overrides: Record<string, unknown> = {}) => ({
  execution_profile, provider, model: 'llama-3.3-70b', model_revision: '1', weight: 1, ...overrides,
});
const managed = { execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4-mini', model_revision: '2026-03-05', weight: 1 };

describe('one scheduler per profile (release validation)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    const endpoints: Array<[string, Record<string, unknown>]> = [
      ['dynamo-front', { profile: 'byoc_dynamo', base_url: 'https://dynamo.acme.example/v1' }],
      ['dynamo-alias', { profile: 'byoc_dynamo', base_url: 'https://dynamo.acme.example/v1/' }],
      ['epp-gateway', { profile: 'byoc_epp', base_url: 'https://gateway.acme.example/v1' }],
      ['dynamo-worker-0', { profile: 'subscription', base_url: 'https://worker-0.acme.example/v1', metadata: { replica_of: 'dynamo-front' } }],
      ['pod-7', { profile: 'byoc_epp', base_url: 'https://pod-7.acme.example/v1', metadata: { replica_of: 'epp-gateway' } }],
    ];
    // Registered as PUT /v2/byoc-endpoints/{id} stores them (that route is tested in byoc-endpoints.test.ts).
    await app.apiKeys.create({ tenantId: 'acme', name: 'acme admin', scopes: ['admin'] });
    for (const [id, body] of endpoints) {
      await app.database.pool.query('INSERT INTO byoc_endpoints (tenant_id, id, profile, base_url, metadata) VALUES ($1, $2, $3, $4, $5::jsonb)',
        ['acme', id, body.profile, body.base_url, JSON.stringify(body.metadata ?? {})]);
    }
  });
  afterAll(async () => { await app.close(); });

  const install = (alias: string, targets: unknown[]) => app.call('PUT', `/v2/model-aliases/${alias}`, { body: { capability_manifest_revision: 'cap_custom', targets } });

  it('installs a release that sends to each picker once, beside managed targets and other models of the same picker', async () => {
    const response = await install('picker.ok', [
      target('dynamo-front', 'byoc_dynamo'), target('dynamo-front', 'byoc_dynamo', { model: 'qwen3-32b' }), target('epp-gateway', 'byoc_epp'), managed,
    ]);
    expect(response.status).toBe(200);
  });

  it.each([
    ['the same picker listed twice for one model', [target('dynamo-front', 'byoc_dynamo'), target('dynamo-front', 'byoc_dynamo', { weight: 3 })],
      'targets[1].provider', /same byoc_dynamo scheduler/],
    ['one picker under two endpoint ids', [target('dynamo-front', 'byoc_dynamo'), target('dynamo-alias', 'byoc_dynamo')], 'targets[1].provider', /same byoc_dynamo scheduler/],
    ["a replica behind a Dynamo frontend as a target of its own", [target('dynamo-front', 'byoc_dynamo'), target('dynamo-worker-0', 'subscription')],
      'targets[1].provider', /replica behind the byoc_dynamo endpoint 'dynamo-front'/],
    ["an endpoint picker's replica, even alone", [target('pod-7', 'byoc_epp')], 'targets[0].provider', /replica behind the byoc_epp endpoint 'epp-gateway'/],
    ['a picker under a profile it is not registered with', [target('epp-gateway', 'byoc_dynamo')], 'targets[0].execution_profile', /registered as byoc_epp/],
  ])('refuses %s with a 400 naming the target, installing nothing', async (_case, targets, param, message) => {
    const response = await install('picker.refused', targets);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(response.body.error.message).toMatch(message);
    expect((await app.call('GET', '/v2/model-aliases/picker.refused')).status).toBe(404);
  });
});

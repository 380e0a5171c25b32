import { startTestApp, type TestApp } from '../support/test-app';

const target = (overrides: Record<string, unknown> = {}) => ({
  execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4-mini', model_revision: '2026-03-05', weight: 1, ...overrides,
});

const envelope = (param: string) => ({ error: { message: expect.any(String), type: 'invalid_request_error', param, code: 'invalid_request_error' } });

describe('release contract (/v2/capability-manifests, /v2/routing-policies, freeze)', () => {
  let app: TestApp;
  let acmeAdmin: string;
  beforeAll(async () => {
    app = await startTestApp();
    acmeAdmin = (await app.apiKeys.create({ tenantId: 'acme', name: 'acme admin', scopes: ['admin'] })).secret;
  });
  afterAll(async () => { await app.close(); });

  describe('capability manifests', () => {
    it('lists the built-in manifest as the first revision, readable by any key', async () => {
      const list = await app.call('GET', '/v2/capability-manifests', { key: app.inferenceKey });
      expect(list.status).toBe(200);
      expect(list.body.data[0]).toMatchObject({ id: 'cap_custom', object: 'capability_manifest' });
      expect(list.body.data[0].models['openai/gpt-5.4-mini']).toMatchObject({ context_window: 400_000, price: { input: 0.75, output: 4.5 } });
      const one = await app.call('GET', '/v2/capability-manifests/cap_custom', { key: app.inferenceKey });
      expect(one.body.models['anthropic/claude-haiku-4-5']).toMatchObject({ context_window: 200_000 });
      expect((await app.call('GET', '/v2/capability-manifests/cap_nope')).status).toBe(404);
    });

    it('is installed by the operator only, as a new cap_ revision that becomes the current one', async () => {
      const body = { models: { 'openai/gpt-5.4-mini': { context_window: 400_000, price: { input: 0.5, output: 3 } } } };
      const refused = await app.call('POST', '/v2/capability-manifests', { key: acmeAdmin, body });
      expect(refused.status).toBe(403);
      const bad = await app.call('POST', '/v2/capability-manifests', { body: { models: { 'openai/x': { context_window: -1 } } } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.param).toBe('models.openai/x.context_window');
      const installed = await app.call('POST', '/v2/capability-manifests', { body });
      expect(installed.status).toBe(200);
      expect(installed.body).toMatchObject({ id: expect.stringMatching(/^cap_[0-9a-z]{26}$/), models: body.models });
      const list = await app.call('GET', '/v2/capability-manifests');
      expect(list.body.current_revision).toBe(installed.body.id);
      // A release that names no revision is validated against, and records, the current one.
      const release = await app.call('PUT', '/v2/model-aliases/cap.current', { body: { targets: [target()] } });
      expect(release.body.capability_manifest_revision).toBe(installed.body.id);
      // That revision knows only gpt-5.4-mini: a model of the built-in one is unknown there, known in cap_custom.
      const unknown = await app.call('PUT', '/v2/model-aliases/cap.current', { body: { targets: [target(), target({ model: 'gpt-4o' })] } });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toEqual(envelope('targets[1].model'));
      const pinned = await app.call('PUT', '/v2/model-aliases/cap.current', {
        body: { capability_manifest_revision: 'cap_custom', targets: [target(), target({ model: 'gpt-4o' })] },
      });
      expect(pinned.status).toBe(200);
      expect(pinned.body.capability_manifest_revision).toBe('cap_custom');
    });
  });

  describe('releases validated against their manifest revision', () => {
    it.each([
      ['an unknown manifest revision', { capability_manifest_revision: 'cap_3', targets: [target()] }, 'capability_manifest_revision'],
      ['an unknown provider', { capability_manifest_revision: 'cap_custom', targets: [target(), target({ provider: 'nimbus' })] }, 'targets[1].provider'],
      ['an unknown model', { capability_manifest_revision: 'cap_custom', targets: [target({ model: 'gpt-7-ultra' })] }, 'targets[0].model'],
      ['a model whose window is below the declared minimum', {
        capability_manifest_revision: 'cap_custom', min_context_window: 500_000,
        targets: [target({ model: 'gpt-5.4', weight: 1 }), target({ model: 'gpt-5.4-mini' })],
      }, 'targets[1].model'],
      ['an endpoint profile naming no registered endpoint', {
        capability_manifest_revision: 'cap_custom', targets: [target({ execution_profile: 'byoc_dynamo', provider: 'acme-gpu', model: 'llama' })],
      }, 'targets[0].provider'],
      ['an unknown routing policy revision', { capability_manifest_revision: 'cap_custom', policy_revision: 'pol_7', targets: [target()] }, 'policy_revision'],
    ])('refuses %s with a 400 naming the field, installing nothing', async (_case, body, param) => {
      const response = await app.call('PUT', '/v2/model-aliases/validate.refused', { body });
      expect(response.status).toBe(400);
      expect(response.body).toEqual(envelope(param));
      expect((await app.call('GET', '/v2/model-aliases/validate.refused')).status).toBe(404);
    });

    it('accepts dated snapshots, a window at the minimum, and records min_context_window', async () => {
      const response = await app.call('PUT', '/v2/model-aliases/validate.ok', {
        body: { capability_manifest_revision: 'cap_custom', min_context_window: 1_050_000, targets: [target({ model: 'gpt-5.4-2026-03-05' })] },
      });
      expect(response.status).toBe(200);
      expect(response.body.min_context_window).toBe(1_050_000);
    });

    it("checks a tenant's endpoint targets against that tenant's registered endpoints", async () => {
      const body = { capability_manifest_revision: 'cap_custom', targets: [target({ execution_profile: 'byoc_epp', provider: 'acme-gpu', model: 'llama' })] };
      expect((await app.call('PUT', '/v2/model-aliases/byoc.own', { key: acmeAdmin, body })).body).toEqual(envelope('targets[0].provider'));
      await app.database.pool.query("INSERT INTO byoc_endpoints (tenant_id, id, profile, base_url) VALUES ('acme', 'acme-gpu', 'byoc_epp', 'https://gpu.acme.example')");
      expect((await app.call('PUT', '/v2/model-aliases/byoc.own', { key: acmeAdmin, body })).status).toBe(200);
      const globexAdmin = (await app.apiKeys.create({ tenantId: 'globex', name: 'globex admin', scopes: ['admin'] })).secret;
      expect((await app.call('PUT', '/v2/model-aliases/byoc.own', { key: globexAdmin, body })).body).toEqual(envelope('targets[0].provider'));
    });
  });

  describe('routing policies', () => {
    it('are stored as immutable pol_ revisions a release can name; another tenant cannot name them', async () => {
      const bad = await app.call('POST', '/v2/routing-policies', { key: acmeAdmin, body: { max_attempts: 0 } });
      expect([bad.status, bad.body.error.param]).toEqual([400, 'max_attempts']);
      expect((await app.call('POST', '/v2/routing-policies', { key: app.inferenceKey, body: { failover: false } })).status).toBe(403);
      const created = await app.call('POST', '/v2/routing-policies', { key: acmeAdmin, body: { max_attempts: 1, failover: false, max_hedges: 0 } });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ id: expect.stringMatching(/^pol_[0-9a-z]{26}$/), object: 'routing_policy', tenant: 'acme', max_attempts: 1, failover: false });
      expect((await app.call('GET', `/v2/routing-policies/${created.body.id}`, { key: acmeAdmin })).body).toEqual(created.body);
      const body = { policy_revision: created.body.id, targets: [target()] };
      const release = await app.call('PUT', '/v2/model-aliases/pol.acme', { key: acmeAdmin, body });
      expect([release.status, release.body.policy_revision]).toEqual([200, created.body.id]);
      const globexAdmin = (await app.apiKeys.create({ tenantId: 'globex2', name: 'globex admin', scopes: ['admin'] })).secret;
      expect((await app.call('GET', `/v2/routing-policies/${created.body.id}`, { key: globexAdmin })).status).toBe(404);
      expect((await app.call('PUT', '/v2/model-aliases/pol.acme', { key: globexAdmin, body })).body).toEqual(envelope('policy_revision'));
    });
  });

  describe('freeze', () => {
    it('refuses installs on a frozen alias with a 409 naming it, keeps the live release, and shows the state', async () => {
      const live = await app.call('PUT', '/v2/model-aliases/freeze.me', { body: { targets: [target()] } });
      expect((await app.call('POST', '/v2/model-aliases/freeze.me/freeze', { key: app.inferenceKey })).status).toBe(403);
      // A tenant admin cannot freeze the shared catalogue's alias.
      expect((await app.call('POST', '/v2/model-aliases/freeze.me/freeze', { key: acmeAdmin })).status).toBe(404);
      const frozen = await app.call('POST', '/v2/model-aliases/freeze.me/freeze');
      expect(frozen.body).toMatchObject({ id: live.body.id, frozen: true });
      const refused = await app.call('PUT', '/v2/model-aliases/freeze.me', { body: { targets: [target({ weight: 5 })] } });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ param: 'alias', code: 'alias_frozen', message: expect.stringContaining('freeze.me') });
      expect((await app.call('GET', '/v2/model-aliases/freeze.me')).body).toMatchObject({ id: live.body.id, status: 'active', frozen: true });
      await app.call('POST', '/v2/model-aliases/freeze.me/unfreeze');
      expect((await app.call('GET', '/v2/model-aliases/freeze.me')).body.frozen).toBe(false);
      const next = await app.call('PUT', '/v2/model-aliases/freeze.me', { body: { targets: [target({ weight: 5 })] } });
      expect([next.status, next.body.id === live.body.id]).toEqual([200, false]);
    });

    it("lets a tenant admin freeze its own alias without freezing the shared one of the same name", async () => {
      await app.call('PUT', '/v2/model-aliases/freeze.both', { body: { targets: [target()] } });
      await app.call('PUT', '/v2/model-aliases/freeze.both', { key: acmeAdmin, body: { targets: [target()] } });
      expect((await app.call('POST', '/v2/model-aliases/freeze.both/freeze', { key: acmeAdmin })).status).toBe(200);
      expect((await app.call('PUT', '/v2/model-aliases/freeze.both', { key: acmeAdmin, body: { targets: [target()] } })).status).toBe(409);
      expect((await app.call('PUT', '/v2/model-aliases/freeze.both', { body: { targets: [target()] } })).status).toBe(200);
    });
  });
});

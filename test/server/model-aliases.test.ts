import { startTestApp, type TestApp } from '../support/test-app';

const target = (overrides: Record<string, unknown> = {}) => ({
  execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4-mini', model_revision: '2026-03-05', weight: 1, ...overrides,
});

describe('model-alias registry (/v2/model-aliases)', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startTestApp(); });
  afterAll(async () => { await app.close(); });

  describe('PUT /v2/model-aliases/{alias}', () => {
    it('installs a release with a fresh alr_ id, the given targets and the default revisions', async () => {
      const response = await app.call('PUT', '/v2/model-aliases/install.basic', { body: { targets: [target({ weight: 3 })] } });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^alr_[0-9a-hjkmnp-tv-z]{26}$/), object: 'model_alias_release', alias: 'install.basic', status: 'active',
        policy_revision: 'policy_custom', capability_manifest_revision: 'cap_custom', targets: [target({ weight: 3 })],
        created_at: expect.any(Number),
      });
    });

    it('mints a new id on every call, even for an identical body, and retires the previous release', async () => {
      const body = { targets: [target()], capability_manifest_revision: 'cap_custom' };
      const first = await app.call('PUT', '/v2/model-aliases/install.twice', { body });
      const second = await app.call('PUT', '/v2/model-aliases/install.twice', { body });
      expect(first.body.id).not.toBe(second.body.id);
      expect(second.body).toMatchObject({ status: 'active', policy_revision: 'policy_custom', capability_manifest_revision: 'cap_custom' });
      const retired = await app.call('GET', `/v2/model-alias-releases/${first.body.id}`);
      expect(retired.status).toBe(200);
      expect(retired.body).toMatchObject({ id: first.body.id, status: 'retired', alias: 'install.twice' });
      expect((await app.call('GET', '/v2/model-aliases/install.twice')).body.id).toBe(second.body.id);
    });

    it('accepts a weight-0 standby next to a weighted target', async () => {
      const response = await app.call('PUT', '/v2/model-aliases/install.standby', { body: { targets: [target({ weight: 2 }), target({ weight: 0 })] } });
      expect(response.status).toBe(200);
      expect(response.body.targets).toEqual([target({ weight: 2 }), target({ weight: 0 })]);
    });

    it('accepts every execution profile', async () => {
      const profiles = ['managed_provider', 'byok', 'byoc_dynamo', 'byoc_epp', 'subscription'];
      // The endpoint profiles name one of the tenant's registered endpoints of that profile (here: rows of the operator's tenant).
      for (const profile of ['byoc_dynamo', 'byoc_epp', 'subscription']) {
        await app.database.pool.query("INSERT INTO byoc_endpoints (tenant_id, id, profile, base_url) VALUES ('default', $1, $2, $3)",
          [`lab-${profile}`, profile, `https://${profile.replace('_', '-')}.lab.example`]);
      }
      const response = await app.call('PUT', '/v2/model-aliases/install.profiles', {
        body: { targets: profiles.map((profile) => target({ execution_profile: profile, ...(profile.startsWith('byoc') || profile === 'subscription' ? { provider: `lab-${profile}`, model: 'llama' } : {}) })) },
      });
      expect(response.status).toBe(200);
      expect(response.body.targets.map((t: { execution_profile: string }) => t.execution_profile)).toEqual(profiles);
    });

    it.each([
      ['no targets', { targets: [] }, 'targets'],
      ['a missing targets field', {}, 'targets'],
      ['targets that are not an array', { targets: 'openai' }, 'targets'],
      ['weights summing to zero', { targets: [target({ weight: 0 }), target({ weight: 0 })] }, 'targets'],
      ['a negative weight', { targets: [target({ weight: -1 }), target({ weight: 2 })] }, 'targets[0].weight'],
      ['a non-integer weight', { targets: [target({ weight: 0.5 })] }, 'targets[0].weight'],
      ['a weight of the wrong type', { targets: [target({ weight: '1' })] }, 'targets[0].weight'],
      ['a target missing weight', { targets: [target(), target({ weight: undefined })] }, 'targets[1].weight'],
      ['a target missing execution_profile', { targets: [target({ execution_profile: undefined })] }, 'targets[0].execution_profile'],
      ['a target missing provider', { targets: [target({ provider: undefined })] }, 'targets[0].provider'],
      ['a target missing model', { targets: [target(), target({ model: undefined })] }, 'targets[1].model'],
      ['a target missing model_revision', { targets: [target({ model_revision: undefined })] }, 'targets[0].model_revision'],
      ['an empty provider', { targets: [target({ provider: ' ' })] }, 'targets[0].provider'],
      ['an unknown execution profile', { targets: [target({ execution_profile: 'on_prem' })] }, 'targets[0].execution_profile'],
      ['an unknown target field', { targets: [target({ region: 'eu' })] }, 'targets[0].region'],
      ['an unknown top-level field', { targets: [target()], owner: 'me' }, 'owner'],
      ['a body alias that differs from the path', { alias: 'other', targets: [target()] }, 'alias'],
    ])('rejects %s with a 400 naming the field', async (_case, body, param) => {
      const response = await app.call('PUT', '/v2/model-aliases/install.invalid', { body });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code: 'invalid_request_error' } });
      expect((await app.call('GET', '/v2/model-aliases/install.invalid')).status).toBe(404);
    });

    it.each([['/v2/model-aliases/%20'], ['/v2/model-aliases/'], ['/v2/model-aliases/has%20space']])(
      'rejects an empty or malformed alias (%s) with a 400 on alias', async (path) => {
        const response = await app.call('PUT', path, { body: { targets: [target()] } });
        expect(response.status).toBe(400);
        expect(response.body.error).toMatchObject({ param: 'alias', code: 'invalid_request_error' });
      });

    it('requires the admin scope', async () => {
      const response = await app.call('PUT', '/v2/model-aliases/install.scoped', { key: app.inferenceKey, body: { targets: [target()] } });
      expect(response.status).toBe(403);
      expect(response.body.error).toMatchObject({ code: 'insufficient_scope', type: 'invalid_request_error' });
    });

    it('never leaves two active releases when installs on one alias race', async () => {
      const installs = await Promise.all(Array.from({ length: 16 }, (_unused, index) =>
        app.call('PUT', '/v2/model-aliases/race.alias', { body: { targets: [target({ weight: index + 1 })] } })));
      expect(installs.map((install) => install.status)).toEqual(Array(16).fill(200));
      expect(new Set(installs.map((install) => install.body.id)).size).toBe(16);
      const { rows } = await app.database.pool.query(
        "SELECT status, count(*)::int AS n FROM model_alias_releases WHERE alias = 'race.alias' GROUP BY status ORDER BY status");
      expect(rows).toEqual([{ status: 'active', n: 1 }, { status: 'retired', n: 15 }]);
      const history = await app.call('GET', '/v2/model-aliases/race.alias/releases');
      expect(history.body.data).toHaveLength(16);
      expect(history.body.data.filter((release: { status: string }) => release.status === 'active')).toHaveLength(1);
      // the live release is the last one installed
      expect((await app.call('GET', '/v2/model-aliases/race.alias')).body.id).toBe(history.body.data[0].id);
    });
  });

  describe('GET', () => {
    it('lists every live release sorted by alias, without retired ones', async () => {
      for (const alias of ['sort.c', 'sort.a', 'sort.b', 'sort.a']) {
        await app.call('PUT', `/v2/model-aliases/${alias}`, { body: { targets: [target()] } });
      }
      const response = await app.call('GET', '/v2/model-aliases', { key: app.inferenceKey });
      expect(response.status).toBe(200);
      expect(response.body.object).toBe('list');
      const aliases = response.body.data.map((release: { alias: string }) => release.alias);
      expect(aliases).toEqual([...aliases].sort());
      expect(aliases.filter((alias: string) => alias === 'sort.a')).toHaveLength(1);
      expect(response.body.data.every((release: { status: string }) => release.status === 'active')).toBe(true);
    });

    it('retrieves one alias, and 404s an unknown one in the error envelope', async () => {
      await app.call('PUT', '/v2/model-aliases/get.one', { body: { targets: [target()] } });
      expect((await app.call('GET', '/v2/model-aliases/get.one')).body).toMatchObject({ alias: 'get.one', status: 'active' });
      const missing = await app.call('GET', '/v2/model-aliases/no.such.alias');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: { message: expect.stringContaining('no.such.alias'), type: 'invalid_request_error', param: 'alias', code: 'invalid_request_error' } });
      expect((await app.call('GET', '/v2/model-aliases/no.such.alias/releases')).status).toBe(404);
      expect((await app.call('GET', '/v2/model-alias-releases/alr_00000000000000000000000000')).status).toBe(404);
    });

    it('keeps history newest first with every release immutable', async () => {
      const ids: string[] = [];
      for (const weight of [1, 2, 3]) ids.push((await app.call('PUT', '/v2/model-aliases/hist.alias', { body: { targets: [target({ weight })] } })).body.id);
      const history = await app.call('GET', '/v2/model-aliases/hist.alias/releases');
      expect(history.body.data.map((release: { id: string }) => release.id)).toEqual([...ids].reverse());
      expect(history.body.data.map((release: { targets: Array<{ weight: number }> }) => release.targets[0]!.weight)).toEqual([3, 2, 1]);
      expect(history.body.data.map((release: { status: string }) => release.status)).toEqual(['active', 'retired', 'retired']);
    });
  });

  describe("tenants' own aliases", () => {
    let acmeAdmin: string;
    let globexAdmin: string;
    beforeAll(async () => {
      acmeAdmin = (await app.apiKeys.create({ tenantId: 'acme', name: 'acme admin', scopes: ['admin'] })).secret;
      globexAdmin = (await app.apiKeys.create({ tenantId: 'globex', name: 'globex admin', scopes: ['admin'] })).secret;
      await app.call('PUT', '/v2/model-aliases/own.shadowed', { body: { targets: [target({ model: 'gpt-5.4' })] } });
    });

    it("shadow a shared alias for their own tenant only, with their own history, invisible to others", async () => {
      const own = await app.call('PUT', '/v2/model-aliases/own.shadowed', { key: acmeAdmin, body: { targets: [target({ model: 'gpt-4o' })] } });
      expect(own.status).toBe(200);
      const resolved = async (key: string, path = '/v2/model-aliases/own.shadowed') => (await app.call('GET', path, { key })).body;
      expect((await resolved(acmeAdmin)).targets[0].model).toBe('gpt-4o');
      expect((await resolved(app.inferenceKey)).targets[0].model).toBe('gpt-4o'); // acme's inference key resolves it too
      expect((await resolved(globexAdmin)).targets[0].model).toBe('gpt-5.4');
      expect((await resolved(app.adminKey)).targets[0].model).toBe('gpt-5.4'); // the operator's default view: the shared catalogue
      expect((await resolved(app.adminKey, '/v2/model-aliases/own.shadowed?tenant=acme')).targets[0].model).toBe('gpt-4o');
      expect((await resolved(acmeAdmin, '/v2/model-aliases/own.shadowed/releases')).data.map((release: { id: string }) => release.id)).toEqual([own.body.id]);
      expect((await app.call('GET', `/v2/model-alias-releases/${own.body.id}`, { key: globexAdmin })).status).toBe(404);
      expect((await app.call('GET', `/v2/model-alias-releases/${own.body.id}`)).status).toBe(200);
      // The shared release stays active: acme's install retired nothing of anyone else's.
      expect((await resolved(app.adminKey)).status).toBe('active');
    });

    it('may not be installed by an inference key, nor for another tenant by a tenant admin', async () => {
      expect((await app.call('PUT', '/v2/model-aliases/own.x', { key: app.inferenceKey, body: { targets: [target()] } })).status).toBe(403);
      const other = await app.call('PUT', '/v2/model-aliases/own.x?tenant=globex', { key: acmeAdmin, body: { targets: [target()] } });
      expect([other.status, other.body.error.param]).toEqual([403, 'tenant']);
      expect((await app.call('GET', '/v2/model-aliases/own.x', { key: globexAdmin })).status).toBe(404);
    });
  });
});

/**
 * Trust boundaries between tenants (issue 17), on a whole Zumik: every /v1 and /v2 resource one
 * tenant owns answers 404 to another tenant's keys — its tenant admin and its inference key alike —
 * exactly as an id that does not exist; only the operator reaches it, by naming the tenant. And the
 * allow-lists of the tenant policy and of a key refuse before any workflow, recorded with their own
 * reason code. BYOC endpoints are registered on the emulators' loopback over http, which the operator's
 * egress allow-list (ZUMIK_EGRESS_ALLOW) opens for this deployment.
 */
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, requestIdOf } from './request-path-helpers';

interface TenantKeys { admin: string; adminId: string; inference: string; inferenceId: string }

describe('tenant isolation and allow-lists', () => {
  let harness: Harness;
  const keys: Record<'acme' | 'globex', TenantKeys> = {} as never;
  const acme = { requestId: '', fileId: '', batchId: '', releaseId: '' };

  const as = (key: string) => ({ key });
  const createKey = async (tenant: string, scopes: string[], extra: Record<string, unknown> = {}, key = harness.adminKey) => {
    const response = await harness.call('POST', '/v2/api-keys', { key, body: { name: `${tenant} ${scopes[0]}`, tenant, scopes, ...extra } });
    if (response.status !== 201) throw new Error(`key: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as { id: string; key: string; allowed_aliases: string[] | null; allowed_providers: string[] | null };
  };
  const upload = async (key: string, text: string) => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([text]), 'lines.jsonl');
    const response = await fetch(`${harness.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
    return { status: response.status, body: await response.json() as any };
  };

  beforeAll(async () => {
    // Two counted failures open a circuit (default 5): the circuit test below needs only a few requests.
    harness = await startHarness({ env: { ZUMIK_EGRESS_ALLOW: '127.0.0.1/32,http', ZUMIK_CIRCUIT_FAILURE_THRESHOLD: '2' } });
    await harness.installAlias('shared.chat', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('shared.other', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('shared.pair', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 1)]);
    for (const tenant of ['acme', 'globex'] as const) {
      const admin = await createKey(tenant, ['admin']);
      const inference = await createKey(tenant, ['inference']);
      keys[tenant] = { admin: admin.key, adminId: admin.id, inference: inference.key, inferenceId: inference.id };
    }

    // acme's own things, made with acme's own keys.
    const acmeAdmin = as(keys.acme.admin);
    const alias = await harness.call('PUT', '/v2/model-aliases/acme.chat', { ...acmeAdmin, body: { targets: [target('openai', 'gpt-4o-mini')] } });
    expect(alias.status).toBe(200);
    acme.releaseId = alias.body.id;
    expect((await harness.call('PUT', '/v2/credentials/anthropic', { ...acmeAdmin, body: { api_key: 'sk-ant-acme-000000000000000001' } })).status).toBe(200);
    const endpoint = await harness.registerEndpoint('acme-lab', { profile: 'byoc_epp', base_url: harness.openai.baseUrl, api_key: EMULATOR_KEY }, { key: keys.acme.admin, tenant: 'acme' });
    expect(endpoint.status).toBe('active');
    const response = await chat(harness, { model: 'acme.chat' }, { headers: { authorization: `Bearer ${keys.acme.inference}` } });
    expect(response.status).toBe(200);
    acme.requestId = requestIdOf(response);
    const file = await upload(keys.acme.inference, JSON.stringify({ custom_id: 'a-1', method: 'POST', url: '/v1/chat/completions', body: { model: 'acme.chat', messages: [{ role: 'user', content: 'hi' }] } }));
    expect(file.status).toBe(200);
    acme.fileId = file.body.id;
    const batch = await harness.call('POST', '/v1/batches', { key: keys.acme.inference, body: { input_file_id: acme.fileId, endpoint: '/v1/chat/completions', completion_window: '24h' } });
    expect(batch.status).toBe(200);
    acme.batchId = batch.body.id;
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });

  /** [method, path] of acme's resources, by id; each answers 404 to globex and 200 to the operator naming acme. */
  const acmeResources = (): Array<[string, string]> => [
    ['GET', `/v2/requests/${acme.requestId}`],
    ['GET', `/v1/batches/${acme.batchId}`],
    ['POST', `/v1/batches/${acme.batchId}/cancel`],
    ['GET', `/v1/files/${acme.fileId}`],
    ['GET', `/v1/files/${acme.fileId}/content`],
    ['DELETE', `/v1/files/${acme.fileId}`],
    ['DELETE', `/v2/api-keys/${keys.acme.inferenceId}`],
    ['GET', '/v2/model-aliases/acme.chat'],
    ['GET', '/v2/model-aliases/acme.chat/releases'],
    ['GET', `/v2/model-alias-releases/${acme.releaseId}`],
    ['GET', '/v1/models/acme.chat'],
    ['GET', '/v2/credentials/anthropic'],
    ['DELETE', '/v2/credentials/anthropic'],
    ['GET', '/v2/byoc-endpoints/acme-lab'],
    ['DELETE', '/v2/byoc-endpoints/acme-lab'],
    ['GET', '/v2/tenants/acme/policy'],
    ['PUT', '/v2/tenants/acme/policy'],
  ];
  /** The same shapes with ids that exist nowhere: what another tenant's ids must be indistinguishable from. */
  const nowhere = (path: string) => path
    .replace(acme.requestId, 'chatcmpl-01nowhere0000000000000000000').replace(acme.batchId, 'batch_nowhere')
    .replace(acme.fileId, 'file-nowhere').replace(keys.acme.inferenceId, 'key_nowhere').replace('acme.chat', 'nowhere.chat')
    .replace(acme.releaseId, 'alr_01nowhere000000000000000000').replace('anthropic', 'xai').replace('acme-lab', 'nowhere-lab')
    .replace('/tenants/acme/', '/tenants/nowhere/');
  const send = (key: string, method: string, path: string) =>
    harness.call(method, path, { key, body: method === 'PUT' ? { max_attempts: 1 } : method === 'POST' ? {} : undefined });

  it("answers 404 to the other tenant's admin key for every one of acme's resources, as for ids that exist nowhere", async () => {
    for (const [method, path] of acmeResources()) {
      const response = await send(keys.globex.admin, method, path);
      const absent = await send(keys.globex.admin, method, nowhere(path));
      expect([method, path, response.status]).toEqual([method, path, 404]);
      expect([method, path, absent.status, absent.body.error?.code]).toEqual([method, path, 404, response.body.error.code]);
    }
  });

  it("answers the other tenant's inference key for acme's ids exactly as for ids that exist nowhere (404, or 403 on admin routes whatever the id)", async () => {
    for (const [method, path] of acmeResources()) {
      const response = await send(keys.globex.inference, method, path);
      const absent = await send(keys.globex.inference, method, nowhere(path));
      expect([method, path, response.status, response.body.error?.code]).toEqual([method, path, absent.status, absent.body.error?.code]);
      expect([403, 404]).toContain(response.status);
    }
  });

  it('left every one of acme\'s resources in place, and the operator reaches each by naming acme', async () => {
    for (const [, path] of acmeResources().filter(([method]) => method === 'GET')) {
      const separator = path.includes('?') ? '&' : '?';
      const response = await harness.call('GET', `${path}${separator}tenant=acme`);
      expect([path, response.status]).toEqual([path, 200]);
    }
    expect((await harness.call('GET', `/v1/files/${acme.fileId}/content?tenant=acme`)).body).toMatchObject({ custom_id: 'a-1' });
    expect((await harness.call('GET', '/v2/api-keys?tenant=acme')).body.data.map((key: { id: string }) => key.id))
      .toEqual(expect.arrayContaining([keys.acme.adminId, keys.acme.inferenceId]));
    // acme's own keys still work: nothing of acme's was revoked or deleted by globex.
    expect((await harness.call('GET', `/v2/requests/${acme.requestId}`, as(keys.acme.inference))).body).toMatchObject({ tenant: 'acme', reason_code: 'ok' });
  });

  it("lists none of acme's things to globex, and a tenant admin may not name another tenant", async () => {
    const globex = as(keys.globex.admin);
    const lists = await Promise.all(['/v2/api-keys', '/v1/files', '/v1/batches', '/v2/credentials', '/v2/byoc-endpoints', '/v2/model-aliases', '/v1/models']
      .map((path) => harness.call('GET', path, globex)));
    for (const list of lists) expect(list.status).toBe(200);
    const text = JSON.stringify(lists.map((list) => list.body));
    for (const id of [keys.acme.adminId, keys.acme.inferenceId, acme.fileId, acme.batchId, 'acme-lab', 'acme.chat', acme.releaseId]) expect(text).not.toContain(id);
    expect(lists[5]!.body.data.map((release: { alias: string }) => release.alias)).toEqual(['shared.chat', 'shared.other', 'shared.pair']);
    for (const path of ['/v2/api-keys?tenant=acme', '/v1/files?tenant=acme', '/v2/credentials?tenant=acme']) {
      const response = await harness.call('GET', path, globex);
      expect([path, response.status, response.body.error?.param]).toEqual([path, 403, 'tenant']);
    }
    const created = await harness.call('POST', '/v2/api-keys', { ...globex, body: { tenant: 'acme' } });
    expect([created.status, created.body.error?.param]).toEqual([403, 'tenant']);
    const operatorKey = await harness.call('POST', '/v2/api-keys', { ...globex, body: { scopes: ['operator'] } });
    expect([operatorKey.status, operatorKey.body.error?.param]).toEqual([403, 'scopes']);
  });

  it("does not let globex's requests resolve acme's alias, and shows a tenant admin only the built-in providers' circuits", async () => {
    const response = await chat(harness, { model: 'acme.chat' }, { headers: { authorization: `Bearer ${keys.globex.inference}` } });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-zumik-reason-code')).toBe('unknown_alias');
    await harness.database.pool.query(`INSERT INTO circuit_breakers (key, consecutive_failures)
      VALUES ('tenant:acme|acme-lab|default|m', 1), ('openai|default|gpt-4o-mini', 1) ON CONFLICT DO NOTHING`);
    const listed = async (key?: string) => (await harness.call('GET', '/v2/circuits', key ? as(key) : {})).body.data.map((circuit: { key: string }) => circuit.key);
    expect(await listed(keys.globex.admin)).toContain('openai|default|gpt-4o-mini');
    expect(await listed(keys.globex.admin)).not.toContain('tenant:acme|acme-lab|default|m');
    expect(await listed(keys.acme.admin)).toEqual(expect.arrayContaining(['openai|default|gpt-4o-mini', 'tenant:acme|acme-lab|default|m']));
    expect(await listed()).toContain('tenant:acme|acme-lab|default|m');
    await harness.database.pool.query('DELETE FROM circuit_breakers');
  });

  it("keeps each tenant's circuits its own: acme's failing endpoint opens acme's circuit, never globex's endpoint of the same name", async () => {
    // Endpoint ids are per tenant: both name theirs `lab`; acme's is down (the xAI emulator in an outage), globex's answers.
    for (const [tenant, upstream] of [['acme', harness.xai], ['globex', harness.openai]] as const) {
      const admin = as(keys[tenant].admin);
      await harness.registerEndpoint('lab', { profile: 'byoc_epp', base_url: upstream.baseUrl, api_key: EMULATOR_KEY }, { key: keys[tenant].admin, tenant });
      expect((await harness.call('PUT', `/v2/model-aliases/${tenant}.samelab`, {
        ...admin, body: { targets: [target('lab', 'gpt-4o-mini', 1, { execution_profile: 'byoc_epp' })] },
      })).status).toBe(200);
    }
    harness.xai.startOutage({ kind: 'status', status: 503 });
    try {
      for (let request = 0; request < 3; request++) {
        const failed = await chat(harness, { model: 'acme.samelab' }, { headers: { authorization: `Bearer ${keys.acme.inference}` } });
        expect(failed.status).toBeGreaterThanOrEqual(500);
      }
      const acmeCircuit = (await harness.call('GET', '/v2/circuits', as(keys.acme.admin))).body.data
        .find((circuit: { key: string }) => circuit.key === 'tenant:acme|lab|default|gpt-4o-mini');
      expect(acmeCircuit).toMatchObject({ tenant: 'acme', provider: 'lab', state: 'open' });
      harness.openai.reset();
      const served = await chat(harness, { model: 'globex.samelab' }, { headers: { authorization: `Bearer ${keys.globex.inference}` } });
      expect([served.status, served.headers.get('x-zumik-reason-code'), served.headers.get('x-zumik-provider')]).toEqual([200, 'ok', 'lab']);
      expect(harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(1);
      expect((await harness.call('GET', '/v2/circuits', as(keys.globex.admin))).body.data.map((circuit: { key: string }) => circuit.key))
        .not.toContain('tenant:acme|lab|default|gpt-4o-mini');
    } finally {
      harness.xai.endOutage();
      await harness.database.pool.query('DELETE FROM circuit_breakers');
    }
  });

  it("serves acme's own alias on acme's BYOC endpoint (loopback over http, opened by the operator's egress allow-list)", async () => {
    const alias = await harness.call('PUT', '/v2/model-aliases/acme.lab', {
      key: keys.acme.admin, body: { targets: [target('acme-lab', 'gpt-4o-mini', 1, { execution_profile: 'byoc_epp' })] },
    });
    expect(alias.status).toBe(200);
    harness.openai.reset();
    const response = await chat(harness, { model: 'acme.lab' }, { headers: { authorization: `Bearer ${keys.acme.inference}` } });
    expect([response.status, response.headers.get('x-zumik-reason-code')]).toEqual([200, 'ok']);
    expect(response.headers.get('x-zumik-provider')).toBe('acme-lab');
    expect(harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(1);
  });

  describe('allow-lists', () => {
    afterEach(async () => { await harness.call('PUT', '/v2/tenants/globex/policy', { body: {} }); });

    it("refuses an alias outside the tenant policy's list with 403 before any workflow, recorded as rejected_allow_list", async () => {
      expect((await harness.call('PUT', '/v2/tenants/globex/policy', { body: { allowed_aliases: ['shared.chat'] } })).status).toBe(200);
      harness.openai.reset();
      const allowed = await chat(harness, { model: 'shared.chat' }, { headers: { authorization: `Bearer ${keys.globex.inference}` } });
      expect(allowed.status).toBe(200);
      const refused = await chat(harness, { model: 'shared.other' }, { headers: { authorization: `Bearer ${keys.globex.inference}` } });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'model_not_allowed', param: 'model', type: 'invalid_request_error' });
      expect(refused.headers.get('x-zumik-reason-code')).toBe('rejected_allow_list');
      const id = requestIdOf(refused);
      const recorded = (await harness.call('GET', `/v2/requests/${id}`, as(keys.globex.inference))).body;
      expect(recorded).toMatchObject({ admission: 'rejected', completion: null, reason_code: 'rejected_allow_list', attempts: [], workflow: null });
      await expect(harness.zumik.client.workflow.getHandle(`req:globex:${id}`).describe()).rejects.toThrow();
      expect(harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(1);
    });

    it("plans only the targets whose provider is on the key's list, and refuses a release with none", async () => {
      const onlyAnthropic = await createKey('globex', ['inference'], { allowed_providers: ['anthropic'] }, keys.globex.admin);
      expect(onlyAnthropic).toMatchObject({ allowed_providers: ['anthropic'], allowed_aliases: null });
      harness.openai.reset();
      harness.anthropic.reset();
      for (let index = 0; index < 4; index += 1) {
        const served = await chat(harness, { model: 'shared.pair' }, { headers: { authorization: `Bearer ${onlyAnthropic.key}` } });
        expect(served.status).toBe(200);
        expect(served.headers.get('x-zumik-provider')).toBe('anthropic');
      }
      expect(harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(0);
      const refused = await chat(harness, { model: 'shared.chat' }, { headers: { authorization: `Bearer ${onlyAnthropic.key}` } });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('x-zumik-reason-code')).toBe('rejected_allow_list');
      // Refusals are recorded before they are answered.
      expect((await harness.call('GET', `/v2/requests/${requestIdOf(refused)}`, as(keys.globex.admin))).body).toMatchObject({ reason_code: 'rejected_allow_list' });
    });

    it("holds for batch lines too: a line for an alias outside the list ends in the error file as 403 model_not_allowed", async () => {
      expect((await harness.call('PUT', '/v2/tenants/globex/policy', { body: { allowed_aliases: ['shared.chat'] } })).status).toBe(200);
      const line = (id: string, model: string) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: 'hi' }] } });
      const file = await upload(keys.globex.inference, [line('ok', 'shared.chat'), line('refused', 'shared.other')].join('\n'));
      const created = await harness.call('POST', '/v1/batches', { key: keys.globex.inference, body: { input_file_id: file.body.id, endpoint: '/v1/chat/completions', completion_window: '24h' } });
      let batch = created.body;
      for (const until = Date.now() + 30_000; batch.status !== 'completed' && Date.now() < until;) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        batch = (await harness.call('GET', `/v1/batches/${created.body.id}`, as(keys.globex.inference))).body;
      }
      expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } });
      const errors = (await harness.call('GET', `/v1/files/${batch.error_file_id}/content`, as(keys.globex.inference))).body;
      expect(errors).toMatchObject({ custom_id: 'refused', response: { status_code: 403, body: { error: { code: 'model_not_allowed' } } } });
    });

    it("refuses an alias outside a key's own list while the tenant allows it", async () => {
      const narrow = await createKey('globex', ['inference'], { allowed_aliases: ['shared.other'] }, keys.globex.admin);
      const refused = await chat(harness, { model: 'shared.chat' }, { headers: { authorization: `Bearer ${narrow.key}` } });
      expect([refused.status, refused.headers.get('x-zumik-reason-code')]).toEqual([403, 'rejected_allow_list']);
      expect((await chat(harness, { model: 'shared.other' }, { headers: { authorization: `Bearer ${narrow.key}` } })).status).toBe(200);
    });
  });
});

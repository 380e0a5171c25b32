/**
 * RequestDecider and endpoint state on a real Postgres (README "Replay-gated activation"): a release
 * without BYOC targets never reads endpoint state; one with them reads it once per cache period (one
 * statement for all its endpoints), skips pending endpoints, refuses `endpoint_pending` when nothing else
 * is left, and routes to an endpoint as soon as its activation drops the cached entry (the change feed's
 * `lane:<id>`).
 */
import { SecretBox } from '../../src/secrets/secret-box';
import type { ModelAliasRelease, ReleaseTarget } from '../../src/domain/model-alias';
import { DEFAULT_TENANT_POLICY } from '../../src/domain/tenant-policy';
import { ByocEndpointRepository } from '../../src/store/byoc-endpoint-repository';
import { CircuitCache, ReleaseCache } from '../../src/store/hot-config';
import { LaneLeaseStore } from '../../src/store/lane-lease-store';
import { RequestDecider } from '../../src/store/request-decider';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const lane: ReleaseTarget = { execution_profile: 'byoc_dynamo', provider: 'acme-gpu', model: 'm', model_revision: '1', weight: 1 };
const managed: ReleaseTarget = { execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-4o-mini', model_revision: '1', weight: 1 };
const releaseOf = (alias: string, targets: ReleaseTarget[]): ModelAliasRelease => ({
  id: `alr_${alias}`, object: 'model_alias_release', alias, status: 'active', policy_revision: 'policy_custom', capability_manifest_revision: 'cap_custom',
  targets, created_at: 0,
});

describe('RequestDecider with pending BYOC endpoints', () => {
  let database: TestDatabase;
  let endpoints: ByocEndpointRepository;
  let decider: RequestDecider;
  let stateReads = 0;
  const releases = new Map([
    ['only.managed', releaseOf('only.managed', [managed])],
    ['only.lane', releaseOf('only.lane', [lane])],
    ['mixed', releaseOf('mixed', [{ ...lane, weight: 100 }, managed])],
  ]);

  beforeAll(async () => {
    database = await createTestDatabase();
    endpoints = new ByocEndpointRepository(database.pool, new SecretBox(Buffer.alloc(32, 7)));
    const store = new LaneLeaseStore(database.pool);
    decider = new RequestDecider({
      policies: { get: async () => DEFAULT_TENANT_POLICY },
      releases: new ReleaseCache({ findRouting: async (_tenant, alias) => ({ live: releases.get(alias)! }), findById: async () => undefined }),
      circuits: new CircuitCache({ snapshot: async () => ({ skip: new Map(), dirty: new Set() }) }),
      regions: () => ['default'],
      admission: { tryAdmit: async () => ({ state: 'admitted' }) as never, release: async () => false },
      lanes: {
        states: (tenantId, ids) => { stateReads += 1; return store.states(tenantId, ids); },
        tryTake: (...args) => store.tryTake(...args), release: async (requestId) => { await store.release(requestId); },
      },
    });
    await endpoints.put({ tenantId: 'acme', id: 'acme-gpu', profile: 'byoc_dynamo', baseUrl: 'https://gpu.acme.example/v1' });
  });
  afterAll(async () => { await database.drop(); });

  const decide = (alias: string, requestId = `chatcmpl-${alias}-${Math.random()}`) => decider.decide({
    requestId, tenantId: 'acme', apiKeyId: 'key_1', alias, qosClass: 'standard', body: { model: alias, messages: [{ role: 'user', content: 'hi' }] },
  });

  it('never reads endpoint state for a release without BYOC targets', async () => {
    stateReads = 0;
    expect(await decide('only.managed')).toMatchObject({ decision: { plan: [{ provider: 'openai' }] } });
    expect(stateReads).toBe(0);
  });

  it('skips a pending endpoint (once per cache period), and refuses when it is the only target', async () => {
    stateReads = 0;
    expect(await decide('only.lane')).toMatchObject({ refusal: 'endpoint_pending' });
    const mixed = await decide('mixed');
    expect(mixed).toMatchObject({ decision: { plan: [{ provider: 'openai' }], skipped: [{ provider: 'acme-gpu', reason: 'endpoint_pending' }] } });
    expect(await decide('mixed')).toMatchObject({ decision: { plan: [{ provider: 'openai' }] } });
    // One statement per release's set of endpoints, then the cache: only.lane and mixed name the same endpoint.
    expect(stateReads).toBe(1);
  });

  it('routes to the endpoint once activated and its cached state is dropped', async () => {
    await endpoints.activate('acme', 'acme-gpu', { report_id: null, override: true, reason: 'test', activated_by: 'key_op', activated_at: 0 });
    expect(await decide('only.lane')).toMatchObject({ refusal: 'endpoint_pending' }); // still cached here
    decider.forgetLanes('acme-gpu');
    expect(await decide('only.lane')).toMatchObject({ decision: { plan: [{ provider: 'acme-gpu' }] } });
    expect(await decide('mixed')).toMatchObject({ decision: { plan: [{ provider: 'acme-gpu' }, { provider: 'openai' }] } });
  });

  it('makes an endpoint pending again when its base URL changes, not when it is registered again unchanged', async () => {
    const same = await endpoints.put({ tenantId: 'acme', id: 'acme-gpu', profile: 'byoc_dynamo', baseUrl: 'https://gpu.acme.example/v1' });
    expect([same.status, same.activation?.reason]).toEqual(['active', 'test']);
    const moved = await endpoints.put({ tenantId: 'acme', id: 'acme-gpu', profile: 'byoc_dynamo', baseUrl: 'https://gpu2.acme.example/v1' });
    expect([moved.status, moved.activation]).toEqual(['pending', null]);
  });
});

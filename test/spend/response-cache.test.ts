/**
 * The exact-match response cache (issue 14) through a whole Zumik (real Temporal, Postgres,
 * emulators): a miss calls the provider and keeps the answer, a hit answers without any provider call
 * or workflow and records `cache_hit` with cost 0; `refresh` and `skip`; `temperature` > 0 only when
 * asked; never across tenants; a cached stream replays its chunks as OpenAI SSE; TTLs expire.
 */
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, outcomeCommentOf, resetCircuits, setPolicy, sseData, waitForRecorded } from '../request-path/request-path-helpers';

describe('response cache', () => {
  let harness: Harness;
  let otherTenantKey: string;
  beforeAll(async () => {
    harness = await startHarness();
    await resetCircuits(harness);
    await setPolicy(harness, { aliases: { 'cache.on': { response_cache: { enabled: true } } } });
    await harness.installAlias('cache.on', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('cache.off', [target('openai', 'gpt-4o-mini')]);
    const created = await harness.call('POST', '/v2/api-keys', { body: { tenant: 'other', name: 'other', scopes: ['inference', 'admin'] } });
    expect(created.status).toBe(201);
    otherTenantKey = created.body.key;
    const policy = await harness.call('PUT', '/v2/tenants/other/policy', { body: { aliases: { 'cache.on': { response_cache: { enabled: true } } } } });
    expect(policy.status).toBe(200);
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(() => { harness.openai.reset(); });

  let unique = 0;
  /** A fresh question per test: entries of earlier tests never answer later ones. */
  const question = () => [{ role: 'user', content: `What is ${++unique} plus ${unique}? (${Date.now()})` }];
  const providerCalls = () => harness.openai.requests.length;
  /** The entry a miss keeps is written after its answer went out: wait for it rather than send requests that would miss again. */
  const kept = (requestId: string | null) => eventually(async () =>
    (await harness.database.pool.query('SELECT 1 FROM response_cache WHERE source_request_id = $1', [requestId])).rows.length === 1, 5_000, 'the entry to be kept');

  it('answers the second identical request from the cache: no provider call, no workflow, cost 0, recorded as cache_hit', async () => {
    const messages = question();
    const first = await chat(harness, { model: 'cache.on', messages, temperature: 0 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-zumik-cache')).toBe('miss');
    expect(providerCalls()).toBe(1);
    await waitForRecorded(harness, first.body.id);
    await kept(first.body.id);
    // The same request with its keys in another order and a different `user` is the same entry.
    const second = await chat(harness, { temperature: 0, user: 'someone', messages, model: 'cache.on' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-zumik-cache')).toBe('hit');
    expect(second.headers.get('x-zumik-reason-code')).toBe('ok_cache_hit');
    expect(providerCalls()).toBe(1);
    expect(second.body.choices).toEqual(first.body.choices);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.id).toBe(second.headers.get('x-zumik-request-id'));
    const outcome = await waitForRecorded(harness, second.body.id);
    expect(outcome).toMatchObject({ cache_hit: true, reason_code: 'ok_cache_hit', completion: 'completed', cost_usd: 0, attempts: [], workflow: null });
    const metrics = await harness.call('GET', '/metrics');
    expect(String(metrics.body)).toMatch(/zumik_response_cache_total\{tenant="default",result="hit"\} [1-9]/);
  });

  it('calls the provider again and replaces the entry on refresh; skip neither reads nor writes', async () => {
    const messages = question();
    await chat(harness, { model: 'cache.on', messages });
    const refreshed = await chat(harness, { model: 'cache.on', messages }, { headers: { 'x-zumik-cache': 'refresh' } });
    expect(refreshed.headers.get('x-zumik-cache')).toBe('refresh');
    const skipped = await chat(harness, { model: 'cache.on', messages }, { headers: { 'x-zumik-cache': 'skip' } });
    expect(skipped.headers.get('x-zumik-cache')).toBeNull();
    expect(providerCalls()).toBe(3);
    await kept(refreshed.body.id);
    expect((await chat(harness, { model: 'cache.on', messages })).headers.get('x-zumik-cache')).toBe('hit');
    expect(providerCalls()).toBe(3);
  });

  it('does not cache temperature > 0 on the policy alone, only when the request asks', async () => {
    const messages = question();
    await chat(harness, { model: 'cache.on', messages, temperature: 0.7 });
    const again = await chat(harness, { model: 'cache.on', messages, temperature: 0.7 });
    expect(again.headers.get('x-zumik-cache')).toBeNull();
    expect(providerCalls()).toBe(2);
    const asked = { headers: { 'x-zumik-cache': 'use' } };
    const miss = await chat(harness, { model: 'cache.on', messages, temperature: 0.7 }, asked);
    expect(miss.headers.get('x-zumik-cache')).toBe('miss');
    await kept(miss.body.id);
    expect((await chat(harness, { model: 'cache.on', messages, temperature: 0.7 }, asked)).headers.get('x-zumik-cache')).toBe('hit');
    expect(providerCalls()).toBe(3);
  });

  it('is off unless the alias, the tenant or the request opts in', async () => {
    const messages = question();
    await chat(harness, { model: 'cache.off', messages });
    const again = await chat(harness, { model: 'cache.off', messages });
    expect(again.headers.get('x-zumik-cache')).toBeNull();
    expect(providerCalls()).toBe(2);
  });

  it('never answers one tenant from another tenant\'s entry', async () => {
    const messages = question();
    await kept((await chat(harness, { model: 'cache.on', messages })).body.id);
    expect((await chat(harness, { model: 'cache.on', messages })).headers.get('x-zumik-cache')).toBe('hit');
    const other = await chat(harness, { model: 'cache.on', messages }, { headers: { authorization: `Bearer ${otherTenantKey}` } });
    expect(other.status).toBe(200);
    expect(other.headers.get('x-zumik-cache')).toBe('miss');
    expect(providerCalls()).toBe(2);
  });

  it('replays a cached stream as OpenAI SSE chunks, ending with the outcome comment and [DONE]', async () => {
    const messages = question();
    const body = { model: 'cache.on', messages, stream: true, stream_options: { include_usage: true } };
    const first = await chat(harness, body);
    expect(first.headers.get('x-zumik-cache')).toBe('miss');
    const firstChunks = sseData(first.text);
    await kept(first.headers.get('x-zumik-request-id'));
    const replay = await chat(harness, body);
    expect(replay.headers.get('x-zumik-cache')).toBe('hit');
    expect(providerCalls()).toBe(1);
    expect(replay.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const chunks = sseData(replay.text);
    expect(chunks.at(-1)).toBe('[DONE]');
    const strip = (chunk: any) => (typeof chunk === 'string' ? chunk : { ...chunk, id: undefined });
    expect(chunks.map(strip)).toEqual(firstChunks.map(strip));
    const id = replay.headers.get('x-zumik-request-id');
    for (const chunk of chunks.slice(0, -1)) expect(chunk.id).toBe(id);
    expect(outcomeCommentOf(replay.text)).toMatchObject({ reason_code: 'ok_cache_hit', attempts: 0, cost_usd: 0 });
    // A JSON request is another entry: it is not answered from the stream.
    expect((await chat(harness, { model: 'cache.on', messages })).headers.get('x-zumik-cache')).toBe('miss');
  });

  it('expires an entry after its TTL', async () => {
    const messages = question();
    const ttl = { headers: { 'x-zumik-cache-ttl': '2' } };
    await kept((await chat(harness, { model: 'cache.on', messages }, ttl)).body.id);
    expect((await chat(harness, { model: 'cache.on', messages }, ttl)).headers.get('x-zumik-cache')).toBe('hit');
    await eventually(async () => (await chat(harness, { model: 'cache.on', messages }, ttl)).headers.get('x-zumik-cache') === 'miss', 8_000, 'the entry to expire');
  });

  it('answers a hit with no budget reservation, even past a spent hard budget (a hit costs nothing)', async () => {
    const messages = question();
    const budget = await harness.call('POST', '/v2/budgets', { body: { amount_usd: 1e-6, period: 'daily', mode: 'hard' } });
    expect(budget.status).toBe(201);
    try {
      const first = await chat(harness, { model: 'cache.on', messages });
      expect(first.status).toBe(200);
      await kept(first.body.id);
      await waitForRecorded(harness, first.body.id);
      expect((await chat(harness, { model: 'cache.off', messages })).headers.get('x-zumik-reason-code')).toBe('rejected_budget');
      const hit = await chat(harness, { model: 'cache.on', messages });
      expect(hit.status).toBe(200);
      expect(hit.headers.get('x-zumik-cache')).toBe('hit');
      const reservations = await harness.database.pool.query('SELECT 1 FROM budget_reservations WHERE request_id = $1', [hit.body.id]);
      expect(reservations.rows).toHaveLength(0);
    } finally {
      await harness.call('DELETE', `/v2/budgets/${budget.body.id}`);
    }
  });

  it.each([
    [{ 'x-zumik-cache': 'always' }, 'x-zumik-cache'],
    [{ 'x-zumik-cache-ttl': '0' }, 'x-zumik-cache-ttl'],
    [{ 'x-zumik-cache-ttl': 'soon' }, 'x-zumik-cache-ttl'],
  ])('refuses bad cache headers with a 400 naming the header (%j)', async (headers, param) => {
    const response = await chat(harness, { model: 'cache.on', messages: question() }, { headers });
    expect(response.status).toBe(400);
    expect(response.body.error.param).toBe(param);
    expect(providerCalls()).toBe(0);
  });
});

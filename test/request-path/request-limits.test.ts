import { eventTypes } from '../support/history';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, setPolicy } from './request-path-helpers';

async function waitForRecorded(harness: Harness, id: string, timeoutMs = 20_000): Promise<any> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const response = await harness.call('GET', `/v2/requests/${id}`);
    if (response.status === 200 && response.body.attempts) return response.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`request ${id} was not recorded within ${timeoutMs} ms`);
}

describe('request path limits', () => {
  let harness: Harness;
  beforeAll(async () => {
    // A queued request continues-as-new after 2 admission polls (about 2 s here: the dev server fires timers on a 1 s tick) (default 1,000): the test drives the loop past it.
    harness = await startHarness({ env: { ZUMIK_POLLS_PER_RUN: '2' } });
    await harness.installAlias('limits.basic', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(async () => {
    harness.openai.reset();
    harness.openai.resetReply();
    harness.openai.options.latencyMs = 0;
    await setPolicy(harness, {});
  });

  describe('the admission queue', () => {
    it('continues-as-new while a request waits past the polls-per-run threshold, and the request still completes', async () => {
      await setPolicy(harness, { limits: { concurrency: 1 } });
      harness.openai.options.latencyMs = 5_000;
      const first = chat(harness, { model: 'limits.basic' });
      await eventually(() => harness.openai.requests.length === 1, 5_000, 'the first upstream call');
      const second = await chat(harness, { model: 'limits.basic' });
      expect((await first).status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.headers.get('x-zumik-admission')).toBe('queued');
      expect(second.body.choices[0].message.content).toEqual(expect.any(String));
      const recorded = await waitForRecorded(harness, second.body.id);
      expect(recorded).toMatchObject({ admission: 'queued', completion: 'completed', reason_code: 'ok' });

      const workflowId = `req:default:${second.body.id}`;
      const latest = harness.zumik.client.workflow.getHandle(workflowId);
      const description = await latest.describe();
      const started = (await latest.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
      expect(started.continuedExecutionRunId).toBeTruthy();
      expect(started.firstExecutionRunId).not.toBe(description.runId);
      const firstRun = await harness.zumik.client.workflow.getHandle(workflowId, started.firstExecutionRunId!).fetchHistory();
      expect(eventTypes(firstRun).at(-1)).toBe('WorkflowExecutionContinuedAsNew');
      // The later run keeps the search attributes operators filter by.
      expect(description.searchAttributes.ZumikTenant).toEqual(['default']);
    });
  });

  describe('Idempotency-Key', () => {
    const calls = () => harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
    const send = (key: string, content = 'hi', apiKey?: string) => harness.call('POST', '/v1/chat/completions', {
      body: { model: 'limits.basic', messages: [{ role: 'user', content }] }, headers: { 'Idempotency-Key': key }, key: apiKey,
    });

    it('runs a resend again after the first request was cancelled by its client, then replays the new answer', async () => {
      const key = `cancelled-${Date.now()}`;
      harness.openai.options.latencyMs = 2_000;
      const aborted = new AbortController();
      const first = fetch(`${harness.url}/v1/chat/completions`, {
        method: 'POST', signal: aborted.signal,
        headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ model: 'limits.basic', messages: [{ role: 'user', content: 'hi' }] }),
      }).catch(() => undefined);
      await eventually(() => calls() === 1, 5_000, 'the first upstream call');
      aborted.abort();
      await first;
      const firstId = (await harness.database.pool.query('SELECT request_id FROM idempotency_keys WHERE key = $1', [key])).rows[0].request_id;
      expect(await waitForRecorded(harness, firstId)).toMatchObject({ completion: 'cancelled', reason_code: 'cancelled' });

      harness.openai.options.latencyMs = 0;
      const resent = await send(key);
      expect(resent.status).toBe(200);
      expect(resent.body.id).not.toBe(firstId);
      expect(calls()).toBe(2);
      const again = await send(key);
      expect(again.body).toEqual(resent.body);
      expect(calls()).toBe(2);
    });

    it('replays a failed first request (its failure) without calling the provider again', async () => {
      const key = `failed-${Date.now()}`;
      harness.openai.inject({ kind: 'status', status: 400 });
      const first = await send(key);
      expect(first.status).toBe(400);
      const again = await send(key);
      expect(again.status).toBe(400);
      expect(again.body).toEqual(first.body);
      expect(calls()).toBe(1);
    });

    it('holds a key for 24 hours: after that the same key starts a new request', async () => {
      const key = `expiring-${Date.now()}`;
      const first = await send(key);
      expect((await send(key)).body.id).toBe(first.body.id);
      await harness.database.pool.query(`UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute' WHERE key = $1`, [key]);
      const later = await send(key, 'a different body is fine too: the old use is gone');
      expect(later.status).toBe(200);
      expect(later.body.id).not.toBe(first.body.id);
      expect(calls()).toBe(2);
    });

    it('is scoped per tenant: another tenant\'s same key is its own request', async () => {
      const other = await harness.call('POST', '/v2/api-keys', { body: { name: 'other', tenant: 'tenant-b' } });
      await harness.call('PUT', '/v2/tenants/tenant-b/policy', { body: {} });
      const key = `shared-${Date.now()}`;
      const mine = await send(key);
      const theirs = await send(key, 'another body', other.body.key);
      expect(mine.status).toBe(200);
      expect(theirs.status).toBe(200);
      expect(theirs.body.id).not.toBe(mine.body.id);
      expect((await send(key, 'a third body')).status).toBe(422);
    });
  });

  describe('recordOutcome', () => {
    it('records an answer with a lone surrogate (which jsonb refuses) at once, sanitised, instead of retrying for minutes', async () => {
      // The answer is kept (Idempotency-Key), and jsonb refuses the lone surrogate in it: the writer replaces it (or, for
      // data it does not foresee, the bounded retries end in a sanitised fallback record).
      harness.openai.setReply({ text: 'broken \ud800 answer' });
      const response = await harness.call('POST', '/v1/chat/completions', {
        body: { model: 'limits.basic', messages: [{ role: 'user', content: 'hi' }] }, headers: { 'Idempotency-Key': `surrogate-${Date.now()}` },
      });
      expect(response.status).toBe(200);
      const id = response.body.id as string;
      const recorded = await waitForRecorded(harness, id);
      expect(recorded).toMatchObject({ completion: 'completed', reason_code: 'ok' });
      const row = await harness.database.pool.query('SELECT response FROM requests WHERE id = $1', [id]);
      expect(row.rows[0].response.choices[0].message.content).toBe('broken \ufffd answer');
      const handle = harness.zumik.client.workflow.getHandle(`req:default:${id}`);
      await handle.result();
      expect((await handle.describe()).status.name).toBe('COMPLETED');
    });

    it('keeps recording on durable timers while the store is away, and the outcome lands once it is back', async () => {
      // The requests table away: the attempt's own record fails, then the workflow's bounded retries, then its fallback rounds wait.
      await harness.database.pool.query('ALTER TABLE requests RENAME TO requests_away');
      let restored = false;
      try {
        const response = await harness.call('POST', '/v1/chat/completions', { body: { model: 'limits.basic', messages: [{ role: 'user', content: 'hi' }] } });
        // The client has its answer at once: the record is bookkeeping after it.
        expect(response.status).toBe(200);
        const id = response.body.id as string;
        const handle = harness.zumik.client.workflow.getHandle(`req:default:${id}`);
        // Past the bounded retries (about 6 s), into the fallback rounds on durable timers.
        await eventually(async () => ((await handle.fetchHistory()).events ?? []).some((event) => event.timerStartedEventAttributes),
          30_000, 'a fallback round waiting on a durable timer');
        expect((await handle.describe()).status.name).toBe('RUNNING');
        await harness.database.pool.query('ALTER TABLE requests_away RENAME TO requests');
        restored = true;
        await handle.result();
        const recorded = await waitForRecorded(harness, id, 30_000);
        expect(recorded).toMatchObject({ completion: 'completed', reason_code: 'ok', attempts: [expect.objectContaining({ status: 'succeeded' })] });
      } finally {
        if (!restored) await harness.database.pool.query('ALTER TABLE requests_away RENAME TO requests');
      }
    }, 90_000);
  });
});

import { startHarness, target, type Harness } from '../support/zumik-harness';

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
    harness = await startHarness();
    await harness.installAlias('limits.basic', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.openai.resetReply(); });

  describe('recordOutcome', () => {
    it('writes a sanitised fallback record at once when Postgres refuses the data (a lone surrogate), instead of retrying for minutes', async () => {
      // The answer is kept (Idempotency-Key), and jsonb refuses the lone surrogate in it.
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
      expect((await handle.describe()).status.name).toBe('COMPLETED');
    });
  });
});

import OpenAI, { toFile } from 'openai';
import { validateAgainstSchema } from '../support/openapi-validator';
import { startHarness, target, type Harness } from '../support/zumik-harness';

const line = (customId: string, content = `question ${customId}`) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'batch.alias', messages: [{ role: 'user', content }] } });

async function waitForStatus(client: OpenAI, id: string, statuses: string[], timeoutMs = 60_000): Promise<OpenAI.Batch> {
  const started = Date.now();
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (statuses.includes(batch.status)) return batch;
    if (Date.now() - started > timeoutMs) throw new Error(`batch ${id} stayed ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('OpenAI Batch API', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness({ env: { ZUMIK_BATCH_LINES_PER_RUN: '5' } });
    await harness.installAlias('batch.alias', [target('openai', 'gpt-4o-mini')]);
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); });

  it('uploads a file, runs the batch to completion across continue-as-new, and every line is in the output exactly once', async () => {
    const ids = Array.from({ length: 12 }, (_unused, index) => `req-${index}`);
    const file = await client.files.create({ file: await toFile(Buffer.from(ids.map((id) => line(id)).join('\n')), 'input.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'nightly' } });
    expect(created).toMatchObject({ object: 'batch', status: 'validating', input_file_id: file.id, metadata: { job: 'nightly' } });
    expect(validateAgainstSchema('Batch', created)).toEqual([]);
    const done = await waitForStatus(client, created.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(validateAgainstSchema('Batch', done)).toEqual([]);
    expect(done.request_counts).toEqual({ total: 12, completed: 12, failed: 0 });
    expect(done.error_file_id).toBeUndefined();
    const output = (await (await client.files.content(done.output_file_id!)).text()).trim().split('\n').map((text) => JSON.parse(text));
    expect(output.map((entry) => entry.custom_id)).toEqual(ids);
    for (const entry of output) {
      expect(entry).toMatchObject({ id: expect.stringMatching(/^batch_req_/), error: null, response: { status_code: 200, body: { object: 'chat.completion' } } });
    }
    expect(harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(12);
    // the workflow continued-as-new (5 lines a run) instead of growing one history
    const history = await harness.zumik.client.workflow.getHandle(`batch:default:${created.id}`).fetchHistory();
    expect(history.events![0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId).toBeTruthy();
  });

  it('puts failed lines in the error file and counts them', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from([line('ok-1'), line('bad-1'), line('ok-2')].join('\n')), 'mixed.jsonl'), purpose: 'batch' });
    harness.openai.inject({ kind: 'status', status: 400 }); // one line is refused by the provider; retries do not help
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForStatus(client, created.id, ['completed']);
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    const errors = (await (await client.files.content(done.error_file_id!)).text()).trim().split('\n').map((text) => JSON.parse(text));
    expect(errors).toHaveLength(1);
    expect(errors[0].response.status_code).toBe(400);
  });

  it('cancels a running batch: in-flight lines finish, the rest go to the error file as cancelled, status cancelled', async () => {
    harness.openai.options.latencyMs = 300;
    try {
      const ids = Array.from({ length: 30 }, (_unused, index) => `slow-${index}`);
      const file = await client.files.create({ file: await toFile(Buffer.from(ids.map((id) => line(id)).join('\n')), 'slow.jsonl'), purpose: 'batch' });
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await waitForStatus(client, created.id, ['in_progress']);
      const cancelling = await client.batches.cancel(created.id);
      expect(['cancelling', 'cancelled']).toContain(cancelling.status);
      const done = await waitForStatus(client, created.id, ['cancelled']);
      expect(done.request_counts!.total).toBe(30);
      expect(done.request_counts!.completed + done.request_counts!.failed).toBe(30);
      const errors = done.error_file_id ? (await (await client.files.content(done.error_file_id)).text()).trim().split('\n').map((text) => JSON.parse(text)) : [];
      const outputs = done.output_file_id ? (await (await client.files.content(done.output_file_id)).text()).trim().split('\n').map((text) => JSON.parse(text)) : [];
      expect(new Set([...errors, ...outputs].map((entry) => entry.custom_id)).size).toBe(30);
      expect(errors.some((entry) => entry.error?.code === 'batch_cancelled')).toBe(true);
    } finally {
      harness.openai.options.latencyMs = 0;
    }
  });

  it('lists batches and rejects bad creates naming the field', async () => {
    const list = await client.batches.list();
    expect(list.data.length).toBeGreaterThanOrEqual(3);
    const bad = await harness.call('POST', '/v1/batches', { body: { input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' } });
    expect(bad.status).toBe(404);
    expect(bad.body.error.param).toBe('input_file_id');
    const window = await harness.call('POST', '/v1/batches', { body: { input_file_id: 'file-x', endpoint: '/v1/chat/completions', completion_window: '48h' } });
    expect(window.body.error.param).toBe('completion_window');
  });
});

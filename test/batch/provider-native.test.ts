import OpenAI, { toFile } from 'openai';
import { startHarness, target, type Harness } from '../support/zumik-harness';

const line = (customId: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions',
  body: { model: 'native.alias', messages: [{ role: 'user', content: `question ${customId}` }] } });

async function runBatch(client: OpenAI, ids: string[]): Promise<{ batch: OpenAI.Batch; output: any[]; errors: any[] }> {
  const file = await client.files.create({ file: await toFile(Buffer.from(ids.map(line).join('\n')), 'native.jsonl'), purpose: 'batch' });
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const started = Date.now();
  let batch = created;
  while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
    if (Date.now() - started > 60_000) throw new Error(`batch stayed ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    batch = await client.batches.retrieve(created.id);
  }
  const read = async (id?: string | null) => (id ? (await (await client.files.content(id)).text()).trim().split('\n').map((text) => JSON.parse(text)) : []);
  return { batch, output: await read(batch.output_file_id), errors: await read(batch.error_file_id) };
}

// The provider-native batch tier: OpenAI's Batch API (emulated, with compressed time) instead of one online call per line.
describe('provider-native batch tier', () => {
  let harness: Harness;
  let client: OpenAI;
  const chatCalls = () => harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
  const batchCreates = () => harness.openai.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/batches')).length;

  beforeAll(async () => {
    // Two provider-job poll rounds per batch workflow run (default 500), so polling a job continues-as-new.
    harness = await startHarness({ env: { ZUMIK_POLLS_PER_RUN: '2' } });
    harness.openai.batches.clock.processingMs = 150;
    await harness.installAlias('native.alias', [target('openai', 'gpt-4o-mini')]);
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => {
    harness.openai.reset();
    harness.openai.batches.reset();
  });

  it('runs the lines as a provider batch job, polled with durable timers, mapped back by custom_id', async () => {
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: true, poll_interval_ms: 200 } } });
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const { batch, output, errors } = await runBatch(client, ids);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 6, completed: 6, failed: 0 });
    expect(batchCreates()).toBe(1);
    expect(chatCalls()).toBe(0);
    expect(errors).toEqual([]);
    expect(output.map((entry) => entry.custom_id)).toEqual(ids);
    for (const entry of output) expect(entry.response).toMatchObject({ status_code: 200, body: { object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] } });
  });

  it('never submits a provider batch twice: a retry after the creation answer was lost finds the job by its submission key', async () => {
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: true, poll_interval_ms: 200 } } });
    harness.openai.batches.lostCreateAnswers = 1;
    const ids = ['k1', 'k2', 'k3'];
    const { batch, output } = await runBatch(client, ids);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(output.map((entry) => entry.custom_id)).toEqual(ids);
    // One job at the provider (created once, its answer lost), looked up by the retry; no line ran online.
    expect(batchCreates()).toBe(1);
    expect(harness.openai.batches.jobs.size).toBe(1);
    expect(harness.openai.requests.some((request) => request.method === 'GET' && request.path.endsWith('/batches'))).toBe(true);
    expect(chatCalls()).toBe(0);
  });

  it('continues-as-new while it polls a long provider job, and still collects every line', async () => {
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: true, poll_interval_ms: 200 } } });
    harness.openai.batches.clock.processingMs = 5_000;
    try {
      const ids = ['long-1', 'long-2'];
      const { batch, output } = await runBatch(client, ids);
      expect(batch.status).toBe('completed');
      expect(output.map((entry) => entry.custom_id)).toEqual(ids);
      expect(batchCreates()).toBe(1);
      expect(chatCalls()).toBe(0);
      const history = await harness.zumik.client.workflow.getHandle(`batch:default:${batch.id}`).fetchHistory();
      expect(history.events![0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId).toBeTruthy();
    } finally {
      harness.openai.batches.clock.processingMs = 150;
    }
  });

  it('sends the lines a provider job failed back to the online path when the policy says so', async () => {
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: true, poll_interval_ms: 200, fallback_to_online: true } } });
    harness.openai.batches.failCustomIds.add('y');
    const { batch, output } = await runBatch(client, ['x', 'y', 'z']);
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(output.map((entry) => entry.custom_id)).toEqual(['x', 'y', 'z']);
    expect(chatCalls()).toBe(1); // only the failed line ran online
  });

  it('puts a failed line in the error file when the policy keeps it off the online path', async () => {
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: true, poll_interval_ms: 200, fallback_to_online: false } } });
    harness.openai.batches.failCustomIds.add('q');
    const { batch, output, errors } = await runBatch(client, ['p', 'q', 'r']);
    expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(output.map((entry) => entry.custom_id)).toEqual(['p', 'r']);
    expect(errors.map((entry) => entry.custom_id)).toEqual(['q']);
    expect(chatCalls()).toBe(0);
  });

  it('stays on the online path when the policy does not allow provider batches', async () => {
    await harness.call('PUT', '/v2/tenants/default/policy', { body: {} });
    const { batch } = await runBatch(client, ['m', 'n']);
    expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(batchCreates()).toBe(0);
    expect(chatCalls()).toBe(2);
  });
});

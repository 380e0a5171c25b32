/**
 * The provider-native batch tier on every provider whose API has a batch path Zumik drives (OpenAI is
 * proven in provider-native.test.ts): Anthropic Message Batches, Gemini batch mode and xAI's Batch
 * API, end to end (OpenAI Batch API in front, the batch workflow, durable polling, results mapped back
 * by custom_id). Fireworks' batch inference (datasets + batchInferenceJobs, PROVIDERS.md §5.5) is not
 * driven yet: its lines run online, and the manifest prices them at list (capabilities.test.ts).
 */
import OpenAI, { toFile } from 'openai';
import type { ReceivedRequest } from '../emulators/emulator-kit';
import { startHarness, target, type Harness } from '../support/zumik-harness';

const line = (alias: string, customId: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions',
  body: { model: alias, messages: [{ role: 'user', content: `question ${customId}` }], max_tokens: 64 } });

async function runBatch(client: OpenAI, alias: string, ids: string[]): Promise<{ batch: OpenAI.Batch; output: any[]; errors: any[] }> {
  const file = await client.files.create({ file: await toFile(Buffer.from(ids.map((id) => line(alias, id)).join('\n')), 'lines.jsonl'), purpose: 'batch' });
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

describe('provider-native batch on each provider with a batch API', () => {
  let harness: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    harness = await startHarness();
    harness.anthropic.batches.clock.processingMs = 150;
    harness.gemini.batches.clock.processingMs = 150;
    harness.xai.xaiBatches.clock.processingMs = 150;
    await harness.installAlias('batch.anthropic', [target('anthropic', 'claude-haiku-4-5')]);
    await harness.installAlias('batch.gemini', [target('gemini', 'gemini-3.5-flash')]);
    await harness.installAlias('batch.xai', [target('xai', 'grok-4.3')]);
    await harness.installAlias('batch.fireworks', [target('fireworks', 'accounts/fireworks/models/gpt-oss-120b')]);
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: true, poll_interval_ms: 200, fallback_to_online: false } } });
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(() => {
    for (const emulator of [harness.anthropic, harness.gemini, harness.xai, harness.fireworks]) emulator.reset();
    harness.anthropic.batches.reset();
    harness.gemini.batches.reset();
    harness.xai.xaiBatches.reset();
  });

  const online = (requests: readonly ReceivedRequest[]) =>
    requests.filter((request) => /\/chat\/completions$|\/v1\/messages$|:generateContent$/.test(request.path)).length;

  it.each([
    ['anthropic', 'batch.anthropic', /^\/v1\/messages\/batches$/],
    ['gemini', 'batch.gemini', /^\/v1beta\/models\/gemini-3\.5-flash:batchGenerateContent$/],
    ['xai', 'batch.xai', /^\/v1\/batches$/],
  ] as const)('%s: the lines run as one provider batch job, mapped back by custom_id', async (provider, alias, createPath) => {
    const emulator = harness[provider];
    const ids = ['a', 'b', 'c', 'd'];
    const { batch, output, errors } = await runBatch(client, alias, ids);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 4, completed: 4, failed: 0 });
    expect(emulator.requests.filter((request) => request.method === 'POST' && createPath.test(request.path))).toHaveLength(1);
    expect(online(emulator.requests)).toBe(0);
    expect(errors).toEqual([]);
    expect([...output.map((entry) => entry.custom_id)].sort()).toEqual(ids);
    for (const entry of output) {
      expect(entry.response).toMatchObject({ status_code: 200, body: { object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] } });
    }
  });

  it.each([['fireworks', 'batch.fireworks']] as const)(
    '%s: no native path is driven, so the lines run online', async (provider, alias) => {
      const emulator = harness[provider];
      const { batch, output } = await runBatch(client, alias, ['x', 'y']);
      expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
      expect(online(emulator.requests)).toBe(2);
      expect(emulator.requests.filter((request) => /batch/i.test(request.path))).toHaveLength(0);
      expect(output).toHaveLength(2);
    });

  it('anthropic: a retry after the creation answer was lost takes the job it created (matched by time and size), never a second one', async () => {
    harness.anthropic.batches.lostCreateAnswers = 1;
    const ids = ['l1', 'l2', 'l3'];
    const { batch, output } = await runBatch(client, 'batch.anthropic', ids);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect([...output.map((entry) => entry.custom_id)].sort()).toEqual(ids);
    const requests = harness.anthropic.requests;
    expect(requests.filter((request) => request.method === 'POST' && request.path === '/v1/messages/batches')).toHaveLength(1);
    expect(harness.anthropic.batches.jobs.size).toBe(1);
    expect(requests.some((request) => request.method === 'GET' && request.path === '/v1/messages/batches')).toBe(true);
    expect(online(requests)).toBe(0);
  });

  it('xai: a retry finds its batch by name; one left without its requests is cancelled, and every line is served once', async () => {
    harness.xai.xaiBatches.lostCreateAnswers = 1;
    const ids = ['n1', 'n2'];
    const { batch, output } = await runBatch(client, 'batch.xai', ids);
    expect(batch.status).toBe('completed');
    expect([...output.map((entry) => entry.custom_id)].sort()).toEqual(ids);
    const jobs = [...harness.xai.xaiBatches.jobs.values()];
    // The first batch was created but its answer lost before any request was added: found by name, cancelled, empty.
    expect(jobs).toHaveLength(2);
    expect(jobs[0]!.lines).toHaveLength(0);
    expect(jobs[0]!.cancelRequestedAt).toBeDefined();
    expect(jobs[1]!.lines).toHaveLength(2);
    expect(harness.xai.requests.some((request) => request.method === 'GET' && request.path === '/v1/batches')).toBe(true);
    expect(online(harness.xai.requests)).toBe(0);
  });
});

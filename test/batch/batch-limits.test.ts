import { createHash } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { PAYLOAD_REF_THRESHOLD_BYTES } from '../../src/domain/payload-ref';
import { largestPayloadBytes } from '../support/history';
import { startHarness, target, type Harness } from '../support/zumik-harness';

const KB = 1024;
/** A line whose user message is about `bytes` long, distinct per line (so the provider's copy can be checked). */
const line = (customId: string, bytes: number) => {
  let content = '';
  for (let index = 0; content.length < bytes; index += 1) content += `${customId}:${createHash('sha256').update(`${customId}${index}`).digest('hex')} `;
  return { customId, content, text: JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions',
    body: { model: 'limits.alias', messages: [{ role: 'user', content }] } }) };
};

async function waitForStatus(client: OpenAI, id: string, statuses: string[], timeoutMs = 90_000): Promise<OpenAI.Batch> {
  const started = Date.now();
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (statuses.includes(batch.status)) return batch;
    if (Date.now() - started > timeoutMs) throw new Error(`batch ${id} stayed ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('batch limits', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness();
    // A manifest revision that knows the emulated model without a window: no line here is too large for it.
    const manifest = await harness.installManifest({ 'openai/emulated-long-context': {} });
    await harness.installAlias('limits.alias', [target('openai', 'emulated-long-context')], { capability_manifest_revision: manifest });
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.openai.options.latencyMs = 0; });

  const read = async (id?: string | null) => (id ? (await (await client.files.content(id)).text()).trim().split('\n').map((text) => JSON.parse(text)) : []);

  it('pages 100 lines of 20 KB and one of 300 KB by bytes: every line served whole, no history payload over the threshold', async () => {
    const lines = [...Array.from({ length: 100 }, (_unused, index) => line(`l-${index}`, 20 * KB)), line('huge', 300 * KB)];
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.map((entry) => entry.text).join('\n')), 'big-lines.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForStatus(client, created.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 101, completed: 101, failed: 0 });
    expect((await read(done.output_file_id)).map((entry) => entry.custom_id).sort()).toEqual(lines.map((entry) => entry.customId).sort());
    // The provider got each prompt whole, the 300 KB one too (it travelled by reference).
    const received = new Set(harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'))
      .map((request) => (request.body as any).messages[0].content as string));
    for (const entry of lines) expect(received.has(entry.content)).toBe(true);
    const history = await harness.zumik.client.workflow.getHandle(`batch:default:${created.id}`).fetchHistory();
    expect(largestPayloadBytes(history)).toBeLessThanOrEqual(PAYLOAD_REF_THRESHOLD_BYTES + 4 * KB);
    const huge = await harness.zumik.client.workflow.getHandle(`batch:default:${created.id}:100`).fetchHistory();
    expect(largestPayloadBytes(huge)).toBeLessThanOrEqual(PAYLOAD_REF_THRESHOLD_BYTES);
  });

  it('fails a batch whose input file is deleted while it runs, naming the file, and keeps the results it has', async () => {
    harness.openai.options.latencyMs = 150;
    const lines = Array.from({ length: 60 }, (_unused, index) => line(`d-${index}`, 20 * KB));
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.map((entry) => entry.text).join('\n')), 'doomed.jsonl'), purpose: 'batch' });
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { max_concurrency: 2 } } });
    try {
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await waitForStatus(client, created.id, ['in_progress']);
      // Some lines are running (they finish: what was read is served), most are not read yet.
      while (harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions')).length < 4) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await client.files.delete(file.id);
      const done = await waitForStatus(client, created.id, ['failed', 'completed']);
      expect(done.status).toBe('failed');
      expect(done.errors?.data).toEqual([expect.objectContaining({ code: 'input_file_missing', param: 'input_file_id' })]);
      expect(done.errors!.data![0]!.message).toContain(file.id);
      // What ran before the file went is still published.
      const output = await read(done.output_file_id);
      expect(output.length).toBeGreaterThan(0);
      expect(output.length).toBeLessThan(60);
      expect(done.request_counts).toMatchObject({ total: 60, completed: output.length });
    } finally {
      await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { max_concurrency: 50 } } });
    }
  });
});

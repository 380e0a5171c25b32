import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import OpenAI, { toFile } from 'openai';
import { emulatedVector } from '../emulators/embeddings-emulation';
import { validateAgainstSchema } from '../support/openapi-validator';
import { startHarness, target, type Harness } from '../support/zumik-harness';

const embeddingLine = (customId: string, body: Record<string, unknown>) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/embeddings', body: { model: 'embed.batch', ...body } });
const chatLine = (customId: string) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'embed.batch', messages: [{ role: 'user', content: 'hi' }] } });

async function waitForStatus(client: OpenAI, id: string, statuses: string[], timeoutMs = 60_000): Promise<OpenAI.Batch> {
  const started = Date.now();
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (statuses.includes(batch.status)) return batch;
    if (Date.now() - started > timeoutMs) throw new Error(`batch ${id} stayed ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const lines = async (client: OpenAI, fileId: string) => (await (await client.files.content(fileId)).text()).trim().split('\n').map((text) => JSON.parse(text) as Record<string, any>);

describe('OpenAI Batch API: /v1/embeddings lines', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    // A recorded history must replay without the deployment's payload key: record it unencrypted.
    harness = await startHarness({ env: { ZUMIK_BATCH_LINES_PER_RUN: '3', ...(process.env.ZUMIK_RECORD_HISTORIES === '1' ? { ZUMIK_PAYLOAD_ENCRYPTION: 'off' } : {}) } });
    await harness.installAlias('embed.batch', [target('openai', 'text-embedding-3-small')]);
    await harness.installAlias('embed.claude', [target('anthropic', 'claude-haiku-4-5')]);
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.anthropic.reset(); });

  it('runs an embeddings batch through child request workflows: OpenAI-shaped output lines, one per custom_id, errors in the error file', async () => {
    const input = [
      embeddingLine('e-0', { input: 'alpha', dimensions: 8 }),
      embeddingLine('e-1', { input: ['beta', 'gamma'], dimensions: 8 }),
      embeddingLine('e-2', { input: 'delta', dimensions: 4, encoding_format: 'base64' }),
      embeddingLine('e-3', { input: 'epsilon', dimensions: 8 }),
      embeddingLine('no-api', { model: 'embed.claude', input: 'anthropic has no embeddings API' }),
    ];
    const file = await client.files.create({ file: await toFile(Buffer.from(input.join('\n')), 'embeddings.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    expect(created).toMatchObject({ endpoint: '/v1/embeddings', status: 'validating' });
    const done = await waitForStatus(client, created.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(validateAgainstSchema('Batch', done)).toEqual([]);
    expect(done.request_counts).toEqual({ total: 5, completed: 4, failed: 1 });

    const output = await lines(client, done.output_file_id!);
    expect(output.map((entry) => entry.custom_id)).toEqual(['e-0', 'e-1', 'e-2', 'e-3']);
    for (const entry of output) {
      expect(entry).toMatchObject({ id: expect.stringMatching(/^batch_req_/), error: null, response: { status_code: 200, body: { object: 'list', model: 'text-embedding-3-small' } } });
      const body = entry.response.body as { data: Array<{ embedding: unknown }> };
      // OpenAI's spec types `embedding` as an array only (its base64 string is not modelled): the rest of the body must match.
      expect(validateAgainstSchema('CreateEmbeddingResponse', { ...body, data: body.data.map((item) => ({ ...item, embedding: [] })) })).toEqual([]);
    }
    expect(output[0]!.response.body.data.map((item: { embedding: number[] }) => item.embedding)).toEqual([emulatedVector('alpha', 8)]);
    expect(output[1]!.response.body.data.map((item: { embedding: number[] }) => item.embedding)).toEqual([emulatedVector('beta', 8), emulatedVector('gamma', 8)]);
    expect(typeof output[2]!.response.body.data[0].embedding).toBe('string');
    expect(output[1]!.response.body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });

    const errors = await lines(client, done.error_file_id!);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ custom_id: 'no-api', response: { status_code: 400, body: { error: { code: 'model_not_supported' } } } });
    // Each line ran upstream as an embeddings call with the line's own body (no chat fields, no stream flag).
    const sent = harness.openai.requests.filter((request) => request.path.endsWith('/embeddings')).map((request) => request.body as Record<string, unknown>);
    expect(sent).toHaveLength(4);
    expect(sent).toContainEqual({ model: 'text-embedding-3-small', input: ['alpha'], encoding_format: 'float', dimensions: 8 });
    expect(harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(0);

    const lineOutcome = await harness.call('GET', `/v2/requests/${output[0]!.response.request_id}`);
    expect(lineOutcome.body).toMatchObject({ ingress: 'openai_embeddings', qos_class: 'batch', completion: 'completed' });
    if (process.env.ZUMIK_RECORD_HISTORIES === '1') {
      // The replay test's history of an embeddings batch line (decided in the workflow, embeddings operation).
      const history = await harness.zumik.client.workflow.getHandle(`batch:default:${created.id}:0`).fetchHistory();
      const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, enums: String, bytes: String });
      fs.writeFileSync(path.join(__dirname, '..', 'fixtures', 'histories', 'v3-batch-embeddings-line.json'), JSON.stringify(json));
    }
  });

  it('refuses a file that mixes endpoints at upload, a bad embeddings body naming its field, and a batch whose endpoint is not its lines\'', async () => {
    const upload = async (text: string) => {
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', new Blob([text]), 'x.jsonl');
      const response = await fetch(`${harness.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}` }, body: form });
      return { status: response.status, body: await response.json() as Record<string, any> };
    };
    const mixed = await upload([embeddingLine('a', { input: 'x' }), chatLine('b')].join('\n'));
    expect(mixed.status).toBe(400);
    expect(JSON.stringify(mixed.body)).toMatch(/line 2.*differs from the first line's '\/v1\/embeddings'/);
    const bad = await upload(embeddingLine('a', { input: [] }));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('body.input');

    const file = await client.files.create({ file: await toFile(Buffer.from(embeddingLine('a', { input: 'x' })), 'one.jsonl'), purpose: 'batch' });
    const wrong = await harness.call('POST', '/v1/batches', { body: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ param: 'endpoint' });
    const unknown = await harness.call('POST', '/v1/batches', { body: { input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ param: 'endpoint' });
  });
});

import OpenAI from 'openai';
import { emulatedVector } from '../emulators/embeddings-emulation';
import { eventTypes } from '../support/history';
import { validateAgainstSchema } from '../support/openapi-validator';
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';

/** Float32 little-endian base64 → numbers, as OpenAI's own clients decode it. */
function decodeBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
}

describe('POST /v1/embeddings', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('embed.openai', [target('openai', 'text-embedding-3-small')]);
    await harness.installAlias('embed.gemini', [target('gemini', 'gemini-embedding-001')]);
    await harness.installAlias('embed.fireworks', [target('fireworks', 'nomic-ai/nomic-embed-text-v1.5')]);
    await harness.installAlias('embed.failover', [target('openai', 'text-embedding-3-small', 1), target('gemini', 'gemini-embedding-001', 0)]);
    await harness.installAlias('embed.mixed', [target('anthropic', 'claude-haiku-4-5', 1), target('openai', 'text-embedding-3-small', 0)]);
    await harness.installAlias('embed.anthropic', [target('anthropic', 'claude-haiku-4-5')]);
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.gemini.reset(); harness.anthropic.reset(); harness.fireworks.reset(); });

  it('answers through the official SDK (which asks for base64) with the provider vectors, usage and the outcome in headers', async () => {
    const { data, response } = await client.embeddings.create({ model: 'embed.openai', input: ['alpha', 'beta'], dimensions: 8 }).withResponse();
    expect(data.data.map((item) => item.embedding)).toEqual([emulatedVector('alpha', 8), emulatedVector('beta', 8)]);
    expect(data.model).toBe('text-embedding-3-small');
    // The emulator counts four characters a token: 'alpha' 2, 'beta' 1.
    expect(data.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(response.headers.get('x-zumik-completion')).toBe('completed');
    expect(response.headers.get('x-zumik-provider')).toBe('openai');
    expect(response.headers.get('x-zumik-request-id')).toMatch(/^emb-/);
    // Upstream Zumik asked for floats and the dimensions; base64 is Zumik's own encoding.
    expect(harness.openai.requests.at(-1)!.body).toEqual({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float', dimensions: 8 });
  });

  it("answers bodies valid against OpenAI's CreateEmbeddingResponse, float and base64, string and token inputs", async () => {
    const float = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: 'one text', dimensions: 4 } });
    expect(float.status).toBe(200);
    expect(validateAgainstSchema('CreateEmbeddingResponse', float.body)).toEqual([]);
    expect(float.body.data[0].embedding).toEqual(emulatedVector('one text', 4));

    const base64 = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: 'one text', dimensions: 4, encoding_format: 'base64' } });
    // OpenAI's spec types `embedding` as an array only (its base64 string is not modelled): the rest of the body must match.
    expect(validateAgainstSchema('CreateEmbeddingResponse', { ...base64.body, data: base64.body.data.map((item: object) => ({ ...item, embedding: [] })) })).toEqual([]);
    expect(typeof base64.body.data[0].embedding).toBe('string');
    expect(decodeBase64(base64.body.data[0].embedding)).toEqual(emulatedVector('one text', 4));

    const tokens = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: [[1, 2, 3], [4, 5]], dimensions: 4 } });
    expect(validateAgainstSchema('CreateEmbeddingResponse', tokens.body)).toEqual([]);
    expect(tokens.body.data.map((item: { index: number }) => item.index)).toEqual([0, 1]);
    expect(tokens.body.data[1].embedding).toEqual(emulatedVector([4, 5], 4));
    expect(tokens.body.usage.prompt_tokens).toBe(5);
  });

  it('batches a Gemini target to 100 inputs per batchEmbedContents call and keeps the input order', async () => {
    const inputs = Array.from({ length: 250 }, (_, index) => `text number ${index}`);
    const answer = await client.embeddings.create({ model: 'embed.gemini', input: inputs, dimensions: 3, encoding_format: 'float' });
    const calls = harness.gemini.requests.filter((request) => request.path.endsWith(':batchEmbedContents'));
    expect(calls.map((call) => (call.body as { requests: unknown[] }).requests.length)).toEqual([100, 100, 50]);
    expect(calls[0]!.headers['x-goog-api-key']).toBe(EMULATOR_KEY);
    expect(answer.data).toHaveLength(250);
    expect(answer.data[249]!.embedding).toEqual(emulatedVector('text number 249', 3));
    expect(answer.data[0]!.embedding).toEqual(emulatedVector('text number 0', 3));
    expect(answer.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('serves Fireworks targets through its OpenAI-compatible /inference/v1/embeddings', async () => {
    const answer = await client.embeddings.create({ model: 'embed.fireworks', input: 'hello', encoding_format: 'float' });
    expect(answer.data[0]!.embedding).toEqual(emulatedVector('hello', 768));
    expect(harness.fireworks.requests.at(-1)!.path).toBe('/inference/v1/embeddings');
  });

  it('fails over to the next target (OpenAI 500 → Gemini) and records it in the outcome, with the ingress', async () => {
    harness.openai.inject({ kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const { data, response } = await client.embeddings.create({ model: 'embed.failover', input: 'failover me', dimensions: 4, encoding_format: 'float' }).withResponse();
    expect(data.data[0]!.embedding).toEqual(emulatedVector('failover me', 4));
    expect(response.headers.get('x-zumik-provider')).toBe('gemini');
    expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
    const id = response.headers.get('x-zumik-request-id')!;
    // The answer leaves before the bookkeeping: the record is there once the workflow has ended.
    await harness.zumik.client.workflow.getHandle(`req:default:${id}`).result();
    const outcome = await harness.call('GET', `/v2/requests/${id}`);
    expect(outcome.body).toMatchObject({ ingress: 'openai_embeddings', completion: 'completed', fallback_used: true, reason_code: 'ok_after_failover' });
    expect(outcome.body.attempts.at(-1)).toMatchObject({ provider: 'gemini', status: 'succeeded' });
  });

  it('leaves Anthropic targets out (no embeddings API): a mixed alias is served by the other target; an Anthropic-only one is a 400 naming model', async () => {
    const { response } = await client.embeddings.create({ model: 'embed.mixed', input: 'x', encoding_format: 'float' }).withResponse();
    expect(response.headers.get('x-zumik-provider')).toBe('openai');
    expect(response.headers.get('x-zumik-fallback-used')).toBe('false');
    expect(harness.anthropic.requests).toHaveLength(0);

    const refused = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.anthropic', input: 'x' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'model_not_supported', param: 'model' });
    expect(refused.headers.get('x-zumik-reason-code')).toBe('unsupported_operation');
  });

  it('answers bad input with a 400 naming the field', async () => {
    const empty = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: [] } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.param).toBe('input');
    const format = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: 'x', encoding_format: 'int8' } });
    expect(format.status).toBe(400);
    expect(format.body.error.param).toBe('encoding_format');
    const dimensions = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: 'x', dimensions: 0 } });
    expect(dimensions.body.error.param).toBe('dimensions');
    expect(harness.openai.requests).toHaveLength(0);
  });

  it('replays an Idempotency-Key with the same answer and no second upstream call', async () => {
    const headers = { 'idempotency-key': `embed-${Date.now()}` };
    const first = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: 'same', dimensions: 4 }, headers });
    const second = await harness.call('POST', '/v1/embeddings', { body: { model: 'embed.openai', input: 'same', dimensions: 4 }, headers });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('x-zumik-request-id')).toBe(first.headers.get('x-zumik-request-id'));
    expect(harness.openai.requests.filter((request) => request.path.endsWith('/embeddings'))).toHaveLength(1);
  });

  it('is one workflow task on the happy path, like chat (7 history events)', async () => {
    const { response } = await client.embeddings.create({ model: 'embed.openai', input: 'cheap', dimensions: 2 }).withResponse();
    const handle = harness.zumik.client.workflow.getHandle(`req:default:${response.headers.get('x-zumik-request-id')!}`);
    await handle.result();
    expect(eventTypes(await handle.fetchHistory())).toEqual(['WorkflowExecutionStarted', 'WorkflowTaskScheduled', 'WorkflowTaskStarted',
      'WorkflowTaskCompleted', 'MarkerRecorded', 'UpsertWorkflowSearchAttributes', 'WorkflowExecutionCompleted']);
  });
});

/**
 * Fidelity of the Anthropic emulator's Message Batches: the official SDK (`client.messages.batches`)
 * creates, retrieves, lists, cancels and deletes batches and streams their results from
 * `results_url`, parsing every answer into its own types.
 */
import Anthropic, { BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator';

const API_KEY = 'sk-ant-emulator-batch-fidelity';
const MODEL = 'claude-haiku-4-5-20251001';
const params = (content: string) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content }] });

describe('AnthropicEmulator Message Batches', () => {
  let emulator: AnthropicEmulator;
  let client: Anthropic;
  const until = async (id: string) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const batch = await client.messages.batches.retrieve(id);
      if (batch.processing_status === 'ended') return batch;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`batch ${id} never ended`);
  };

  beforeAll(async () => {
    emulator = await new AnthropicEmulator({ apiKey: API_KEY, batchClock: { processingMs: 40 } }).start();
    client = new Anthropic({ baseURL: emulator.url, apiKey: API_KEY, maxRetries: 0 });
  });
  afterEach(() => { emulator.reset(); emulator.batches.reset(); emulator.batches.clock.processingMs = 40; });
  afterAll(() => emulator.close());

  it('creates a batch, counts it as processing, and streams its results once it has ended', async () => {
    emulator.setReply({ text: 'Batch reply.' });
    emulator.batches.failCustomIds.add('second');
    emulator.batches.lineStatus.set('second', 429);

    const created = await client.messages.batches.create({ requests: [{ custom_id: 'first', params: params('one') }, { custom_id: 'second', params: params('two') }] });
    const ended = await until(created.id);
    const results = [];
    for await (const result of await client.messages.batches.results(created.id)) results.push(result);

    expect(created).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', results_url: null, ended_at: null,
      request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 } });
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(86_400_000);
    expect(ended).toMatchObject({ processing_status: 'ended', request_counts: { processing: 0, succeeded: 1, errored: 1 },
      results_url: `${emulator.url}/v1/messages/batches/${created.id}/results` });
    expect(results).toEqual([
      { custom_id: 'first', result: { type: 'succeeded', message: expect.objectContaining({ type: 'message', model: MODEL,
        content: [expect.objectContaining({ type: 'text', text: 'Batch reply.' })], usage: expect.objectContaining({ service_tier: 'batch' }) }) } },
      { custom_id: 'second', result: { type: 'errored', error: expect.objectContaining({ type: 'error', error: expect.objectContaining({ type: 'rate_limit_error' }) }) } },
    ]);
    const resultsRequest = emulator.requests.find((request) => request.path.endsWith('/results'));
    expect(resultsRequest?.headers.accept).toBe('application/binary');
  });

  it('cancels a batch (canceling, then ended with canceled lines), lists and deletes it', async () => {
    emulator.batches.clock.processingMs = 60_000;
    const created = await client.messages.batches.create({ requests: [{ custom_id: 'only', params: params('hi') }] });

    const canceling = await client.messages.batches.cancel(created.id);
    const ended = await until(created.id);
    const results = [];
    for await (const result of await client.messages.batches.results(created.id)) results.push(result);
    const listed = await client.messages.batches.list();
    const deleted = await client.messages.batches.delete(created.id);

    expect(canceling).toMatchObject({ processing_status: 'canceling', cancel_initiated_at: expect.any(String) });
    expect(ended.request_counts).toMatchObject({ canceled: 1, succeeded: 0 });
    expect(results).toEqual([{ custom_id: 'only', result: { type: 'canceled' } }]);
    expect(listed.data.map((batch) => batch.id)).toEqual([created.id]);
    expect(deleted).toEqual({ id: created.id, type: 'message_batch_deleted' });
    await expect(client.messages.batches.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses an invalid custom_id with a 400 the SDK raises as BadRequestError', async () => {
    const error = await client.messages.batches.create({ requests: [{ custom_id: 'has space', params: params('hi') }] }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BadRequestError);
  });
});

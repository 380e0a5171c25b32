/**
 * Fidelity of the OpenAI emulator's Files and Batch API: the official `openai` SDK, pointed at it,
 * uploads a JSONL file, creates, retrieves, lists and cancels batches and downloads the output and
 * error files, and parses every answer into its own types.
 */
import OpenAI, { BadRequestError, toFile } from 'openai';
import { OpenAICompatibleEmulator } from '../../emulators/openai-compatible-emulator';

const API_KEY = 'sk-emulator-batch-fidelity';

describe('OpenAICompatibleEmulator batch API', () => {
  let emulator: OpenAICompatibleEmulator;
  let client: OpenAI;
  const jsonl = (...ids: string[]) => ids.map((id) => JSON.stringify({
    custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4.1-nano', messages: [{ role: 'user', content: id }] },
  })).join('\n');
  const upload = async (...ids: string[]) => client.files.create({ file: await toFile(Buffer.from(jsonl(...ids)), 'input.jsonl'), purpose: 'batch' });
  const until = async (id: string, statuses: string[]) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const batch = await client.batches.retrieve(id);
      if (statuses.includes(batch.status)) return batch;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`batch ${id} never reached ${statuses.join('/')}`);
  };

  beforeAll(async () => {
    emulator = await new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: API_KEY, batchClock: { processingMs: 40 } }).start();
    client = new OpenAI({ baseURL: emulator.baseUrl, apiKey: API_KEY, maxRetries: 0 });
  });
  afterAll(async () => { await emulator.close(); });
  afterEach(() => { emulator.reset(); emulator.resetReply(); emulator.batches.reset(); emulator.batches.clock.processingMs = 40; });

  it('uploads a batch file, runs the batch and serves the output and error files the SDK reads', async () => {
    emulator.setReply({ text: 'From the batch.', promptTokens: 1200, cachedTokens: 1024, completionTokens: 4 });
    emulator.batches.failCustomIds.add('req-2');
    emulator.batches.lineStatus.set('req-2', 400);

    const file = await upload('req-1', 'req-2');
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'nightly' } });
    const batch = await until(created.id, ['completed']);
    const output = await (await client.files.content(batch.output_file_id!)).text();
    const errors = await (await client.files.content(batch.error_file_id!)).text();

    expect(file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'input.jsonl', bytes: jsonl('req-1', 'req-2').length });
    expect(created).toMatchObject({ object: 'batch', status: 'validating', endpoint: '/v1/chat/completions', completion_window: '24h',
      input_file_id: file.id, metadata: { job: 'nightly' }, request_counts: { total: 2, completed: 0, failed: 0 } });
    expect(batch).toMatchObject({ status: 'completed', model: 'gpt-4.1-nano', request_counts: { total: 2, completed: 1, failed: 1 },
      usage: { input_tokens: 1200, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 4, total_tokens: 1204 } });
    expect(typeof batch.completed_at).toBe('number');
    const outputLine = JSON.parse(output.trim());
    expect(outputLine).toMatchObject({ custom_id: 'req-1', error: null, response: { status_code: 200, request_id: expect.stringMatching(/^req_/),
      body: { object: 'chat.completion', choices: [{ message: { content: 'From the batch.' } }] } } });
    expect(JSON.parse(errors.trim())).toMatchObject({ custom_id: 'req-2', response: { status_code: 400, body: { error: { type: 'invalid_request_error' } } } });
  });

  it('cancels a batch (cancelling, then cancelled) and lists batches newest first', async () => {
    emulator.batches.clock.processingMs = 60_000;
    const first = await client.batches.create({ input_file_id: (await upload('a')).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const second = await client.batches.create({ input_file_id: (await upload('b')).id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    const cancelling = await client.batches.cancel(second.id);
    const cancelled = await until(second.id, ['cancelled']);
    const page = await client.batches.list();

    expect(cancelling.status).toBe('cancelling');
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelled_at: expect.any(Number), cancelling_at: expect.any(Number) });
    expect(page.data.map((batch) => batch.id)).toEqual([second.id, first.id]);
    const errors = await (await client.files.content(cancelled.error_file_id!)).text();
    expect(JSON.parse(errors.trim())).toMatchObject({ custom_id: 'b', response: null, error: { code: 'batch_cancelled' } });
  });

  it('fails the batch of an invalid input file with line-numbered errors', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(`${jsonl('x')}\nnot json\n${jsonl('x')}`), 'bad.jsonl'), purpose: 'batch' });

    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const batch = await until(created.id, ['failed']);

    expect(batch.errors?.data?.map((error) => [error.code, error.line])).toEqual([['invalid_json_line', 2], ['duplicate_custom_id', 3]]);
    expect(batch.output_file_id).toBeNull();
  });

  it('answers an unknown completion window with a 400 the SDK raises as BadRequestError', async () => {
    const file = await upload('a');

    const error = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '48h' as '24h' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('completion_window');
  });

  it('does not serve the batch API for other flavours', async () => {
    const xai = await new OpenAICompatibleEmulator({ flavour: 'xai', apiKey: API_KEY }).start();
    try {
      const answer = await fetch(`${xai.baseUrl}/batches/batch_x`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(answer.status).toBe(404);
    } finally {
      await xai.close();
    }
  });
});

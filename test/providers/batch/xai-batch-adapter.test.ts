import type { Dispatcher } from 'undici';
import { XaiBatchAdapter } from '../../../src/providers/batch/xai-batch-adapter';
import type { BatchLine } from '../../../src/providers/batch/batch-types';
import { createUpstreamDispatcher } from '../../../src/providers/upstream-http';
import { OpenAICompatibleEmulator } from '../../emulators/openai-compatible-emulator';
import { captureProviderError } from '../../support/provider-test-helpers';
import { collectResults, failed, pollUntilDone, succeeded } from './batch-test-helpers';

const API_KEY = 'xai-batch-test-key-0001';
const MODEL = 'grok-4.3';
const credential = { apiKey: API_KEY };
const line = (customId: string): BatchLine => ({ customId, body: { messages: [{ role: 'user', content: `Question ${customId}` }], max_tokens: 50 } });

describe('XaiBatchAdapter', () => {
  let dispatcher: Dispatcher;
  let emulator: OpenAICompatibleEmulator;
  let adapter: XaiBatchAdapter;

  beforeAll(async () => {
    dispatcher = createUpstreamDispatcher();
    emulator = await new OpenAICompatibleEmulator({ flavour: 'xai', apiKey: API_KEY, batchClock: { processingMs: 60 } }).start();
    adapter = new XaiBatchAdapter({ baseUrl: emulator.baseUrl, dispatcher });
  });
  afterAll(async () => { await emulator.close(); await dispatcher.close(); });
  afterEach(() => { emulator.reset(); emulator.xaiBatches.reset(); });

  it('creates a batch, adds the lines as chat_get_completion requests, polls it and pages through the results by batch_request_id', async () => {
    emulator.setReply({ text: 'Batched by xAI.' });
    const ids = ['a', 'b', 'c', 'd', 'e'];
    // Submitting is three calls (create, add the requests, read it back): the job's clock stays long so
    // the read-back sees it running however slow the machine, then it is fast-forwarded to its end.
    emulator.xaiBatches.clock.processingMs = 60_000;
    const submission = await adapter.submit(ids.map(line), { model: MODEL, credential, displayName: 'zumik test' });
    emulator.xaiBatches.clock.processingMs = 60;
    emulator.xaiBatches.fastForward(submission.id);
    expect(submission).toMatchObject({ provider: 'xai', status: 'in_progress', done: false, counts: { total: 5, pending: 5 }, rejected: [] });
    expect(submission.id).toMatch(/^batch_/);
    const added = emulator.requests.find((request) => request.path === `/v1/batches/${submission.id}/requests`)!;
    expect((added.body as any).batch_requests[0]).toEqual({
      batch_request_id: 'a', batch_request: { chat_get_completion: expect.objectContaining({ model: MODEL, max_completion_tokens: 50 }) },
    });
    expect(added.headers.authorization).toBe(`Bearer ${API_KEY}`);

    const done = await pollUntilDone(adapter, submission.id, { credential });
    expect(done).toMatchObject({ status: 'completed', done: true, counts: { total: 5, succeeded: 5, failed: 0, pending: 0 } });
    const results = await collectResults(adapter, submission.id, { credential });
    expect([...results.keys()].sort()).toEqual(ids);
    expect(succeeded(results.get('c')).choices[0]?.message.content).toBe('Batched by xAI.');
    // Five results at three a page: the adapter followed the pagination token.
    expect(emulator.requests.filter((request) => request.path.endsWith('/results'))).toHaveLength(2);
  });

  it('reports a line xAI failed as a failed line, classified', async () => {
    emulator.xaiBatches.failCustomIds.add('bad');
    const submission = await adapter.submit([line('good'), line('bad')], { model: MODEL, credential });
    await pollUntilDone(adapter, submission.id, { credential });
    const results = await collectResults(adapter, submission.id, { credential });
    expect(succeeded(results.get('good')).choices).toHaveLength(1);
    expect(failed(results.get('bad'))).toMatchObject({ message: expect.stringContaining('Internal error') });
  });

  it('cancels a running batch', async () => {
    emulator.xaiBatches.clock.processingMs = 60_000;
    try {
      const submission = await adapter.submit([line('x')], { model: MODEL, credential });
      const cancelled = await adapter.cancel(submission.id, { credential });
      expect(cancelled).toMatchObject({ status: 'cancelled', done: true });
      expect(emulator.requests.some((request) => request.method === 'POST' && request.path === `/v1/batches/${submission.id}:cancel`)).toBe(true);
    } finally {
      emulator.xaiBatches.clock.processingMs = 60;
    }
  });

  it('throws a classified error for a wrong key, without the key in the message', async () => {
    const error = await captureProviderError(adapter.submit([line('k')], { model: MODEL, credential: { apiKey: 'xai-wrong-key-123456' } }));
    expect(error).toMatchObject({ kind: 'auth', provider: 'xai' });
    expect(error.message).not.toContain('xai-wrong-key-123456');
  });
});

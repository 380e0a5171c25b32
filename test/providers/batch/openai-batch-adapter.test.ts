import type { Dispatcher } from 'undici';
import { OpenAIBatchAdapter } from '../../../src/providers/batch/openai-batch-adapter';
import type { BatchLine } from '../../../src/providers/batch/batch-types';
import { OpenAICompatibleAdapter } from '../../../src/providers/openai-compatible/openai-compatible-adapter';
import { createUpstreamDispatcher } from '../../../src/providers/upstream-http';
import { OpenAICompatibleEmulator } from '../../emulators/openai-compatible-emulator';
import { captureProviderError } from '../../support/provider-test-helpers';
import { collectResults, comparable, failed, pollUntilDone, succeeded } from './batch-test-helpers';

const API_KEY = 'sk-test-batch-key-0001';
const MODEL = 'gpt-4.1-nano';
const credential = { apiKey: API_KEY };
const line = (customId: string, content = `Question ${customId}`, extra: Partial<BatchLine['body']> = {}): BatchLine =>
  ({ customId, body: { model: 'alias-ignored', messages: [{ role: 'user', content }], ...extra } });

describe('OpenAIBatchAdapter', () => {
  let dispatcher: Dispatcher;
  let emulator: OpenAICompatibleEmulator;
  let adapter: OpenAIBatchAdapter;

  beforeAll(async () => {
    dispatcher = createUpstreamDispatcher();
    emulator = await new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: API_KEY, batchClock: { processingMs: 60 } }).start();
    adapter = new OpenAIBatchAdapter({ baseUrl: emulator.baseUrl, dispatcher });
  });
  afterAll(async () => { await emulator.close(); await dispatcher.close(); });
  afterEach(() => { emulator.reset(); emulator.resetReply(); emulator.batches.reset(); emulator.batches.clock.processingMs = 60; });

  describe('findSubmitted', () => {
    it('finds the job submitted with a submission key (metadata.zumik_submission), and nothing for another key', async () => {
      const submission = await adapter.submit([line('f1')], { model: MODEL, credential, metadata: { zumik_submission: 'zumik:batch_x:lines:0+1' } });
      await adapter.submit([line('f2')], { model: MODEL, credential, metadata: { zumik_submission: 'zumik:batch_y:lines:0+1' } });
      expect(await adapter.findSubmitted('zumik:batch_x:lines:0+1', { credential })).toMatchObject({ id: submission.id, provider: 'openai' });
      expect(await adapter.findSubmitted('zumik:batch_z:lines:0+1', { credential })).toBeUndefined();
    });
  });

  describe('submit, poll and results', () => {
    it('runs the lines as a batch and maps every result back by custom_id, equal to the online answer', async () => {
      emulator.setReply({ text: 'Batched hello.', promptTokens: 2048, cachedTokens: 1024, completionTokens: 5 });

      emulator.batches.clock.processingMs = 60_000;
      const submission = await adapter.submit([line('a'), line('b'), line('c')], { model: MODEL, credential, metadata: { tenant: 't1' } });
      const running = await adapter.poll(submission.id, { credential });
      emulator.batches.fastForward(submission.id);
      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });
      const online = await new OpenAICompatibleAdapter({ provider: 'openai', flavour: 'openai', baseUrl: emulator.baseUrl, dispatcher })
        .generate(line('online').body, { model: MODEL, credential });

      expect(submission).toMatchObject({ provider: 'openai', status: 'in_progress', rawStatus: 'validating', done: false, rejected: [], warnings: {} });
      expect(running).toMatchObject({ status: 'in_progress', rawStatus: 'in_progress', done: false, counts: { total: 3, pending: 3 } });
      expect(done).toMatchObject({ status: 'completed', done: true, counts: { total: 3, succeeded: 3, failed: 0, pending: 0 } });
      expect([...results.keys()].sort()).toEqual(['a', 'b', 'c']);
      const result = succeeded(results.get('b'));
      expect(result.choices[0]?.message.content).toBe('Batched hello.');
      expect(result.usage).toMatchObject({ prompt_tokens: 2048, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 1024 } });
      expect(result.providerRequestId).toMatch(/^req_/);
      expect(comparable(result)).toEqual(comparable(online));
    });

    it('uploads each line converted by the online converter, with custom_id, method and url', async () => {
      const submission = await adapter.submit([line('r1', 'Think.', { max_tokens: 50, temperature: 0.2 })], { model: 'gpt-5', credential });
      await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      const upload = emulator.requests.find((request) => request.path === '/v1/files' && request.method === 'POST');
      expect(String(upload?.body)).toContain('name="purpose"\r\n\r\nbatch');
      const input = [...emulator.batches.files.values()].find((file) => file.purpose === 'batch')!;
      expect(JSON.parse(input.content.trim())).toEqual({ custom_id: 'r1', method: 'POST', url: '/v1/chat/completions',
        body: { model: 'gpt-5', messages: [{ role: 'user', content: 'Think.' }], max_completion_tokens: 50 } });
      expect(emulator.requests.find((request) => request.path === '/v1/batches')?.body).toEqual({
        input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      // The reasoning model's 400 for max_tokens would have failed the line had the converter not renamed it.
      expect(succeeded(results.get('r1')).choices[0]?.finish_reason).toBe('stop');
      expect(submission.warnings.r1?.map((warning) => warning.setting)).toEqual(['temperature']);
    });

    it('drops a line’s service_tier with a warning, and attaches submission warnings to the results', async () => {
      const submission = await adapter.submit([line('t', 'hi', { service_tier: 'priority' })], { model: MODEL, credential });
      await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential, warnings: submission.warnings });

      const input = [...emulator.batches.files.values()].find((file) => file.purpose === 'batch')!;
      expect(JSON.parse(input.content.trim()).body.service_tier).toBeUndefined();
      expect(succeeded(results.get('t')).warnings).toEqual([expect.objectContaining({ setting: 'service_tier' })]);
    });

    it('maps a line the provider failed to the online classification, next to the lines that succeeded', async () => {
      emulator.batches.failCustomIds.add('busy');
      emulator.batches.lineStatus.set('busy', 429);
      emulator.batches.failCustomIds.add('broken');

      const submission = await adapter.submit([line('ok'), line('busy'), line('broken')], { model: MODEL, credential });
      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      expect(done.counts).toMatchObject({ total: 3, succeeded: 1, failed: 2 });
      expect(succeeded(results.get('ok')).choices[0]?.message.content).toBe('Hello from the emulator.');
      expect(failed(results.get('busy'))).toMatchObject({ kind: 'rate_limit', status: 429, providerCode: 'rate_limit_exceeded', providerRequestId: expect.stringMatching(/^req_/) });
      expect(failed(results.get('broken'))).toMatchObject({ kind: 'upstream_unavailable', status: 500 });
    });

    it('refuses to read the results of a job that is still running', async () => {
      emulator.batches.clock.processingMs = 10_000;
      const submission = await adapter.submit([line('a')], { model: MODEL, credential });

      const error = await captureProviderError(collectResults(adapter, submission.id, { credential }));

      expect(error).toMatchObject({ kind: 'invalid_request', provider: 'openai' });
    });

    it('rejects an empty batch and repeated custom ids before anything is sent', async () => {
      expect((await captureProviderError(adapter.submit([], { model: MODEL, credential }))).kind).toBe('invalid_request');
      expect((await captureProviderError(adapter.submit([line('x'), line('x')], { model: MODEL, credential }))).kind).toBe('invalid_request');
      expect(emulator.requests).toHaveLength(0);
    });
  });

  describe('job endings', () => {
    it('cancels a running job: cancelling, then cancelled, with every line reported cancelled', async () => {
      emulator.batches.clock.processingMs = 10_000;
      const submission = await adapter.submit([line('a'), line('b')], { model: MODEL, credential });

      const cancelling = await adapter.cancel(submission.id, { credential });
      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      expect(cancelling).toMatchObject({ status: 'cancelling', rawStatus: 'cancelling', done: false });
      expect(done).toMatchObject({ status: 'cancelled', done: true });
      expect([...results.values()].map((result) => !result.ok && [result.customId, result.error.kind, result.error.providerCode])).toEqual([
        ['a', 'cancelled', 'batch_cancelled'], ['b', 'cancelled', 'batch_cancelled']]);
    });

    it('reports an expired job, its lines as timeouts to serve online', async () => {
      emulator.batches.endNextJobsAs('expired');
      const submission = await adapter.submit([line('a'), line('b')], { model: MODEL, credential });

      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      expect(done).toMatchObject({ status: 'expired', done: true, counts: { total: 2, succeeded: 0, failed: 2 } });
      expect(failed(results.get('a'))).toMatchObject({ kind: 'timeout', providerCode: 'batch_expired' });
      expect(failed(results.get('b')).kind).toBe('timeout');
    });

    it('reports a failed job with no line results', async () => {
      emulator.batches.endNextJobsAs('failed');
      const submission = await adapter.submit([line('a')], { model: MODEL, credential });

      const done = await pollUntilDone(adapter, submission.id, { credential });

      expect(done).toMatchObject({ status: 'failed', done: true });
      expect((await collectResults(adapter, submission.id, { credential })).size).toBe(0);
    });
  });

  describe('failures of the calls', () => {
    it('classifies a wrong key as auth, without the key in the message', async () => {
      const error = await captureProviderError(adapter.submit([line('a')], { model: MODEL, credential: { apiKey: 'sk-wrong-key-123456789' } }));

      expect(error).toMatchObject({ kind: 'auth', status: 401, providerCode: 'invalid_api_key' });
      expect(error.message).not.toContain('sk-wrong-key-123456789');
    });

    it('classifies a 429 on the upload with its Retry-After', async () => {
      emulator.inject({ kind: 'status', status: 429, retryAfterSeconds: 3 });

      const error = await captureProviderError(adapter.submit([line('a')], { model: MODEL, credential }));

      expect(error).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterMs: 3000 });
    });

    it('removes the uploaded file when the batch cannot be created', async () => {
      // No fault for the upload (a zero delay is no fault for these routes), a 503 for the create.
      emulator.inject({ kind: 'slow-first-token', delayMs: 0 }, { kind: 'status', status: 503 });

      const error = await captureProviderError(adapter.submit([line('a')], { model: MODEL, credential }));

      expect(error).toMatchObject({ kind: 'upstream_unavailable', status: 503 });
      expect(emulator.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
        'POST /v1/files', 'POST /v1/batches', expect.stringMatching(/^DELETE \/v1\/files\/file-/)]);
      expect([...emulator.batches.files.values()].filter((file) => file.purpose === 'batch')).toEqual([]);
    });

    it('classifies an unknown job id as an invalid request, not a missing model', async () => {
      const error = await captureProviderError(adapter.poll('batch_missing', { credential }));

      expect(error).toMatchObject({ kind: 'invalid_request', status: 404 });
    });
  });
});

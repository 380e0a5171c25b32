import type { Dispatcher } from 'undici';
import { GeminiBatchAdapter } from '../../../src/providers/batch/gemini-batch-adapter';
import type { BatchLine } from '../../../src/providers/batch/batch-types';
import { GeminiAdapter } from '../../../src/providers/gemini/gemini-adapter';
import type { ChatRequest } from '../../../src/contract/chat';
import { createUpstreamDispatcher } from '../../../src/providers/upstream-http';
import { GeminiEmulator } from '../../emulators/gemini-emulator';
import { captureProviderError } from '../../support/provider-test-helpers';
import { collectResults, comparable, failed, pollUntilDone, succeeded } from './batch-test-helpers';

const API_KEY = 'test-gemini-batch-key-AIzaFAKE';
const MODEL = 'gemini-3.5-flash';
const credential = { apiKey: API_KEY };
const request = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content }], ...extra });
const line = (customId: string, extra: Partial<ChatRequest> = {}): BatchLine => ({ customId, body: request(`Question ${customId}`, extra) });

describe('GeminiBatchAdapter', () => {
  let dispatcher: Dispatcher;
  let emulator: GeminiEmulator;
  let adapter: GeminiBatchAdapter;

  beforeAll(async () => {
    dispatcher = createUpstreamDispatcher();
    emulator = await new GeminiEmulator({ apiKey: API_KEY, batchClock: { processingMs: 60 } }).start();
    adapter = new GeminiBatchAdapter({ baseUrl: emulator.url, dispatcher });
  });
  afterAll(async () => { await emulator.close(); await dispatcher.close(); });
  afterEach(() => { emulator.reset(); emulator.setReply({}); emulator.batches.reset(); emulator.batches.clock.processingMs = 60; });

  describe('findSubmitted', () => {
    it('finds the job submitted under a submission key (its displayName), and nothing for another key', async () => {
      const submission = await adapter.submit([line('f1')], { model: MODEL, credential, displayName: 'zumik:batch_x:lines:0+1' });
      await adapter.submit([line('f2')], { model: MODEL, credential, displayName: 'zumik:batch_y:lines:0+1' });
      expect(await adapter.findSubmitted('zumik:batch_x:lines:0+1', { credential })).toMatchObject({ id: submission.id, provider: 'gemini' });
      expect(await adapter.findSubmitted('zumik:batch_z:lines:0+1', { credential })).toBeUndefined();
    });
  });

  describe('submit, poll and results', () => {
    it('runs the lines as inline requests and maps the inlined responses back by key, equal to the online answer', async () => {
      emulator.setReply({ text: 'Batched Gemini.', usage: { promptTokenCount: 4096, cachedContentTokenCount: 2048, candidatesTokenCount: 3 } });
      emulator.batches.clock.processingMs = 60_000;

      const submission = await adapter.submit([line('a'), line('b')], { model: MODEL, credential, displayName: 'nightly' });
      const running = await adapter.poll(submission.id, { credential });
      emulator.batches.fastForward();
      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });
      const online = await new GeminiAdapter({ baseUrl: emulator.url, dispatcher }).generate(request('Question a'), { model: MODEL, credential });

      expect(submission).toMatchObject({ provider: 'gemini', status: 'in_progress', rawStatus: 'BATCH_STATE_PENDING', done: false, counts: { total: 2, pending: 2 } });
      expect(submission.id).toMatch(/^batches\//);
      expect(running.rawStatus).toBe('BATCH_STATE_RUNNING');
      expect(done).toMatchObject({ status: 'completed', rawStatus: 'BATCH_STATE_SUCCEEDED', done: true, counts: { total: 2, succeeded: 2, failed: 0, pending: 0 } });
      const result = succeeded(results.get('b'));
      expect(result.choices[0]?.message.content).toBe('Batched Gemini.');
      expect(result.usage).toMatchObject({ prompt_tokens: 4096, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 2048 } });
      expect(comparable(result)).toEqual(comparable(online));
    });

    it('sends each line through the online converter, keyed by custom id, in one batchGenerateContent call', async () => {
      const submission = await adapter.submit([line('k1', { max_completion_tokens: 32, service_tier: 'flex' })], { model: MODEL, credential, displayName: 'job-1' });

      const create = emulator.requests.find((received) => received.path.endsWith(':batchGenerateContent'));
      expect(create?.path).toBe(`/v1beta/models/${MODEL}:batchGenerateContent`);
      expect(create?.body).toEqual({ batch: { displayName: 'job-1', model: `models/${MODEL}`, inputConfig: { requests: { requests: [{
        request: { contents: [{ role: 'user', parts: [{ text: 'Question k1' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] }, generationConfig: { maxOutputTokens: 32 } },
        metadata: { key: 'k1' },
      }] } } } });
      expect(submission.warnings.k1).toEqual([expect.objectContaining({ setting: 'service_tier' })]);
    });

    it('rejects a line the converter cannot express, and submits the others', async () => {
      const orphan: BatchLine = { customId: 'orphan', body: { messages: [{ role: 'tool', tool_call_id: 'call_x', content: '42' }] } };

      const submission = await adapter.submit([line('fine'), orphan], { model: MODEL, credential });

      expect(submission.rejected).toEqual([{ customId: 'orphan', ok: false, error: expect.objectContaining({ kind: 'invalid_request' }) }]);
      expect(submission.counts?.total).toBe(1);
    });

    it('maps failed lines (a google.rpc.Status) to the online classification', async () => {
      emulator.batches.failCustomIds.add('busy');
      emulator.batches.lineStatus.set('busy', 429);
      emulator.batches.failCustomIds.add('down');
      emulator.batches.lineStatus.set('down', 503);
      const systemOnly: BatchLine = { customId: 'empty', body: { messages: [{ role: 'system', content: 'Nothing to answer.' }] } };

      const submission = await adapter.submit([line('ok'), line('busy'), line('down'), systemOnly], { model: MODEL, credential });
      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      expect(done.counts).toMatchObject({ total: 4, succeeded: 1, failed: 3 });
      expect(succeeded(results.get('ok')).choices[0]?.finish_reason).toBe('stop');
      expect(failed(results.get('busy'))).toMatchObject({ kind: 'rate_limit', providerCode: 'RESOURCE_EXHAUSTED' });
      expect(failed(results.get('down'))).toMatchObject({ kind: 'upstream_unavailable', providerCode: 'UNAVAILABLE' });
      expect(failed(results.get('empty'))).toMatchObject({ kind: 'invalid_request', providerCode: 'INVALID_ARGUMENT' });
    });

    it('streams the results from a responses file when the job writes one', async () => {
      emulator.batches.outputAs = 'file';
      emulator.batches.failCustomIds.add('bad');

      const submission = await adapter.submit([line('good'), line('bad')], { model: MODEL, credential });
      await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      const download = emulator.requests.find((received) => received.path.endsWith(':download'));
      expect(download?.query.get('alt')).toBe('media');
      expect(succeeded(results.get('good')).choices[0]?.message.content).toBe('Hello from the Gemini emulator.');
      expect(failed(results.get('bad'))).toMatchObject({ kind: 'upstream_unavailable', providerCode: 'INTERNAL' });
    });
  });

  describe('job endings', () => {
    it('cancels a job', async () => {
      emulator.batches.clock.processingMs = 10_000;
      const submission = await adapter.submit([line('a')], { model: MODEL, credential });

      const cancelled = await adapter.cancel(submission.id, { credential });

      expect(emulator.requests.some((received) => received.method === 'POST' && received.path.endsWith(':cancel'))).toBe(true);
      expect(cancelled).toMatchObject({ status: 'cancelled', rawStatus: 'BATCH_STATE_CANCELLED', done: true });
      expect((await collectResults(adapter, submission.id, { credential })).size).toBe(0);
    });

    it('reports an expired job, which reports no lines (all are to be served online)', async () => {
      emulator.batches.endNextJobsAs('expired');
      const submission = await adapter.submit([line('a')], { model: MODEL, credential });

      const done = await pollUntilDone(adapter, submission.id, { credential });

      expect(done).toMatchObject({ status: 'expired', rawStatus: 'BATCH_STATE_EXPIRED', done: true });
      expect((await collectResults(adapter, submission.id, { credential })).size).toBe(0);
    });

    it('reports a failed job with its error', async () => {
      emulator.batches.endNextJobsAs('failed');
      const submission = await adapter.submit([line('a')], { model: MODEL, credential });

      const done = await pollUntilDone(adapter, submission.id, { credential });

      expect(done).toMatchObject({ status: 'failed', done: true, error: { message: expect.stringContaining('failed') } });
    });
  });

  describe('failures of the calls', () => {
    it('classifies an invalid key as auth, without the key in the message', async () => {
      const error = await captureProviderError(adapter.submit([line('a')], { model: MODEL, credential: { apiKey: 'AIzaWRONGKEY0000000000000000000' } }));

      expect(error).toMatchObject({ kind: 'auth', status: 400, providerCode: 'INVALID_ARGUMENT' });
      expect(error.message).not.toContain('AIzaWRONGKEY');
    });

    it('classifies an unknown model as model_not_found and an unknown job as an invalid request', async () => {
      expect(await captureProviderError(adapter.submit([line('a')], { model: 'gemini-0-missing', credential }))).toMatchObject({ kind: 'model_not_found', status: 404 });
      expect(await captureProviderError(adapter.poll('batches/missing', { credential }))).toMatchObject({ kind: 'invalid_request', status: 404 });
    });

    it('classifies a 429 on create with its RetryInfo delay', async () => {
      emulator.inject({ kind: 'status', status: 429, retryAfterSeconds: 9 });

      expect(await captureProviderError(adapter.submit([line('a')], { model: MODEL, credential }))).toMatchObject({ kind: 'rate_limit', retryAfterMs: 9000 });
    });
  });
});

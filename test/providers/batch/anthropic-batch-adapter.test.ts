import type { Dispatcher } from 'undici';
import { AnthropicAdapter } from '../../../src/providers/anthropic/anthropic-adapter';
import { AnthropicBatchAdapter } from '../../../src/providers/batch/anthropic-batch-adapter';
import type { BatchLine } from '../../../src/providers/batch/batch-types';
import type { ChatRequest } from '../../../src/contract/chat';
import { createUpstreamDispatcher } from '../../../src/providers/upstream-http';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator';
import { captureProviderError } from '../../support/provider-test-helpers';
import { collectResults, comparable, failed, pollUntilDone, succeeded } from './batch-test-helpers';

const API_KEY = 'sk-ant-batch-test-key-0001';
const MODEL = 'claude-sonnet-5';
const credential = { apiKey: API_KEY };
const SYSTEM = 'You are a careful assistant. '.repeat(20);
const request = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'system', content: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }] }, { role: 'user', content }], ...extra,
});
const line = (customId: string, extra: Partial<ChatRequest> = {}): BatchLine => ({ customId, body: request(`Question ${customId}`, extra) });

describe('AnthropicBatchAdapter', () => {
  let dispatcher: Dispatcher;
  let emulator: AnthropicEmulator;
  let adapter: AnthropicBatchAdapter;

  beforeAll(async () => {
    dispatcher = createUpstreamDispatcher();
    emulator = await new AnthropicEmulator({ apiKey: API_KEY, minCacheableTokens: 16, batchClock: { processingMs: 60 } }).start();
    adapter = new AnthropicBatchAdapter({ baseUrl: emulator.url, dispatcher });
  });
  afterAll(async () => { await emulator.close(); await dispatcher.close(); });
  afterEach(() => { emulator.reset(); emulator.batches.reset(); emulator.batches.clock.processingMs = 60; });

  describe('submit, poll and results', () => {
    it('runs the lines as a Message Batch and maps each result back by custom_id, as the online answer with the batch tier', async () => {
      emulator.setReply({ text: 'Batched answer.', outputTokens: 7 });

      const submission = await adapter.submit([line('a'), line('b')], { model: MODEL, credential });
      const polls = [submission];
      const done = await pollUntilDone(adapter, submission.id, { credential }, polls);
      const results = await collectResults(adapter, submission.id, { credential });
      emulator.cache.clear();
      const online = await new AnthropicAdapter({ baseUrl: emulator.url, dispatcher }).generate(request('Question a'), { model: MODEL, credential });

      expect(submission).toMatchObject({ provider: 'anthropic', status: 'in_progress', rawStatus: 'in_progress', done: false,
        counts: { total: 2, pending: 2, succeeded: 0 }, rejected: [] });
      expect(submission.id).toMatch(/^msgbatch_/);
      expect(done).toMatchObject({ status: 'completed', rawStatus: 'ended', done: true, counts: { total: 2, succeeded: 2, failed: 0, pending: 0 } });
      const first = succeeded(results.get('a'));
      expect(first.choices[0]?.message.content).toBe('Batched answer.');
      expect(first.serviceTier).toBe('batch');
      const { serviceTier: _batchTier, ...batchAnswer } = comparable(first);
      const { serviceTier: _onlineTier, ...onlineAnswer } = comparable(online);
      expect(batchAnswer).toEqual(onlineAnswer);
    });

    it('reports cache writes and reads of the lines, in OpenAI usage', async () => {
      const submission = await adapter.submit([line('a'), line('b')], { model: MODEL, credential });
      await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      const writer = succeeded(results.get('a')).usage.prompt_tokens_details;
      const reader = succeeded(results.get('b')).usage.prompt_tokens_details;
      expect(writer?.cache_write_tokens).toBeGreaterThan(0);
      expect(reader?.cached_tokens).toBe(writer?.cache_write_tokens);
    });

    it('sends each line through the online request preparation as params', async () => {
      const submission = await adapter.submit([line('p', { max_tokens: 99, stop: 'END', service_tier: 'priority' })], { model: MODEL, credential });

      const body = emulator.requests.find((received) => received.path === '/v1/messages/batches')?.body as { requests: Array<{ custom_id: string; params: Record<string, unknown> }> };
      expect(body.requests).toEqual([{ custom_id: 'p', params: expect.objectContaining({ model: MODEL, max_tokens: 99, stop_sequences: ['END'] }) }]);
      expect(body.requests[0]?.params.service_tier).toBeUndefined();
      expect(body.requests[0]?.params.system).toEqual([{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }]);
      expect(submission.warnings.p).toEqual([expect.objectContaining({ setting: 'service_tier' })]);
    });

    it('rejects a line whose custom id Anthropic would refuse, and submits the others', async () => {
      const submission = await adapter.submit([line('fine'), line('not ok/slash')], { model: MODEL, credential });

      expect(submission.rejected).toEqual([{ customId: 'not ok/slash', ok: false, error: expect.objectContaining({ kind: 'invalid_request' }) }]);
      expect(submission.counts?.total).toBe(1);
    });

    it('maps errored lines to the online classification', async () => {
      emulator.batches.failCustomIds.add('busy');
      emulator.batches.lineStatus.set('busy', 529);
      emulator.batches.failCustomIds.add('broke');

      const submission = await adapter.submit([line('ok'), line('busy'), line('broke'), line('negative', { max_completion_tokens: -5 })], { model: MODEL, credential });
      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      expect(done.counts).toMatchObject({ total: 4, succeeded: 1, failed: 3 });
      expect(succeeded(results.get('ok')).choices[0]?.finish_reason).toBe('stop');
      expect(failed(results.get('busy'))).toMatchObject({ kind: 'overloaded', providerCode: 'overloaded_error', providerRequestId: expect.stringMatching(/^req_/) });
      expect(failed(results.get('broke'))).toMatchObject({ kind: 'upstream_unavailable', providerCode: 'api_error' });
      expect(failed(results.get('negative'))).toMatchObject({ kind: 'invalid_request', providerCode: 'invalid_request_error' });
    });
  });

  describe('job endings', () => {
    it('cancels a batch: canceling, then ended as cancelled, every line canceled', async () => {
      emulator.batches.clock.processingMs = 10_000;
      const submission = await adapter.submit([line('a'), line('b')], { model: MODEL, credential });

      const cancelling = await adapter.cancel(submission.id, { credential });
      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      expect(cancelling).toMatchObject({ status: 'cancelling', rawStatus: 'canceling', done: false });
      expect(done).toMatchObject({ status: 'cancelled', done: true, counts: { cancelled: 2, succeeded: 0 } });
      expect(failed(results.get('a'))).toMatchObject({ kind: 'cancelled', providerCode: 'canceled' });
    });

    it('reports an expired batch, its lines as timeouts to serve online', async () => {
      emulator.batches.endNextJobsAs('expired');
      const submission = await adapter.submit([line('a')], { model: MODEL, credential });

      const done = await pollUntilDone(adapter, submission.id, { credential });
      const results = await collectResults(adapter, submission.id, { credential });

      expect(done).toMatchObject({ status: 'expired', done: true, counts: { expired: 1 } });
      expect(failed(results.get('a'))).toMatchObject({ kind: 'timeout', providerCode: 'expired' });
    });

    it('refuses to read results before the batch has ended', async () => {
      emulator.batches.clock.processingMs = 10_000;
      const submission = await adapter.submit([line('a')], { model: MODEL, credential });

      expect(await captureProviderError(collectResults(adapter, submission.id, { credential }))).toMatchObject({ kind: 'invalid_request' });
    });
  });

  describe('failures of the calls', () => {
    it('classifies a wrong key as auth', async () => {
      const error = await captureProviderError(adapter.submit([line('a')], { model: MODEL, credential: { apiKey: 'sk-ant-wrong' } }));

      expect(error).toMatchObject({ kind: 'auth', status: 401, providerCode: 'authentication_error' });
    });

    it('classifies an overloaded create as retryable with its Retry-After', async () => {
      emulator.inject({ kind: 'status', status: 529, retryAfterSeconds: 2 });

      const error = await captureProviderError(adapter.submit([line('a')], { model: MODEL, credential }));

      expect(error).toMatchObject({ kind: 'overloaded', status: 529, retryAfterMs: 2000 });
      expect(error.retryable).toBe(true);
    });

    it('classifies an unknown batch id as an invalid request', async () => {
      expect(await captureProviderError(adapter.poll('msgbatch_missing', { credential }))).toMatchObject({ kind: 'invalid_request', status: 404 });
    });
  });
});

import type { Dispatcher } from 'undici';
import { AnthropicAdapter } from '../../src/providers/anthropic/anthropic-adapter';
import { ProviderError } from '../../src/providers/provider-error';
import type { ProviderCallOptions } from '../../src/providers/types';
import type { ChatRequest, StreamPart } from '../../src/contract/chat';
import { createUpstreamDispatcher } from '../../src/providers/upstream-http';
import { AnthropicEmulator } from '../emulators/anthropic-emulator';

const API_KEY = 'sk-ant-test-0123456789abcdef';
const request: ChatRequest = { messages: [{ role: 'user', content: 'Hello' }] };
const options: ProviderCallOptions = { model: 'claude-sonnet-5', credential: { apiKey: API_KEY }, timeouts: { headersMs: 2_000, firstTokenMs: 2_000, stallMs: 2_000 } };
const withTimeouts = (timeouts: ProviderCallOptions['timeouts']): ProviderCallOptions => ({ ...options, timeouts: { ...options.timeouts, ...timeouts } });

let emulator: AnthropicEmulator;
let dispatcher: Dispatcher;
let adapter: AnthropicAdapter;

beforeAll(async () => {
  emulator = await new AnthropicEmulator({ apiKey: API_KEY }).start();
  dispatcher = createUpstreamDispatcher();
  adapter = new AnthropicAdapter({ baseUrl: emulator.url, dispatcher });
});
afterEach(() => {
  emulator.reset();
  emulator.options.eventIntervalMs = 0;
});
afterAll(async () => {
  await emulator.close();
  await dispatcher.close();
});

async function generateError(callOptions = options): Promise<ProviderError> {
  const error = await adapter.generate(request, callOptions).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

async function streamError(callOptions = options): Promise<{ parts: StreamPart[]; error: ProviderError }> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of adapter.stream(request, callOptions)) parts.push(part);
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return { parts, error: error as ProviderError };
  }
  throw new Error(`the stream ended without failing: ${JSON.stringify(parts.map((part) => part.type))}`);
}

async function collect(callOptions = options): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of adapter.stream(request, callOptions)) parts.push(part);
  return parts;
}

describe('AnthropicAdapter', () => {
  describe('generate', () => {
    it('maps a 429 to rate_limit with Retry-After, rate-limit headers and the request id', async () => {
      emulator.inject({ kind: 'status', status: 429, retryAfterSeconds: 3 });
      const error = await generateError();
      expect(error).toMatchObject({ kind: 'rate_limit', status: 429, providerCode: 'rate_limit_error', retryAfterMs: 3000, providerRequestId: expect.stringMatching(/^req_/) });
      expect(error.rateLimit).toMatchObject({ 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-tokens-remaining': '0' });
      expect(error.retryable).toBe(true);
    });

    it('maps a 529 overloaded_error to a retryable overloaded failure', async () => {
      emulator.inject({ kind: 'status', status: 529 });
      expect(await generateError()).toMatchObject({ kind: 'overloaded', status: 529, providerCode: 'overloaded_error', retryable: true });
    });

    it('maps a wrong key to auth without repeating any key', async () => {
      const error = await generateError({ ...options, credential: { apiKey: 'sk-ant-wrong-key-42' } });
      expect(error).toMatchObject({ kind: 'auth', status: 401, providerCode: 'authentication_error', retryable: false });
      expect(error.message).not.toContain('sk-ant-wrong-key-42');
      expect(error.message).not.toContain(API_KEY);
    });

    it('maps an over-long prompt to context_length', async () => {
      emulator.inject({ kind: 'status', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } } });
      expect(await generateError()).toMatchObject({ kind: 'context_length', status: 400 });
    });

    it('maps a connection reset to network', async () => {
      emulator.inject({ kind: 'reset' });
      expect(await generateError()).toMatchObject({ kind: 'network', retryable: true });
    });

    it('maps silence before headers to a headers timeout', async () => {
      emulator.inject({ kind: 'hang' });
      expect(await generateError(withTimeouts({ headersMs: 100 }))).toMatchObject({ kind: 'timeout', phase: 'headers' });
      await emulator.received(1);
    });

    it('maps a body that arrives too late to a first_token timeout', async () => {
      // undici checks its body timeout on a ~1 s clock, hence the long scripted delay.
      emulator.inject({ kind: 'slow-first-token', delayMs: 3_000 });
      expect(await generateError(withTimeouts({ firstTokenMs: 100 }))).toMatchObject({ kind: 'timeout', phase: 'first_token' });
    });

    it('maps the whole-call deadline to a total timeout', async () => {
      emulator.inject({ kind: 'hang' });
      expect(await generateError(withTimeouts({ totalMs: 100 }))).toMatchObject({ kind: 'timeout', phase: 'total' });
      await emulator.received(1);
    });

    it('maps an abort by the caller to cancelled', async () => {
      emulator.inject({ kind: 'hang' });
      const controller = new AbortController();
      void emulator.received(1).then(() => controller.abort());
      expect(await generateError({ ...options, signal: controller.signal })).toMatchObject({ kind: 'cancelled', retryable: false });
    });
  });

  describe('stream', () => {
    it('maps a 529 before the stream to overloaded', async () => {
      emulator.inject({ kind: 'status', status: 529 });
      const { parts, error } = await streamError();
      expect(parts).toEqual([]);
      expect(error).toMatchObject({ kind: 'overloaded', status: 529 });
    });

    it('maps overloaded_error to a retryable overloaded failure', async () => {
      emulator.setReply({ text: 'Hello there, how are you?', chunkSize: 5, streamError: { afterEvents: 5, type: 'overloaded_error' } });
      const { parts, error } = await streamError();
      expect(parts.some((part) => part.type === 'text-delta')).toBe(true);
      expect(error).toMatchObject({ kind: 'overloaded', providerCode: 'overloaded_error', afterFirstToken: true, retryable: true });
    });

    it('maps a slow first event to a first_token timeout', async () => {
      emulator.inject({ kind: 'slow-first-token', delayMs: 1_000 });
      expect((await streamError(withTimeouts({ firstTokenMs: 100 }))).error).toMatchObject({ kind: 'timeout', phase: 'first_token' });
    });

    it('maps a connection cut mid-stream to stream_truncated', async () => {
      // Paced events: undici drops bytes still buffered when the socket closes, so a cut in the same tick as the writes would look like a cut before any event.
      emulator.options.eventIntervalMs = 5;
      emulator.inject({ kind: 'cut', afterEvents: 4 });
      const { parts, error } = await streamError();
      expect(parts.map((part) => part.type)).toEqual(['stream-start', 'text-delta']);
      expect(error).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
    });

    it('maps silence mid-stream to stream_stalled', async () => {
      emulator.inject({ kind: 'stall', afterEvents: 4 });
      expect((await streamError(withTimeouts({ stallMs: 100 }))).error).toMatchObject({ kind: 'stream_stalled', afterFirstToken: true });
    });

    it('skips one malformed event and completes the answer', async () => {
      emulator.inject({ kind: 'malformed', afterEvents: 3 });
      const parts = await collect();
      expect(parts.filter((part) => part.type === 'skipped-event')).toHaveLength(1);
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
    });

    it('completes a stream that ends without message_stop after message_delta carried the stop reason', async () => {
      emulator.inject({ kind: 'no-terminal' });
      const parts = await collect();
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
    });

    it('finalises a stream that stays open after message_delta, without message_stop, after the finish grace', async () => {
      emulator.inject({ kind: 'no-terminal', hold: true });
      const started = Date.now();
      const parts = await collect(withTimeouts({ stallMs: 20_000, finishGraceMs: 200 }));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
    });

    it('maps a clean end before message_delta to stream_truncated', async () => {
      // message_start, content_block_start, ping, one text delta, …: end cleanly after the first delta.
      emulator.inject({ kind: 'cut', afterEvents: 4, clean: true });
      const { parts, error } = await streamError();
      expect(error).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
      expect(parts.some((part) => part.type === 'finish' || part.type === 'stream-end')).toBe(false);
    });

    it('maps an abort by the caller mid-stream to cancelled', async () => {
      emulator.options.eventIntervalMs = 30;
      emulator.setReply({ text: 'A long answer that keeps coming.', chunkSize: 2 });
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      const error = await (async () => {
        try {
          for await (const part of adapter.stream(request, { ...options, signal: controller.signal })) {
            parts.push(part);
            if (part.type === 'text-delta') controller.abort();
          }
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toMatchObject({ kind: 'cancelled' });
      expect(parts.some((part) => part.type === 'stream-end')).toBe(false);
    });
  });
});

import { ProviderError } from '../../src/providers/provider-error';
import type { ChatRequest } from '../../src/contract/chat';
import type { Fault } from '../emulators/emulator-kit';
import { API_KEY, callOptions, drain, startGeminiHarness, type GeminiHarness } from './gemini-adapter-harness';
import { loadGeminiJson } from './gemini-fixtures';

const hello: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'Hello?' }] };
const short = { headersMs: 100, firstTokenMs: 100, stallMs: 100 };

let harness: GeminiHarness;
beforeAll(async () => { harness = await startGeminiHarness(); });
afterAll(async () => { await harness.close(); });
afterEach(() => { harness.emulator.reset(); harness.emulator.options.eventIntervalMs = 0; });

async function generateError(fault: Fault | undefined, options = callOptions({ timeouts: short })): Promise<ProviderError> {
  if (fault) harness.emulator.inject(fault);
  const error = await harness.adapter.generate(hello, options).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

async function streamError(fault: Fault | undefined, options = callOptions({ timeouts: short })): Promise<ProviderError> {
  if (fault) harness.emulator.inject(fault);
  const { error } = await drain(harness.adapter.stream(hello, options));
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** Every error must keep the key out of its message and serialised fields. */
function expectNoSecret(error: ProviderError): void {
  expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
  expect(error.message).not.toContain(API_KEY);
}

describe('GeminiAdapter', () => {
  describe.each([['generate', generateError], ['stream', streamError]] as const)('%s failures', (_method, callError) => {
    it('maps 429 RESOURCE_EXHAUSTED with RetryInfo to a rate_limit with retryAfterMs', async () => {
      const error = await callError({ kind: 'status', status: 429, body: loadGeminiJson('google-429-retry-info') });
      expect(error).toMatchObject({ kind: 'rate_limit', status: 429, providerCode: 'RESOURCE_EXHAUSTED', retryAfterMs: 34_400 });
      expect(error.retryable).toBe(true);
    });

    it('maps a daily quota violation to quota, which waiting does not fix', async () => {
      const body = { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'quota', details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaValue: '50' }] }] } };
      const error = await callError({ kind: 'status', status: 429, body });
      expect(error).toMatchObject({ kind: 'quota', retryable: false, failover: true });
    });

    it('maps 503 UNAVAILABLE to upstream_unavailable', async () => {
      expect(await callError({ kind: 'status', status: 503 })).toMatchObject({ kind: 'upstream_unavailable', status: 503, providerCode: 'UNAVAILABLE' });
    });

    it('maps 504 DEADLINE_EXCEEDED to timeout', async () => {
      expect(await callError({ kind: 'status', status: 504 })).toMatchObject({ kind: 'timeout', providerCode: 'DEADLINE_EXCEEDED' });
    });

    it('maps Google\'s 400 API key invalid to auth without leaking the key', async () => {
      const error = await callError(undefined, callOptions({ credential: { apiKey: 'wrong-key-AIzaWRONG' }, timeouts: short }));
      expect(error).toMatchObject({ kind: 'auth', status: 400, providerCode: 'INVALID_ARGUMENT' });
      expect(error.message).not.toContain('wrong-key-AIzaWRONG');
    });

    it('maps a missing key (403 PERMISSION_DENIED) to auth', async () => {
      expect(await callError(undefined, callOptions({ credential: { apiKey: '' }, timeouts: short }))).toMatchObject({ kind: 'auth', status: 403 });
    });

    it('maps a connection reset to network', async () => {
      const error = await callError({ kind: 'reset' });
      expect(error.kind).toBe('network');
      expectNoSecret(error);
    });

    it('maps a hang to a headers timeout', async () => {
      expect(await callError({ kind: 'hang' }, callOptions({ timeouts: { headersMs: 50 } }))).toMatchObject({ kind: 'timeout', phase: 'headers' });
      await harness.emulator.received(1);
    });

    it('maps a slow first token to a first_token timeout', async () => {
      expect(await callError({ kind: 'slow-first-token', delayMs: 400 }, callOptions({ timeouts: { firstTokenMs: 50 } }))).toMatchObject({ kind: 'timeout', phase: 'first_token' });
    });

    it('maps the caller\'s abort to cancelled', async () => {
      const controller = new AbortController();
      void harness.emulator.received(1).then(() => controller.abort());
      expect(await callError({ kind: 'hang' }, callOptions({ signal: controller.signal }))).toMatchObject({ kind: 'cancelled' });
    });

    it('maps the whole-call deadline to a total timeout', async () => {
      expect(await callError({ kind: 'hang' }, callOptions({ timeouts: { totalMs: 50 } }))).toMatchObject({ kind: 'timeout', phase: 'total' });
      await harness.emulator.received(1);
    });
  });

  describe('generate failures of the body', () => {
    it('maps a malformed JSON body to bad_response', async () => {
      expect(await generateError({ kind: 'malformed', afterEvents: 0 })).toMatchObject({ kind: 'bad_response' });
    });

    it('maps a body cut mid-way to network', async () => {
      expect(await generateError({ kind: 'cut', afterEvents: 0 })).toMatchObject({ kind: 'network' });
    });
  });

  describe('stream failures', () => {
    it('maps a connection cut mid-stream to stream_truncated after the first token', async () => {
      harness.emulator.options.eventIntervalMs = 20; // let the first event reach the client before the cut
      expect(await streamError({ kind: 'cut', afterEvents: 1 })).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
    });

    it('maps a stream that goes silent to stream_stalled', async () => {
      expect(await streamError({ kind: 'stall', afterEvents: 1 }, callOptions({ timeouts: { stallMs: 50 } }))).toMatchObject({ kind: 'stream_stalled', afterFirstToken: true });
    });

    it('skips one malformed event and completes the answer', async () => {
      harness.emulator.inject({ kind: 'malformed', afterEvents: 1 });
      const { parts, error } = await drain(harness.adapter.stream(hello, callOptions({ timeouts: short })));
      expect(error).toBeUndefined();
      expect(parts.filter((part) => part.type === 'skipped-event')).toHaveLength(1);
      expect(parts.at(-1)).toEqual({ type: 'stream-end' });
    });

    it('maps a stream that ends cleanly without a finishReason to stream_truncated', async () => {
      harness.emulator.inject({ kind: 'no-terminal' });
      const { parts, error } = await drain(harness.adapter.stream(hello, callOptions()));
      expect(parts.some((part) => part.type === 'text-delta')).toBe(true);
      expect(parts.some((part) => part.type === 'finish' || part.type === 'stream-end')).toBe(false);
      expect(error).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
    });

    it('finalises a stream whose connection stays open after the finishReason chunk after the finish grace, not the stall timeout', async () => {
      harness.emulator.inject({ kind: 'stall', afterEvents: Number.MAX_SAFE_INTEGER }); // every chunk sent, then silence
      const started = Date.now();
      const { parts, error } = await drain(harness.adapter.stream(hello, callOptions({ timeouts: { stallMs: 20_000, finishGraceMs: 200 } })));
      expect(error).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
    });

    it('still maps silence before the finishReason chunk to stream_stalled', async () => {
      expect(await streamError({ kind: 'stall', afterEvents: 1 }, callOptions({ timeouts: { stallMs: 200, finishGraceMs: 10 } })))
        .toMatchObject({ kind: 'stream_stalled', afterFirstToken: true });
    });

    it('maps the caller\'s abort mid-stream to cancelled', async () => {
      harness.emulator.options.eventIntervalMs = 100;
      const controller = new AbortController();
      const { parts, error } = await drain(harness.adapter.stream(hello, callOptions({ signal: controller.signal })), (part) => {
        if (part.type === 'text-delta') controller.abort();
      });
      expect(parts.filter((part) => part.type === 'text-delta')).toHaveLength(1);
      expect(error).toMatchObject({ kind: 'cancelled' });
    });

    it('classifies an error event sent on an open stream', async () => {
      harness.emulator.setReply({ chunks: [{ error: { code: 500, status: 'INTERNAL', message: 'An internal error has occurred.' } }] });
      try {
        expect(await streamError(undefined)).toMatchObject({ kind: 'upstream_unavailable', providerCode: 'INTERNAL' });
      } finally {
        harness.emulator.setReply({});
      }
    });
  });
});

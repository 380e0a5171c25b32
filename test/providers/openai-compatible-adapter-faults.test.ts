import type { Dispatcher } from 'undici';
import { OpenAICompatibleAdapter } from '../../src/providers/openai-compatible/openai-compatible-adapter';
import type { OpenAICompatibleFlavourName } from '../../src/providers/openai-compatible/openai-compatible-flavours';
import type { ProviderCallOptions } from '../../src/providers/types';
import type { ChatRequest } from '../../src/contract/chat';
import { createUpstreamDispatcher } from '../../src/providers/upstream-http';
import {
  CONTEXT_LENGTH_BODY, INSUFFICIENT_QUOTA_BODY, OpenAICompatibleEmulator, type OpenAICompatibleEmulatorFlavour,
} from '../emulators/openai-compatible-emulator';
import { captureProviderError, collectParts, collectUntilFailure, textOf } from '../support/provider-test-helpers';

const API_KEY = 'test-key-faults';
const waitFor = async (condition: () => boolean) => {
  for (const until = Date.now() + 2_000; !condition(); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() > until) throw new Error('condition not met within 2 s');
  }
};
const HELLO: ChatRequest = { messages: [{ role: 'user', content: 'Say hello.' }] };

describe('OpenAICompatibleAdapter', () => {
  let dispatcher: Dispatcher;
  const emulators = new Map<OpenAICompatibleEmulatorFlavour, OpenAICompatibleEmulator>();
  const adapters = new Map<OpenAICompatibleFlavourName, OpenAICompatibleAdapter>();
  const EMULATOR_OF: Record<string, OpenAICompatibleEmulatorFlavour> = { openai: 'openai', xai: 'xai', fireworks: 'fireworks', openrouter: 'openrouter', byoc_epp: 'byoc' };

  beforeAll(async () => {
    dispatcher = createUpstreamDispatcher();
    for (const flavour of ['openai', 'xai', 'fireworks', 'openrouter', 'byoc_epp'] as const) {
      const emulatorFlavour = EMULATOR_OF[flavour]!;
      // Some events spaced out so that a scripted cut or stall lands after content was streamed.
      const emulator = await new OpenAICompatibleEmulator({ flavour: emulatorFlavour, apiKey: API_KEY, eventIntervalMs: 5 }).start();
      emulators.set(emulatorFlavour, emulator);
      adapters.set(flavour, new OpenAICompatibleAdapter({ provider: flavour, flavour, baseUrl: emulator.baseUrl, dispatcher }));
    }
  });
  afterAll(async () => {
    await Promise.all([...emulators.values()].map((emulator) => emulator.close()));
    await dispatcher.destroy();
  });
  afterEach(() => { for (const emulator of emulators.values()) emulator.reset(); });

  const adapter = (flavour: OpenAICompatibleFlavourName = 'openai') => adapters.get(flavour)!;
  const emulator = (flavour: OpenAICompatibleFlavourName = 'openai') => emulators.get(EMULATOR_OF[flavour]!)!;
  const options = (extra: Partial<ProviderCallOptions> = {}): ProviderCallOptions => ({ model: 'gpt-4.1-nano', credential: { apiKey: API_KEY }, ...extra });

  describe('generate', () => {
    it('classifies a 429 as rate_limit with Retry-After and the x-ratelimit headers', async () => {
      emulator().inject({ kind: 'status', status: 429, retryAfterSeconds: 2 });

      const error = await captureProviderError(adapter().generate(HELLO, options()));

      expect(error).toMatchObject({ kind: 'rate_limit', status: 429, providerCode: 'rate_limit_exceeded', retryAfterMs: 2000, retryable: true });
      expect(error.rateLimit).toMatchObject({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-tokens': '1m0s' });
      expect(error.providerRequestId).toMatch(/^req_/);
    });

    it('prefers retry-after-ms over retry-after', async () => {
      emulator().inject({ kind: 'status', status: 429, retryAfterSeconds: 2, headers: { 'retry-after-ms': '350' } });

      const error = await captureProviderError(adapter().generate(HELLO, options()));

      expect(error.retryAfterMs).toBe(350);
    });

    it('classifies insufficient_quota (also a 429) as quota, which waiting does not fix', async () => {
      emulator().inject({ kind: 'status', status: 429, body: INSUFFICIENT_QUOTA_BODY });

      const error = await captureProviderError(adapter().generate(HELLO, options()));

      expect(error).toMatchObject({ kind: 'quota', providerCode: 'insufficient_quota', retryable: false, failover: true });
    });

    it('classifies context_length_exceeded (a 400) as context_length', async () => {
      emulator().inject({ kind: 'status', status: 400, body: CONTEXT_LENGTH_BODY });

      expect(await captureProviderError(adapter().generate(HELLO, options()))).toMatchObject({ kind: 'context_length', status: 400 });
    });

    it.each([
      ['openai', 503, 'upstream_unavailable'], ['openai', 500, 'upstream_unavailable'], ['openai', 404, 'model_not_found'],
      ['openai', 408, 'timeout'], ['openai', 409, 'upstream_unavailable'], ['openai', 400, 'invalid_request'],
      ['xai', 529, 'overloaded'], ['xai', 429, 'rate_limit'], ['fireworks', 503, 'overloaded'], ['fireworks', 402, 'quota'],
      ['openrouter', 402, 'quota'], ['openrouter', 502, 'upstream_unavailable'],
      ['byoc_epp', 429, 'overloaded'], ['byoc_epp', 503, 'upstream_unavailable'], ['byoc_epp', 500, 'upstream_unavailable'],
    ] as const)('%s: status %i is %s', async (flavour, status, kind) => {
      emulator(flavour).inject({ kind: 'status', status });

      expect(await captureProviderError(adapter(flavour).generate(HELLO, options()))).toMatchObject({ kind, status });
    });

    it('classifies an OpenRouter moderation 403 as content_filter and a content policy code as content_filter', async () => {
      emulator('openrouter').inject({ kind: 'status', status: 403, body: { error: { code: 403, message: 'Input flagged', metadata: { reasons: ['violence'], flagged_input: '…' } } } });
      emulator().inject({ kind: 'status', status: 400, body: { error: { message: 'Blocked', type: 'invalid_request_error', param: null, code: 'content_policy_violation' } } });

      expect(await captureProviderError(adapter('openrouter').generate(HELLO, options()))).toMatchObject({ kind: 'content_filter' });
      expect(await captureProviderError(adapter().generate(HELLO, options()))).toMatchObject({ kind: 'content_filter' });
    });

    it('classifies a reset connection as network', async () => {
      emulator().inject({ kind: 'reset' });

      expect(await captureProviderError(adapter().generate(HELLO, options()))).toMatchObject({ kind: 'network' });
    });

    it('classifies missing headers as timeout in the headers phase', async () => {
      emulator().inject({ kind: 'hang' });

      expect(await captureProviderError(adapter().generate(HELLO, options({ timeouts: { headersMs: 100 } })))).toMatchObject({ kind: 'timeout', phase: 'headers' });
      await emulator().received(1);
    });

    it('classifies a body that does not come as timeout in the first_token phase', async () => {
      emulator().inject({ kind: 'slow-first-token', delayMs: 1_000 });

      expect(await captureProviderError(adapter().generate(HELLO, options({ timeouts: { firstTokenMs: 100 } })))).toMatchObject({ kind: 'timeout', phase: 'first_token' });
    });

    it('classifies the whole-call budget running out as timeout in the total phase', async () => {
      emulator().inject({ kind: 'hang' });

      expect(await captureProviderError(adapter().generate(HELLO, options({ timeouts: { totalMs: 100 } })))).toMatchObject({ kind: 'timeout', phase: 'total' });
      await emulator().received(1);
    });

    it('classifies the caller aborting as cancelled', async () => {
      emulator().inject({ kind: 'hang' });
      const controller = new AbortController();
      void emulator().received(1).then(() => controller.abort());

      expect(await captureProviderError(adapter().generate(HELLO, options({ signal: controller.signal })))).toMatchObject({ kind: 'cancelled', retryable: false });
    });
  });

  describe('stream', () => {
    it('classifies a 429 before the stream as rate_limit with Retry-After', async () => {
      emulator().inject({ kind: 'status', status: 429, retryAfterSeconds: 1 });

      const { parts, error } = await collectUntilFailure(adapter().stream(HELLO, options()));

      expect(parts).toEqual([]);
      expect(error).toMatchObject({ kind: 'rate_limit', retryAfterMs: 1000 });
    });

    it('classifies a slow first token as timeout in the first_token phase, after stream-start', async () => {
      emulator().inject({ kind: 'slow-first-token', delayMs: 1_000 });

      const { parts, error } = await collectUntilFailure(adapter().stream(HELLO, options({ timeouts: { firstTokenMs: 100 } })));

      expect(parts.map((part) => part.type)).toEqual(['stream-start']);
      expect(error).toMatchObject({ kind: 'timeout', phase: 'first_token' });
    });

    it('classifies a cut connection as stream_truncated after the first token', async () => {
      emulator().inject({ kind: 'cut', afterEvents: 3 });

      const { parts, error } = await collectUntilFailure(adapter().stream(HELLO, options()));

      expect(textOf(parts)).toBe('Hello from ');
      expect(error).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
    });

    it('classifies silence mid-stream as stream_stalled', async () => {
      emulator().inject({ kind: 'stall', afterEvents: 2 });

      const { parts, error } = await collectUntilFailure(adapter().stream(HELLO, options({ timeouts: { stallMs: 100 } })));

      expect(textOf(parts)).toBe('Hello ');
      expect(error).toMatchObject({ kind: 'stream_stalled', afterFirstToken: true });
    });

    it('skips one data line that is not JSON and completes the answer', async () => {
      emulator().inject({ kind: 'malformed', afterEvents: 2 });

      const parts = await collectParts(adapter().stream(HELLO, options()));

      expect(textOf(parts)).toBe('Hello from the emulator.');
      expect(parts.filter((part) => part.type === 'skipped-event')).toHaveLength(1);
    });

    it.each(['openai', 'xai', 'fireworks', 'openrouter', 'byoc_epp'] as const)('%s: a complete stream that ends without [DONE] is a whole answer: finish, usage, stream-end', async (flavour) => {
      emulator(flavour).inject({ kind: 'no-terminal' });

      const parts = await collectParts(adapter(flavour).stream(HELLO, options()));

      expect(textOf(parts)).toBe('Hello from the emulator.');
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
      expect(parts.find((part) => part.type === 'usage')).toMatchObject({ usage: { prompt_tokens: 16, completion_tokens: 6 } });
    });

    it('finalises a complete stream whose connection stays open without [DONE] after the finish grace, not the stall timeout', async () => {
      emulator().inject({ kind: 'no-terminal', hold: true });
      const started = Date.now();

      const parts = await collectParts(adapter().stream(HELLO, options({ timeouts: { stallMs: 20_000, finishGraceMs: 300 } })));

      expect(Date.now() - started).toBeLessThan(5_000);
      expect(parts.slice(-3).map((part) => part.type)).toEqual(['finish', 'usage', 'stream-end']);
      // The held connection was given up, not left open until the stall timeout.
      await waitFor(() => emulator().inFlight === 0);
    });

    it.each([
      ['takes the usage chunk that follows the finish chunk within the grace', 100, 1_000, 1],
      ['ends a finished answer without usage when the usage chunk would come after the grace', 400, 100, 0],
    ] as const)('%s', async (_name, eventIntervalMs, finishGraceMs, usageParts) => {
      emulator().options.eventIntervalMs = eventIntervalMs;
      emulator().inject({ kind: 'no-terminal', hold: true });
      try {
        const parts = await collectParts(adapter().stream(HELLO, options({ timeouts: { finishGraceMs } })));

        expect(parts.filter((part) => part.type === 'usage')).toHaveLength(usageParts);
        expect(parts.slice(-1)).toEqual([{ type: 'stream-end' }]);
      } finally {
        emulator().options.eventIntervalMs = 5;
      }
    });

    it('keeps a finished answer whole when the connection is cut after the finish chunk, before usage and [DONE]', async () => {
      // role, four words, finish (events 0–5), then usage and [DONE]: cut before the usage chunk.
      emulator().inject({ kind: 'cut', afterEvents: 6 });

      const parts = await collectParts(adapter().stream(HELLO, options()));

      expect(textOf(parts)).toBe('Hello from the emulator.');
      expect(parts.slice(-2)).toEqual([expect.objectContaining({ type: 'finish', finishReason: 'stop' }), { type: 'stream-end' }]);
    });

    it('still classifies a stream that ends cleanly before any finish chunk as stream_truncated', async () => {
      emulator().inject({ kind: 'cut', afterEvents: 3, clean: true });

      const { parts, error } = await collectUntilFailure(adapter().stream(HELLO, options({ timeouts: { finishGraceMs: 50 } })));

      expect(textOf(parts)).toBe('Hello from ');
      expect(parts.map((part) => part.type)).not.toContain('finish');
      expect(error).toMatchObject({ kind: 'stream_truncated', afterFirstToken: true });
    });

    it('still classifies silence before the finish chunk as stream_stalled, however short the finish grace', async () => {
      emulator().inject({ kind: 'stall', afterEvents: 5 });

      const { error } = await collectUntilFailure(adapter().stream(HELLO, options({ timeouts: { stallMs: 300, finishGraceMs: 10 } })));

      expect(error).toMatchObject({ kind: 'stream_stalled', afterFirstToken: true });
    });

    it('classifies the caller aborting mid-stream as cancelled', async () => {
      emulator().inject({ kind: 'stall', afterEvents: 2 });
      const controller = new AbortController();
      const stream = adapter().stream(HELLO, options({ signal: controller.signal }));
      const seen: string[] = [];

      const error = await captureProviderError((async () => {
        for await (const part of stream) {
          seen.push(part.type);
          if (part.type === 'text-delta') controller.abort();
        }
      })());

      expect(seen).toContain('text-delta');
      expect(error).toMatchObject({ kind: 'cancelled' });
    });
  });
});

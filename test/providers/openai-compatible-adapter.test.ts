import type { Dispatcher } from 'undici';
import { OpenAICompatibleAdapter } from '../../src/providers/openai-compatible/openai-compatible-adapter';
import type { OpenAICompatibleFlavourName } from '../../src/providers/openai-compatible/openai-compatible-flavours';
import type { ProviderCallOptions } from '../../src/providers/types';
import type { ChatRequest, StreamPart } from '../../src/contract/chat';
import { createUpstreamDispatcher } from '../../src/providers/upstream-http';
import { OpenAICompatibleEmulator, type OpenAICompatibleEmulatorFlavour } from '../emulators/openai-compatible-emulator';
import { captureProviderError, collectParts, textOf } from '../support/provider-test-helpers';

const API_KEY = 'sk-test-emulator-key-0001';

interface FlavourCase {
  flavour: OpenAICompatibleFlavourName;
  emulator: OpenAICompatibleEmulatorFlavour;
  model: string;
  path: string;
}

const CASES: FlavourCase[] = [
  { flavour: 'openai', emulator: 'openai', model: 'gpt-4.1-nano', path: '/v1/chat/completions' },
  { flavour: 'xai', emulator: 'xai', model: 'grok-3-mini', path: '/v1/chat/completions' },
  { flavour: 'fireworks', emulator: 'fireworks', model: 'accounts/fireworks/models/llama-v3p1-8b-instruct', path: '/inference/v1/chat/completions' },
  { flavour: 'openrouter', emulator: 'openrouter', model: 'anthropic/claude-haiku-4.5', path: '/api/v1/chat/completions' },
  { flavour: 'byoc_epp', emulator: 'byoc', model: 'meta-llama/Llama-3.1-8B-Instruct', path: '/v1/chat/completions' },
];

const HELLO: ChatRequest = { model: 'alias-ignored', messages: [{ role: 'user', content: 'Say hello.' }] };
const WEATHER_TOOL = { type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } };

describe('OpenAICompatibleAdapter', () => {
  let dispatcher: Dispatcher;
  beforeAll(() => { dispatcher = createUpstreamDispatcher(); });
  afterAll(async () => { await dispatcher.destroy(); });

  describe.each(CASES)('flavour $flavour', ({ flavour, emulator: emulatorFlavour, model, path }) => {
    let emulator: OpenAICompatibleEmulator;
    let adapter: OpenAICompatibleAdapter;
    const options = (extra: Partial<ProviderCallOptions> = {}): ProviderCallOptions => ({ model, credential: { apiKey: API_KEY }, ...extra });

    beforeAll(async () => {
      emulator = await new OpenAICompatibleEmulator({ flavour: emulatorFlavour, apiKey: API_KEY }).start();
      adapter = new OpenAICompatibleAdapter({ provider: flavour, flavour, baseUrl: emulator.baseUrl, dispatcher, openRouterProvider: 'anthropic' });
    });
    afterAll(async () => { await emulator.close(); });
    afterEach(() => { emulator.reset(); emulator.resetReply(); });

    describe('generate', () => {
      it('returns the answer, with the provider model and request id, sent with bearer auth to the flavour path', async () => {
        const result = await adapter.generate(HELLO, options());

        expect(result.choices[0]?.message.content).toBe('Hello from the emulator.');
        expect(result.choices[0]?.finish_reason).toBe('stop');
        expect(result.model).toBe(model);
        expect(result.providerRequestId).toMatch(/^(req_|gen-)/);
        const received = emulator.requests[0]!;
        expect(received.path).toBe(path);
        expect(received.headers.authorization).toBe(`Bearer ${API_KEY}`);
        expect(received.body).toMatchObject({ model, messages: HELLO.messages });
        expect(received.body).not.toHaveProperty('stream');
      });

      it('returns tool calls with finish_reason tool_calls and null content', async () => {
        emulator.setReply({ text: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"location":"San Francisco"}' }] });

        const result = await adapter.generate({ ...HELLO, tools: [WEATHER_TOOL] }, options());

        expect(result.choices[0]?.finish_reason).toBe('tool_calls');
        expect(result.choices[0]?.message.content).toBeNull();
        expect(result.choices[0]?.message.tool_calls).toEqual([
          { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } },
        ]);
        expect(emulator.requests[0]?.body).toMatchObject({ tools: [WEATHER_TOOL] });
      });

      it('maps usage with cached and reasoning tokens onto OpenAI’s contract (completion includes reasoning)', async () => {
        emulator.setReply({ promptTokens: 100, cachedTokens: 80, completionTokens: 10, reasoningTokens: 50, reasoning: 'Thinking it over.' });

        const result = await adapter.generate(HELLO, options());

        expect(result.usage).toMatchObject({
          prompt_tokens: 100, completion_tokens: 60, total_tokens: 160,
          prompt_tokens_details: { cached_tokens: 80 }, completion_tokens_details: { reasoning_tokens: 50 },
        });
      });

      it('fails with auth for a wrong key without echoing any part of it', async () => {
        const error = await captureProviderError(adapter.generate(HELLO, options({ credential: { apiKey: 'sk-wrong-key-abcdef-Zq7X' } })));

        expect(error.kind).toBe('auth');
        expect(error.status).toBe(401);
        expect(error.message).not.toMatch(/wrong|Zq7X|sk-w/);
        expect(JSON.stringify(error.toJSON())).not.toContain('Zq7X');
      });
    });

    describe('stream', () => {
      it('yields stream-start, text, finish, usage and stream-end in order, asking upstream for usage', async () => {
        const parts = await collectParts(adapter.stream({ ...HELLO, stream: true, stream_options: { include_usage: false } }, options()));

        expect(parts[0]).toMatchObject({ type: 'stream-start', warnings: [] });
        expect(textOf(parts)).toBe('Hello from the emulator.');
        expect(parts.filter((part) => part.type === 'finish')).toEqual([{ type: 'finish', choiceIndex: 0, finishReason: 'stop', rawFinishReason: 'stop' }]);
        expect(parts.at(-2)).toMatchObject({ type: 'usage', usage: { prompt_tokens: 16, completion_tokens: 6, total_tokens: 22 } });
        expect(parts.at(-1)).toEqual({ type: 'stream-end' });
        expect(emulator.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      });

      it('assembles streamed tool-call deltas by index, the first fragment carrying id and name', async () => {
        emulator.setReply({ text: '', toolCalls: [
          { id: 'call_a', name: 'weather', arguments: '{"location":"Paris"}' },
          { id: 'call_b', name: 'weather', arguments: '{"location":"Oslo"}' },
        ] });

        const parts = await collectParts(adapter.stream({ ...HELLO, tools: [WEATHER_TOOL] }, options()));

        const deltas = parts.filter((part): part is Extract<StreamPart, { type: 'tool-call-delta' }> => part.type === 'tool-call-delta');
        const calls = [0, 1].map((index) => deltas.filter((delta) => delta.toolCallIndex === index));
        expect(calls.map((fragments) => fragments[0]?.id)).toEqual(['call_a', 'call_b']);
        expect(calls.map((fragments) => fragments[0]?.name)).toEqual(['weather', 'weather']);
        expect(calls.map((fragments) => fragments.map((fragment) => fragment.argumentsDelta).join(''))).toEqual(['{"location":"Paris"}', '{"location":"Oslo"}']);
        expect(parts.find((part) => part.type === 'finish')).toMatchObject({ finishReason: 'tool_calls' });
      });

      it('reports usage with cached and reasoning tokens in the usage part', async () => {
        emulator.setReply({ promptTokens: 291, cachedTokens: 290, completionTokens: 26, reasoningTokens: 196, reasoning: 'First, the user' });

        const parts = await collectParts(adapter.stream(HELLO, options()));

        expect(parts.find((part) => part.type === 'usage')).toMatchObject({
          usage: { prompt_tokens: 291, completion_tokens: 222, total_tokens: 513,
            prompt_tokens_details: { cached_tokens: 290 }, completion_tokens_details: { reasoning_tokens: 196 } },
        });
        if (flavour !== 'openai') expect(textOf(parts, 'reasoning-delta')).toBe('First, the user');
      });
    });
  });
});

import type { Dispatcher } from 'undici';
import { OpenAICompatibleAdapter, type OpenAICompatibleAdapterOptions } from '../../src/providers/openai-compatible/openai-compatible-adapter';
import type { ProviderCallOptions } from '../../src/providers/types';
import type { ChatRequest } from '../../src/contract/chat';
import { createUpstreamDispatcher } from '../../src/providers/upstream-http';
import { OpenAICompatibleEmulator, type OpenAICompatibleEmulatorFlavour } from '../emulators/openai-compatible-emulator';
import { collectParts } from '../support/provider-test-helpers';

const API_KEY = 'test-key-quirks';
const HELLO: ChatRequest = { messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }] };

describe('OpenAICompatibleAdapter', () => {
  let dispatcher: Dispatcher;
  const emulators: OpenAICompatibleEmulator[] = [];
  beforeAll(() => { dispatcher = createUpstreamDispatcher(); });
  afterAll(async () => {
    await Promise.all(emulators.map((emulator) => emulator.close()));
    await dispatcher.destroy();
  });

  async function setUp(emulatorFlavour: OpenAICompatibleEmulatorFlavour, adapterOptions: Omit<OpenAICompatibleAdapterOptions, 'baseUrl' | 'dispatcher'>) {
    const emulator = await new OpenAICompatibleEmulator({ flavour: emulatorFlavour, apiKey: API_KEY }).start();
    emulators.push(emulator);
    const adapter = new OpenAICompatibleAdapter({ ...adapterOptions, baseUrl: emulator.baseUrl, dispatcher });
    return { emulator, adapter };
  }
  const options = (model: string, extra: Partial<ProviderCallOptions> = {}): ProviderCallOptions => ({ model, credential: { apiKey: API_KEY }, ...extra });

  describe('openai flavour', () => {
    it('sends a reasoning model max_completion_tokens and drops sampling parameters with warnings, so OpenAI does not answer 400', async () => {
      const { emulator, adapter } = await setUp('openai', { provider: 'openai', flavour: 'openai' });

      const result = await adapter.generate({ ...HELLO, max_tokens: 300, temperature: 0.2, top_p: 0.9 }, options('gpt-5-mini'));

      expect(result.choices[0]?.message.content).toBe('Hello from the emulator.');
      const body = emulator.requests[0]?.body as Record<string, unknown>;
      expect(body).toMatchObject({ max_completion_tokens: 300 });
      expect(body).not.toHaveProperty('max_tokens');
      expect(body).not.toHaveProperty('temperature');
      expect(result.warnings.map((warning) => warning.setting)).toEqual(['temperature', 'top_p']);
    });

    it('keeps the developer role, forwards service_tier and captures the tier actually served', async () => {
      const { emulator, adapter } = await setUp('openai', { provider: 'openai', flavour: 'openai' });

      const result = await adapter.generate({ ...HELLO, service_tier: 'fast' }, options('gpt-4.1'));
      const parts = await collectParts(adapter.stream({ ...HELLO, service_tier: 'flex' }, options('gpt-4.1')));

      expect(emulator.requests[0]?.body).toMatchObject({ service_tier: 'fast', messages: [{ role: 'developer' }, { role: 'user' }] });
      expect(result.serviceTier).toBe('priority');
      expect(result.warnings).toEqual([]);
      expect(parts.find((part) => part.type === 'usage')).toMatchObject({ serviceTier: 'flex' });
    });

    it('derives prompt_cache_key from the cache key hint unless the client sent one', async () => {
      const { emulator, adapter } = await setUp('openai', { provider: 'openai', flavour: 'openai' });

      await adapter.generate(HELLO, options('gpt-4.1', { cacheKeyHint: 'tenant-a:alias-b' }));
      await adapter.generate({ ...HELLO, prompt_cache_key: 'client-key' }, options('gpt-4.1', { cacheKeyHint: 'tenant-a:alias-b' }));

      expect(emulator.requests.map((request) => (request.body as { prompt_cache_key?: string }).prompt_cache_key)).toEqual(['tenant-a:alias-b', 'client-key']);
    });

    it('forwards caller headers but never lets them replace the credential', async () => {
      const { emulator, adapter } = await setUp('openai', { provider: 'openai', flavour: 'openai' });

      await adapter.generate(HELLO, options('gpt-4.1', { headers: { Authorization: 'Bearer someone-else', 'x-trace-id': 't-1' } }));

      expect(emulator.requests[0]?.headers).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'x-trace-id': 't-1' });
    });

    it('keeps the client’s include_obfuscation choice while forcing include_usage', async () => {
      const { emulator, adapter } = await setUp('openai', { provider: 'openai', flavour: 'openai' });

      await collectParts(adapter.stream({ ...HELLO, stream_options: { include_obfuscation: false } }, options('gpt-4.1')));

      expect(emulator.requests[0]?.body).toMatchObject({ stream_options: { include_obfuscation: false, include_usage: true } });
    });
  });

  describe('xai flavour', () => {
    it('maps developer to system, drops an unsupported tier and routes the cache key to x-grok-conv-id', async () => {
      const { emulator, adapter } = await setUp('xai', { provider: 'xai', flavour: 'xai' });

      const result = await adapter.generate({ ...HELLO, service_tier: 'flex' }, options('grok-4.3', { cacheKeyHint: 'conv-42' }));

      const received = emulator.requests[0]!;
      expect(received.body).toMatchObject({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user' }] });
      expect(received.body).not.toHaveProperty('service_tier');
      expect(received.headers['x-grok-conv-id']).toBe('conv-42');
      expect(result.warnings.map((warning) => warning.setting)).toEqual(['messages.role', 'service_tier']);
    });

    it('maps end_turn to stop and keeps the raw value', async () => {
      const { emulator, adapter } = await setUp('xai', { provider: 'xai', flavour: 'xai' });
      emulator.setReply({ finishReason: 'end_turn' });

      const result = await adapter.generate(HELLO, options('grok-4.3'));

      expect(result.choices[0]).toMatchObject({ finish_reason: 'stop', raw_finish_reason: 'end_turn' });
    });

    it('adds reasoning back into completion_tokens (xAI leaves it out) so totals add up', async () => {
      const { emulator, adapter } = await setUp('xai', { provider: 'xai', flavour: 'xai' });
      emulator.setReply({ promptTokens: 12, completionTokens: 1, reasoningTokens: 228, cachedTokens: 2 });

      const result = await adapter.generate(HELLO, options('grok-3-mini'));

      expect(result.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 229, total_tokens: 241 });
    });
  });

  describe('fireworks flavour', () => {
    it('sends max_tokens, forwards priority, drops flex with a warning and sets x-session-affinity', async () => {
      const { emulator, adapter } = await setUp('fireworks', { provider: 'fireworks', flavour: 'fireworks' });

      await adapter.generate({ ...HELLO, max_completion_tokens: 64, service_tier: 'priority' }, options('accounts/fireworks/models/x', { cacheKeyHint: 's-1' }));
      const flex = await adapter.generate({ ...HELLO, service_tier: 'flex' }, options('accounts/fireworks/models/x'));

      expect(emulator.requests[0]?.body).toMatchObject({ max_tokens: 64, service_tier: 'priority' });
      expect(emulator.requests[0]?.body).not.toHaveProperty('max_completion_tokens');
      expect(emulator.requests[0]?.headers['x-session-affinity']).toBe('s-1');
      expect(emulator.requests[1]?.body).not.toHaveProperty('service_tier');
      expect(flex.warnings.map((warning) => warning.setting)).toContain('service_tier');
    });
  });

  describe('openrouter flavour', () => {
    it('pins the bridge to one provider with no fallbacks and no data collection', async () => {
      const { emulator, adapter } = await setUp('openrouter', { provider: 'openrouter', flavour: 'openrouter', openRouterProvider: 'anthropic' });

      await adapter.generate({ ...HELLO, models: ['a/b', 'c/d'] }, options('anthropic/claude-haiku-4.5'));

      const body = emulator.requests[0]?.body as Record<string, unknown>;
      expect(body.provider).toEqual({ order: ['anthropic'], allow_fallbacks: false, data_collection: 'deny' });
      expect(body).not.toHaveProperty('models');
    });
  });

  describe('subscription flavour', () => {
    it('always asks for the subscribed tier', async () => {
      const { emulator, adapter } = await setUp('openai', { provider: 'acme-scale', flavour: 'subscription', serviceTierOverride: 'scale' });

      const result = await adapter.generate({ ...HELLO, service_tier: 'flex' }, options('gpt-4.1'));

      expect(emulator.requests[0]?.body).toMatchObject({ service_tier: 'scale' });
      expect(result.serviceTier).toBe('scale');
    });
  });
});

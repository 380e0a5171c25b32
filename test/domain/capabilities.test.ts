import {
  builtInManifest, costUsd, estimatePromptTokens, manifestFor, modelCapability, supportsAssistantPrefill, tierMultiplier, type CapabilityManifest,
} from '../../src/domain/capabilities';
import type { ChatRequest, ChatUsage } from '../../src/contract/chat';

const manifest: CapabilityManifest = {
  revision: 'cap_test',
  models: {
    'openai/gpt-5': { contextWindow: 400_000, price: { input: 1, output: 8 } },
    'openai/gpt-5.4': { contextWindow: 1_050_000, price: { input: 2, cachedInput: 0.2, cacheWrite: 2.5, output: 10 }, tiers: { flex: 0.5, priority: 2, batch: 0.5 } },
    'openai/gpt-5.4-mini': { contextWindow: 400_000, price: { input: 0.5, output: 4 } },
    'openai/unpriced': { contextWindow: 1_000 },
  },
};

const usage = (prompt: number, completion: number, cached = 0, written = 0): ChatUsage => ({
  prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: written },
});

describe('supportsAssistantPrefill', () => {
  it('is true for Anthropic models (the Messages API continues a trailing assistant turn) and false for OpenAI ones', () => {
    const manifest = builtInManifest();
    expect(supportsAssistantPrefill(manifest, 'anthropic', 'claude-haiku-4-5')).toBe(true);
    expect(supportsAssistantPrefill(manifest, 'anthropic', 'claude-model-not-in-the-manifest')).toBe(true);
    expect(supportsAssistantPrefill(manifest, 'openai', 'gpt-4o-mini')).toBe(false);
  });

  it('follows the manifest where it says, for an OpenAI-compatible model that accepts a trailing assistant message', () => {
    const manifest = { revision: 'cap_test', models: { 'byoc-vllm/llama': { assistantPrefill: true }, 'anthropic/claude-x': { assistantPrefill: false } } };
    expect(supportsAssistantPrefill(manifest, 'byoc-vllm', 'llama')).toBe(true);
    expect(supportsAssistantPrefill(manifest, 'anthropic', 'claude-x')).toBe(false);
  });
});

describe('manifestFor', () => {
  it('returns the built-in manifest for cap_custom', () => {
    expect(manifestFor('cap_custom')).toBe(builtInManifest());
    expect(builtInManifest().revision).toBe('cap_custom');
  });

  it('falls back to the built-in manifest for an unknown revision', () => {
    expect(manifestFor('cap_2031_unknown')).toBe(builtInManifest());
  });
});

describe('builtInManifest()', () => {
  it.each([
    ['openai', 'gpt-5.4'], ['openai', 'gpt-5.6'], ['openai', 'o3'], ['openai', 'o4-mini'], ['openai', 'gpt-4o-mini'],
    ['anthropic', 'claude-opus-4-8'], ['anthropic', 'claude-sonnet-5'], ['anthropic', 'claude-haiku-4-5-20251001'], ['anthropic', 'claude-opus-5'],
    ['gemini', 'gemini-3.5-flash'], ['gemini', 'gemini-2.5-pro'], ['xai', 'grok-4.3'], ['xai', 'grok-4.20-reasoning'],
    ['fireworks', 'accounts/fireworks/models/kimi-k2-instruct-0905'],
  ])('knows the context window and list price of %s/%s', (provider, model) => {
    const capability = modelCapability(builtInManifest(), provider, model);
    expect(capability?.contextWindow).toBeGreaterThan(100_000);
    expect(capability?.price?.input).toBeGreaterThan(0);
    expect(capability?.price?.output).toBeGreaterThanOrEqual(capability!.price!.input);
  });

  it('prices every model with output and input (but those the provider reference gives no price for), and cache reads below input', () => {
    const unpriced = new Set(['anthropic/claude-fable-5']);
    for (const [key, capability] of Object.entries(builtInManifest().models).filter(([key]) => !unpriced.has(key))) {
      expect([key, capability.price !== undefined]).toEqual([key, true]);
      const { input, cachedInput } = capability.price!;
      if (cachedInput !== undefined) expect([key, cachedInput < input]).toEqual([key, true]);
    }
  });

  it('uses the tier multipliers of the provider reference', () => {
    expect(modelCapability(builtInManifest(), 'openai', 'gpt-5.4')?.tiers).toEqual({ flex: 0.5, scale: 1, priority: 2, batch: 0.5 });
    expect(modelCapability(builtInManifest(), 'gemini', 'gemini-3.5-flash')?.tiers).toMatchObject({ flex: 0.5, batch: 0.5 });
    expect(modelCapability(builtInManifest(), 'anthropic', 'claude-sonnet-5')?.tiers).toEqual({ priority: 1, batch: 0.5 });
  });

  it('bills Anthropic cache reads at 0.1× and cache writes at 1.25× input, and OpenAI gpt-5.6 cache writes at 1.25×', () => {
    expect(modelCapability(builtInManifest(), 'anthropic', 'claude-sonnet-5')?.price).toEqual({ input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 });
    const gpt56 = modelCapability(builtInManifest(), 'openai', 'gpt-5.6')!.price!;
    expect(gpt56.cacheWrite).toBeCloseTo(gpt56.input * 1.25, 10);
    expect(modelCapability(builtInManifest(), 'openai', 'gpt-5.4')!.price!.cacheWrite).toBeUndefined();
  });
});

describe('modelCapability', () => {
  it('finds the exact provider/model key', () => {
    expect(modelCapability(manifest, 'openai', 'gpt-5.4-mini')?.price?.input).toBe(0.5);
  });

  it('matches a dated snapshot by its longest known prefix', () => {
    expect(modelCapability(manifest, 'openai', 'gpt-5.4-2026-03-05')?.contextWindow).toBe(1_050_000);
    expect(modelCapability(manifest, 'openai', 'gpt-5.4-mini-2026-03-17')?.price?.input).toBe(0.5);
    expect(modelCapability(builtInManifest(), 'anthropic', 'claude-haiku-4-5-20251001')).toBe(builtInManifest().models['anthropic/claude-haiku-4-5']);
  });

  it('does not match a different model that merely starts with a known id', () => {
    expect(modelCapability(manifest, 'openai', 'gpt-5.9')).toBeUndefined();
    expect(modelCapability(manifest, 'openai', 'gpt-50')).toBeUndefined();
  });

  it('does not match another provider\'s model of the same name', () => {
    expect(modelCapability(manifest, 'openrouter', 'gpt-5.4')).toBeUndefined();
  });

  it('accepts Gemini model ids with their models/ prefix', () => {
    expect(modelCapability(builtInManifest(), 'gemini', 'models/gemini-3.5-flash')).toBe(builtInManifest().models['gemini/gemini-3.5-flash']);
  });
});

describe('tierMultiplier', () => {
  it('is 1 for default, auto, standard, unknown or missing tiers and for tiers the model does not list', () => {
    const capability = manifest.models['openai/gpt-5.4']!;
    for (const tier of ['default', 'auto', 'standard', 'scale', null, undefined]) expect(tierMultiplier(capability, tier)).toBe(1);
    expect(tierMultiplier(manifest.models['openai/gpt-5']!, 'priority')).toBe(1);
    expect(tierMultiplier(capability, 'fast')).toBe(2);
  });
});

describe('costUsd', () => {
  it('prices uncached prompt, cache reads, cache writes and completion tokens per million', () => {
    // 1M prompt of which 200k cached and 100k written: 700k·2 + 200k·0.2 + 100k·2.5 + 500k·10 = 1.4 + 0.04 + 0.25 + 5
    expect(costUsd(manifest, 'openai', 'gpt-5.4', usage(1_000_000, 500_000, 200_000, 100_000))).toBeCloseTo(6.69, 10);
  });

  it('falls back to the input price when the model has no cache prices', () => {
    expect(costUsd(manifest, 'openai', 'gpt-5', usage(1_000, 100, 400, 100))).toBeCloseTo((1_000 * 1 + 100 * 8) / 1e6, 12);
  });

  it.each([['flex', 0.5], ['batch', 0.5], ['priority', 2], ['default', 1], ['auto', 1], [null, 1]])('applies the %s tier multiplier (%d)', (tier, multiplier) => {
    expect(costUsd(manifest, 'openai', 'gpt-5.4', usage(1_000_000, 0), tier)).toBeCloseTo(2 * multiplier, 10);
  });

  it('is null when the model or its price is unknown', () => {
    expect(costUsd(manifest, 'openai', 'gpt-9', usage(10, 10))).toBeNull();
    expect(costUsd(manifest, 'openai', 'unpriced', usage(10, 10))).toBeNull();
  });

  it('prices a dated snapshot at its model\'s price', () => {
    expect(costUsd(manifest, 'openai', 'gpt-5.4-2026-03-05', usage(1_000_000, 0))).toBeCloseTo(2, 10);
  });
});

describe('estimatePromptTokens', () => {
  const text = (length: number) => 'x'.repeat(length);

  it('counts about four characters a token plus four per message', () => {
    expect(estimatePromptTokens({ messages: [{ role: 'system', content: text(10) }, { role: 'user', content: text(30) }] })).toBe(10 + 8);
  });

  it('counts text parts and 85 tokens per image part', () => {
    const body: ChatRequest = {
      messages: [{ role: 'user', content: [
        { type: 'text', text: text(40) },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,' + text(100_000) } },
        { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
      ] }],
    };
    expect(estimatePromptTokens(body)).toBe(10 + 2 * 85 + 4);
  });

  it('counts tool definitions as JSON and assistant tool calls', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const body: ChatRequest = {
      messages: [
        { role: 'user', content: text(8) },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: text(12) },
      ],
      tools,
    };
    const characters = 8 + 'get_weather'.length + '{"city":"Oslo"}'.length + 12 + JSON.stringify(tools).length;
    expect(estimatePromptTokens(body)).toBe(Math.ceil(characters / 4) + 3 * 4);
  });

  it('grows with the prompt, so a long prompt skips small-window targets', () => {
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: text(800_000) }] })).toBe(200_004);
  });
});

describe('manifest facts of issue 10', () => {
  const manifest = builtInManifest();
  const usage = { prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 };

  it('admits a 2M-token prompt on the Gemini model Google offers it on, and not on the 1M ones', () => {
    expect(modelCapability(manifest, 'gemini', 'gemini-1.5-pro-002')?.contextWindow).toBe(2_097_152);
    expect(modelCapability(manifest, 'gemini', 'models/gemini-2.5-pro')?.contextWindow).toBe(1_048_576);
  });

  it('knows Claude Fable 5 (tools, vision, prefill) without inventing its price or window', () => {
    const fable = modelCapability(manifest, 'anthropic', 'claude-fable-5');
    expect(fable).toMatchObject({ tools: true, vision: true, assistantPrefill: true });
    expect(fable?.price).toBeUndefined();
    expect(fable?.contextWindow).toBeUndefined();
    expect(costUsd(manifest, 'anthropic', 'claude-fable-5', usage)).toBeNull();
  });

  it("models OpenAI's scale tier and prices its tokens at list (committed capacity)", () => {
    expect(modelCapability(manifest, 'openai', 'gpt-4o-mini')?.tiers?.scale).toBe(1);
    expect(costUsd(manifest, 'openai', 'gpt-5.4', usage, 'scale')).toBe(costUsd(manifest, 'openai', 'gpt-5.4', usage, 'default'));
    expect(costUsd(manifest, 'openai', 'gpt-5.4', usage, 'priority')).toBe(2 * costUsd(manifest, 'openai', 'gpt-5.4', usage, 'default')!);
  });

  it('prices no batch discount that is unused (Fireworks) or unpublished (xAI), nor a dedicated deployment per token', () => {
    for (const [provider, model] of [['fireworks', 'accounts/fireworks/models/gpt-oss-120b'], ['xai', 'grok-4.3']]) {
      expect(modelCapability(manifest, provider!, model!)?.tiers?.batch).toBeUndefined();
      expect(costUsd(manifest, provider!, model!, usage, 'batch')).toBe(costUsd(manifest, provider!, model!, usage, 'default'));
    }
    expect(costUsd(manifest, 'fireworks', 'accounts/acme/deployments/dep-1', usage)).toBeNull();
    expect(costUsd(manifest, 'fireworks', 'accounts/fireworks/models/gpt-oss-120b#accounts/acme/deployments/dep-1', usage)).toBeNull();
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { AnthropicAdapter } from '../../src/providers/anthropic/anthropic-adapter';
import { GeminiAdapter } from '../../src/providers/gemini/gemini-adapter';
import { OpenAICompatibleAdapter } from '../../src/providers/openai-compatible/openai-compatible-adapter';
import { ProviderDirectory, UnknownProviderError } from '../../src/providers/provider-directory';
import { parseProvidersFile, ProvidersFileError } from '../../src/providers/providers-file';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';

const FILE = {
  providers: {
    openai: { regions: [{ region: 'eu', baseUrl: 'https://eu.api.openai.test/v1' }] },
    openrouter: { pinnedProvider: 'anthropic' },
  },
  byocEndpoints: {
    'acme-gpu': { profile: 'byoc_epp', baseUrl: 'https://llm.acme.test/v1' },
    'acme-scale': { profile: 'subscription', serviceTier: 'scale', regions: [{ region: 'us', baseUrl: 'https://a.test/v1' }, { region: 'eu', baseUrl: 'https://b.test/v1' }] },
  },
};

describe('ProviderDirectory', () => {
  const directories: ProviderDirectory[] = [];
  const make = (...args: ConstructorParameters<typeof ProviderDirectory>) => {
    const directory = new ProviderDirectory(...args);
    directories.push(directory);
    return directory;
  };
  afterAll(async () => { await Promise.all(directories.map((directory) => directory.close())); });

  it('has one default region per built-in provider, on the public URL unless the environment overrides it', () => {
    const directory = make({ providers: { xai: { baseUrl: 'http://127.0.0.1:9/v1' } } });

    expect(directory.providers()).toEqual(['openai', 'xai', 'fireworks', 'openrouter', 'anthropic', 'gemini']);
    expect(directory.regions('openai')).toEqual(['default']);
    expect(directory.adapter('openai')).toBeInstanceOf(OpenAICompatibleAdapter);
    expect(directory.adapter('anthropic')).toBeInstanceOf(AnthropicAdapter);
    expect(directory.adapter('gemini')).toBeInstanceOf(GeminiAdapter);
    expect((directory.adapter('fireworks') as OpenAICompatibleAdapter).flavour.flavour).toBe('fireworks');
  });

  it('extends regions and adds BYOC endpoints from the providers file, one dispatcher per region', () => {
    const created: string[] = [];
    const folder = mkdtempSync(path.join(tmpdir(), 'zumik-providers-'));
    writeFileSync(path.join(folder, 'providers.json'), JSON.stringify(FILE));
    const directory = make({ providersFile: path.join(folder, 'providers.json'), createDispatcher: (provider, region) => {
      created.push(`${provider}/${region}`);
      return new Agent();
    } });

    expect(directory.regions('openai')).toEqual(['default', 'eu']);
    expect(directory.regions('acme-scale')).toEqual(['us', 'eu']);
    const epp = directory.adapter('acme-gpu') as OpenAICompatibleAdapter;
    expect(epp.provider).toBe('acme-gpu');
    expect(epp.flavour).toMatchObject({ flavour: 'byoc_epp', statusKinds: { 429: 'overloaded' } });
    expect((directory.adapter('acme-scale', 'eu') as OpenAICompatibleAdapter).flavour.serviceTierOverride).toBe('scale');
    expect((directory.adapter('openrouter') as OpenAICompatibleAdapter).flavour.openRouterProvider).toBe('anthropic');
    expect(directory.adapter('openai', 'eu')).toBe(directory.adapter('openai', 'eu'));
    expect(directory.adapter('openai', 'eu')).not.toBe(directory.adapter('openai'));
    expect(created).toEqual(['acme-gpu/default', 'acme-scale/eu', 'openrouter/default', 'openai/eu', 'openai/default']);
  });

  it('throws UnknownProviderError for an unknown provider or region', () => {
    const directory = make();

    expect(() => directory.adapter('nope')).toThrow(UnknownProviderError);
    expect(() => directory.adapter('openai', 'mars')).toThrow('provider openai has no region mars');
  });

  it('serves real calls through the region’s base URL', async () => {
    const emulator = await new OpenAICompatibleEmulator({ flavour: 'byoc', apiKey: 'k' }).start();
    try {
      const directory = make({ file: parseProvidersFile({ byocEndpoints: { lab: { profile: 'byoc_dynamo', baseUrl: emulator.baseUrl } } }) });

      const result = await directory.adapter('lab').generate({ messages: [{ role: 'user', content: 'hi' }] }, { model: 'llama', credential: { apiKey: 'k' } });

      expect(result.choices[0]?.message.content).toBe('Hello from the emulator.');
      expect(emulator.requests[0]?.path).toBe('/v1/chat/completions');
    } finally {
      await emulator.close();
    }
  });
});

describe('parseProvidersFile', () => {
  it('names every bad field', () => {
    const attempt = () => parseProvidersFile({
      providers: { openai: { regions: [{ region: 'a', baseUrl: 'not a url' }] }, mistral: {} },
      byocEndpoints: { openai: { profile: 'byoc_epp', baseUrl: 'https://x.test' }, lab: { profile: 'managed', baseUrl: 'https://y.test' } },
    });

    expect(attempt).toThrow(ProvidersFileError);
    expect(attempt).toThrow(/providers\.openai\.regions\.0\.baseUrl/);
    expect(attempt).toThrow(/mistral/);
    expect(attempt).toThrow(/byocEndpoints\.lab\.profile/);
  });

  it('rejects a BYOC endpoint named like a built-in provider and one with neither baseUrl nor regions', () => {
    expect(() => parseProvidersFile({ byocEndpoints: { openai: { profile: 'byoc_epp', baseUrl: 'https://x.test' } } })).toThrow(/built-in provider/);
    expect(() => parseProvidersFile({ byocEndpoints: { lab: { profile: 'byoc_epp' } } })).toThrow(/either baseUrl or regions/);
  });
});

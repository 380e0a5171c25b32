/**
 * Builds and caches the adapter for each (provider, region): one undici dispatcher (keep-alive pool)
 * per region, base URLs from the environment with the providers' public defaults, extended by
 * `ZUMIK_PROVIDERS_FILE` (more regions, BYOC and subscription endpoints). The activity asks it for
 * the adapter of the attempt's target; nothing else constructs adapters.
 */
import type { Dispatcher } from 'undici';
import { BIFROST_REGION } from '../domain/attempt-plan';
import { AnthropicAdapter } from './anthropic/anthropic-adapter';
import { AnthropicBatchAdapter } from './batch/anthropic-batch-adapter';
import type { BatchCapableAdapter } from './batch/batch-types';
import { GeminiBatchAdapter } from './batch/gemini-batch-adapter';
import { OpenAIBatchAdapter } from './batch/openai-batch-adapter';
import { XaiBatchAdapter } from './batch/xai-batch-adapter';
import { GeminiAdapter } from './gemini/gemini-adapter';
import { OpenAICompatibleAdapter } from './openai-compatible/openai-compatible-adapter';
import type { OpenAICompatibleFlavourName } from './openai-compatible/openai-compatible-flavours';
import { BUILTIN_PROVIDERS, loadProvidersFile, ProvidersFileError, type BuiltinProvider, type ProvidersFile } from './providers-file';
import type { ProviderAdapter } from './types';
import { createUpstreamDispatcher } from './upstream-http';

export const DEFAULT_BASE_URLS: Record<BuiltinProvider, string> = {
  openai: 'https://api.openai.com/v1',
  xai: 'https://api.x.ai/v1',
  fireworks: 'https://api.fireworks.ai/inference/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

export const DEFAULT_REGION = 'default';

export interface ProviderRegion {
  region: string;
  baseUrl: string;
}

/** How one provider (built-in or BYOC endpoint) is reached. */
interface ProviderEntry {
  kind: 'anthropic' | 'gemini' | OpenAICompatibleFlavourName;
  regions: ProviderRegion[];
  serviceTier?: string;
  pinnedProvider?: string;
}

export interface ProviderDirectoryOptions {
  /** Base URL overrides from the environment (`OPENAI_BASE_URL`, …), as `Config.providers` carries them. */
  providers?: Partial<Record<BuiltinProvider, { baseUrl?: string }>>;
  /** `ZUMIK_PROVIDERS_FILE`: read and validated at construction. */
  providersFile?: string;
  /** An already parsed file (tests, or configuration from elsewhere); wins over `providersFile`. */
  file?: ProvidersFile;
  /** `ZUMIK_BIFROST_URL`: the Bifrost deployment's base URL (wins over the file's). */
  bifrostUrl?: string;
  /** One dispatcher per region; replaceable for tests and tuning. */
  createDispatcher?: (provider: string, region: string) => Dispatcher;
}

/** Thrown when a target names a provider or region the directory does not know: a configuration error. */
export class UnknownProviderError extends Error {
  constructor(readonly provider: string, readonly region?: string) {
    super(region === undefined ? `unknown provider ${provider}` : `provider ${provider} has no region ${region}`);
    this.name = 'UnknownProviderError';
  }
}

export class ProviderDirectory {
  private readonly entries = new Map<string, ProviderEntry>();
  private readonly adapters = new Map<string, ProviderAdapter>();
  private readonly batchAdapters = new Map<string, BatchCapableAdapter>();
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly createDispatcher: (provider: string, region: string) => Dispatcher;
  private readonly bifrost?: { baseUrl: string; providers: ReadonlySet<string> };

  constructor(options: ProviderDirectoryOptions = {}) {
    this.createDispatcher = options.createDispatcher ?? (() => createUpstreamDispatcher());
    const file = options.file ?? (options.providersFile ? loadProvidersFile(options.providersFile) : undefined);
    for (const provider of BUILTIN_PROVIDERS) {
      const fromEnvironment = { region: DEFAULT_REGION, baseUrl: options.providers?.[provider]?.baseUrl ?? DEFAULT_BASE_URLS[provider] };
      const fileEntry = file?.providers[provider];
      this.entries.set(provider, {
        kind: provider,
        regions: mergeRegions([fromEnvironment], fileEntry?.regions ?? []),
        pinnedProvider: provider === 'openrouter' ? file?.providers.openrouter?.pinnedProvider : undefined,
      });
    }
    for (const [id, endpoint] of Object.entries(file?.byocEndpoints ?? {})) {
      const regions = endpoint.regions ?? [{ region: DEFAULT_REGION, baseUrl: endpoint.baseUrl! }];
      this.entries.set(id, { kind: endpoint.profile, regions, serviceTier: endpoint.serviceTier });
    }
    if (file?.bifrost) {
      const bifrostUrl = options.bifrostUrl ?? file.bifrost.baseUrl;
      if (!bifrostUrl) throw new ProvidersFileError(options.providersFile ?? 'providers file', ['bifrost.baseUrl: give it here or in ZUMIK_BIFROST_URL']);
      this.bifrost = { baseUrl: bifrostUrl, providers: new Set(file.bifrost.providers) };
    }
  }

  /** Whether a managed target of this provider is served through the Bifrost deployment (ZUMIK_PROVIDERS_FILE `bifrost`). */
  viaBifrost(provider: string): boolean {
    return this.bifrost?.providers.has(provider) ?? false;
  }

  /**
   * The adapter that reaches a managed provider through Bifrost: flavour `bifrost`, failures and records under
   * the real provider's name, its models sent as `provider/model`. One pool for the deployment, whose one region
   * is `bifrost` (BIFROST_REGION): the plan gives such targets that region, so their circuits are Bifrost's own.
   */
  bifrostAdapter(provider: string): ProviderAdapter {
    if (!this.bifrost || !this.viaBifrost(provider)) throw new UnknownProviderError(`${provider} via bifrost`);
    const key = `bifrost\u0000${provider}`;
    let adapter = this.adapters.get(key);
    if (!adapter) {
      adapter = new OpenAICompatibleAdapter({
        provider, flavour: 'bifrost', modelPrefix: provider, baseUrl: this.bifrost.baseUrl,
        dispatcher: this.dispatcher('bifrost\u0000', 'bifrost', BIFROST_REGION),
      });
      this.adapters.set(key, adapter);
    }
    return adapter;
  }

  /** Every provider name a target may use: the built-in ones and the BYOC endpoint ids. */
  providers(): string[] {
    return [...this.entries.keys()];
  }

  /** The provider's regions, the default (first) one first, for failover planning. */
  regions(provider: string): string[] {
    return this.entry(provider).regions.map((entry) => entry.region);
  }

  /** The adapter for a provider in a region (default: its first region); built once, then shared. */
  adapter(provider: string, region?: string): ProviderAdapter {
    const entry = this.entry(provider);
    const target = region === undefined ? entry.regions[0] : entry.regions.find((candidate) => candidate.region === region);
    if (!target) throw new UnknownProviderError(provider, region);
    const key = `${provider}\u0000${target.region}`;
    let adapter = this.adapters.get(key);
    if (!adapter) {
      adapter = this.build(provider, entry, target, this.dispatcher(key, provider, target.region));
      this.adapters.set(key, adapter);
    }
    return adapter;
  }

  /**
   * The provider's native batch API in a region (default: its first), or undefined when it has none
   * Zumik speaks (OpenAI Batch, Anthropic Message Batches, Gemini batch mode do; xAI, Fireworks,
   * OpenRouter and BYOC endpoints do not). Shares the region's pool with the online adapter.
   */
  batchAdapter(provider: string, region?: string): BatchCapableAdapter | undefined {
    const entry = this.entry(provider);
    const target = region === undefined ? entry.regions[0] : entry.regions.find((candidate) => candidate.region === region);
    if (!target) throw new UnknownProviderError(provider, region);
    if (entry.kind !== 'openai' && entry.kind !== 'anthropic' && entry.kind !== 'gemini' && entry.kind !== 'xai') return undefined;
    const key = `${provider}\u0000${target.region}`;
    let adapter = this.batchAdapters.get(key);
    if (!adapter) {
      const options = { baseUrl: target.baseUrl, dispatcher: this.dispatcher(key, provider, target.region) };
      adapter = entry.kind === 'anthropic' ? new AnthropicBatchAdapter(options)
        : entry.kind === 'gemini' ? new GeminiBatchAdapter(options)
          : entry.kind === 'xai' ? new XaiBatchAdapter(options) : new OpenAIBatchAdapter({ ...options, provider });
      this.batchAdapters.set(key, adapter);
    }
    return adapter;
  }

  /** Close every pool (graceful shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.dispatchers.values()].map((dispatcher) => dispatcher.close()));
    this.dispatchers.clear();
    this.adapters.clear();
    this.batchAdapters.clear();
  }

  private entry(provider: string): ProviderEntry {
    const entry = this.entries.get(provider);
    if (!entry) throw new UnknownProviderError(provider);
    return entry;
  }

  private dispatcher(key: string, provider: string, region: string): Dispatcher {
    let dispatcher = this.dispatchers.get(key);
    if (!dispatcher) this.dispatchers.set(key, dispatcher = this.createDispatcher(provider, region));
    return dispatcher;
  }

  private build(provider: string, entry: ProviderEntry, target: ProviderRegion, dispatcher: Dispatcher): ProviderAdapter {
    if (entry.kind === 'anthropic') return new AnthropicAdapter({ baseUrl: target.baseUrl, dispatcher });
    if (entry.kind === 'gemini') return new GeminiAdapter({ baseUrl: target.baseUrl, dispatcher });
    return new OpenAICompatibleAdapter({
      provider, flavour: entry.kind, baseUrl: target.baseUrl, dispatcher,
      serviceTierOverride: entry.serviceTier, openRouterProvider: entry.pinnedProvider,
    });
  }
}

/** File regions extend the environment's: a same-named region replaces it, others are appended. */
function mergeRegions(base: ProviderRegion[], extra: ProviderRegion[]): ProviderRegion[] {
  const merged = base.map((entry) => extra.find((candidate) => candidate.region === entry.region) ?? entry);
  return [...merged, ...extra.filter((candidate) => !merged.some((entry) => entry.region === candidate.region))];
}

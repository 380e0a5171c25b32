/**
 * Which adapter serves an attempt: the provider directory's (built-in providers and BYOC endpoints
 * from ZUMIK_PROVIDERS_FILE, one pool per region; a managed target whose credential says `via: bifrost`
 * the directory's Bifrost adapter), or, for a tenant's own endpoint registered through
 * the API, an OpenAI-compatible adapter on that endpoint's base URL (built once per URL and profile),
 * whose connections must pass the egress rules (src/net/egress-policy.ts): a customer-supplied URL
 * never reaches the deployment's own network unless the operator allows it.
 */
import type { Dispatcher } from 'undici';
import { BIFROST_REGION } from '../src/domain/attempt-plan';
import type { PlannedAttempt } from '../src/domain/request-outcome';
import { EgressPolicy } from '../src/net/egress-policy';
import { ProviderError } from '../src/providers/provider-error';
import { OpenAICompatibleAdapter } from '../src/providers/openai-compatible/openai-compatible-adapter';
import type { ProviderDirectory } from '../src/providers/provider-directory';
import type { ProviderAdapter } from '../src/providers/types';
import { createUpstreamDispatcher } from '../src/providers/upstream-http';

export interface ResolvedEndpoint {
  baseUrl?: string;
  flavour?: 'byoc_dynamo' | 'byoc_epp' | 'subscription';
  /** A managed target the credential resolver sends through the Bifrost deployment. */
  via?: 'bifrost';
}

export class AttemptAdapters {
  private readonly endpointAdapters = new Map<string, ProviderAdapter>();
  private readonly dispatchers: Dispatcher[] = [];

  constructor(private readonly directory: ProviderDirectory, private readonly egress = new EgressPolicy()) {}

  forAttempt(attempt: PlannedAttempt, endpoint: ResolvedEndpoint): ProviderAdapter {
    if (endpoint.via === 'bifrost') return this.directory.bifrostAdapter(attempt.provider);
    if (attempt.region === BIFROST_REGION && attempt.execution_profile === 'managed_provider' && !this.directory.regions(attempt.provider).includes(BIFROST_REGION)) {
      // Planned through Bifrost by a process whose configuration serves this provider there; this one does not.
      throw new ProviderError(`${attempt.provider}: planned through Bifrost, which this worker's configuration does not serve it through (the providers file's bifrost entry)`,
        { kind: 'no_credentials', provider: attempt.provider });
    }
    if (!endpoint.baseUrl) return this.directory.adapter(attempt.provider, attempt.region === 'default' ? undefined : attempt.region);
    if (new URL(endpoint.baseUrl).protocol !== 'https:' && !this.egress.allowHttp) {
      throw new ProviderError(`${attempt.provider}: plain http to a customer endpoint is refused by the egress rules; an operator may allow it with ZUMIK_EGRESS_ALLOW`,
        { kind: 'egress_refused', provider: attempt.provider });
    }
    const flavour = endpoint.flavour ?? 'byoc_dynamo';
    const key = `${attempt.provider}\u0000${flavour}\u0000${endpoint.baseUrl}`;
    let adapter = this.endpointAdapters.get(key);
    if (!adapter) {
      const dispatcher = createUpstreamDispatcher({ egress: this.egress });
      this.dispatchers.push(dispatcher);
      adapter = new OpenAICompatibleAdapter({ provider: attempt.provider, flavour, baseUrl: endpoint.baseUrl, dispatcher });
      this.endpointAdapters.set(key, adapter);
    }
    return adapter;
  }

  async close(): Promise<void> {
    await Promise.all(this.dispatchers.map((dispatcher) => dispatcher.close()));
    await this.directory.close();
  }
}

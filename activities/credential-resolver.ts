/**
 * Resolves the credential of one attempt, by reference, inside the activity that makes the call:
 * secrets never travel in workflow inputs, results or history (DESIGN.md §4). `managed_provider` uses
 * Zumik's own key from the environment; `byok` the tenant's sealed key for that provider; the BYOC and
 * subscription profiles the tenant's endpoint whose id the release target names as its `provider`.
 * Errors name the tenant, profile and provider, never a secret.
 */
import type { Config } from '../src/config';
import type { ExecutionProfile } from '../src/domain/model-alias';
import { SecretBoxError, type SecretBox } from '../src/secrets/secret-box';
import type { ByocEndpointRepository, EndpointProfile } from '../src/store/byoc-endpoint-repository';
import type { CredentialRepository, SealedSecret } from '../src/store/credential-repository';

export interface ResolvedCredential {
  apiKey: string;
  /** Set for tenant endpoints only; built-in providers are reached through the ProviderDirectory's regions. */
  baseUrl?: string;
  /** Which kind of tenant endpoint serves the call (tenant endpoints only). */
  flavour?: EndpointProfile;
  /** A managed target served through the Bifrost deployment: `apiKey` is then its virtual key. */
  via?: 'bifrost';
}

/** The Bifrost deployment as the resolver sees it: which managed providers it serves, and its virtual key. */
export interface BifrostCredential {
  serves(provider: string): boolean;
  virtualKey?: string;
}

export type CredentialUnavailableReason =
  /** Nothing is configured for this provider or endpoint. */
  | 'not_configured'
  /** The endpoint exists but is registered under another profile than the release target says. */
  | 'profile_mismatch'
  /** A stored secret exists but cannot be opened (other master key, tampering): an operator problem. */
  | 'unreadable';

/** Thrown when an attempt's target has no usable credential; retrying cannot help until an admin configures one. */
export class CredentialUnavailableError extends Error {
  constructor(readonly tenantId: string, readonly executionProfile: ExecutionProfile, readonly provider: string,
    readonly reason: CredentialUnavailableReason, detail: string, options?: { cause?: unknown }) {
    super(`no usable credential for provider ${provider} (execution profile ${executionProfile}, tenant ${tenantId}): ${detail}`, options);
    this.name = 'CredentialUnavailableError';
  }
}

export interface CredentialResolverDeps {
  providers: Config['providers'];
  credentials: Pick<CredentialRepository, 'findSealed'>;
  endpoints: Pick<ByocEndpointRepository, 'findSealed'>;
  secretBox: SecretBox;
  bifrost?: BifrostCredential;
}

export interface ResolveCredentialInput {
  tenantId: string;
  executionProfile: ExecutionProfile;
  /** A built-in provider, or for the BYOC and subscription profiles the id of the tenant's endpoint. */
  provider: string;
}

export class CredentialResolver {
  constructor(private readonly deps: CredentialResolverDeps) {}

  async resolve(input: ResolveCredentialInput): Promise<ResolvedCredential> {
    switch (input.executionProfile) {
      case 'managed_provider': return this.managed(input);
      case 'byok': return this.byok(input);
      case 'byoc_dynamo': case 'byoc_epp': case 'subscription': return this.endpoint(input, input.executionProfile);
    }
  }

  private managed(input: ResolveCredentialInput): ResolvedCredential {
    const provider = managedProvider(this.deps.providers, input.provider);
    if (!provider) throw this.unavailable(input, 'not_configured', 'it is not a built-in provider');
    if (this.deps.bifrost?.serves(input.provider)) {
      if (!this.deps.bifrost.virtualKey) throw this.unavailable(input, 'not_configured', 'it is served through Bifrost, which has no virtual key (set ZUMIK_BIFROST_VIRTUAL_KEY)');
      return { apiKey: this.deps.bifrost.virtualKey, via: 'bifrost' };
    }
    if (!provider.apiKey) throw this.unavailable(input, 'not_configured', `Zumik has no key for it (set ${input.provider.toUpperCase()}_API_KEY)`);
    return { apiKey: provider.apiKey };
  }

  private async byok(input: ResolveCredentialInput): Promise<ResolvedCredential> {
    const sealed = await this.deps.credentials.findSealed(input.tenantId, input.provider);
    if (!sealed) throw this.unavailable(input, 'not_configured', `the tenant has no key for it (PUT /v2/credentials/${input.provider})`);
    return { apiKey: this.open(input, sealed) };
  }

  private async endpoint(input: ResolveCredentialInput, profile: EndpointProfile): Promise<ResolvedCredential> {
    const found = await this.deps.endpoints.findSealed(input.tenantId, input.provider);
    if (!found) throw this.unavailable(input, 'not_configured', `the tenant has no endpoint with that id (PUT /v2/byoc-endpoints/${input.provider})`);
    if (found.endpoint.profile !== profile) {
      throw this.unavailable(input, 'profile_mismatch', `the endpoint is registered as ${found.endpoint.profile}, not ${profile}`);
    }
    return { apiKey: found.apiKey ? this.open(input, found.apiKey) : '', baseUrl: found.endpoint.baseUrl, flavour: profile };
  }

  private open(input: ResolveCredentialInput, sealed: SealedSecret): string {
    try {
      return this.deps.secretBox.open(sealed.envelope, sealed.binding);
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      throw this.unavailable(input, 'unreadable', `the stored secret cannot be opened (${error.reason}); store it again`, error);
    }
  }

  private unavailable(input: ResolveCredentialInput, reason: CredentialUnavailableReason, detail: string, cause?: unknown) {
    return new CredentialUnavailableError(input.tenantId, input.executionProfile, input.provider, reason, detail,
      cause === undefined ? undefined : { cause });
  }
}

function managedProvider(providers: Config['providers'], name: string): Config['providers'][keyof Config['providers']] | undefined {
  return Object.hasOwn(providers, name) ? providers[name as keyof Config['providers']] : undefined;
}

/**
 * What the front door can know about a target's credential without I/O: a managed provider needs a
 * built-in provider with a key in the environment (or, when Bifrost serves it, Bifrost's virtual key); the other profiles are looked up by the attempt.
 */
export function targetMayHaveCredential(providers: Config['providers'], target: { execution_profile: ExecutionProfile; provider: string },
  bifrost?: BifrostCredential): boolean {
  if (target.execution_profile !== 'managed_provider') return true;
  if (managedProvider(providers, target.provider) && bifrost?.serves(target.provider)) return Boolean(bifrost.virtualKey);
  return Boolean(managedProvider(providers, target.provider)?.apiKey);
}

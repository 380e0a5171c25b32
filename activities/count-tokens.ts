/**
 * `POST /v1/messages/count_tokens` behind the front door: the alias's counting target (src/domain/
 * token-count.ts), its credential resolved by reference as an attempt's is, and the provider's own
 * count. Not a workflow: counting is free, generates nothing and changes nothing, so there is no answer
 * to make durable, no attempt to fail over to (another provider's count would be of another tokenizer)
 * and nothing to replay; Claude Code asks before many turns, and a workflow each time would only add
 * history. The API process calls it directly (src/zumik.ts wires it), with the same secrets rule.
 */
import type { ModelAliasRelease } from '../src/domain/model-alias';
import { providerFailureReason } from '../src/domain/reason-codes';
import { tokenCountRoute, type TokenCounter } from '../src/domain/token-count';
import { ProviderError } from '../src/providers/provider-error';
import { canCountTokens, type ProviderAdapter } from '../src/providers/types';
import { CredentialUnavailableError, type ResolvedCredential, type ResolveCredentialInput } from './credential-resolver';

export interface TokenCounterDeps {
  releases: { get(tenantId: string, alias: string): Promise<ModelAliasRelease | undefined> };
  adapter(provider: string): ProviderAdapter;
  credentials: { resolve(input: ResolveCredentialInput): Promise<ResolvedCredential> };
  /** Per-call limit on the count (default 30 s). */
  timeoutMs?: number;
}

export function createTokenCounter(deps: TokenCounterDeps): TokenCounter {
  return async (input) => {
    const release = await deps.releases.get(input.tenantId, input.alias);
    const route = tokenCountRoute(input.alias, release, input.allowLists);
    if ('refusal' in route) return route;
    const { target } = route;
    const adapter = deps.adapter(target.provider);
    if (!canCountTokens(adapter)) return { refusal: { status: 400, message: `model: ${target.provider} has no token-counting endpoint` } };
    try {
      const credential = await deps.credentials.resolve({ tenantId: input.tenantId, executionProfile: target.execution_profile, provider: target.provider });
      const signal = AbortSignal.any([AbortSignal.timeout(deps.timeoutMs ?? 30_000), ...(input.signal ? [input.signal] : [])]);
      const counted = await adapter.countTokens(input.request, { model: target.model, credential: { apiKey: credential.apiKey }, signal });
      return { inputTokens: counted.inputTokens, target: { provider: target.provider, model: target.model }, releaseId: release!.id };
    } catch (error) {
      if (error instanceof CredentialUnavailableError) return { failure: { reason: 'no_credentials', message: error.message } };
      if (error instanceof ProviderError) return { failure: { reason: providerFailureReason(error.kind), status: error.status, message: error.message } };
      throw error;
    }
  };
}

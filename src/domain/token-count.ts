/**
 * Which target answers `POST /v1/messages/count_tokens` for an alias. A count is only honest from the
 * provider that would read the prompt: Anthropic counts exactly (its count_tokens endpoint, free, no
 * generation); no other provider Zumik speaks has such an endpoint, and Zumik does not estimate in
 * their place. So the count is served when every weighted target of the alias is an Anthropic model
 * (managed or BYOK key), and comes from the first choice (the highest weight, first listed on a tie);
 * a standby (weight 0) does not change it. Otherwise the answer is a 400 naming why.
 */
import type { ChatRequest } from '../contract/chat';
import type { AllowList } from './allow-list';
import { aliasAllowed, providerAllowed } from './allow-list';
import type { ModelAliasRelease, ReleaseTarget } from './model-alias';
import type { ReasonCode } from './reason-codes';

export type TokenCountRoute =
  | { target: ReleaseTarget }
  | { refusal: { status: 400 | 403 | 404; message: string } };

const COUNTING_PROFILES: ReadonlySet<string> = new Set(['managed_provider', 'byok']);

export function tokenCountRoute(alias: string, release: ModelAliasRelease | undefined, lists: ReadonlyArray<AllowList | undefined>): TokenCountRoute {
  if (!aliasAllowed(lists, alias)) return { refusal: { status: 403, message: `model: the alias '${alias}' is not allowed for this key or tenant` } };
  if (!release) return { refusal: { status: 404, message: `model: no alias named '${alias}'` } };
  const weighted = release.targets.filter((target) => target.weight > 0);
  const other = weighted.find((target) => target.provider !== 'anthropic' || !COUNTING_PROFILES.has(target.execution_profile));
  if (other) {
    return { refusal: { status: 400, message: `model: count_tokens is served only for aliases whose every weighted target is an Anthropic model; '${alias}' `
      + `may be served by ${other.provider}/${other.model} (${other.execution_profile}), which has no token-counting endpoint, and Zumik does not estimate` } };
  }
  const first = weighted.reduce((best, target) => (target.weight > best.weight ? target : best));
  if (!providerAllowed(lists, first.provider)) return { refusal: { status: 403, message: `model: the provider ${first.provider} is not allowed for this key or tenant` } };
  return { target: first };
}

export interface CountTokensInput {
  tenantId: string;
  alias: string;
  /** The tenant's and the key's allow-lists. */
  allowLists: ReadonlyArray<AllowList | undefined>;
  request: ChatRequest;
  signal?: AbortSignal;
}

export type CountTokensAnswer =
  | { inputTokens: number; target: Pick<ReleaseTarget, 'provider' | 'model'>; releaseId: string }
  /** Refused before any call (alias, allow-list, a target that cannot count): status and message for the client. */
  | { refusal: { status: number; message: string } }
  /** The provider's call failed: the reason code of that failure, the provider's status and message (secrets removed). */
  | { failure: { reason: ReasonCode; status?: number; message: string } };

/** Counts one request's input tokens (activities/count-tokens.ts; the API process calls it directly). */
export type TokenCounter = (input: CountTokensInput) => Promise<CountTokensAnswer>;

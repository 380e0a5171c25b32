/**
 * Model aliases and their immutable releases (DESIGN.md §3): the contract of a release and the
 * validation of an install. Pure; the store persists, the server speaks HTTP.
 */
import { z } from 'zod';
import { modelCapability, type CapabilityManifest } from './capabilities';
import { manifestProviders } from './capability-manifest';
import { BRIDGE_PROVIDER } from './outage-bridge';

export const EXECUTION_PROFILES = ['managed_provider', 'byok', 'byoc_dynamo', 'byoc_epp', 'subscription'] as const;
export type ExecutionProfile = (typeof EXECUTION_PROFILES)[number];

export const DEFAULT_POLICY_REVISION = 'policy_custom';
export const DEFAULT_CAPABILITY_MANIFEST_REVISION = 'cap_custom';

export interface ReleaseTarget {
  execution_profile: ExecutionProfile;
  provider: string;
  model: string;
  model_revision: string;
  weight: number;
  /**
   * Set by the install, never sent: `bifrost_broader` marks a managed target whose model is not in the release's
   * capability manifest, allowed because the Bifrost deployment serves its provider (broader coverage). Only
   * tenants whose policy sets `allow_bifrost_broader_coverage` reach it, and only while Bifrost serves it.
   */
  coverage?: TargetCoverage;
}

/** The one coverage mark a release target may carry (README "Broader coverage through Bifrost"). */
export const BIFROST_BROADER = 'bifrost_broader';
export type TargetCoverage = typeof BIFROST_BROADER;

export interface ModelAliasRelease {
  id: string;
  object: 'model_alias_release';
  alias: string;
  status: 'active' | 'retired';
  policy_revision: string;
  capability_manifest_revision: string;
  targets: ReleaseTarget[];
  /** The smallest context window a target must have (declared by the release; absent: none). */
  min_context_window?: number;
  /** Session- or prefix-sticky weighted routing (absent: a plain weighted draw per request). */
  sticky?: StickyRouting;
  /** Set on a release minted by a rollback: the earlier release whose content it copies. */
  copied_from?: string;
  created_at: number;
}

export const STICKY_BY = ['session', 'prefix'] as const;
// Defined beside the hashing (which workflow code imports: it must not pull this file's zod schemas in).
export { DEFAULT_PREFIX_CHARS, DEFAULT_SESSION_HEADER } from './sticky-routing';

/**
 * Hot lanes: a stable hash of the session header's value (`session`) or of the prompt's first
 * `prefix_chars` characters (`prefix`) picks the target, so one session or one shared prefix keeps
 * reaching the same provider or BYOC prefix cache.
 */
export interface StickyRouting {
  by: (typeof STICKY_BY)[number];
  header?: string;
  prefix_chars?: number;
}

export const stickySchema = z.strictObject({
  by: z.enum(STICKY_BY, { error: () => `sticky.by must be one of ${STICKY_BY.join(', ')}` }),
  header: z.string({ error: 'sticky.header must be a string' }).trim().toLowerCase()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'sticky.header must be an HTTP header name (letters, digits and -)').optional(),
  prefix_chars: z.number({ error: 'sticky.prefix_chars must be a number' }).int('sticky.prefix_chars must be an integer')
    .min(16, 'sticky.prefix_chars must be at least 16').max(1_000_000, 'sticky.prefix_chars must be at most 1000000').optional(),
}).superRefine((sticky, context) => {
  if (sticky.by === 'prefix' && sticky.header !== undefined) {
    context.addIssue({ code: 'custom', path: ['header'], message: 'sticky.header applies to by: session only' });
  }
  if (sticky.by === 'session' && sticky.prefix_chars !== undefined) {
    context.addIssue({ code: 'custom', path: ['prefix_chars'], message: 'sticky.prefix_chars applies to by: prefix only' });
  }
});

/** A release id: `alr_` and 26 lowercase ULID characters. */
export const RELEASE_ID_PATTERN = /^alr_[0-9a-z]{26}$/;

/**
 * A request's `model`: an alias, or `alias@alr_…` pinning one release of it (live, canary or retired).
 * A pin is recognised only with a well-formed release id after the last `@`.
 */
export function parseModelRef(model: string): { alias: string; releaseId?: string } {
  const at = model.lastIndexOf('@');
  if (at > 0 && RELEASE_ID_PATTERN.test(model.slice(at + 1))) return { alias: model.slice(0, at), releaseId: model.slice(at + 1) };
  return { alias: model };
}

/** Alias names: what appears as `model` in OpenAI requests; no whitespace or slashes (they are URL path segments). */
export const ALIAS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;

const requiredText = (field: string) => z.string({ error: (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`) })
  .trim().min(1, `${field} must not be empty`);

const targetSchema = z.strictObject({
  execution_profile: z.enum(EXECUTION_PROFILES, {
    error: (issue) => (issue.input === undefined ? 'execution_profile is required' : `execution_profile must be one of ${EXECUTION_PROFILES.join(', ')}`),
  }),
  // OpenRouter carries traffic only as the last-resort outage bridge, never as routine routing (the contract's promise).
  provider: requiredText('provider').refine((provider) => provider.toLowerCase() !== BRIDGE_PROVIDER,
    `provider ${BRIDGE_PROVIDER} is not a release target: it serves only as the last-resort outage bridge, with the tenant policy's allow_brokered_execution`),
  model: requiredText('model'),
  model_revision: requiredText('model_revision'),
  weight: z.number({ error: (issue) => (issue.input === undefined ? 'weight is required' : 'weight must be a number') })
    .int('weight must be an integer').min(0, 'weight must not be negative'),
});

/** The body of `PUT /v2/model-aliases/{alias}`. */
export const installReleaseSchema = z.strictObject({
  alias: z.string().optional(),
  policy_revision: z.string().trim().min(1).max(200).optional(),
  capability_manifest_revision: z.string().trim().min(1).max(200).optional(),
  min_context_window: z.number({ error: 'min_context_window must be a number' }).int('min_context_window must be an integer')
    .min(1, 'min_context_window must be positive').optional(),
  sticky: stickySchema.optional(),
  targets: z.array(targetSchema, { error: (issue) => (issue.input === undefined ? 'targets is required' : 'targets must be an array') })
    .min(1, 'targets must contain at least one target').max(64, 'at most 64 targets'),
}).superRefine((body, context) => {
  if (body.targets.reduce((sum, target) => sum + target.weight, 0) <= 0) {
    context.addIssue({ code: 'custom', path: ['targets'], message: 'target weights must sum to a positive value' });
  }
});

export type InstallReleaseInput = z.infer<typeof installReleaseSchema>;

/** Why an alias name is unusable, or undefined when it is fine. */
export function aliasProblem(alias: string): string | undefined {
  if (alias.trim().length === 0) return 'alias must not be empty';
  if (!ALIAS_PATTERN.test(alias)) return 'alias must be 1-128 characters: letters, digits and . _ : @ + - (starting with a letter or digit)';
  return undefined;
}

/** Profiles whose target `provider` is one of the tenant's registered endpoints, not a manifest provider. */
const ENDPOINT_TARGET_PROFILES: ReadonlySet<ExecutionProfile> = new Set(['byoc_dynamo', 'byoc_epp', 'subscription']);

/**
 * What an install knows about broader coverage through Bifrost: which managed providers the Bifrost
 * deployment serves, and whether the release's owner may use it — a tenant's own release only when that
 * tenant's policy sets `allow_bifrost_broader_coverage`; the operator's shared catalogue (`owner: null`)
 * always, since request planning then serves such a target only to tenants whose policy allows it.
 */
export interface BroaderCoverage {
  viaBifrost(provider: string): boolean;
  owner: { tenant: string; allowed: boolean } | null;
}

/**
 * Why a managed target outside the manifest is not allowed as broader coverage, or undefined when it is:
 * its provider must be served through Bifrost, and its owner allowed (BroaderCoverage).
 */
function broaderCoverageProblem(target: ReleaseTarget, at: string, manifest: CapabilityManifest, broader: BroaderCoverage | undefined): string | undefined {
  const outside = `${at}.model: '${target.provider}/${target.model}' is not in capability manifest ${manifest.revision}`;
  if (!broader || target.execution_profile !== 'managed_provider') return `${outside}.`;
  if (!broader.viaBifrost(target.provider)) {
    return `${outside}, and ${target.provider} is not served through a Bifrost deployment here (broader coverage needs one: the providers file's bifrost entry).`;
  }
  if (broader.owner && !broader.owner.allowed) {
    return `${outside}; broader coverage through Bifrost needs the tenant policy's allow_bifrost_broader_coverage, which is off for tenant '${broader.owner.tenant}' (the operator sets it).`;
  }
  return undefined;
}

/**
 * Why a release cannot be installed against the manifest revision it names, as the field at fault
 * and a message, or undefined. A target on a registered endpoint (`isEndpoint`) is checked against
 * the endpoints, every other one against the manifest: its provider, its model (or a dated snapshot
 * of one) and, when the release declares `min_context_window`, the model's window. With `broader`, a
 * managed target outside the manifest passes as broader coverage through Bifrost where it is allowed
 * (`markCoverage` then marks it).
 */
export function releaseProblem(input: Pick<InstallReleaseInput, 'targets' | 'min_context_window'>, manifest: CapabilityManifest,
  isEndpoint: (provider: string) => boolean, broader?: BroaderCoverage): { param: string; message: string } | undefined {
  const providers = manifestProviders(manifest);
  for (const [index, target] of input.targets.entries()) {
    const at = `targets[${index}]`;
    const bifrostServed = target.execution_profile === 'managed_provider' && broader?.viaBifrost(target.provider) === true;
    if (ENDPOINT_TARGET_PROFILES.has(target.execution_profile) || (!providers.has(target.provider) && !bifrostServed)) {
      if (isEndpoint(target.provider)) continue;
      return ENDPOINT_TARGET_PROFILES.has(target.execution_profile)
        ? { param: `${at}.provider`, message: `${at}.provider: '${target.provider}' is not a registered endpoint of this tenant (${target.execution_profile} targets name one).` }
        : { param: `${at}.provider`, message: `${at}.provider: unknown provider '${target.provider}' in capability manifest ${manifest.revision}.` };
    }
    const capability = modelCapability(manifest, target.provider, target.model);
    if (!capability) {
      const problem = broaderCoverageProblem(target, at, manifest, broader);
      if (problem) return { param: `${at}.model`, message: problem };
      // Broader coverage: its window is unknown, so min_context_window cannot refuse it (nor can the plan skip it).
      continue;
    }
    if (input.min_context_window !== undefined && capability.contextWindow !== undefined && capability.contextWindow < input.min_context_window) {
      return {
        param: `${at}.model`,
        message: `${at}.model: '${target.model}' has a ${capability.contextWindow}-token context window, smaller than the release's min_context_window ${input.min_context_window}.`,
      };
    }
  }
  return undefined;
}

/**
 * The targets as a release stores them: a managed target whose model the manifest does not know is marked
 * `bifrost_broader` (the install allowed it through `releaseProblem`), every other mark dropped — a client
 * cannot set one, and a rollback's copy is marked afresh against its manifest.
 */
export function markCoverage(targets: readonly ReleaseTarget[], manifest: CapabilityManifest): ReleaseTarget[] {
  return targets.map(({ coverage: _coverage, ...target }) =>
    target.execution_profile === 'managed_provider' && !modelCapability(manifest, target.provider, target.model)
      ? { ...target, coverage: BIFROST_BROADER } : target);
}

/**
 * Admission as local activities. The lean path: `decideRequest` (a batch line, which has no front
 * door, decides in its first task with the same RequestDecider the front door uses) and
 * `pollAdmission` (a queued request asks again for a slot). The first released shape's
 * `admitRequest` (policy, admission gate and resolution in one step) and `releaseAdmission` stay for
 * its histories in flight.
 */
import { circuitKey, circuitScope } from '../src/domain/attempt-plan';
import { estimatePromptTokens, manifestFor, modelCapability, type CapabilityManifest } from '../src/domain/capabilities';
import type { ModelAliasRelease } from '../src/domain/model-alias';
import type { ReasonCode } from '../src/domain/reason-codes';
import { policySnapshot } from '../src/domain/request-planning';
import { tenantQosProfile, type TenantPolicy } from '../src/domain/tenant-policy';
import type { DecideInput, DecideResult, RequestDecider } from '../src/store/request-decider';
import { withFullBody, type PayloadRefs } from './payload-refs';
import type { AdmitInput, AdmitResult, Resolution } from './types';

export interface AdmissionGate {
  tryAdmit(request: {
    requestId: string; tenantId: string; apiKeyId: string; priority: number; leaseMs: number; queue: boolean;
    limits: { tenantConcurrency?: number; keyConcurrency?: number; tenantRequestsPerMinute?: number; keyRequestsPerMinute?: number; maxQueueLength: number };
  }): Promise<{ state: 'admitted' } | { state: 'queued'; position: number } | { state: 'rejected'; reason: ReasonCode }>;
  release(requestId: string): Promise<unknown>;
}

export interface AdmissionDeps {
  admission: AdmissionGate;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  aliases: {
    findActive(tenantId: string | null, alias: string): Promise<ModelAliasRelease | undefined>;
    /** The release's manifest revision, loaded into this process once (absent: the built-in manifest). */
    manifests?: { load(revision: string): Promise<CapabilityManifest> };
  };
  circuits: { openCircuits(keys?: string[]): Promise<Set<string>> };
  /** Regions per provider, preferred first (the provider directory's). */
  regions: (provider: string) => string[];
  decider: Pick<RequestDecider, 'decide'>;
  /** Reads a batch line's body that came by reference (its prompt size decides the plan). */
  payloads?: PayloadRefs;
}

export interface PollAdmissionInput {
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  qosClass: AdmitInput['qosClass'];
}

export function createAdmissionActivities(deps: AdmissionDeps) {
  const resolve = async (input: AdmitInput): Promise<Resolution> => {
    const release = (await deps.aliases.findActive(input.tenantId, input.alias)) ?? null;
    const regions: Record<string, string[]> = {};
    const keys: string[] = [];
    let manifest: CapabilityManifest = { revision: 'cap_custom', models: {} };
    if (release) {
      const full = await deps.aliases.manifests?.load(release.capability_manifest_revision) ?? manifestFor(release.capability_manifest_revision);
      manifest = { revision: full.revision, models: {} };
      for (const target of release.targets) {
        regions[target.provider] ??= safeRegions(deps.regions, target.provider);
        for (const region of regions[target.provider]!) keys.push(circuitKey(target.provider, region, target.model, circuitScope(target.execution_profile, input.tenantId)));
        // Only what this release needs travels in history, not the whole manifest.
        const capability = modelCapability(full, target.provider, target.model);
        if (capability) manifest.models[`${target.provider}/${target.model}`] = capability;
        const bridged = modelCapability(full, 'openrouter', `${target.provider}/${target.model}`);
        if (bridged) manifest.models[`openrouter/${target.provider}/${target.model}`] = bridged;
      }
    }
    const open = keys.length > 0 ? await deps.circuits.openCircuits(keys) : new Set<string>();
    return { release, regions, openCircuits: [...open], promptTokens: estimatePromptTokens(input.body), manifest };
  };

  return {
    async admitRequest(input: AdmitInput): Promise<AdmitResult> {
      const policy = await deps.policies.get(input.tenantId);
      const snapshot = policySnapshot(policy, input.qosClass, input.alias, input.body.stream === true);
      if (!policy.allowed_qos_classes.includes(input.qosClass)) return { state: 'rejected', reason: 'rejected_policy', policy: snapshot };
      const result = await deps.admission.tryAdmit({
        requestId: input.requestId, tenantId: input.tenantId, apiKeyId: input.apiKeyId, priority: snapshot.qos.priority,
        leaseMs: snapshot.leaseMs, queue: snapshot.qos.maxQueueWaitMs > 0,
        limits: {
          tenantConcurrency: policy.limits.concurrency, keyConcurrency: policy.limits.key_concurrency,
          tenantRequestsPerMinute: policy.limits.requests_per_minute, keyRequestsPerMinute: policy.limits.key_requests_per_minute,
          maxQueueLength: policy.limits.max_queue,
        },
      });
      if (result.state === 'rejected') return { state: 'rejected', reason: result.reason, policy: snapshot };
      if (result.state === 'queued') return { state: 'queued', position: result.position, policy: snapshot };
      return { state: 'admitted', policy: snapshot, resolution: await resolve(input) };
    },

    async decideRequest(input: DecideInput): Promise<DecideResult> {
      return deps.decider.decide(await withFullBody(deps.payloads, input.tenantId, input));
    },

    /** A queued request asks again: its ticket keeps its place (FIFO) and is refreshed. */
    async pollAdmission(input: PollAdmissionInput): Promise<{ state: 'admitted' } | { state: 'queued'; position: number } | { state: 'rejected'; reason: ReasonCode }> {
      const policy = await deps.policies.get(input.tenantId);
      const qos = tenantQosProfile(policy, input.qosClass);
      return deps.admission.tryAdmit({
        requestId: input.requestId, tenantId: input.tenantId, apiKeyId: input.apiKeyId, priority: qos.priority,
        leaseMs: qos.deadlineMs + 60_000, queue: true,
        limits: {
          tenantConcurrency: policy.limits.concurrency, keyConcurrency: policy.limits.key_concurrency,
          tenantRequestsPerMinute: policy.limits.requests_per_minute, keyRequestsPerMinute: policy.limits.key_requests_per_minute,
          maxQueueLength: policy.limits.max_queue,
        },
      });
    },

    async releaseAdmission(requestId: string): Promise<void> {
      await deps.admission.release(requestId);
    },
  };
}

function safeRegions(regions: (provider: string) => string[], provider: string): string[] {
  try {
    return regions(provider);
  } catch {
    return ['default']; // a tenant's own endpoint (registered through the API) has one region
  }
}

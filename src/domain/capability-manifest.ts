/**
 * Capability manifests as data (issue 10): the wire form of a `cap_…` revision (snake_case JSON, keyed
 * by `provider/model`) and its conversion to the CapabilityManifest the request path reads. Pure.
 */
import { z } from 'zod';
import type { CapabilityManifest, ModelCapability } from './capabilities';

const perMillion = z.number().min(0).max(1_000_000);
const tokens = z.number().int().min(1).max(100_000_000);

const modelSchema = z.strictObject({
  context_window: tokens.optional(),
  max_output_tokens: tokens.optional(),
  price: z.strictObject({ input: perMillion, output: perMillion, cached_input: perMillion.optional(), cache_write: perMillion.optional() }).optional(),
  tiers: z.strictObject({ flex: z.number().min(0).optional(), priority: z.number().min(0).optional(), batch: z.number().min(0).optional() }).optional(),
  vision: z.boolean().optional(),
  tools: z.boolean().optional(),
  assistant_prefill: z.boolean().optional(),
});

/** `provider/model`: the provider has no slash, the model may (Fireworks' `accounts/…/models/…`). */
const MODEL_KEY = /^[a-z0-9][a-z0-9_-]{0,63}\/\S{1,255}$/;

/** The body of `POST /v2/capability-manifests`. */
export const installManifestSchema = z.strictObject({
  models: z.record(z.string().regex(MODEL_KEY, 'model keys must be provider/model'), modelSchema, { error: 'models must be an object keyed by provider/model' })
    .refine((models) => Object.keys(models).length > 0, 'models must name at least one model'),
});

export type ManifestModelJson = z.infer<typeof modelSchema>;
export type InstallManifestInput = z.infer<typeof installManifestSchema>;

const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;

export function capabilityFromJson(json: ManifestModelJson): ModelCapability {
  return defined({
    contextWindow: json.context_window, maxOutputTokens: json.max_output_tokens,
    price: json.price && defined({ input: json.price.input, output: json.price.output, cachedInput: json.price.cached_input, cacheWrite: json.price.cache_write }),
    tiers: json.tiers && defined(json.tiers), vision: json.vision, tools: json.tools, assistantPrefill: json.assistant_prefill,
  });
}

export function capabilityToJson(capability: ModelCapability): ManifestModelJson {
  const { price } = capability;
  return defined({
    context_window: capability.contextWindow, max_output_tokens: capability.maxOutputTokens,
    price: price && defined({ input: price.input, output: price.output, cached_input: price.cachedInput, cache_write: price.cacheWrite }),
    tiers: capability.tiers && defined(capability.tiers), vision: capability.vision, tools: capability.tools, assistant_prefill: capability.assistantPrefill,
  });
}

/** The API object of a revision. */
export function manifestToJson(manifest: CapabilityManifest, createdAt: number) {
  return {
    id: manifest.revision, object: 'capability_manifest', created_at: createdAt,
    models: Object.fromEntries(Object.entries(manifest.models).map(([key, capability]) => [key, capabilityToJson(capability)])),
  };
}

/** The providers a manifest knows (the part of its keys before the first slash). */
export function manifestProviders(manifest: CapabilityManifest): Set<string> {
  return new Set(Object.keys(manifest.models).map((key) => key.slice(0, key.indexOf('/'))));
}

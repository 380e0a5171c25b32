/**
 * The optional `ZUMIK_PROVIDERS_FILE`: extra regions (base URLs) per provider and the BYOC /
 * subscription endpoints, validated with zod when Zumik starts so a typo fails start-up with the
 * path of the bad field instead of surfacing as a provider error at the first request.
 *
 * ```json
 * { "providers": { "openai": { "regions": [{ "region": "eu", "baseUrl": "https://eu.api.openai.com/v1" }] },
 *                  "openrouter": { "pinnedProvider": "anthropic" } },
 *   "byocEndpoints": { "acme-gpu": { "profile": "byoc_epp", "baseUrl": "https://llm.acme.internal/v1" } },
 *   "bifrost": { "baseUrl": "https://bifrost.internal/v1", "providers": ["openai", "anthropic"] } }
 * ```
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const BUILTIN_PROVIDERS = ['openai', 'xai', 'fireworks', 'openrouter', 'anthropic', 'gemini'] as const;
export type BuiltinProvider = (typeof BUILTIN_PROVIDERS)[number];
/** The managed providers a Bifrost deployment may serve (OpenRouter is itself a bridge). */
export const BIFROST_SERVABLE = ['openai', 'xai', 'fireworks', 'anthropic', 'gemini'] as const;

const baseUrl = z.string().trim().url().refine((value) => /^https?:\/\//.test(value), 'expected an http(s) URL');
const regionSchema = z.object({ region: z.string().trim().min(1), baseUrl }).strict();
const regionList = z.array(regionSchema).min(1).refine((regions) => new Set(regions.map((entry) => entry.region)).size === regions.length,
  'region names must be unique');
const providerEntry = z.object({ regions: regionList }).strict();

const byocEndpointSchema = z.object({
  profile: z.enum(['byoc_dynamo', 'byoc_epp', 'subscription']),
  baseUrl: baseUrl.optional(),
  regions: regionList.optional(),
  /** Subscriptions bought as a tier (`priority`, `scale`) always ask for it. */
  serviceTier: z.string().trim().min(1).optional(),
}).strict().refine((endpoint) => (endpoint.baseUrl === undefined) !== (endpoint.regions === undefined), 'give either baseUrl or regions');

export const providersFileSchema = z.object({
  providers: z.object({
    openai: providerEntry.optional(),
    xai: providerEntry.optional(),
    fireworks: providerEntry.optional(),
    openrouter: z.object({ regions: regionList.optional(), pinnedProvider: z.string().trim().min(1).optional() }).strict().optional(),
    anthropic: providerEntry.optional(),
    gemini: providerEntry.optional(),
  }).strict().default({}),
  byocEndpoints: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"'), byocEndpointSchema)
    .refine((endpoints) => Object.keys(endpoints).every((id) => !(BUILTIN_PROVIDERS as readonly string[]).includes(id)),
      'a BYOC endpoint id must not be a built-in provider name')
    .default({}),
  /**
   * A Bifrost deployment (maximhq/bifrost, OpenAI-compatible) that serves the listed managed providers' targets instead of
   * their own APIs. Its base URL here or in ZUMIK_BIFROST_URL (which wins); its virtual key only in ZUMIK_BIFROST_VIRTUAL_KEY.
   */
  bifrost: z.object({
    baseUrl: baseUrl.optional(),
    providers: z.array(z.enum(BIFROST_SERVABLE)).min(1).refine((providers) => new Set(providers).size === providers.length, 'providers must be unique'),
  }).strict().optional(),
}).strict();
export type ProvidersFile = z.infer<typeof providersFileSchema>;

/** Thrown at start-up when the providers file cannot be read or is invalid; names the file and every bad field. */
export class ProvidersFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`invalid providers file ${file}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ProvidersFileError';
  }
}

export function parseProvidersFile(content: unknown, file = 'providers file'): ProvidersFile {
  const parsed = providersFileSchema.safeParse(content);
  if (!parsed.success) {
    throw new ProvidersFileError(file, parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return parsed.data;
}

export function loadProvidersFile(file: string): ProvidersFile {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ProvidersFileError(file, [error instanceof SyntaxError ? `not JSON: ${error.message}` : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  return parseProvidersFile(content, file);
}

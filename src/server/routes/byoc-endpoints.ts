/**
 * `/v2/byoc-endpoints` (admin): a tenant's own OpenAI-compatible endpoints (`byoc_dynamo`,
 * `byoc_epp`) and reserved-capacity deployments (`subscription`). A release target with one of those
 * profiles names the endpoint's id as its `provider`. The optional API key is write-only: responses
 * say `has_api_key` and show a hint. On PUT, an omitted `api_key` keeps the stored one (so a base URL
 * can change without re-sending the secret) and `null` removes it. The base URL must pass the egress
 * rules (https, no private, loopback, link-local or metadata address: src/net/egress-policy.ts) —
 * checked here, and again at every connection. A PUT that would make a release already installed break
 * the one-scheduler rules (src/domain/one-scheduler.ts: its profile, its `replica_of`, or a URL another id
 * of the same release has) is refused with 409 `endpoint_in_use` naming the release; the check reads the
 * releases just before the write (an install racing the PUT is checked by the install against the old facts).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { PROVIDER_NAMES } from '../../config';
import { EgressPolicy } from '../../net/egress-policy';
import { endpointChangeProblem, type EndpointFacts } from '../../domain/one-scheduler';
import { ENDPOINT_PROFILES, type ByocEndpointRecord, type ByocEndpointRepository } from '../../store/byoc-endpoint-repository';
import type { ModelAliasRepository } from '../../store/model-alias-repository';
import { badRequest, HttpError, notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { actingTenant } from '../middleware/tenant-scope';
import { apiKeySchema } from './credentials';

/** The same rule as `byocEndpoints` ids in ZUMIK_PROVIDERS_FILE. */
const ENDPOINT_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_METADATA_BYTES = 16 * 1024;

const baseUrlSchema = z.string({ error: (issue) => (issue.input === undefined ? 'base_url is required' : 'base_url must be a string') })
  .trim().max(2048, 'base_url must be at most 2048 characters')
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'base_url must be an https URL')
  .refine((value) => !URL.canParse(value) || (!new URL(value).username && !new URL(value).password),
    'base_url must not carry credentials; send the key as api_key');

export const putEndpointSchema = z.strictObject({
  profile: z.enum(ENDPOINT_PROFILES, { error: () => `profile must be one of ${ENDPOINT_PROFILES.join(', ')}` }),
  base_url: baseUrlSchema,
  api_key: apiKeySchema.nullable().optional(),
  /**
   * The lane's concurrency cap: with this many requests in flight on it, a request whose pick is this
   * endpoint overflows to the release's next target (recorded in its outcome's `routing`). Absent: none.
   */
  max_concurrency: z.number({ error: 'max_concurrency must be a number' }).int('max_concurrency must be an integer')
    .min(1, 'max_concurrency must be at least 1').max(1_000_000, 'max_concurrency must be at most 1000000').nullable().optional(),
  /** Free-form facts about the endpoint, e.g. `{ "reserved_capacity": { "tokens_per_minute": 2000000 } }` for a subscription. */
  metadata: z.record(z.string(), z.unknown(), { error: 'metadata must be a JSON object' })
    .refine((value) => JSON.stringify(value).length <= MAX_METADATA_BYTES, `metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON`)
    .optional(),
});

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function toEndpointObject(record: ByocEndpointRecord) {
  return {
    id: record.id, object: 'byoc_endpoint', tenant: record.tenantId, profile: record.profile, base_url: record.baseUrl,
    has_api_key: record.hasApiKey, api_key_hint: record.apiKeyHint, max_concurrency: record.maxConcurrency, metadata: record.metadata,
    created_at: seconds(record.createdAt), updated_at: seconds(record.updatedAt),
  };
}

function endpointId(request: Request): string {
  const id = String(request.params.id);
  if (!ENDPOINT_ID_PATTERN.test(id)) throw badRequest('id must be 1-64 lower-case letters, digits, ".", "_" or "-"', 'id');
  if ((PROVIDER_NAMES as readonly string[]).includes(id)) throw badRequest('id must not be a built-in provider name', 'id');
  return id;
}

/** The field of a PUT that breaks a one-scheduler rule: the profile, the replica_of metadata, or the URL two ids now share. */
const CHANGED_FIELD = { profile: 'profile', replica: 'metadata', same_scheduler: 'base_url' } as const;

/**
 * Refuse a change to an endpoint that would make a release already installed (live, or a canary's candidate,
 * of the tenant or the shared catalogue) break the one-scheduler rules (issue 12): 409 naming the release and why.
 */
async function checkReleasesNaming(aliases: Pick<ModelAliasRepository, 'releasesNaming' | 'endpointFacts'>, tenantId: string, proposed: EndpointFacts): Promise<void> {
  const releases = await aliases.releasesNaming(tenantId, proposed.id);
  if (releases.length === 0) return;
  const providers = releases.flatMap((release) => release.targets.map((target) => target.provider));
  const current = await aliases.endpointFacts(tenantId, proposed.replicaOf ? [...providers, proposed.replicaOf] : providers);
  const found = endpointChangeProblem(releases, (provider) => current.get(provider), proposed);
  if (!found) return;
  const { release, problem } = found;
  throw new HttpError(409,
    `This change to endpoint '${proposed.id}' would make release ${release.id} of the model alias '${release.alias}' invalid: ${problem.message} `
    + 'Install a release of that alias that fits the endpoint first (or roll it back), then change the endpoint.',
    'endpoint_in_use', CHANGED_FIELD[problem.rule]);
}

/** `aliases`: the installed releases the one-scheduler check re-reads on a change (absent: not checked). */
export function byocEndpointRoutes(endpoints: ByocEndpointRepository, egress = new EgressPolicy(),
  aliases?: Pick<ModelAliasRepository, 'releasesNaming' | 'endpointFacts'>): Router {
  const router = Router();
  const admin = requireScope('admin');

  router.get('/byoc-endpoints', admin, async (request, response) => {
    response.json({ object: 'list', data: (await endpoints.list(actingTenant(request))).map(toEndpointObject) });
  });

  router.get('/byoc-endpoints/:id', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const record = await endpoints.find(tenantId, String(request.params.id));
    if (!record) throw notFound(`Tenant '${tenantId}' has no BYOC endpoint '${request.params.id}'.`, 'id');
    response.json(toEndpointObject(record));
  });

  router.put('/byoc-endpoints/:id', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const id = endpointId(request);
    const input = parseBody(putEndpointSchema, request.body);
    const problem = await egress.urlProblem(input.base_url);
    if (problem) throw badRequest(problem, 'base_url');
    const replicaOf = input.metadata?.replica_of;
    if (aliases) {
      await checkReleasesNaming(aliases, tenantId, {
        id, profile: input.profile, baseUrl: input.base_url, ...(typeof replicaOf === 'string' ? { replicaOf } : {}),
      });
    }
    const record = await endpoints.put({
      tenantId, id, profile: input.profile, baseUrl: input.base_url, apiKey: input.api_key, metadata: input.metadata,
      maxConcurrency: input.max_concurrency ?? null,
    });
    response.json(toEndpointObject(record));
  });

  router.delete('/byoc-endpoints/:id', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const id = String(request.params.id);
    if (!(await endpoints.delete(tenantId, id))) throw notFound(`Tenant '${tenantId}' has no BYOC endpoint '${id}'.`, 'id');
    response.json({ id, object: 'byoc_endpoint', tenant: tenantId, deleted: true });
  });

  return router;
}

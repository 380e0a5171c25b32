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
 *
 * Replay-gated activation (README): a registered endpoint starts `pending` and the plan skips it until
 * `POST /v2/byoc-endpoints/{id}/activate` with `{report_id}` names a passing replay report of that
 * endpoint younger than the tenant's `replay.max_report_age_s`, or the operator overrides with
 * `{override: true, reason}` (audited: who, when, why; stored and returned).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { PROVIDER_NAMES } from '../../config';
import { EgressPolicy } from '../../net/egress-policy';
import { endpointChangeProblem, type EndpointFacts } from '../../domain/one-scheduler';
import { ENDPOINT_PROFILES, type ByocEndpointRecord, type ByocEndpointRepository } from '../../store/byoc-endpoint-repository';
import type { ModelAliasRepository } from '../../store/model-alias-repository';
import { failingChecks } from '../../domain/replay-report';
import type { TenantPolicy } from '../../domain/tenant-policy';
import type { ReplayRepository } from '../../store/replay-repository';
import { badRequest, HttpError, notFound } from '../errors';
import { isOperator, requireScope } from '../middleware/authenticate';
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

export const activateEndpointSchema = z.strictObject({
  /** A completed replay of this endpoint (`rpl_…`) whose verdict is `pass`. */
  report_id: z.string().regex(/^rpl_[0-9a-z]{26}$/, 'report_id must be a replay id (rpl_…)').optional(),
  /** Operator only: activate without a report. Needs `reason`; audited. */
  override: z.literal(true, { error: 'override must be true (or absent)' }).optional(),
  reason: z.string().trim().min(1, 'reason must not be empty').max(1_000, 'reason must be at most 1000 characters').optional(),
}).superRefine((input, context) => {
  if (input.override && input.report_id !== undefined) context.addIssue({ code: 'custom', path: ['override'], message: 'give either report_id or override, not both' });
  else if (!input.override && input.report_id === undefined) context.addIssue({ code: 'custom', path: ['report_id'], message: 'report_id is required (or an operator override with a reason)' });
  else if (input.override && input.reason === undefined) context.addIssue({ code: 'custom', path: ['reason'], message: 'reason is required with override: the override is audited' });
});

/** What activation reads beside the endpoints: replay reports and the tenant's thresholds (report age). */
export interface ActivationDeps {
  replays: Pick<ReplayRepository, 'find'>;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function toEndpointObject(record: ByocEndpointRecord) {
  return {
    id: record.id, object: 'byoc_endpoint', tenant: record.tenantId, profile: record.profile, base_url: record.baseUrl,
    has_api_key: record.hasApiKey, api_key_hint: record.apiKeyHint, max_concurrency: record.maxConcurrency, metadata: record.metadata,
    status: record.status, activation: record.activation, created_at: seconds(record.createdAt), updated_at: seconds(record.updatedAt),
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

/**
 * `aliases`: the installed releases the one-scheduler check re-reads on a change (absent: not checked).
 * `activation`: replay-gated activation (absent: no activate route).
 */
export function byocEndpointRoutes(endpoints: ByocEndpointRepository, egress = new EgressPolicy(),
  aliases?: Pick<ModelAliasRepository, 'releasesNaming' | 'endpointFacts'>, activation?: ActivationDeps): Router {
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

  if (activation) {
    router.post('/byoc-endpoints/:id/activate', admin, async (request, response) => {
      const tenantId = actingTenant(request);
      const id = String(request.params.id);
      const input = parseBody(activateEndpointSchema, request.body);
      if (!(await endpoints.find(tenantId, id))) throw notFound(`Tenant '${tenantId}' has no BYOC endpoint '${id}'.`, 'id');
      const activatedBy = request.principal!.keyId;
      const now = Math.floor(Date.now() / 1000);
      if (input.override) {
        if (!isOperator(request.principal)) {
          throw new HttpError(403, 'Only the operator key may activate an endpoint without a passing replay report (override).', 'insufficient_scope', 'override');
        }
        const record = await endpoints.activate(tenantId, id, { report_id: null, override: true, reason: input.reason!, activated_by: activatedBy, activated_at: now });
        response.json(toEndpointObject(record!));
        return;
      }
      const report = await activation.replays.find(tenantId, input.report_id!);
      if (!report) throw notFound(`Tenant '${tenantId}' has no replay '${input.report_id}'.`, 'report_id');
      if (!('byoc_endpoint' in report.candidate) || report.candidate.byoc_endpoint !== id) {
        throw new HttpError(422, `Replay ${report.id} did not replay endpoint '${id}'.`, 'replay_report_mismatch', 'report_id');
      }
      if (report.status !== 'completed' || !report.report || !report.completedAt) {
        throw new HttpError(409, `Replay ${report.id} is still running: activate once its report is complete.`, 'replay_report_not_ready', 'report_id');
      }
      if (report.verdict !== 'pass') {
        throw new HttpError(422, `Replay ${report.id} did not pass; failing thresholds: ${failingChecks(report.report).join(', ')}. The endpoint stays pending.`,
          'replay_report_failed', 'report_id');
      }
      const maxAgeS = (await activation.policies.get(tenantId)).replay.max_report_age_s;
      const ageS = Math.floor((Date.now() - report.completedAt.getTime()) / 1000);
      if (ageS > maxAgeS) {
        throw new HttpError(422, `Replay ${report.id} completed ${ageS} s ago, more than the tenant's replay.max_report_age_s (${maxAgeS} s): replay again.`,
          'replay_report_stale', 'report_id');
      }
      const record = await endpoints.activate(tenantId, id, { report_id: report.id, override: false, reason: null, activated_by: activatedBy, activated_at: now });
      response.json(toEndpointObject(record!));
    });
  }

  router.delete('/byoc-endpoints/:id', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const id = String(request.params.id);
    if (!(await endpoints.delete(tenantId, id))) throw notFound(`Tenant '${tenantId}' has no BYOC endpoint '${id}'.`, 'id');
    response.json({ id, object: 'byoc_endpoint', tenant: tenantId, deleted: true });
  });

  return router;
}

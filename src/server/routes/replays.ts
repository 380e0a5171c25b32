/**
 * `/v2/replays` (tenant admin; README "Replay"): start a replay of the tenant's retained prompts against a
 * candidate (one of its BYOC endpoints, or a release), list replays, and read one's report with its
 * verdict and each threshold's pass or fail. A replay is a durable replayWorkflow; its id is `rpl_…`,
 * and another tenant's answers 404 like one that does not exist.
 */
import { Router, type Request } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { ALIAS_PATTERN, type ModelAliasRelease } from '../../domain/model-alias';
import { DEFAULT_SIMILARITY, SIMILARITY_NAMES } from '../../domain/replay-similarity';
import type { TenantPolicy } from '../../domain/tenant-policy';
import { newReplayId } from '../../ids';
import { SearchAttributes } from '../../temporal/search-attributes';
import type { ByocEndpointRepository } from '../../store/byoc-endpoint-repository';
import type { ReplayRecord, ReplayRepository } from '../../store/replay-repository';
import type { RetainedPromptStore } from '../../store/retained-prompt-store';
import { HttpError, notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { parseBody } from '../middleware/parse-body';
import { actingTenant } from '../middleware/tenant-scope';

export interface ReplayRouteDeps {
  replays: ReplayRepository;
  prompts: Pick<RetainedPromptStore, 'count'>;
  endpoints: Pick<ByocEndpointRepository, 'find'>;
  aliases: { findById(id: string, viewer: string): Promise<ModelAliasRelease | undefined> };
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  client: Client;
  taskQueue: string;
  /** ZUMIK_REPLAY_PAGE_SIZE: requests per workflow run before continue-as-new. */
  pageSize?: number;
}

/** Largest sample one replay may draw. */
export const MAX_REPLAY_SAMPLE = 10_000;
const epochSeconds = z.number({ error: 'must be a number of seconds since the epoch' }).int('must be an integer').min(0);

export const createReplaySchema = z.strictObject({
  selection: z.strictObject({
    alias: z.string({ error: 'selection.alias is required' }).regex(ALIAS_PATTERN, 'selection.alias is not a valid alias'),
    release_id: z.string().regex(/^alr_[0-9a-z]{26}$/, 'selection.release_id must be a release id (alr_…)').optional(),
    from: epochSeconds.optional(),
    to: epochSeconds.optional(),
    sample_size: z.number({ error: 'selection.sample_size is required' }).int().min(1).max(MAX_REPLAY_SAMPLE, `selection.sample_size must be at most ${MAX_REPLAY_SAMPLE}`),
  }, { error: 'selection is required' }),
  candidate: z.union([
    z.strictObject({ byoc_endpoint: z.string().min(1).max(64), model: z.string().min(1).max(256) }),
    z.strictObject({ release_id: z.string().regex(/^alr_[0-9a-z]{26}$/, 'candidate.release_id must be a release id (alr_…)') }),
  ], { error: 'candidate must be {"byoc_endpoint": "<id>", "model": "<model>"} or {"release_id": "alr_…"}' }),
  similarity: z.enum(SIMILARITY_NAMES, { error: () => `similarity must be one of ${SIMILARITY_NAMES.join(', ')}` }).default(DEFAULT_SIMILARITY),
});

const seconds = (date: Date | null) => (date === null ? null : Math.floor(date.getTime() / 1000));

export function toReplayObject(record: ReplayRecord) {
  return {
    id: record.id, object: 'replay', tenant: record.tenantId, status: record.status, selection: record.selection, candidate: record.candidate,
    similarity: record.similarity, thresholds: record.thresholds, sample_count: record.sampleCount, verdict: record.verdict, report: record.report,
    workflow_id: replayWorkflowId(record.tenantId, record.id), created_by: record.createdBy, created_at: seconds(record.createdAt),
    completed_at: seconds(record.completedAt),
  };
}

export const replayWorkflowId = (tenantId: string, id: string) => `replay:${tenantId}:${id}`;

async function checkCandidate(deps: ReplayRouteDeps, tenantId: string, candidate: z.output<typeof createReplaySchema>['candidate']): Promise<void> {
  if ('byoc_endpoint' in candidate) {
    if (!(await deps.endpoints.find(tenantId, candidate.byoc_endpoint))) {
      throw notFound(`Tenant '${tenantId}' has no BYOC endpoint '${candidate.byoc_endpoint}'.`, 'candidate.byoc_endpoint');
    }
  } else if (!(await deps.aliases.findById(candidate.release_id, tenantId))) {
    throw notFound(`No model alias release with id '${candidate.release_id}'.`, 'candidate.release_id');
  }
}

export function replayRoutes(deps: ReplayRouteDeps): Router {
  const router = Router();
  const admin = requireScope('admin');

  router.post('/replays', admin, async (request: Request, response) => {
    const tenantId = actingTenant(request);
    const input = parseBody(createReplaySchema, request.body);
    const { selection } = input;
    if (selection.from !== undefined && selection.to !== undefined && selection.from > selection.to) {
      throw new HttpError(400, 'selection.from must not be after selection.to', 'invalid_request_error', 'selection.from');
    }
    await checkCandidate(deps, tenantId, input.candidate);
    const policy = await deps.policies.get(tenantId);
    const available = await deps.prompts.count({
      tenantId, alias: selection.alias, releaseId: selection.release_id,
      from: selection.from === undefined ? undefined : selection.from * 1000, to: selection.to === undefined ? undefined : selection.to * 1000,
    });
    if (available === 0) {
      const why = policy.prompt_retention.enabled
        ? `No retained prompts of alias '${selection.alias}' match the selection (retention keeps ${policy.prompt_retention.days} days of completed chat requests).`
        : `Tenant '${tenantId}' keeps no prompts: its policy has prompt_retention off, so there is no traffic to replay. Turn it on `
          + '(PUT /v2/tenants/{tenant}/policy with {"prompt_retention": {"enabled": true}}) and replay once traffic was served.';
      throw new HttpError(422, why, 'replay_no_sample', 'selection');
    }
    const id = newReplayId();
    const record = await deps.replays.create({
      id, tenantId, selection, candidate: input.candidate, similarity: input.similarity, thresholds: policy.replay, createdBy: request.principal!.keyId,
    });
    const candidateName = 'byoc_endpoint' in input.candidate ? `${input.candidate.byoc_endpoint}/${input.candidate.model}` : input.candidate.release_id;
    await deps.client.workflow.start('replayWorkflow', {
      taskQueue: deps.taskQueue, workflowId: replayWorkflowId(tenantId, id),
      args: [{ replayId: id, tenantId, ...(deps.pageSize !== undefined ? { pageSize: deps.pageSize } : {}) }],
      typedSearchAttributes: [
        { key: SearchAttributes.tenant, value: tenantId },
        { key: SearchAttributes.kind, value: 'replay' },
        { key: SearchAttributes.alias, value: selection.alias },
      ],
      staticSummary: `replay ${selection.alias} → ${candidateName} (${selection.sample_size} requests, ${input.similarity})`,
    });
    response.status(202).json(toReplayObject(record));
  });

  router.get('/replays', admin, async (request, response) => {
    response.json({ object: 'list', data: (await deps.replays.list(actingTenant(request))).map(toReplayObject) });
  });

  router.get('/replays/:id', admin, async (request, response) => {
    const tenantId = actingTenant(request);
    const record = await deps.replays.find(tenantId, String(request.params.id));
    if (!record) throw notFound(`Tenant '${tenantId}' has no replay '${request.params.id}'.`, 'id');
    response.json(toReplayObject(record));
  });

  return router;
}

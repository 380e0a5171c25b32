/**
 * `/v1/batches` (OpenAI's Batch API): create a batch over an uploaded `purpose: batch` file, retrieve
 * it (with live request_counts), list, cancel. Each batch is one batchWorkflow; its lines run through
 * the same request path as online requests. Tenant-scoped: another tenant's batch ids answer 404 (the
 * operator reaches them with `?tenant=`).
 */
import type { Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { TenantPolicy } from '../../domain/tenant-policy';
import type { BatchRecord, BatchRepository } from '../../store/batch-repository';
import { TERMINAL_BATCH_STATUSES } from '../../store/batch-repository';
import { newBatchId } from '../../store/file-ids';
import type { FileStore } from '../../store/file-store';
import { badRequest, notFound } from '../errors';
import { requireScope } from '../middleware/authenticate';
import { actingTenant } from '../middleware/tenant-scope';
import { parseBody } from '../middleware/parse-body';
import { BATCH_ENDPOINTS } from '../../store/batch-input-line';

export interface BatchRouteDeps {
  batches: BatchRepository;
  files: FileStore;
  client: Client;
  taskQueue: string;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  uiBaseUrl: string | null;
  linesPerRun?: number;
  /** ZUMIK_POLLS_PER_RUN: provider-job polls per batch workflow run (unset: the workflow's default). */
  pollsPerRun?: number;
}

export const createBatchSchema = z.strictObject({
  input_file_id: z.string({ error: 'input_file_id is required' }).min(1),
  endpoint: z.enum(BATCH_ENDPOINTS, { error: "endpoint must be '/v1/chat/completions' or '/v1/embeddings' (the endpoints Zumik batches)" }),
  completion_window: z.literal('24h', { error: "completion_window must be '24h'" }),
  metadata: z.record(z.string().max(64), z.string().max(512)).refine((value) => Object.keys(value).length <= 16, 'metadata has at most 16 keys').nullish(),
  output_expires_after: z.strictObject({ anchor: z.literal('created_at'), seconds: z.number().int().min(3600).max(2_592_000) }).optional(),
});

const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

/** The OpenAI batch object; request_counts are live from the result rows while the batch runs. */
export function toBatchObject(batch: BatchRecord, live?: { output: number; error: number }) {
  const counts = live && !TERMINAL_BATCH_STATUSES.includes(batch.status)
    ? { total: batch.requestCounts.total, completed: live.output, failed: live.error }
    : batch.requestCounts;
  // OpenAI's schema types these fields as optional, not nullable: unset ones are left out.
  return withoutNullFields({
    id: batch.id, object: 'batch', endpoint: batch.endpoint, model: batch.model, errors: batch.errors ? { object: 'list', data: batch.errors } : null,
    input_file_id: batch.inputFileId, completion_window: batch.completionWindow, status: batch.status,
    output_file_id: batch.outputFileId, error_file_id: batch.errorFileId, created_at: seconds(batch.createdAt),
    in_progress_at: seconds(batch.inProgressAt), expires_at: seconds(batch.expiresAt), finalizing_at: seconds(batch.finalizingAt),
    completed_at: seconds(batch.completedAt), failed_at: seconds(batch.failedAt), expired_at: seconds(batch.expiredAt),
    cancelling_at: seconds(batch.cancellingAt), cancelled_at: seconds(batch.cancelledAt), request_counts: counts,
    ...(batch.usage ? { usage: batch.usage } : {}), metadata: batch.metadata ?? null,
  });
}

const NULLABLE_FIELDS = new Set(['metadata']);

function withoutNullFields<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([key, value]) => value !== null || NULLABLE_FIELDS.has(key))) as T;
}

export function batchWorkflowId(tenantId: string, batchId: string): string {
  return `batch:${tenantId}:${batchId}`;
}

export function batchRoutes(deps: BatchRouteDeps): Router {
  const router = Router();
  router.use('/batches', requireScope('inference'));

  router.post('/batches', async (request, response) => {
    const input = parseBody(createBatchSchema, request.body);
    const { tenantId, keyId } = request.principal!;
    const file = await deps.files.get(tenantId, input.input_file_id);
    if (!file) throw notFound(`No such File object: ${input.input_file_id}`, 'input_file_id');
    if (file.purpose !== 'batch') throw badRequest(`File ${file.id} has purpose '${file.purpose}'; a batch needs a 'batch' file.`, 'input_file_id');
    if (file.lineCount === 0) throw badRequest(`File ${file.id} has no requests.`, 'input_file_id');
    const [first] = await deps.files.readLines(tenantId, file.id, 0, 1);
    // Every line of a batch file has the first line's url (checked at upload): the batch's endpoint must be it.
    const url = (first?.value as { url?: unknown } | undefined)?.url;
    if (url !== input.endpoint) {
      throw badRequest(`The requests in ${file.id} are for ${JSON.stringify(url)}, not for this batch's endpoint '${input.endpoint}'.`, 'endpoint');
    }
    const model = String((first?.value as { body?: { model?: unknown } } | undefined)?.body?.model ?? '') || null;
    const id = newBatchId();
    const workflowId = batchWorkflowId(tenantId, id);
    const batch = await deps.batches.create({
      id, tenantId, apiKeyId: keyId, endpoint: input.endpoint, inputFileId: file.id, completionWindow: '24h',
      metadata: input.metadata ?? null, model, workflowId, outputExpiresAfterSeconds: input.output_expires_after?.seconds ?? null,
    });
    await deps.batches.setCounts(id, { total: file.lineCount, completed: 0, failed: 0 });
    const policy = await deps.policies.get(tenantId);
    await deps.client.workflow.start('batchWorkflow', {
      taskQueue: deps.taskQueue, workflowId,
      args: [{
        batchId: id, tenantId, apiKeyId: keyId, inputFileId: file.id, totalLines: file.lineCount,
        expiresAt: batch.expiresAt!.getTime(), window: policy.batch.max_concurrency, uiBaseUrl: deps.uiBaseUrl, linesPerRun: deps.linesPerRun,
        ...(deps.pollsPerRun !== undefined ? { pollsPerRun: deps.pollsPerRun } : {}),
      }],
      staticSummary: `batch ${id}: ${file.lineCount} lines`,
    });
    response.json(toBatchObject({ ...batch, requestCounts: { total: file.lineCount, completed: 0, failed: 0 } }));
  });

  router.get('/batches', async (request, response) => {
    const { after, limit } = listQuery(request);
    const page = await deps.batches.list(actingTenant(request), { after, limit });
    response.json({
      object: 'list', data: page.data.map((batch) => toBatchObject(batch)), first_id: page.data[0]?.id ?? null,
      last_id: page.data.at(-1)?.id ?? null, has_more: page.hasMore,
    });
  });

  router.get('/batches/:id', async (request, response) => {
    const batch = await found(deps, request);
    response.json(toBatchObject(batch, await deps.files.resultCounts(batch.id)));
  });

  router.post('/batches/:id/cancel', async (request, response) => {
    const batch = await found(deps, request);
    if (TERMINAL_BATCH_STATUSES.includes(batch.status) || batch.status === 'finalizing') {
      throw badRequest(`Cannot cancel a batch with status '${batch.status}'.`, null);
    }
    await deps.batches.updateStatus(batch.id, 'cancelling', { from: ['validating', 'in_progress'] });
    await deps.client.workflow.getHandle(batch.workflowId ?? batchWorkflowId(batch.tenantId, batch.id)).signal('cancelBatch', { cancelInFlight: false });
    const now = (await deps.batches.get(batch.tenantId, batch.id))!;
    response.json(toBatchObject(now, await deps.files.resultCounts(batch.id)));
  });

  return router;
}

async function found(deps: BatchRouteDeps, request: Request): Promise<BatchRecord> {
  const id = String(request.params.id);
  const batch = await deps.batches.get(actingTenant(request), id);
  if (!batch) throw notFound(`No such Batch object: ${id}`, 'batch_id');
  return batch;
}

function listQuery(request: Request) {
  const { after, limit } = request.query;
  if (after !== undefined && typeof after !== 'string') throw badRequest('after must be a batch id.', 'after');
  const parsed = limit === undefined ? undefined : Number(limit);
  if (parsed !== undefined && (!Number.isInteger(parsed) || parsed < 1 || parsed > 100)) throw badRequest('limit must be an integer from 1 to 100.', 'limit');
  return { after, limit: parsed };
}

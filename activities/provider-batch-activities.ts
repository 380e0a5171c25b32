/**
 * The provider-native batch tier: when the tenant's policy allows it and the batch's target has a
 * native batch API (OpenAI Batch, Anthropic Message Batches, Gemini batch mode), the batch workflow
 * submits provider jobs, polls them with durable timers, and maps results back by custom_id. Lines a
 * provider fails (or never serves) go back to the online path when the policy says so.
 */
import { aliasAllowed, providerAllowed } from '../src/domain/allow-list';
import { Context } from '@temporalio/activity';
import { buildAttemptPlan, seededRandom } from '../src/domain/attempt-plan';
import type { ModelAliasRelease } from '../src/domain/model-alias';
import type { PlannedAttempt } from '../src/domain/request-outcome';
import type { TenantPolicy } from '../src/domain/tenant-policy';
import { SUBMISSION_KEY_METADATA, type BatchCapableAdapter, type BatchJob, type BatchLine } from '../src/providers/batch/batch-types';
import { toChatCompletion } from '../src/contract/openai-renderers';
import { readInputLines, type BatchActivityDeps } from './batch-activities';
import type { CredentialSource } from './call-provider';

export interface ProviderBatchDeps {
  directory: {
    batchAdapter(provider: string, region?: string): BatchCapableAdapter | undefined; regions(provider: string): string[];
    /** A managed provider served through Bifrost has no native batch API here: its lines run online (through Bifrost). */
    viaBifrost?(provider: string): boolean;
  };
  credentials: CredentialSource;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  aliases: { findActive(tenantId: string | null, alias: string): Promise<ModelAliasRelease | undefined> };
  files: BatchActivityDeps['files'];
}

export type BatchTarget = Pick<PlannedAttempt, 'execution_profile' | 'provider' | 'model' | 'region'>;

export type BatchPlan =
  | { mode: 'online' }
  | { mode: 'provider_native'; alias: string; target: BatchTarget; linesPerJob: number; fallbackOnline: boolean; pollIntervalMs: number };

export interface ProviderJobRef {
  jobId: string;
  fromLine: number;
  count: number;
}

/** What a submission reports in its heartbeat once the provider has created its job. */
interface SubmittedHeartbeat { jobId: string; online: number[] }

interface LineRange { batchId: string; tenantId: string; inputFileId: string; fromLine: number; count: number }

const NATIVE_PROFILES = new Set(['managed_provider', 'byok']);

export function createProviderBatchActivities(deps: ProviderBatchDeps) {
  const adapterFor = (target: BatchTarget): BatchCapableAdapter => {
    const adapter = deps.directory.batchAdapter(target.provider, target.region === 'default' ? undefined : target.region);
    if (!adapter) throw new Error(`${target.provider} has no native batch API`);
    return adapter;
  };
  const credentialFor = async (tenantId: string, target: BatchTarget) => {
    const credential = await deps.credentials.resolve({ tenantId, executionProfile: target.execution_profile, provider: target.provider });
    // Bifrost's virtual key is for Bifrost only: it never goes to the provider's own batch API.
    if (credential.via === 'bifrost') throw new Error(`${target.provider} is served through Bifrost, which Zumik does not drive a native batch API through`);
    return { apiKey: credential.apiKey };
  };
  const lines = async (range: LineRange) => (await readInputLines(deps.files, range.tenantId, range.inputFileId, range.fromLine, range.count))
    .map(({ index, value }) => ({ index, line: value as { custom_id: string; body: BatchLine['body'] & { model?: string } } }));

  return {
    /** Provider-native when the policy allows it and the batch's alias resolves (seeded by the batch id) to a target with a batch API. */
    async planBatch(input: { batchId: string; tenantId: string; inputFileId: string }): Promise<BatchPlan> {
      const policy = await deps.policies.get(input.tenantId);
      if (!policy.batch.provider_native) return { mode: 'online' };
      const [first] = await readInputLines(deps.files, input.tenantId, input.inputFileId, 0, 1);
      // Provider batch APIs are used for chat lines; embeddings lines run online (every line of a file has the first one's url).
      if ((first?.value as { url?: unknown } | undefined)?.url === '/v1/embeddings') return { mode: 'online' };
      const alias = String((first?.value as { body?: { model?: unknown } } | undefined)?.body?.model ?? '');
      // The tenant's allow-lists hold here too; a refused alias goes online, where each line is refused with its reason.
      const lists = [{ aliases: policy.allowed_aliases, providers: policy.allowed_providers }];
      const release = alias && aliasAllowed(lists, alias) ? await deps.aliases.findActive(input.tenantId, alias) : undefined;
      if (!release) return { mode: 'online' };
      const regions = Object.fromEntries(release.targets.map((target) => [target.provider, safeRegions(deps, target.provider)]));
      const plan = buildAttemptPlan(release, {
        random: seededRandom(input.batchId), regions, openCircuits: new Set(), contextWindow: () => undefined,
        allowedProvider: (provider) => providerAllowed(lists, provider),
      });
      // Broader-coverage targets (outside the manifest, Bifrost only) never go to a native batch API: their lines run online,
      // where the tenant policy and the Bifrost deployment decide.
      const candidate = plan.candidates.find((entry) => NATIVE_PROFILES.has(entry.execution_profile) && !entry.coverage
        && !(entry.execution_profile === 'managed_provider' && deps.directory.viaBifrost?.(entry.provider))
        && deps.directory.batchAdapter(entry.provider) !== undefined);
      if (!candidate) return { mode: 'online' };
      const adapter = adapterFor(candidate);
      return {
        mode: 'provider_native', alias,
        target: { execution_profile: candidate.execution_profile, provider: candidate.provider, model: candidate.model, region: candidate.region },
        linesPerJob: Math.min(adapter.limits.maxLines, 10_000), fallbackOnline: policy.batch.fallback_to_online,
        pollIntervalMs: policy.batch.poll_interval_ms,
      };
    },

    /**
     * Submit one job for a range of lines; lines of another alias, or that the provider cannot take, stay online.
     * Idempotent where the provider keeps a label to search by: the job carries a submission key derived from the
     * batch and its range, and a retry (the creation's answer lost, the worker gone after it) first asks the
     * provider for a job with that key and takes it instead of creating a second one.
     */
    async submitProviderBatch(input: LineRange & { alias: string; target: BatchTarget }): Promise<{ job: ProviderJobRef | null; online: number[] }> {
      const submissionKey = `zumik:${input.batchId}:lines:${input.fromLine}+${input.count}`;
      const adapter = adapterFor(input.target);
      const credential = await credentialFor(input.tenantId, input.target);
      const online: number[] = [];
      const batchLines: BatchLine[] = [];
      const indexOf = new Map<string, number>();
      for (const { index, line } of await lines(input)) {
        if (line.body.model !== input.alias) online.push(index);
        else { batchLines.push({ customId: line.custom_id, body: line.body }); indexOf.set(line.custom_id, index); }
      }
      if (batchLines.length === 0) return { job: null, online };
      const { info } = Context.current();
      const done = (jobId: string, refused: number[] = []) =>
        ({ job: { jobId, fromLine: input.fromLine, count: input.count }, online: [...online, ...refused].sort((a, b) => a - b) });
      if (info.attempt > 1) {
        // The job a lost worker created and reported in its heartbeat; else the provider's own record of it (by key, or by hint).
        const reported = info.heartbeatDetails as SubmittedHeartbeat | undefined;
        if (reported?.jobId) return done(reported.jobId, reported.online);
        const earlier = await adapter.findSubmitted?.(submissionKey, { credential }, { since: info.scheduledTimestampMs, lines: batchLines.length });
        // Lines the provider refused at the first submission have no result: collection sends them online (or finalisation fails them).
        if (earlier) return done(earlier.id);
      }
      const submission = await adapter.submit(batchLines, {
        model: input.target.model, credential,
        metadata: { zumik_batch: input.batchId, [SUBMISSION_KEY_METADATA]: submissionKey }, displayName: submissionKey,
        cacheKeyHint: `${input.tenantId}:${input.alias}`,
      });
      const refused = submission.rejected.map((rejected) => indexOf.get(rejected.customId)!);
      // Reported at once: a retry after this worker dies takes this job instead of creating a second one.
      Context.current().heartbeat({ jobId: submission.id, online: refused } satisfies SubmittedHeartbeat);
      return done(submission.id, refused);
    },

    async pollProviderBatch(input: { tenantId: string; target: BatchTarget; jobId: string }): Promise<Pick<BatchJob, 'status' | 'done' | 'counts' | 'rawStatus'>> {
      const job = await adapterFor(input.target).poll(input.jobId, { credential: await credentialFor(input.tenantId, input.target) });
      return { status: job.status, done: job.done, counts: job.counts, rawStatus: job.rawStatus };
    },

    async cancelProviderBatch(input: { tenantId: string; target: BatchTarget; jobId: string }): Promise<void> {
      await adapterFor(input.target).cancel(input.jobId, { credential: await credentialFor(input.tenantId, input.target) });
    },

    /**
     * Map a done job's results back by custom_id into the batch's result rows (exactly once each).
     * Failed or unserved lines are returned for the online path when `fallbackOnline`; otherwise they
     * get their error line here (unserved ones are left to finalisation).
     */
    async collectProviderBatch(input: LineRange & { alias: string; target: BatchTarget; jobId: string; fallbackOnline: boolean }): Promise<{ succeeded: number; online: number[] }> {
      const indexOf = new Map<string, number>();
      for (const { index, line } of await lines(input)) if (line.body.model === input.alias) indexOf.set(line.custom_id, index);
      const credential = await credentialFor(input.tenantId, input.target);
      const served = new Set<string>();
      const online: number[] = [];
      let succeeded = 0;
      for await (const result of adapterFor(input.target).results(input.jobId, { credential })) {
        const lineIndex = indexOf.get(result.customId);
        if (lineIndex === undefined) continue;
        served.add(result.customId);
        const requestId = `batch_req_${input.batchId.replace(/^batch_/, '')}_${lineIndex}`;
        if (result.ok) {
          succeeded += 1;
          await deps.files.appendResult({
            batchId: input.batchId, customId: result.customId, lineIndex, kind: 'output',
            body: { response: { status_code: 200, request_id: requestId, body: toChatCompletion(result.result, { id: requestId }) }, error: null },
          });
        } else if (input.fallbackOnline) {
          online.push(lineIndex);
        } else {
          await deps.files.appendResult({
            batchId: input.batchId, customId: result.customId, lineIndex, kind: 'error',
            body: { response: { status_code: result.error.status ?? 500, request_id: requestId,
              body: { error: { message: result.error.message, type: 'server_error', param: null, code: result.error.providerCode ?? result.error.kind } } }, error: null },
          });
        }
      }
      if (input.fallbackOnline) for (const [customId, lineIndex] of indexOf) if (!served.has(customId)) online.push(lineIndex);
      return { succeeded, online: online.sort((a, b) => a - b) };
    },
  };
}

function safeRegions(deps: ProviderBatchDeps, provider: string): string[] {
  try {
    return deps.directory.regions(provider);
  } catch {
    return ['default'];
  }
}

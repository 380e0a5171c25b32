/**
 * The replay workflow's activities (README "Replay"): select the sample from retained prompts, send one
 * retained request to the candidate in shadow, and write the report. Prompts and answers are read here
 * from Postgres by id and results written back: workflow history only ever holds ids and counts. A
 * shadow call goes through the same credential resolution and provider adapters as an attempt, but
 * never reaches a client (no stream bus), never counts toward a circuit, and is never billed to a request.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { buildAttemptPlan, seededRandom } from '../src/domain/attempt-plan';
import type { PlannedAttempt } from '../src/domain/request-outcome';
import { usageCostUsd } from '../src/domain/price-manifest';
import { replayReport, type ReplayItemResult, type ReplayReport } from '../src/domain/replay-report';
import { similarityByName } from '../src/domain/replay-similarity';
import type { ChatRequest } from '../src/contract/chat';
import { ProviderError } from '../src/providers/provider-error';
import type { ByocEndpointRepository } from '../src/store/byoc-endpoint-repository';
import type { ModelAliasRelease } from '../src/domain/model-alias';
import type { ReplayRepository } from '../src/store/replay-repository';
import type { RetainedPromptStore } from '../src/store/retained-prompt-store';
import type { CallProviderDeps } from './attempt-core';

export interface ReplayActivityDeps {
  replays: ReplayRepository;
  prompts: Pick<RetainedPromptStore, 'sample' | 'find'>;
  endpoints: Pick<ByocEndpointRepository, 'find'>;
  aliases: { findById(id: string, viewer: string): Promise<ModelAliasRelease | undefined> };
  calls: Pick<CallProviderDeps, 'adapters' | 'credentials' | 'manifests' | 'prices' | 'logger'>;
  /** Regions per provider, preferred first (the provider directory's). */
  regions: (provider: string) => readonly string[];
  /** One shadow call's time limit (default 120 s). */
  callTimeoutMs?: number;
}

/** What the replay workflow passes (ids only). */
export interface ReplayItemInput {
  replayId: string;
  tenantId: string;
  seq: number;
}

/** The failure type of a replay whose candidate cannot be called at all (gone, or another tenant's). */
export const REPLAY_CANDIDATE_MISSING = 'Replay.candidate_missing';

export function createReplayActivities(deps: ReplayActivityDeps) {
  const timeoutMs = deps.callTimeoutMs ?? 120_000;

  /**
   * The targets one retained request goes to, in order: the endpoint; or the candidate release's plan for that
   * request id (seeded like a real request), whose later targets are its failover, as a served request's would be.
   */
  async function targetsFor(tenantId: string, candidate: Awaited<ReturnType<ReplayRepository['get']>>['candidate'], requestId: string): Promise<PlannedAttempt[]> {
    if ('byoc_endpoint' in candidate) {
      const endpoint = await deps.endpoints.find(tenantId, candidate.byoc_endpoint);
      if (!endpoint) throw ApplicationFailure.create({ type: REPLAY_CANDIDATE_MISSING, nonRetryable: true, message: `the tenant has no endpoint '${candidate.byoc_endpoint}'` });
      return [{
        provider: endpoint.id, model: candidate.model, region: 'default', execution_profile: endpoint.profile, model_revision: 'replay', role: 'primary', targetIndex: 0,
      } as PlannedAttempt];
    }
    const release = await deps.aliases.findById(candidate.release_id, tenantId);
    if (!release) throw ApplicationFailure.create({ type: REPLAY_CANDIDATE_MISSING, nonRetryable: true, message: `no release '${candidate.release_id}' readable by the tenant` });
    const regions = Object.fromEntries(release.targets.map((target) => [target.provider, safeRegions(deps.regions, target.provider)]));
    // Pending endpoints included: the candidate is being evaluated, not served.
    const plan = buildAttemptPlan(release, { random: seededRandom(requestId), regions, openCircuits: new Set(), tenantId, contextWindow: () => undefined });
    if (plan.candidates.length === 0) {
      throw ApplicationFailure.create({ type: REPLAY_CANDIDATE_MISSING, nonRetryable: true, message: `release '${release.id}' has no target to replay against` });
    }
    return plan.candidates;
  }

  /** The first target that answers, failing over on the kinds a served request fails over on (one call per target: no retries). */
  async function shadowCallWithFailover(tenantId: string, targets: PlannedAttempt[], request: ChatRequest) {
    for (let index = 0; ; index += 1) {
      const attempt = targets[index]!;
      try {
        return { attempt, answer: await shadowCall(deps, tenantId, attempt, request, timeoutMs) };
      } catch (error) {
        const failover = error instanceof ProviderError && error.failover;
        if (!failover || index + 1 >= targets.length || Context.current().cancellationSignal.aborted) throw error;
      }
    }
  }

  return {
    /** Draw the sample (once: a retry keeps the first) and answer its size. */
    async selectReplaySample(input: { replayId: string }): Promise<{ count: number }> {
      const replay = await deps.replays.get(input.replayId);
      if (replay.sampleCount !== null) return { count: replay.sampleCount };
      const { selection } = replay;
      const ids = await deps.prompts.sample({
        tenantId: replay.tenantId, alias: selection.alias, releaseId: selection.release_id,
        from: selection.from === undefined ? undefined : selection.from * 1000, to: selection.to === undefined ? undefined : selection.to * 1000,
        sampleSize: selection.sample_size, seed: replay.id,
      });
      return { count: await deps.replays.setSample(replay.id, ids) };
    },

    /** Send one retained request to the candidate in shadow and store how it went against what was served. */
    async replayRequest(input: ReplayItemInput): Promise<{ ok: boolean }> {
      const item = await deps.replays.item(input.replayId, input.seq);
      if (item.status !== 'pending') return { ok: item.status === 'succeeded' };
      const replay = await deps.replays.get(input.replayId);
      const prompt = await deps.prompts.find(input.tenantId, item.requestId);
      const served = prompt?.answer;
      const similarity = similarityByName(replay.similarity);
      let result: ReplayItemResult;
      if (!prompt) {
        result = failedItem('prompt_expired', 0, null);
      } else {
        const targets = await targetsFor(input.tenantId, replay.candidate, item.requestId);
        const startedAt = Date.now();
        try {
          const { attempt, answer } = await shadowCallWithFailover(input.tenantId, targets, prompt.request as unknown as ChatRequest);
          const latencyMs = Date.now() - startedAt;
          const prices = deps.calls.prices ? await deps.calls.prices.current() : undefined;
          const cost = prices && answer.usage ? usageCostUsd(prices, undefined, attempt.provider, attempt.model, answer.usage) : null;
          result = {
            ok: true, failure_kind: null, ttft_ms: answer.ttftMs ?? latencyMs, latency_ms: latencyMs, usage: answer.usage, cost_usd: cost,
            exact: answer.text === served!.text, similarity: similarity.score(served!.text, answer.text),
            finish_reason: answer.finishReason, served_finish_reason: served!.finish_reason,
          };
        } catch (error) {
          if (Context.current().cancellationSignal.aborted) throw error;
          const kind = error instanceof ProviderError ? error.kind : 'unknown';
          deps.calls.logger.info({ replayId: input.replayId, seq: input.seq, kind }, 'replayed request failed');
          result = failedItem(kind, Date.now() - startedAt, served?.finish_reason ?? null);
        }
      }
      await deps.replays.saveItem(input.replayId, input.seq, result);
      return { ok: result.ok };
    },

    /** Compute and store the report from every item's result; answers the verdict. */
    async finishReplay(input: { replayId: string }): Promise<{ verdict: ReplayReport['verdict']; count: number }> {
      const replay = await deps.replays.get(input.replayId);
      const report = replayReport(await deps.replays.itemResults(replay.id), replay.similarity, replay.thresholds);
      await deps.replays.complete(replay.id, report);
      return { verdict: report.verdict, count: report.count };
    },
  };
}

function failedItem(kind: string, latencyMs: number, servedFinish: string | null): ReplayItemResult {
  return {
    ok: false, failure_kind: kind, ttft_ms: null, latency_ms: latencyMs, usage: null, cost_usd: null, exact: false, similarity: null,
    finish_reason: null, served_finish_reason: servedFinish,
  };
}

function safeRegions(regions: (provider: string) => readonly string[], provider: string): string[] {
  try {
    return [...regions(provider)].slice(0, 1);
  } catch {
    return ['default'];
  }
}

interface ShadowAnswer {
  text: string;
  finishReason: string | null;
  usage: ReplayItemResult['usage'];
  ttftMs: number | null;
}

/** One streamed call to the candidate, read to its end: text of choice 0, finish, usage, time to first content. Never published anywhere. */
async function shadowCall(deps: ReplayActivityDeps, tenantId: string, attempt: PlannedAttempt, body: ChatRequest, timeoutMs: number): Promise<ShadowAnswer> {
  const context = Context.current();
  let credential;
  try {
    credential = await deps.calls.credentials.resolve({ tenantId, executionProfile: attempt.execution_profile, provider: attempt.provider });
  } catch (error) {
    throw new ProviderError(`no credentials for ${attempt.execution_profile}/${attempt.provider}: ${(error as Error).message}`, { kind: 'no_credentials', provider: attempt.provider });
  }
  const adapter = deps.calls.adapters.forAttempt(attempt, credential);
  const startedAt = Date.now();
  let ttftMs: number | null = null;
  let text = '';
  let finishReason: string | null = null;
  let usage: ShadowAnswer['usage'] = null;
  const signal = AbortSignal.any([context.cancellationSignal, AbortSignal.timeout(timeoutMs)]);
  const request: ChatRequest = { ...body, stream: true, stream_options: { include_usage: true } };
  for await (const part of adapter.stream(request, {
    model: attempt.model, credential: { apiKey: credential.apiKey }, signal, cacheKeyHint: `${tenantId}:replay`,
    timeouts: { headersMs: timeoutMs, firstTokenMs: timeoutMs, stallMs: timeoutMs, totalMs: timeoutMs },
  })) {
    if (part.type === 'text-delta' || part.type === 'reasoning-delta' || part.type === 'tool-call-delta' || part.type === 'refusal-delta') ttftMs ??= Date.now() - startedAt;
    if (part.type === 'text-delta' && part.choiceIndex === 0) text += part.text;
    else if (part.type === 'finish' && part.choiceIndex === 0) finishReason = part.finishReason;
    else if (part.type === 'usage') usage = { prompt_tokens: part.usage.prompt_tokens, completion_tokens: part.usage.completion_tokens, total_tokens: part.usage.total_tokens };
  }
  return { text, finishReason, usage, ttftMs };
}

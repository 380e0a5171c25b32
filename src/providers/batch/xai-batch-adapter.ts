/**
 * xAI's native Batch API as a BatchCapableAdapter (PROVIDERS.md §4.5): a batch is created empty,
 * the lines are added as `chat_get_completion` requests (each converted by the online xAI converter,
 * so a line's body is what an online call sends), the batch is polled by id — done when no request
 * is pending — and the paginated results are mapped by the online response mapper and error taxonomy.
 */
import type { Dispatcher } from 'undici';
import { ProviderError } from '../provider-error';
import { convertOpenAICompatibleResponse } from '../openai-compatible/convert-openai-compatible-response';
import { convertToOpenAICompatibleRequest } from '../openai-compatible/convert-to-openai-compatible-request';
import { openAICompatibleResponseSchema } from '../openai-compatible/openai-compatible-api';
import { openAICompatibleFailure } from '../openai-compatible/openai-compatible-error';
import { resolveFlavour, type OpenAICompatibleFlavour } from '../openai-compatible/openai-compatible-flavours';
import { callJson, type BatchHttpRequest, type HttpFailure } from './batch-http';
import { checkBatchBytes, checkBatchLines, convertBatchLines, lineFailure, malformedLine, notDone, rethrowUnknownJob, withoutServiceTier } from './batch-lines';
import type {
  BatchCallOptions, BatchCapableAdapter, BatchJob, BatchJobStatus, BatchLimits, BatchLine, BatchLineResult, BatchResultsOptions,
  BatchSubmission, BatchSubmitOptions, SubmissionHint,
} from './batch-types';
import { xaiBatchListSchema, xaiBatchResultsPageSchema, xaiBatchSchema, type XaiBatch } from './xai-batch-api';

const PROVIDER = 'xai';

export interface XaiBatchAdapterOptions {
  /** Everything before `/batches`, e.g. `https://api.x.ai/v1`. */
  baseUrl: string;
  dispatcher: Dispatcher;
}

/** PROVIDERS.md states no per-batch limits for xAI: Zumik's own bound per job, with requests added in pages. */
export const XAI_BATCH_LIMITS: BatchLimits = { maxLines: 10_000, maxBytes: 100 * 1024 * 1024 };
const LINES_PER_ADD = 500;

export class XaiBatchAdapter implements BatchCapableAdapter {
  readonly provider = PROVIDER;
  readonly limits = XAI_BATCH_LIMITS;
  private readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly flavour: OpenAICompatibleFlavour = resolveFlavour({ flavour: 'xai' });

  constructor(options: XaiBatchAdapterOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.dispatcher = options.dispatcher;
  }

  async submit(lines: BatchLine[], options: BatchSubmitOptions): Promise<BatchSubmission> {
    checkBatchLines(lines, this.limits, PROVIDER);
    const converted = convertBatchLines(lines, PROVIDER, (line) => {
      const { body, warnings } = withoutServiceTier(line.body);
      const upstream = convertToOpenAICompatibleRequest(body, options, this.flavour, false);
      return { request: upstream.body, warnings: [...warnings, ...upstream.warnings] };
    });
    const requests = converted.accepted.map(({ customId, request }) => ({ batch_request_id: customId, batch_request: { chat_get_completion: request } }));
    checkBatchBytes(Buffer.byteLength(JSON.stringify(requests)), this.limits, PROVIDER);
    const created = await this.call('POST', '/batches', options, { name: options.displayName ?? 'zumik batch' });
    const id = encodeURIComponent(created.batch.batch_id);
    try {
      for (let from = 0; from < requests.length; from += LINES_PER_ADD) {
        await callJson(this.json('POST', `/batches/${id}/requests`, options, { batch_requests: requests.slice(from, from + LINES_PER_ADD) }), this.httpFailure(options));
      }
    } catch (error) {
      // A half-filled batch would serve only some lines: stop it (best effort) and let the caller decide.
      await this.call('POST', `/batches/${id}:cancel`, options).catch(() => undefined);
      throw error;
    }
    const { batch, requestId } = await this.call('GET', `/batches/${id}`, options);
    return { ...toJob(batch, requestId), rejected: converted.rejected, warnings: converted.warnings };
  }

  async poll(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    const { batch, requestId } = await this.call('GET', `/batches/${encodeURIComponent(jobId)}`, options).catch(rethrowUnknownJob);
    return toJob(batch, requestId);
  }

  async cancel(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    await this.call('POST', `/batches/${encodeURIComponent(jobId)}:cancel`, options).catch(rethrowUnknownJob);
    return this.poll(jobId, options);
  }

  /**
   * The batch named with this submission key among the most recent. One whose requests were not all
   * added (its submitter died between the creation and the last add) is cancelled, so that it never
   * serves part of the lines, and the submission is made again.
   */
  async findSubmitted(submissionKey: string, options: BatchCallOptions, hint: SubmissionHint): Promise<BatchJob | undefined> {
    const { body, headers } = await callJson(this.json('GET', '/batches?limit=100', options), this.httpFailure(options));
    const list = xaiBatchListSchema.safeParse(body);
    if (!list.success) throw malformedLine(PROVIDER, 'the batch list is not a list of batches');
    const found = list.data.batches.find((batch) => batch.name === submissionKey && !batch.cancel_time);
    if (!found) return undefined;
    if ((found.state?.num_requests ?? 0) !== hint.lines) {
      await this.call('POST', `/batches/${encodeURIComponent(found.batch_id)}:cancel`, options).catch(() => undefined);
      return undefined;
    }
    return toJob(found, headers['x-request-id']);
  }

  async *results(jobId: string, options: BatchResultsOptions): AsyncGenerator<BatchLineResult> {
    const job = await this.poll(jobId, options);
    if (!job.done) throw notDone(PROVIDER, job);
    let token: string | undefined;
    do {
      const query = token ? `?pagination_token=${encodeURIComponent(token)}` : '';
      const { body } = await callJson(this.json('GET', `/batches/${encodeURIComponent(jobId)}/results${query}`, options), this.httpFailure(options));
      const page = xaiBatchResultsPageSchema.safeParse(body);
      if (!page.success) throw malformedLine(PROVIDER, 'a results page is not a list of batch results');
      for (const entry of page.data.results) yield this.mapResult(entry, options);
      token = page.data.pagination_token ?? undefined;
    } while (token);
  }

  private mapResult(entry: { batch_request_id: string; batch_result?: { response?: { chat_get_completion?: unknown } | null; error?: unknown } | null },
    options: BatchResultsOptions): BatchLineResult {
    const customId = entry.batch_request_id;
    const completion = entry.batch_result?.response?.chat_get_completion;
    if (completion !== undefined) {
      const body = openAICompatibleResponseSchema.safeParse(completion);
      if (!body.success) return lineFailure(customId, malformedLine(PROVIDER, `the result of '${customId}' is not a chat completion`));
      return { customId, ok: true, result: convertOpenAICompatibleResponse(body.data, { flavour: this.flavour, model: '', warnings: options.warnings?.[customId] ?? [] }) };
    }
    const error = entry.batch_result?.error;
    // xAI's errors are flat (`{"code","error":"…"}`), a batch result's error a bare string.
    return lineFailure(customId, openAICompatibleFailure(this.failureContext(options), { body: typeof error === 'string' ? { error } : error ?? { error: 'no result' } }));
  }

  private async call(method: 'GET' | 'POST', path: string, options: BatchCallOptions, json?: unknown): Promise<{ batch: XaiBatch; requestId?: string }> {
    const { body, headers } = await callJson(this.json(method, path, options, json), this.httpFailure(options));
    const batch = xaiBatchSchema.safeParse(body);
    if (!batch.success) throw new ProviderError(`${PROVIDER}: the answer is not a Batch`, { kind: 'bad_response', provider: PROVIDER, providerRequestId: headers['x-request-id'] });
    return { batch: batch.data, requestId: headers['x-request-id'] };
  }

  private json(method: BatchHttpRequest['method'], path: string, options: BatchCallOptions, json?: unknown): BatchHttpRequest {
    return {
      provider: PROVIDER, url: `${this.baseUrl}${path}`, method, headers: { authorization: `Bearer ${options.credential.apiKey}` },
      dispatcher: this.dispatcher, signal: options.signal, timeouts: options.timeouts, ...(json !== undefined ? { json } : {}),
    };
  }

  private httpFailure(options: BatchCallOptions): HttpFailure {
    return (status, headers, text) => openAICompatibleFailure(this.failureContext(options), { status, headers, body: parseLenient(text) });
  }

  private failureContext(options: BatchCallOptions) {
    return { provider: PROVIDER, flavour: this.flavour, apiKey: options.credential.apiKey };
  }
}

/** Done when no request is pending (and there were some), or once a cancel has drained the pending ones. */
function toJob(batch: XaiBatch, requestId?: string): BatchJob {
  const state = batch.state ?? {};
  const total = state.num_requests ?? 0;
  const pending = state.num_pending ?? 0;
  const cancelled = state.num_cancelled ?? 0;
  const done = total > 0 && pending === 0;
  const status: BatchJobStatus = batch.cancel_time ? (pending === 0 ? 'cancelled' : 'cancelling') : done ? 'completed' : 'in_progress';
  return {
    id: batch.batch_id, provider: PROVIDER, status, rawStatus: batch.cancel_time ? 'cancelled' : done ? 'done' : 'pending',
    done: status === 'completed' || status === 'cancelled',
    counts: { total, succeeded: state.num_success ?? 0, failed: state.num_error ?? 0, pending, cancelled },
    ...(batch.create_time ? { createdAt: batch.create_time } : {}),
    ...(batch.expire_time ? { expiresAt: batch.expire_time } : {}),
    ...(batch.cancel_time ? { endedAt: batch.cancel_time } : {}),
    ...(requestId ? { providerRequestId: requestId } : {}),
  };
}

function parseLenient(text: string): unknown {
  try { return JSON.parse(text); } catch { return text; }
}

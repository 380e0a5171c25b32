/**
 * Anthropic Message Batches as a BatchCapableAdapter (PROVIDERS.md §2.7): each line becomes the
 * `params` of one batch request through the online request preparation, the batch is polled by id,
 * and the results JSONL is streamed and mapped with the online Message mapper and error taxonomy.
 */
import type { Dispatcher } from 'undici';
import { ANTHROPIC_VERSION, anthropicMessageSchema, type AnthropicMessagesRequest } from '../anthropic/anthropic-api';
import { createAnthropicHttpError, kindFromAnthropicErrorType, parseAnthropicErrorBody } from '../anthropic/anthropic-error';
import { mapAnthropicResponse } from '../anthropic/map-anthropic-response';
import { prepareAnthropicRequest } from '../anthropic/prepare-anthropic-request';
import { ProviderError } from '../provider-error';
import { callJson, streamJsonLines, type BatchHttpRequest, type HttpFailure } from './batch-http';
import { checkBatchBytes, checkBatchLines, convertBatchLines, lineFailure, malformedLine, notDone, rethrowUnknownJob, unservedLine, withoutServiceTier } from './batch-lines';
import type {
  BatchCallOptions, BatchCapableAdapter, BatchCounts, BatchJob, BatchJobStatus, BatchLimits, BatchLine, BatchLineResult,
  BatchResultsOptions, BatchSubmission, BatchSubmitOptions, SubmissionHint,
} from './batch-types';
import {
  ANTHROPIC_CUSTOM_ID, anthropicBatchResultLineSchema, anthropicMessageBatchListSchema, anthropicMessageBatchSchema, type AnthropicMessageBatch,
} from './anthropic-batch-api';

const PROVIDER = 'anthropic';

export interface AnthropicBatchAdapterOptions {
  /** Origin without a path, e.g. `https://api.anthropic.com` or a loopback emulator's URL. */
  baseUrl: string;
  dispatcher: Dispatcher;
}

/** ≤ 100,000 requests or 256 MB per batch (PROVIDERS.md §2.7). */
export const ANTHROPIC_BATCH_LIMITS: BatchLimits = { maxLines: 100_000, maxBytes: 256 * 1024 * 1024 };

/** How far before a submission's first try (by our clock) a batch it created may be stamped (by Anthropic's). */
const CLOCK_SLACK_MS = 5_000;

export class AnthropicBatchAdapter implements BatchCapableAdapter {
  readonly provider = PROVIDER;
  readonly limits = ANTHROPIC_BATCH_LIMITS;
  private readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;

  constructor(options: AnthropicBatchAdapterOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.dispatcher = options.dispatcher;
  }

  async submit(lines: BatchLine[], options: BatchSubmitOptions): Promise<BatchSubmission> {
    checkBatchLines(lines, this.limits, PROVIDER);
    const converted = convertBatchLines<AnthropicMessagesRequest>(lines, PROVIDER, (line) => {
      if (!ANTHROPIC_CUSTOM_ID.test(line.customId)) {
        throw new ProviderError(`${PROVIDER}: custom id '${line.customId.slice(0, 80)}' is not 1–64 letters, digits, '_' or '-'`, { kind: 'invalid_request', provider: PROVIDER });
      }
      const stripped = withoutServiceTier(line.body);
      const { body, warnings } = prepareAnthropicRequest(stripped.body, options.model);
      return { request: body, warnings: [...stripped.warnings, ...warnings] };
    });
    const body = { requests: converted.accepted.map(({ customId, request }) => ({ custom_id: customId, params: request })) };
    checkBatchBytes(Buffer.byteLength(JSON.stringify(body)), this.limits, PROVIDER);
    const { batch, requestId } = await this.call('POST', '/v1/messages/batches', options, body);
    return { ...toJob(batch, requestId), rejected: converted.rejected, warnings: converted.warnings };
  }

  async poll(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    const { batch, requestId } = await this.call('GET', `/v1/messages/batches/${encodeURIComponent(jobId)}`, options).catch(rethrowUnknownJob);
    return toJob(batch, requestId);
  }

  async cancel(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    const { batch, requestId } = await this.call('POST', `/v1/messages/batches/${encodeURIComponent(jobId)}/cancel`, options).catch(rethrowUnknownJob);
    return toJob(batch, requestId);
  }

  /**
   * Message Batches keep no label to search by, so a retried submission matches by what it knows: the
   * one batch among the most recent created since its first try with exactly its number of requests.
   * Two such batches (another client of the same key submitting the same size at the same moment) are
   * ambiguous: none is taken, and the submission is made again.
   */
  async findSubmitted(_submissionKey: string, options: BatchCallOptions, hint: SubmissionHint): Promise<BatchJob | undefined> {
    const { body, headers } = await callJson(this.request('GET', '/v1/messages/batches?limit=100', options), this.httpFailure(options));
    const list = anthropicMessageBatchListSchema.safeParse(body);
    if (!list.success) throw new ProviderError(`${PROVIDER}: the answer is not a list of MessageBatches`, { kind: 'bad_response', provider: PROVIDER });
    const total = ({ request_counts: counts }: AnthropicMessageBatch) =>
      (counts?.processing ?? 0) + (counts?.succeeded ?? 0) + (counts?.errored ?? 0) + (counts?.canceled ?? 0) + (counts?.expired ?? 0);
    // Our clock and Anthropic's may differ a little: a few seconds of slack before the first try.
    const candidates = list.data.data.filter((batch) => batch.created_at && Date.parse(batch.created_at) >= hint.since - CLOCK_SLACK_MS
      && total(batch) === hint.lines && batch.processing_status !== 'canceling');
    return candidates.length === 1 ? toJob(candidates[0]!, headers['request-id']) : undefined;
  }

  async *results(jobId: string, options: BatchResultsOptions): AsyncGenerator<BatchLineResult> {
    const { batch } = await this.call('GET', `/v1/messages/batches/${encodeURIComponent(jobId)}`, options).catch(rethrowUnknownJob);
    const job = toJob(batch);
    if (!job.done || !batch.results_url) throw notDone(PROVIDER, job);
    const upstream = this.request('GET', this.resultsPath(batch), options);
    upstream.headers.accept = 'application/binary';
    for await (const line of streamJsonLines(upstream, this.httpFailure(options))) yield mapResultLine(line, options);
  }

  /** `results_url` when it is on our base URL's origin; otherwise the documented path, so the key never leaves for another host. */
  private resultsPath(batch: AnthropicMessageBatch): string {
    const canonical = `/v1/messages/batches/${encodeURIComponent(batch.id)}/results`;
    try {
      const url = new URL(batch.results_url!);
      return url.origin === new URL(this.baseUrl).origin ? `${url.pathname}${url.search}` : canonical;
    } catch {
      return canonical;
    }
  }

  private async call(method: 'GET' | 'POST', path: string, options: BatchCallOptions, json?: unknown): Promise<{ batch: AnthropicMessageBatch; requestId?: string }> {
    const upstream = this.request(method, path, options);
    if (json !== undefined) upstream.json = json;
    const { body, headers } = await callJson(upstream, this.httpFailure(options));
    const batch = anthropicMessageBatchSchema.safeParse(body);
    if (!batch.success) {
      throw new ProviderError(`${PROVIDER}: the answer is not a MessageBatch`, { kind: 'bad_response', provider: PROVIDER, providerRequestId: headers['request-id'] });
    }
    return { batch: batch.data, requestId: headers['request-id'] };
  }

  private request(method: BatchHttpRequest['method'], path: string, options: BatchCallOptions): BatchHttpRequest {
    return {
      provider: PROVIDER, url: `${this.baseUrl}${path}`, method,
      headers: { 'x-api-key': options.credential.apiKey, 'anthropic-version': ANTHROPIC_VERSION, accept: 'application/json' },
      dispatcher: this.dispatcher, signal: options.signal, timeouts: options.timeouts,
    };
  }

  private httpFailure(options: BatchCallOptions): HttpFailure {
    return (status, headers, text) => createAnthropicHttpError(status, headers, text, { apiKey: options.credential.apiKey });
  }
}

function toJob(batch: AnthropicMessageBatch, requestId?: string): BatchJob {
  const status = jobStatus(batch);
  return {
    id: batch.id, provider: PROVIDER, status, rawStatus: batch.processing_status, done: batch.processing_status === 'ended',
    ...(batch.request_counts ? { counts: toCounts(batch.request_counts) } : {}),
    ...(batch.created_at ? { createdAt: batch.created_at } : {}),
    ...(batch.expires_at ? { expiresAt: batch.expires_at } : {}),
    ...(batch.ended_at ? { endedAt: batch.ended_at } : {}),
    ...(requestId ? { providerRequestId: requestId } : {}),
  };
}

/** `ended` is told apart by how: a cancel was asked, some lines expired, or the batch simply finished. */
function jobStatus(batch: AnthropicMessageBatch): BatchJobStatus {
  if (batch.processing_status === 'canceling') return 'cancelling';
  if (batch.processing_status !== 'ended') return 'in_progress';
  if (batch.cancel_initiated_at) return 'cancelled';
  return (batch.request_counts?.expired ?? 0) > 0 ? 'expired' : 'completed';
}

function toCounts(counts: NonNullable<AnthropicMessageBatch['request_counts']>): BatchCounts {
  const value = (count: number | null | undefined) => count ?? 0;
  const total = value(counts.processing) + value(counts.succeeded) + value(counts.errored) + value(counts.canceled) + value(counts.expired);
  return { total, succeeded: value(counts.succeeded), failed: value(counts.errored), pending: value(counts.processing),
    cancelled: value(counts.canceled), expired: value(counts.expired) };
}

function mapResultLine(raw: unknown, options: BatchResultsOptions): BatchLineResult {
  const parsed = anthropicBatchResultLineSchema.safeParse(raw);
  if (!parsed.success) throw malformedLine(PROVIDER, 'a result line has no custom_id');
  const { custom_id: customId, result } = parsed.data;
  switch (result.type) {
    case 'succeeded': {
      const message = anthropicMessageSchema.safeParse(result.message);
      if (!message.success) return lineFailure(customId, malformedLine(PROVIDER, `the result of '${customId}' is not a Message`));
      return { customId, ok: true, result: mapAnthropicResponse(message.data, { warnings: options.warnings?.[customId] ?? [] }) };
    }
    case 'errored': return lineFailure(customId, lineError(result.error, options.credential.apiKey));
    case 'canceled': return unservedLine(customId, PROVIDER, 'cancelled', 'canceled');
    case 'expired': return unservedLine(customId, PROVIDER, 'expired', 'expired');
    default: return lineFailure(customId, malformedLine(PROVIDER, `the result of '${customId}' has an unknown type '${result.type}'`));
  }
}

/** An `errored` result carries an ErrorResponse (`{type:"error",error:{type,message},request_id}`); a bare error object is accepted too. */
function lineError(error: unknown, apiKey: string): ProviderError {
  const body = parseAnthropicErrorBody(error) ?? parseAnthropicErrorBody({ error });
  if (!body) return malformedLine(PROVIDER, 'an errored result without an error body');
  const text = body.error.message ?? '';
  const message = (apiKey.length >= 8 ? text.split(apiKey).join('[redacted]') : text).slice(0, 300);
  return new ProviderError(`${PROVIDER}: ${body.error.type}${message ? `: ${message}` : ''}`, {
    kind: kindFromAnthropicErrorType(body) ?? 'unknown', provider: PROVIDER, providerCode: body.error.type,
    ...(body.request_id ? { providerRequestId: body.request_id } : {}),
  });
}

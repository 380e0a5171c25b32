/**
 * OpenAI's Batch API as a BatchCapableAdapter (PROVIDERS.md §1.7): each line is converted by the
 * online converter into a `/v1/chat/completions` body, uploaded as a JSONL file (`purpose=batch`),
 * run as a 24 h batch, and its output and error files are streamed back and mapped by the online
 * response mapper and error classifier, so a line's result equals the online answer.
 */
import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { ProviderError } from '../provider-error';
import { convertOpenAICompatibleResponse } from '../openai-compatible/convert-openai-compatible-response';
import { convertToOpenAICompatibleRequest } from '../openai-compatible/convert-to-openai-compatible-request';
import { openAICompatibleResponseSchema } from '../openai-compatible/openai-compatible-api';
import { openAICompatibleFailure } from '../openai-compatible/openai-compatible-error';
import { resolveFlavour, type OpenAICompatibleFlavour } from '../openai-compatible/openai-compatible-flavours';
import { callJson, streamJsonLines, type BatchHttpRequest, type HttpFailure } from './batch-http';
import { checkBatchBytes, checkBatchLines, convertBatchLines, lineFailure, malformedLine, notDone, rethrowUnknownJob, unservedLine, withoutServiceTier } from './batch-lines';
import type {
  BatchCallOptions, BatchCapableAdapter, BatchJob, BatchJobStatus, BatchLimits, BatchLine, BatchLineResult, BatchResultsOptions,
  BatchSubmission, BatchSubmitOptions,
} from './batch-types';
import { SUBMISSION_KEY_METADATA } from './batch-types';
import {
  OPENAI_BATCH_ENDPOINT, OPENAI_UNSERVED_CODES, openAIBatchListSchema, openAIBatchOutputLineSchema, openAIBatchSchema, openAIFileSchema, type OpenAIBatch,
} from './openai-batch-api';

export interface OpenAIBatchAdapterOptions {
  /** The name failures and jobs carry; default `openai`. */
  provider?: string;
  /** Everything before `/files` and `/batches`, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  dispatcher: Dispatcher;
}

/** ≤ 50,000 requests and ≤ 200 MB per input file (PROVIDERS.md §1.7). */
export const OPENAI_BATCH_LIMITS: BatchLimits = { maxLines: 50_000, maxBytes: 200 * 1024 * 1024 };

const STATUSES: Record<string, BatchJobStatus> = {
  validating: 'in_progress', in_progress: 'in_progress', finalizing: 'in_progress', cancelling: 'cancelling',
  completed: 'completed', failed: 'failed', expired: 'expired', cancelled: 'cancelled',
};

export class OpenAIBatchAdapter implements BatchCapableAdapter {
  readonly provider: string;
  readonly limits = OPENAI_BATCH_LIMITS;
  private readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly flavour: OpenAICompatibleFlavour = resolveFlavour({ flavour: 'openai' });

  constructor(options: OpenAIBatchAdapterOptions) {
    this.provider = options.provider ?? 'openai';
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.dispatcher = options.dispatcher;
  }

  async submit(lines: BatchLine[], options: BatchSubmitOptions): Promise<BatchSubmission> {
    checkBatchLines(lines, this.limits, this.provider);
    const converted = convertBatchLines(lines, this.provider, (line) => {
      const { body, warnings } = withoutServiceTier(line.body);
      const upstream = convertToOpenAICompatibleRequest(body, options, this.flavour, false);
      return { request: upstream.body, warnings: [...warnings, ...upstream.warnings] };
    });
    const jsonl = converted.accepted
      .map(({ customId, request }) => JSON.stringify({ custom_id: customId, method: 'POST', url: OPENAI_BATCH_ENDPOINT, body: request }))
      .join('\n') + '\n';
    checkBatchBytes(Buffer.byteLength(jsonl), this.limits, this.provider);

    const file = await this.uploadInput(jsonl, options);
    let created: { batch: OpenAIBatch; requestId?: string };
    try {
      created = await this.call('POST', '/batches', options, {
        input_file_id: file, endpoint: OPENAI_BATCH_ENDPOINT, completion_window: '24h',
        ...(options.metadata && Object.keys(options.metadata).length > 0 ? { metadata: options.metadata } : {}),
      });
    } catch (error) {
      // The uploaded file is useless without its batch; leave nothing behind (best effort).
      await this.send({ method: 'DELETE', path: `/files/${encodeURIComponent(file)}`, options }, openAIFileSchema).catch(() => undefined);
      throw error;
    }
    return { ...this.toJob(created.batch, created.requestId), rejected: converted.rejected, warnings: converted.warnings };
  }

  async poll(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    const { batch, requestId } = await this.call('GET', `/batches/${encodeURIComponent(jobId)}`, options).catch(rethrowUnknownJob);
    return this.toJob(batch, requestId);
  }

  async cancel(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    const { batch, requestId } = await this.call('POST', `/batches/${encodeURIComponent(jobId)}/cancel`, options).catch(rethrowUnknownJob);
    return this.toJob(batch, requestId);
  }

  async findSubmitted(submissionKey: string, options: BatchCallOptions): Promise<BatchJob | undefined> {
    const { value, requestId } = await this.send({ method: 'GET', path: '/batches?limit=100', options }, openAIBatchListSchema);
    const found = value.data.find((batch) => (batch.metadata as Record<string, unknown> | null | undefined)?.[SUBMISSION_KEY_METADATA] === submissionKey);
    return found && this.toJob(found, requestId);
  }

  async *results(jobId: string, options: BatchResultsOptions): AsyncGenerator<BatchLineResult> {
    const { batch } = await this.call('GET', `/batches/${encodeURIComponent(jobId)}`, options).catch(rethrowUnknownJob);
    const job = this.toJob(batch);
    if (!job.done) throw notDone(this.provider, job);
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (!fileId) continue;
      const lines = streamJsonLines(this.request('GET', `/files/${encodeURIComponent(fileId)}/content`, options), this.httpFailure(options));
      for await (const line of lines) yield this.mapLine(line, batch, options);
    }
  }

  /** One output/error-file line → the online ChatResult, or the online classification of its error. */
  private mapLine(raw: unknown, batch: OpenAIBatch, options: BatchResultsOptions): BatchLineResult {
    const parsed = openAIBatchOutputLineSchema.safeParse(raw);
    if (!parsed.success) throw malformedLine(this.provider, 'a result line has no custom_id');
    const { custom_id: customId, response, error } = parsed.data;
    const requestIdHeaders: Record<string, string> = response?.request_id ? { 'x-request-id': response.request_id } : {};
    if (response && response.status_code >= 200 && response.status_code < 300) {
      const body = openAICompatibleResponseSchema.safeParse(response.body);
      if (!body.success) return lineFailure(customId, malformedLine(this.provider, `the result of '${customId}' is not a chat.completion`));
      return { customId, ok: true, result: convertOpenAICompatibleResponse(body.data, {
        flavour: this.flavour, model: batch.model ?? '', warnings: options.warnings?.[customId] ?? [],
        ...(response.request_id ? { providerRequestId: response.request_id } : {}),
      }) };
    }
    if (response) {
      return lineFailure(customId, openAICompatibleFailure(this.failureContext(options),
        { status: response.status_code, headers: requestIdHeaders, body: response.body }));
    }
    const unserved = OPENAI_UNSERVED_CODES[error?.code ?? ''];
    if (unserved) return unservedLine(customId, this.provider, unserved, error!.code!);
    return lineFailure(customId, openAICompatibleFailure(this.failureContext(options), { body: { error: { code: error?.code, message: error?.message } } }));
  }

  private toJob(batch: OpenAIBatch, requestId?: string): BatchJob {
    const status = STATUSES[batch.status] ?? 'in_progress';
    const counts = batch.request_counts;
    const total = counts?.total ?? 0;
    const succeeded = counts?.completed ?? 0;
    const failed = counts?.failed ?? 0;
    const endedAt = batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at;
    const firstError = batch.errors?.data?.[0];
    return {
      id: batch.id, provider: this.provider, status, rawStatus: batch.status, done: status !== 'in_progress' && status !== 'cancelling',
      ...(counts ? { counts: { total, succeeded, failed, pending: Math.max(0, total - succeeded - failed) } } : {}),
      ...(batch.created_at ? { createdAt: isoFromSeconds(batch.created_at) } : {}),
      ...(batch.expires_at ? { expiresAt: isoFromSeconds(batch.expires_at) } : {}),
      ...(endedAt ? { endedAt: isoFromSeconds(endedAt) } : {}),
      ...(firstError ? { error: { message: firstError.message ?? 'the batch failed validation', ...(firstError.code ? { code: firstError.code } : {}) } } : {}),
      ...(requestId ? { providerRequestId: requestId } : {}),
    };
  }

  private async uploadInput(jsonl: string, options: BatchSubmitOptions): Promise<string> {
    const boundary = `zumik-${randomBytes(12).toString('hex')}`;
    const multipart = [
      `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="zumik-batch.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`,
      jsonl, `\r\n--${boundary}--\r\n`,
    ].join('');
    const upstream = this.request('POST', '/files', options);
    upstream.headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    upstream.raw = Buffer.from(multipart, 'utf8');
    const { body } = await callJson(upstream, this.httpFailure(options));
    const file = openAIFileSchema.safeParse(body);
    if (!file.success) throw new ProviderError(`${this.provider}: the upload answer is not a File object`, { kind: 'bad_response', provider: this.provider });
    return file.data.id;
  }

  private async call(method: 'GET' | 'POST', path: string, options: BatchCallOptions, json?: unknown): Promise<{ batch: OpenAIBatch; requestId?: string }> {
    const { value, requestId } = await this.send({ method, path, options, json }, openAIBatchSchema);
    return { batch: value, requestId };
  }

  private async send<T>(call: { method: 'GET' | 'POST' | 'DELETE'; path: string; options: BatchCallOptions; json?: unknown },
    schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): Promise<{ value: T; requestId?: string }> {
    const upstream = this.request(call.method, call.path, call.options);
    if (call.json !== undefined) upstream.json = call.json;
    const { body, headers } = await callJson(upstream, this.httpFailure(call.options));
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ProviderError(`${this.provider}: unexpected answer to ${call.method} ${call.path.split('/')[1]}`, { kind: 'bad_response', provider: this.provider });
    return { value: parsed.data, requestId: headers['x-request-id'] };
  }

  private request(method: BatchHttpRequest['method'], path: string, options: BatchCallOptions): BatchHttpRequest {
    return {
      provider: this.provider, url: `${this.baseUrl}${path}`, method, headers: { authorization: `Bearer ${options.credential.apiKey}` },
      dispatcher: this.dispatcher, signal: options.signal, timeouts: options.timeouts,
    };
  }

  private httpFailure(options: BatchCallOptions): HttpFailure {
    return (status, headers, text) => openAICompatibleFailure(this.failureContext(options), { status, headers, body: parseLenient(text) });
  }

  private failureContext(options: BatchCallOptions) {
    return { provider: this.provider, flavour: this.flavour, apiKey: options.credential.apiKey };
  }
}

function parseLenient(text: string): unknown {
  try { return JSON.parse(text); } catch { return text; }
}

function isoFromSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/**
 * Gemini batch mode as a BatchCapableAdapter (PROVIDERS.md §3.7): lines become inline
 * `GenerateContentRequest`s (through the online converter) keyed by custom id in one
 * `:batchGenerateContent` call; the job is the long-running Operation `batches/…`; results come inline
 * in the Operation or, for large outputs, as a responses file streamed from the Files API, and are
 * mapped with the online response converter and Google's error classification.
 */
import type { Dispatcher } from 'undici';
import { convertGeminiResponse } from '../gemini/convert-gemini-response';
import { convertToGeminiRequest } from '../gemini/convert-to-gemini-request';
import { classifyGeminiErrorBody, GEMINI_PROVIDER, geminiErrorFromText, parseRetryDelay, redactSecrets } from '../gemini/gemini-error';
import type { GeminiGenerateContentRequest } from '../gemini/gemini-request-types';
import { geminiResponseSchema } from '../gemini/gemini-response-schema';
import { ProviderError } from '../provider-error';
import { callJson, streamJsonLines, type BatchHttpRequest, type HttpFailure } from './batch-http';
import { checkBatchBytes, checkBatchLines, convertBatchLines, lineFailure, malformedLine, notDone, rethrowUnknownJob, withoutServiceTier } from './batch-lines';
import type {
  BatchCallOptions, BatchCapableAdapter, BatchJob, BatchJobStatus, BatchLimits, BatchLine, BatchLineResult, BatchResultsOptions,
  BatchSubmission, BatchSubmitOptions,
} from './batch-types';
import {
  geminiBatchListSchema, geminiBatchOperationSchema, geminiInlinedResponseSchema, geminiResponsesFileLineSchema, GRPC_CODES, type GeminiBatchOperation,
  type GeminiStatus,
} from './gemini-batch-api';

export interface GeminiBatchAdapterOptions {
  /** Origin of the API, e.g. `https://generativelanguage.googleapis.com` (tests: a loopback emulator). */
  baseUrl: string;
  dispatcher: Dispatcher;
  apiVersion?: string;
}

/** Inline requests must total under 20 MB; no line count is documented, so the size bound is the one that binds. */
export const GEMINI_BATCH_LIMITS: BatchLimits = { maxLines: 100_000, maxBytes: 20 * 1000 * 1000 };

const STATES: Record<string, BatchJobStatus> = {
  PENDING: 'in_progress', RUNNING: 'in_progress', UNSPECIFIED: 'in_progress',
  SUCCEEDED: 'completed', FAILED: 'failed', CANCELLED: 'cancelled', EXPIRED: 'expired',
};

export class GeminiBatchAdapter implements BatchCapableAdapter {
  readonly provider = GEMINI_PROVIDER;
  readonly limits = GEMINI_BATCH_LIMITS;
  private readonly baseUrl: string;
  private readonly apiVersion: string;
  private readonly dispatcher: Dispatcher;

  constructor(options: GeminiBatchAdapterOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiVersion = options.apiVersion ?? 'v1beta';
    this.dispatcher = options.dispatcher;
  }

  async submit(lines: BatchLine[], options: BatchSubmitOptions): Promise<BatchSubmission> {
    checkBatchLines(lines, this.limits, GEMINI_PROVIDER);
    const converted = convertBatchLines<GeminiGenerateContentRequest>(lines, GEMINI_PROVIDER, (line) => {
      const stripped = withoutServiceTier(line.body);
      const { body, warnings } = convertToGeminiRequest(stripped.body, options.model);
      return { request: body, warnings: [...stripped.warnings, ...warnings] };
    });
    const model = options.model.replace(/^models\//, '');
    const body = { batch: {
      displayName: options.displayName ?? `zumik-batch-${Date.now()}`,
      model: `models/${model}`,
      inputConfig: { requests: { requests: converted.accepted.map(({ customId, request }) => ({ request, metadata: { key: customId } })) } },
    } };
    checkBatchBytes(Buffer.byteLength(JSON.stringify(body)), this.limits, GEMINI_PROVIDER);
    const operation = await this.call('POST', `models/${encodeURIComponent(model)}:batchGenerateContent`, options, body);
    return { ...toJob(operation), rejected: converted.rejected, warnings: converted.warnings };
  }

  async poll(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    return toJob(await this.call('GET', batchPath(jobId), options).catch(rethrowUnknownJob));
  }

  /** `:cancel` answers an empty body; the state right after is read back. */
  async cancel(jobId: string, options: BatchCallOptions): Promise<BatchJob> {
    const upstream = this.request('POST', `${batchPath(jobId)}:cancel`, options);
    upstream.json = {};
    await callJson(upstream, this.httpFailure(options)).catch(rethrowUnknownJob);
    return this.poll(jobId, options);
  }

  async *results(jobId: string, options: BatchResultsOptions): AsyncGenerator<BatchLineResult> {
    const operation = await this.call('GET', batchPath(jobId), options).catch(rethrowUnknownJob);
    const job = toJob(operation);
    if (!job.done) throw notDone(GEMINI_PROVIDER, job);
    const model = (operation.metadata?.model ?? '').replace(/^models\//, '');
    const output = operation.metadata?.output;
    for (const raw of output?.inlinedResponses?.inlinedResponses ?? []) {
      const parsed = geminiInlinedResponseSchema.safeParse(raw);
      const key = parsed.success ? parsed.data.metadata?.key : undefined;
      if (!parsed.success || !key) throw malformedLine(GEMINI_PROVIDER, 'an inlined response has no metadata.key');
      yield mapLine(key, parsed.data.response, parsed.data.error, model, options);
    }
    if (output?.responsesFile) {
      const file = output.responsesFile.replace(/^files\//, '');
      const upstream = this.request('GET', `files/${encodeURIComponent(file)}:download`, options);
      upstream.url += '?alt=media';
      for await (const raw of streamJsonLines(upstream, this.httpFailure(options))) {
        const parsed = geminiResponsesFileLineSchema.safeParse(raw);
        if (!parsed.success) throw malformedLine(GEMINI_PROVIDER, 'a responses-file line has no key');
        yield mapLine(parsed.data.key, parsed.data.response, parsed.data.error, model, options);
      }
    }
  }

  async findSubmitted(submissionKey: string, options: BatchCallOptions): Promise<BatchJob | undefined> {
    const { body } = await callJson(this.request('GET', 'batches?pageSize=100', options), this.httpFailure(options));
    const listed = geminiBatchListSchema.safeParse(body);
    if (!listed.success) throw new ProviderError(`${GEMINI_PROVIDER}: the answer is not a list of batch operations`, { kind: 'bad_response', provider: GEMINI_PROVIDER });
    const found = (listed.data.operations ?? []).find((operation) => operation.metadata?.displayName === submissionKey);
    return found && toJob(found);
  }

  private async call(method: 'GET' | 'POST', path: string, options: BatchCallOptions, json?: unknown): Promise<GeminiBatchOperation> {
    const upstream = this.request(method, path, options);
    if (json !== undefined) upstream.json = json;
    const { body } = await callJson(upstream, this.httpFailure(options));
    const operation = geminiBatchOperationSchema.safeParse(body);
    if (!operation.success) throw new ProviderError(`${GEMINI_PROVIDER}: the answer is not a batch operation`, { kind: 'bad_response', provider: GEMINI_PROVIDER });
    return operation.data;
  }

  private request(method: BatchHttpRequest['method'], path: string, options: BatchCallOptions): BatchHttpRequest {
    return {
      provider: GEMINI_PROVIDER, url: `${this.baseUrl}/${this.apiVersion}/${path}`, method,
      headers: { 'x-goog-api-key': options.credential.apiKey }, dispatcher: this.dispatcher, signal: options.signal, timeouts: options.timeouts,
    };
  }

  private httpFailure(options: BatchCallOptions): HttpFailure {
    return (status, headers, text) => geminiErrorFromText(text, { status, headers, apiKey: options.credential.apiKey });
  }
}

/** Accepts `batches/abc` (the Operation name, what `submit` answers as the id) or a bare `abc`. */
function batchPath(jobId: string): string {
  return `batches/${encodeURIComponent(jobId.replace(/^batches\//, ''))}`;
}

function toJob(operation: GeminiBatchOperation): BatchJob {
  const metadata = operation.metadata;
  const rawStatus = metadata?.state ?? (operation.done ? (operation.error ? 'BATCH_STATE_FAILED' : 'BATCH_STATE_SUCCEEDED') : 'BATCH_STATE_PENDING');
  const status = STATES[rawStatus.replace(/^(BATCH|JOB)_STATE_/, '')] ?? 'in_progress';
  const stats = metadata?.batchStats;
  const number = (value: number | string | null | undefined) => Number(value ?? 0) || 0;
  return {
    id: operation.name, provider: GEMINI_PROVIDER, status, rawStatus, done: status !== 'in_progress',
    ...(stats ? { counts: {
      total: number(stats.requestCount), succeeded: number(stats.successfulRequestCount), failed: number(stats.failedRequestCount),
      pending: number(stats.pendingRequestCount),
    } } : {}),
    ...(metadata?.createTime ? { createdAt: metadata.createTime } : {}),
    ...(metadata?.endTime ? { endedAt: metadata.endTime } : {}),
    ...(operation.error ? { error: { message: operation.error.message ?? 'the batch failed', ...(operation.error.status ? { code: operation.error.status } : {}) } } : {}),
  };
}

function mapLine(customId: string, response: unknown, error: GeminiStatus | null | undefined, model: string, options: BatchResultsOptions): BatchLineResult {
  if (error) return lineFailure(customId, lineError(error, options.credential.apiKey));
  const parsed = geminiResponseSchema.safeParse(response);
  if (!parsed.success) return lineFailure(customId, malformedLine(GEMINI_PROVIDER, `the result of '${customId}' is not a GenerateContentResponse`));
  try {
    return { customId, ok: true, result: convertGeminiResponse(parsed.data, {
      model, created: Math.floor(Date.now() / 1000), warnings: options.warnings?.[customId] ?? [],
    }) };
  } catch (caught) {
    if (caught instanceof ProviderError) return lineFailure(customId, caught);
    throw caught;
  }
}

/** A line's `google.rpc.Status` classified like an online error body (its gRPC code read as the Google status name). */
function lineError(error: GeminiStatus, apiKey: string): ProviderError {
  const grpc = error.code != null ? GRPC_CODES[error.code] : undefined;
  const googleStatus = error.status ?? grpc?.name;
  const details = error.details ?? [];
  const kind = classifyGeminiErrorBody({ error: { message: error.message ?? undefined, status: googleStatus, details } }, grpc?.http ?? 500);
  const message = redactSecrets(error.message ?? '', apiKey).slice(0, 300);
  return new ProviderError(`${GEMINI_PROVIDER}: ${googleStatus ?? 'error'}${message ? `: ${message}` : ''}`, {
    kind, provider: GEMINI_PROVIDER, ...(googleStatus ? { providerCode: googleStatus } : {}), retryAfterMs: parseRetryDelay(details),
  });
}

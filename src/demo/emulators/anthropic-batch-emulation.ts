/**
 * Anthropic Message Batches in the Anthropic emulator (PROVIDERS.md §2.7): `POST /v1/messages/batches`,
 * `GET /v1/messages/batches[/{id}]`, `POST …/{id}/cancel`, `DELETE …/{id}` and the results JSONL at
 * `results_url`. Jobs run on the compressible clock of batch-emulation.ts; each request's `params` is
 * validated and answered like `POST /v1/messages` (same replies, same prompt cache, `service_tier:
 * "batch"`); outcome counts stay 0 until the batch has ended, as on Anthropic.
 */
import type http from 'node:http';
import { EmulatedBatches, rfc3339, type BatchClock, type EmulatedBatchJob } from './batch-emulation';
import { faultHeaders, sendJson, type EmulatorServer, type ReceivedRequest, type RouteContext } from './emulator-kit';
import type { EmulatedInputUsage } from './anthropic-emulator-cache';
import { anthropicErrorBody } from './anthropic-emulator-errors';
import { anthropicId, renderMessage, type AnthropicReply } from './anthropic-emulator-replies';

export interface AnthropicBatchDependencies {
  /** The reply the online route would give next (consumes a queued reply, as a call would). */
  nextReply: () => AnthropicReply;
  /** The prompt cache's accounting of one request's input. */
  account: (params: Record<string, unknown>) => EmulatedInputUsage;
  /** The online route's header checks (key, version). */
  checkHeaders: (request: ReceivedRequest) => { status: number; message: string } | undefined;
  /** The online route's body validation. */
  validate: (params: unknown) => { status: number; message: string } | undefined;
  /** The emulator's base URL, for `results_url`. */
  baseUrl: () => string;
}

interface BatchRequest {
  custom_id: string;
  params: Record<string, unknown>;
}

type BatchResult = { type: 'succeeded'; message: Record<string, unknown> } | { type: 'errored'; error: Record<string, unknown> };

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const PREFIX = '/v1/messages/batches';

export class AnthropicBatchEmulation extends EmulatedBatches<BatchRequest, BatchResult> {
  constructor(server: EmulatorServer, private readonly dependencies: AnthropicBatchDependencies, clock?: BatchClock) {
    super(clock);
    server.route('POST', PREFIX, (context) => this.guard(context, () => this.create({ ...context, response: this.creationResponse(context.response) })));
    server.route('GET', PREFIX, (context) => this.guard(context, () => {
      const data = [...this.jobs.values()].reverse().map((job) => this.render(this.advance(job)));
      this.send(context.response, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }));
    server.route('GET', `${PREFIX}/:id`, (context) => this.guard(context, () => this.withJob(context, (job) => this.send(context.response, 200, this.render(this.advance(job))))));
    server.route('POST', `${PREFIX}/:id/cancel`, (context) => this.guard(context, () => this.withJob(context, (job) => {
      this.advance(job);
      if (!job.ending) job.cancelRequestedAt ??= Date.now();
      this.send(context.response, 200, this.render(job));
    })));
    server.route('DELETE', `${PREFIX}/:id`, (context) => this.guard(context, () => this.withJob(context, (job) => {
      if (!this.advance(job).ending) return this.error(context.response, 400, `Batch ${job.id} cannot be deleted while it is still processing; cancel it first.`);
      this.jobs.delete(job.id);
      this.send(context.response, 200, { id: job.id, type: 'message_batch_deleted' });
    })));
    server.route('GET', `${PREFIX}/:id/results`, (context) => this.guard(context, () => this.withJob(context, (job) => this.results(context, job))));
  }

  protected processLine(line: BatchRequest): BatchResult {
    const scripted = this.scriptedLineStatus(line.custom_id);
    if (scripted !== undefined) return { type: 'errored', error: anthropicErrorBody(scripted) };
    const rejection = this.dependencies.validate(line.params);
    if (rejection) return { type: 'errored', error: anthropicErrorBody(rejection.status, undefined, rejection.message) };
    const reply = this.dependencies.nextReply();
    const input = this.dependencies.account(line.params);
    return { type: 'succeeded', message: renderMessage({ ...reply, serviceTier: reply.serviceTier ?? 'batch' }, String(line.params.model), input) };
  }

  private guard(context: RouteContext, handle: () => void): void {
    const { fault, request, response } = context;
    if (fault?.kind === 'status') return sendJson(response, fault.status, fault.body ?? anthropicErrorBody(fault.status), this.headers(faultHeaders(fault)));
    const rejection = this.dependencies.checkHeaders(request);
    if (rejection) return this.error(response, rejection.status, rejection.message);
    handle();
  }

  private create({ request, response }: RouteContext): void {
    const requests = (request.body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests)) return this.error(response, 400, 'requests: Field required');
    if (requests.length === 0) return this.error(response, 400, 'requests: List should have at least 1 item after validation, not 0');
    const seen = new Set<string>();
    for (const [index, item] of (requests as Array<Record<string, unknown>>).entries()) {
      const customId = item?.custom_id;
      if (typeof customId !== 'string' || !CUSTOM_ID.test(customId)) {
        return this.error(response, 400, `requests.${index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
      }
      if (seen.has(customId)) return this.error(response, 400, `Duplicate custom_id '${customId}' in requests.`);
      if (typeof item.params !== 'object' || item.params === null) return this.error(response, 400, `requests.${index}.params: Field required`);
      seen.add(customId);
    }
    const lines = (requests as BatchRequest[]).map(({ custom_id, params }) => ({ custom_id, params }));
    const job = this.createJob('msgbatch_', String(lines[0]!.params.model ?? ''), lines);
    this.send(response, 200, this.render(job));
  }

  private results({ response }: RouteContext, job: EmulatedBatchJob<BatchRequest, BatchResult>): void {
    if (!this.advance(job).ending) return this.error(response, 400, `Batch ${job.id} is still processing; results are available once it has ended.`);
    response.writeHead(200, { 'content-type': 'application/binary', ...this.headers() });
    for (const [index, line] of job.lines.entries()) {
      response.write(`${JSON.stringify({ custom_id: line.custom_id, result: this.lineResult(job, index) })}\n`);
    }
    response.end();
  }

  /** What a line ended as: its answer, or `canceled`/`expired` when the batch stopped first; a scripted `failed` batch errors every line. */
  private lineResult(job: EmulatedBatchJob<BatchRequest, BatchResult>, index: number): Record<string, unknown> {
    if (job.ending === 'cancelled') return { type: 'canceled' };
    if (job.ending === 'expired') return { type: 'expired' };
    if (job.ending === 'failed') return { type: 'errored', error: anthropicErrorBody(500) };
    return job.results[index]!;
  }

  private render(job: EmulatedBatchJob<BatchRequest, BatchResult>): Record<string, unknown> {
    const ended = job.ending !== undefined;
    const count = (type: string) => (ended ? job.lines.filter((_line, index) => this.lineResult(job, index).type === type).length : 0);
    return {
      id: job.id, type: 'message_batch',
      processing_status: ended ? 'ended' : job.cancelRequestedAt !== undefined ? 'canceling' : 'in_progress',
      request_counts: { processing: ended ? 0 : job.lines.length, succeeded: count('succeeded'), errored: count('errored'), canceled: count('canceled'), expired: count('expired') },
      ended_at: ended ? rfc3339(job.endedAt!) : null, created_at: rfc3339(job.createdAt), expires_at: rfc3339(job.createdAt + 86_400_000),
      archived_at: null, cancel_initiated_at: job.cancelRequestedAt !== undefined ? rfc3339(job.cancelRequestedAt) : null,
      results_url: ended ? `${this.dependencies.baseUrl()}${PREFIX}/${job.id}/results` : null,
    };
  }

  private withJob({ params, response }: RouteContext, handle: (job: EmulatedBatchJob<BatchRequest, BatchResult>) => void): void {
    const job = this.jobs.get(params.id!);
    if (!job) return this.error(response, 404, `Message batch ${params.id} not found.`);
    handle(job);
  }

  private send(response: http.ServerResponse, status: number, body: unknown): void {
    sendJson(response, status, body, this.headers());
  }

  private error(response: http.ServerResponse, status: number, message: string): void {
    const requestId = anthropicId('req');
    sendJson(response, status, anthropicErrorBody(status, undefined, message, requestId), { 'request-id': requestId });
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'request-id': anthropicId('req'), ...extra };
  }
}

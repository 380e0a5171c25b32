/**
 * xAI's native Batch API in the OpenAI-compatible emulator's `xai` flavour (PROVIDERS.md §4.5, from
 * the xai-sdk tests): `POST /v1/batches` `{name}` creates an empty batch, `POST /v1/batches/{id}/requests`
 * adds `chat_get_completion` requests (answers `{}`), `GET /v1/batches/{id}` reports `state` counts,
 * `POST /v1/batches/{id}:cancel` (colon suffix), `GET /v1/batches/{id}/results` pages results.
 * Errors are xAI's flat `{"code","error"}`. Jobs run on the compressible clock of batch-emulation.ts,
 * counted from the first added request (an empty batch never ends); each request is answered like
 * the online route.
 */
import type http from 'node:http';
import { EmulatedBatches, rfc3339, unixSeconds, type BatchClock, type EmulatedBatchJob } from './batch-emulation';
import { faultHeaders, sendJson, type EmulatorServer, type RouteContext } from './emulator-kit';
import { completionBody, responseId, servedTier, type EmulatorReply } from './openai-compatible-emulator-bodies';

export interface XaiBatchDependencies {
  reply: () => EmulatorReply;
  /** `undefined` when the bearer key is right, else the 401 body to send. */
  authError: (headers: http.IncomingHttpHeaders) => unknown;
  headers: () => Record<string, string>;
}

interface BatchRequestLine {
  batch_request_id: string;
  body: Record<string, unknown>;
}

type BatchResult = { batch_request_id: string; batch_result: { response: { chat_get_completion: Record<string, unknown> } } | { error: string } };

/** Results per page, small so that tests see the pagination. */
const PAGE_SIZE = 3;

export class XaiBatchEmulation extends EmulatedBatches<BatchRequestLine, BatchResult> {
  constructor(server: EmulatorServer | undefined, private readonly dependencies: XaiBatchDependencies, clock?: BatchClock) {
    super(clock);
    if (!server) return;
    server.route('POST', '/v1/batches', (context) => this.guard(context, () => {
      const name = (context.request.body as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string' || name.length === 0) return this.error(context.response, 422, 'name: field required');
      const job = this.createJob('batch_', '', [], { name });
      this.send(this.creationResponse(context.response), this.render(job));
    }));
    server.route('GET', '/v1/batches', (context) => this.guard(context, () => {
      // Newest first, one page (`limit`, default 100); `pagination_token` is null when there is no more.
      const limit = Number(context.request.query.get('limit') ?? 100);
      const batches = [...this.jobs.values()].reverse().slice(0, limit).map((job) => this.render(this.read(job)));
      this.send(context.response, { batches, pagination_token: null });
    }));
    server.route('GET', '/v1/batches/:id', (context) => this.guard(context, () => this.withJob(context, context.params.id!, (job) => this.send(context.response, this.render(this.read(job))))));
    server.route('POST', '/v1/batches/:target', (context) => this.guard(context, () => {
      const target = context.params.target!;
      if (!target.endsWith(':cancel')) return this.error(context.response, 404, `Unknown method ${target}`);
      this.withJob(context, target.slice(0, -':cancel'.length), (job) => {
        this.read(job);
        if (!job.ending) job.cancelRequestedAt ??= Date.now();
        this.send(context.response, this.render(this.read(job)));
      });
    }));
    server.route('POST', '/v1/batches/:id/requests', (context) => this.guard(context, () => this.withJob(context, context.params.id!, (job) => {
      const requests = (context.request.body as { batch_requests?: unknown } | undefined)?.batch_requests;
      if (!Array.isArray(requests)) return this.error(context.response, 422, 'batch_requests: field required');
      if (job.ending || job.cancelRequestedAt !== undefined) return this.error(context.response, 400, 'Batch is no longer accepting requests');
      for (const entry of requests as Array<{ batch_request_id?: unknown; batch_request?: { chat_get_completion?: unknown } }>) {
        const body = entry.batch_request?.chat_get_completion;
        if (typeof entry.batch_request_id !== 'string' || typeof body !== 'object' || body === null) {
          return this.error(context.response, 422, 'each batch request needs batch_request_id and batch_request.chat_get_completion');
        }
        job.lines.push({ batch_request_id: entry.batch_request_id, body: body as Record<string, unknown> });
      }
      // The clock runs from the first request: an empty batch has nothing to process.
      if (job.extra.firstRequestAt === undefined) { job.extra.firstRequestAt = Date.now(); job.createdAt = Date.now(); }
      this.send(context.response, {});
    })));
    server.route('GET', '/v1/batches/:id/results', (context) => this.guard(context, () => this.withJob(context, context.params.id!, (job) => {
      this.read(job);
      const from = Number(context.request.query.get('pagination_token') ?? 0) || 0;
      const page = job.results.slice(from, from + PAGE_SIZE);
      const next = from + PAGE_SIZE < job.results.length ? String(from + PAGE_SIZE) : null;
      this.send(context.response, { results: page, pagination_token: next });
    })));
  }

  protected processLine(line: BatchRequestLine): BatchResult {
    if (this.scriptedLineStatus(line.batch_request_id) !== undefined) {
      return { batch_request_id: line.batch_request_id, batch_result: { error: 'Internal error while processing the request' } };
    }
    const reply = this.dependencies.reply();
    const model = typeof line.body.model === 'string' ? line.body.model : 'grok-4.3';
    return {
      batch_request_id: line.batch_request_id,
      batch_result: { response: { chat_get_completion: completionBody({
        flavour: 'xai', reply, id: responseId('xai'), created: unixSeconds(Date.now()), model: reply.model ?? model,
        serviceTier: servedTier('xai', line.body.service_tier, reply), includeUsage: false, includeObfuscation: false,
      }) } },
    };
  }

  /** An empty batch never advances; otherwise the shared clock decides. */
  private read(job: EmulatedBatchJob<BatchRequestLine, BatchResult>): EmulatedBatchJob<BatchRequestLine, BatchResult> {
    return job.lines.length === 0 && job.cancelRequestedAt === undefined ? job : this.advance(job);
  }

  private render(job: EmulatedBatchJob<BatchRequestLine, BatchResult>): Record<string, unknown> {
    const processed = job.ending === 'completed' ? job.results : [];
    const errors = processed.filter((result) => 'error' in result.batch_result).length;
    const cancelled = job.ending === 'cancelled' ? job.lines.length : 0;
    return {
      batch_id: job.id, name: job.extra.name, create_time: rfc3339(job.createdAt), expire_time: rfc3339(job.createdAt + 24 * 3_600_000),
      create_api_key_id: 'key-emulated', cancel_time: job.cancelRequestedAt !== undefined ? rfc3339(job.cancelRequestedAt) : null, cancel_by_xai_message: null,
      state: {
        num_requests: job.lines.length, num_pending: job.ending ? 0 : job.lines.length,
        num_success: processed.length - errors, num_error: errors, num_cancelled: cancelled,
      },
    };
  }

  private guard(context: RouteContext, handle: () => void): void {
    const { fault, response, request } = context;
    if (fault?.kind === 'status') return sendJson(response, fault.status, fault.body ?? { code: 'internal', error: 'Service temporarily unavailable' }, { ...this.dependencies.headers(), ...faultHeaders(fault) });
    const authError = this.dependencies.authError(request.headers);
    if (authError !== undefined) return sendJson(response, 401, authError, this.dependencies.headers());
    handle();
  }

  private withJob(context: RouteContext, id: string, handle: (job: EmulatedBatchJob<BatchRequestLine, BatchResult>) => void): void {
    const job = this.jobs.get(id);
    if (!job) return this.error(context.response, 404, 'Batch not found', 'not-found');
    handle(job);
  }

  private send(response: http.ServerResponse, body: unknown): void {
    sendJson(response, 200, body, this.dependencies.headers());
  }

  private error(response: http.ServerResponse, status: number, message: string, code = 'invalid-argument'): void {
    sendJson(response, status, { code, error: message }, this.dependencies.headers());
  }
}

/**
 * Gemini batch mode in the Gemini emulator (PROVIDERS.md §3.7): `POST
 * /v1beta/models/{model}:batchGenerateContent` with inline requests, the long-running Operation at
 * `GET /v1beta/batches/{id}`, `POST …:cancel`, `DELETE`, `GET /v1beta/batches`, and the responses file
 * at `GET /v1beta/files/{id}:download?alt=media`. Jobs run on the compressible clock of
 * batch-emulation.ts; each inline request is validated and answered like `:generateContent`. Results
 * come inlined in the Operation (default) or, with `outputAs = 'file'`, as a responses file.
 */
import { randomBytes } from 'node:crypto';
import { EmulatedBatches, rfc3339, type BatchClock, type EmulatedBatchJob } from './batch-emulation';
import { faultHeaders, sendJson, type EmulatorServer, type RouteContext } from './emulator-kit';
import { generateContentBody, googleErrorBody, type GeminiReply } from './gemini-emulator-bodies';

export interface GeminiBatchDependencies {
  /** The reply the online route would give now. */
  reply: () => GeminiReply;
  /** The online route's key check; answers Google's error itself and returns false when the key is wrong. */
  checkKey: (context: RouteContext) => boolean;
  /** Whether a model id is known. */
  knowsModel: (model: string) => boolean;
  /** The online route's body validation: an INVALID_ARGUMENT message, or undefined. */
  validate: (request: unknown) => string | undefined;
}

interface InlineRequest {
  request: Record<string, unknown>;
  metadata: { key: string } & Record<string, unknown>;
}

type InlineResponse = { response: unknown; metadata: InlineRequest['metadata'] } | { error: { code: number; message: string }; metadata: InlineRequest['metadata'] };

const BATCH_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch';
const OUTPUT_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput';
/** HTTP status → gRPC code, for a line's `google.rpc.Status`. */
const GRPC_CODES: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 500: 13, 501: 12, 503: 14, 504: 4 };
const STATES: Record<string, string> = { completed: 'SUCCEEDED', failed: 'FAILED', expired: 'EXPIRED', cancelled: 'CANCELLED' };

export class GeminiBatchEmulation extends EmulatedBatches<InlineRequest, InlineResponse> {
  /** Where results go: inlined in the Operation, or a responses file (as for large or file-based jobs). */
  outputAs: 'inline' | 'file' = 'inline';
  readonly files = new Map<string, string>();

  constructor(server: EmulatorServer, private readonly dependencies: GeminiBatchDependencies, clock?: BatchClock) {
    super(clock);
    server.route('GET', '/v1beta/batches', (context) => this.guard(context, () => {
      sendJson(context.response, 200, { operations: [...this.jobs.values()].reverse().map((job) => this.render(this.advance(job))) });
    }));
    server.route('GET', '/v1beta/batches/:id', (context) => this.guard(context, () => this.withJob(context, context.params.id!, (job) => {
      sendJson(context.response, 200, this.render(this.advance(job)));
    })));
    server.route('POST', '/v1beta/batches/:target', (context) => this.guard(context, () => this.cancel(context)));
    server.route('DELETE', '/v1beta/batches/:id', (context) => this.guard(context, () => this.withJob(context, context.params.id!, (job) => {
      this.jobs.delete(job.id);
      sendJson(context.response, 200, {});
    })));
    server.route('GET', '/v1beta/files/:target', (context) => this.guard(context, () => this.download(context)));
  }

  override reset(): void {
    super.reset();
    this.files.clear();
    this.outputAs = 'inline';
  }

  /** `POST /v1beta/models/{model}:batchGenerateContent`, dispatched here by the emulator's model route. */
  create(context: RouteContext, model: string): void {
    this.guard(context, () => {
      if (!this.dependencies.knowsModel(model)) {
        return sendJson(context.response, 404, googleErrorBody(404, `models/${model} is not found for API version v1beta, or is not supported for batchGenerateContent.`));
      }
      const batch = (context.request.body as { batch?: Record<string, unknown> } | undefined)?.batch;
      const inputConfig = batch?.inputConfig as { requests?: { requests?: unknown }; fileName?: unknown } | undefined;
      if (!batch || !inputConfig) return sendJson(context.response, 400, googleErrorBody(400, '* batch.input_config: input_config is required.'));
      if (inputConfig.fileName !== undefined) return sendJson(context.response, 400, googleErrorBody(400, 'The emulator serves inline requests only.'));
      const requests = inputConfig.requests?.requests;
      if (!Array.isArray(requests) || requests.length === 0) return sendJson(context.response, 400, googleErrorBody(400, '* batch.input_config.requests: requests must not be empty.'));
      const lines = (requests as Array<Record<string, unknown>>).map((item, index): InlineRequest => ({
        request: (item?.request ?? {}) as Record<string, unknown>,
        metadata: { key: String(index + 1), ...((item?.metadata ?? {}) as Record<string, unknown>) } as InlineRequest['metadata'],
      }));
      const job = this.createJob('', model, lines, { displayName: batch.displayName ?? '' });
      sendJson(context.response, 200, this.render(job));
    });
  }

  protected processLine(line: InlineRequest, job: EmulatedBatchJob<InlineRequest, InlineResponse>): InlineResponse {
    const scripted = this.scriptedLineStatus(line.metadata.key);
    if (scripted !== undefined) return { error: { code: GRPC_CODES[scripted] ?? 13, message: lineMessage(scripted) }, metadata: line.metadata };
    const { model: _model, ...request } = line.request;
    const invalid = this.dependencies.validate(request);
    if (invalid) return { error: { code: 3, message: invalid }, metadata: line.metadata };
    return { response: generateContentBody(this.dependencies.reply(), job.model, randomBytes(12).toString('base64url')), metadata: line.metadata };
  }

  private guard(context: RouteContext, handle: () => void): void {
    const { fault, response } = context;
    if (fault?.kind === 'status') return sendJson(response, fault.status, fault.body ?? googleErrorBody(fault.status, undefined, fault.retryAfterSeconds), faultHeaders(fault));
    if (!this.dependencies.checkKey(context)) return;
    handle();
  }

  private cancel(context: RouteContext): void {
    const target = context.params.target!;
    if (!target.endsWith(':cancel')) return sendJson(context.response, 404, googleErrorBody(404, `Method not found: ${target}`));
    this.withJob(context, target.slice(0, -':cancel'.length), (job) => {
      this.advance(job);
      if (!job.ending) job.cancelRequestedAt = Date.now();
      sendJson(context.response, 200, {});
    });
  }

  private download({ params, request, response }: RouteContext): void {
    const target = params.target!;
    const content = target.endsWith(':download') ? this.files.get(target.slice(0, -':download'.length)) : undefined;
    if (content === undefined) return sendJson(response, 404, googleErrorBody(404, `File files/${target} does not exist.`));
    if (request.query.get('alt') !== 'media') return sendJson(response, 400, googleErrorBody(400, 'Download requires alt=media.'));
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    response.end(content);
  }

  /** The Operation; `metadata` is the GenerateContentBatch, `response` repeats its output once done. */
  private render(job: EmulatedBatchJob<InlineRequest, InlineResponse>): Record<string, unknown> {
    const state = job.ending ? STATES[job.ending]! : job.seen ? 'RUNNING' : 'PENDING';
    const failed = job.results.filter((line) => 'error' in line).length;
    const output = job.ending === 'completed' ? this.output(job) : undefined;
    const now = rfc3339(job.endedAt ?? Date.now());
    return {
      name: `batches/${job.id}`,
      metadata: {
        '@type': BATCH_TYPE, model: `models/${job.model}`, displayName: job.extra.displayName, state: `BATCH_STATE_${state}`,
        createTime: rfc3339(job.createdAt), updateTime: now, ...(job.ending ? { endTime: now } : {}),
        batchStats: {
          requestCount: String(job.lines.length),
          ...(job.ending === 'completed' ? { successfulRequestCount: String(job.results.length - failed), failedRequestCount: String(failed) } : {}),
          pendingRequestCount: String(job.ending ? 0 : job.lines.length),
        },
        ...(output ? { output } : {}),
      },
      done: job.ending !== undefined,
      ...(job.ending === 'failed' ? { error: { code: 13, message: 'The batch job failed: an internal error occurred.' } } : {}),
      ...(output ? { response: { '@type': OUTPUT_TYPE, ...output } } : {}),
    };
  }

  private output(job: EmulatedBatchJob<InlineRequest, InlineResponse>): Record<string, unknown> {
    if (this.outputAs === 'inline' && job.extra.responsesFile === undefined) return { inlinedResponses: { inlinedResponses: job.results } };
    if (job.extra.responsesFile === undefined) {
      const id = `batch-${randomBytes(8).toString('hex')}`;
      const lines = job.results.map(({ metadata, ...result }) => JSON.stringify({ key: metadata.key, ...result }));
      this.files.set(id, `${lines.join('\n')}\n`);
      job.extra.responsesFile = `files/${id}`;
    }
    return { responsesFile: job.extra.responsesFile };
  }

  private withJob({ response }: RouteContext, id: string, handle: (job: EmulatedBatchJob<InlineRequest, InlineResponse>) => void): void {
    const job = this.jobs.get(id);
    if (!job) return sendJson(response, 404, googleErrorBody(404, `Requested entity was not found.`));
    handle(job);
  }
}

function lineMessage(status: number): string {
  const body = googleErrorBody(status) as { error: { message: string } };
  return body.error.message;
}

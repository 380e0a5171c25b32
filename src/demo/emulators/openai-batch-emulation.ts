/**
 * OpenAI's Files and Batch API in the OpenAI emulator (PROVIDERS.md §1.7): `POST /v1/files`
 * (multipart, `purpose=batch`), `GET /v1/files/{id}` and `/content`, `DELETE /v1/files/{id}`,
 * `POST /v1/batches`, `GET /v1/batches[/{id}]`, `POST /v1/batches/{id}/cancel`. Jobs run on the
 * compressible clock of batch-emulation.ts; each line is answered with the online route's reply
 * and checks, successes go to the output file and failures (scripted, 4xx checks, expired or
 * cancelled lines) to the error file, in the `BatchRequestOutput` line format.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { EmulatedBatches, parseMultipart, unixSeconds, type BatchClock, type EmulatedBatchJob } from './batch-emulation';
import { faultHeaders, sendJson, type EmulatorServer, type RouteContext } from './emulator-kit';
import { completionBody, responseId, servedTier, type EmulatorReply } from './openai-compatible-emulator-bodies';
import { reasoningLegacyParameterError, statusErrorBody } from './openai-compatible-emulator-errors';

export interface OpenAIBatchDependencies {
  /** The reply the online route would give now. */
  reply: () => EmulatorReply;
  /** `undefined` when the bearer key is right, else the 401 body to send. */
  authError: (headers: http.IncomingHttpHeaders) => unknown;
  /** Request id and rate-limit headers, as the online route sends them. */
  headers: () => Record<string, string>;
}

interface StoredFile {
  id: string;
  bytes: number;
  createdAt: number;
  filename: string;
  purpose: string;
  content: string;
}

interface InputLine {
  custom_id: string;
  body: Record<string, unknown>;
}

/** A line of the output or error file. */
interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

const PURPOSES = new Set(['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals']);
const REASONING_MODEL = /^(o\d|gpt-5(?!.*-chat))/;
const UNSERVED: Record<string, { code: string; message: string }> = {
  expired: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
  cancelled: { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' },
};

export class OpenAIBatchEmulation extends EmulatedBatches<InputLine, OutputLine> {
  readonly files = new Map<string, StoredFile>();

  /** Routes are registered on `server`; without one (flavours other than `openai`) the API is not served. */
  constructor(server: EmulatorServer | undefined, prefix: string, private readonly dependencies: OpenAIBatchDependencies, clock?: BatchClock) {
    super(clock);
    if (!server) return;
    server.route('POST', `${prefix}/files`, (context) => this.guard(context, () => this.upload(context)));
    server.route('GET', `${prefix}/files/:id`, (context) => this.guard(context, () => this.withFile(context, (file) => sendJson(context.response, 200, fileObject(file)))));
    server.route('GET', `${prefix}/files/:id/content`, (context) => this.guard(context, () => this.withFile(context, (file) => {
      context.response.writeHead(200, { 'content-type': 'application/octet-stream', ...this.dependencies.headers() });
      context.response.end(file.content);
    })));
    server.route('DELETE', `${prefix}/files/:id`, (context) => this.guard(context, () => this.withFile(context, (file) => {
      this.files.delete(file.id);
      sendJson(context.response, 200, { id: file.id, object: 'file', deleted: true });
    })));
    server.route('POST', `${prefix}/batches`, (context) => this.guard(context, () => this.create({ ...context, response: this.creationResponse(context.response) })));
    server.route('GET', `${prefix}/batches`, (context) => this.guard(context, () => {
      const data = [...this.jobs.values()].reverse().map((job) => this.render(this.advance(job)));
      sendJson(context.response, 200, { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
    }));
    server.route('GET', `${prefix}/batches/:id`, (context) => this.guard(context, () => this.withJob(context, (job) => this.send(context, 200, this.render(this.advance(job))))));
    server.route('POST', `${prefix}/batches/:id/cancel`, (context) => this.guard(context, () => this.withJob(context, (job) => this.cancel(context, job))));
  }

  override reset(): void {
    super.reset();
    this.files.clear();
  }

  protected processLine(line: InputLine, job: EmulatedBatchJob<InputLine, OutputLine>): OutputLine {
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    const answer = (status: number, body: Record<string, unknown>): OutputLine => ({
      id: `batch_req_${randomBytes(12).toString('hex')}`, custom_id: line.custom_id, response: { status_code: status, request_id: requestId, body }, error: null,
    });
    const scripted = this.scriptedLineStatus(line.custom_id);
    if (scripted !== undefined) return answer(scripted, statusErrorBody('openai', scripted) as Record<string, unknown>);
    const model = typeof line.body.model === 'string' ? line.body.model : job.model;
    if (REASONING_MODEL.test(model) && line.body.max_tokens !== undefined) return answer(400, reasoningLegacyParameterError() as Record<string, unknown>);
    const reply = this.dependencies.reply();
    return answer(200, completionBody({
      flavour: 'openai', reply, id: responseId('openai'), created: unixSeconds(Date.now()), model: reply.model ?? model,
      serviceTier: servedTier('openai', line.body.service_tier, reply), includeUsage: false, includeObfuscation: false,
    }));
  }

  private guard(context: RouteContext, handle: () => void): void {
    const { fault, response, request } = context;
    if (fault?.kind === 'status') {
      return sendJson(response, fault.status, fault.body ?? statusErrorBody('openai', fault.status), { ...this.dependencies.headers(), ...faultHeaders(fault) });
    }
    const authError = this.dependencies.authError(request.headers);
    if (authError !== undefined) return sendJson(response, 401, authError, this.dependencies.headers());
    handle();
  }

  private upload({ request, response }: RouteContext): void {
    const parts = parseMultipart(request.body, request.headers['content-type']);
    const purpose = parts?.find((part) => part.name === 'purpose')?.content;
    const file = parts?.find((part) => part.name === 'file' && part.filename !== undefined);
    if (!parts || !file) return this.invalid(response, "Missing required parameter: 'file'.", 'file');
    if (!purpose || !PURPOSES.has(purpose)) return this.invalid(response, `Invalid value for 'purpose': '${purpose ?? ''}'.`, 'purpose');
    const stored = this.store(file.filename!, purpose, file.content);
    sendJson(response, 200, fileObject(stored), this.dependencies.headers());
  }

  private create(context: RouteContext): void {
    const body = (typeof context.request.body === 'object' && context.request.body !== null ? context.request.body : {}) as Record<string, unknown>;
    const input = typeof body.input_file_id === 'string' ? this.files.get(body.input_file_id) : undefined;
    if (!input) return this.invalid(context.response, `Invalid 'input_file_id': '${String(body.input_file_id)}'.`, 'input_file_id');
    if (input.purpose !== 'batch') return this.invalid(context.response, "The input file must have purpose 'batch'.", 'input_file_id');
    if (body.endpoint !== '/v1/chat/completions') return this.invalid(context.response, `Invalid value for 'endpoint': '${String(body.endpoint)}'.`, 'endpoint');
    if (body.completion_window !== '24h') return this.invalid(context.response, "Invalid value for 'completion_window': only '24h' is supported.", 'completion_window');
    const { lines, errors } = parseInputFile(input.content, body.endpoint);
    const model = lines.find((line) => typeof line.body.model === 'string')?.body.model as string | undefined;
    const job = this.createJob('batch_', model ?? '', lines, {
      inputFileId: input.id, metadata: body.metadata ?? null, ...(errors.length > 0 ? { errors } : {}),
    });
    // A file that fails validation fails the batch, as OpenAI does after `validating`.
    if (errors.length > 0) job.scripted = 'failed';
    this.send(context, 200, this.render(job));
  }

  private cancel(context: RouteContext, job: EmulatedBatchJob<InputLine, OutputLine>): void {
    this.advance(job);
    if (job.ending) return this.invalid(context.response, `Cannot cancel a batch with status '${this.status(job)}'.`, null);
    job.cancelRequestedAt = Date.now();
    this.send(context, 200, this.render(job));
  }

  private status(job: EmulatedBatchJob<InputLine, OutputLine>): string {
    if (job.ending) return job.ending;
    if (job.cancelRequestedAt !== undefined) return 'cancelling';
    return job.seen ? 'in_progress' : 'validating';
  }

  /** The Batch object; its output and error files are written once, when the job has ended. */
  private render(job: EmulatedBatchJob<InputLine, OutputLine>): Record<string, unknown> {
    const files = this.outputFiles(job);
    const succeeded = job.results.filter((line) => line.response?.status_code === 200);
    const failed = job.ending === 'expired' || job.ending === 'cancelled' ? job.lines.length : job.results.length - succeeded.length;
    const at = (ending: string) => (job.ending === ending ? unixSeconds(job.endedAt!) : null);
    const errors = job.extra.errors as unknown[] | undefined;
    return {
      id: job.id, object: 'batch', endpoint: '/v1/chat/completions', model: job.model || null,
      errors: errors ? { object: 'list', data: errors } : null,
      input_file_id: job.extra.inputFileId, completion_window: '24h', status: this.status(job),
      output_file_id: files.output ?? null, error_file_id: files.error ?? null,
      created_at: unixSeconds(job.createdAt), in_progress_at: job.seen && !errors ? unixSeconds(job.createdAt) : null,
      expires_at: unixSeconds(job.createdAt) + 86_400, finalizing_at: job.ending === 'completed' ? unixSeconds(job.endedAt!) : null,
      completed_at: at('completed'), failed_at: at('failed'), expired_at: at('expired'),
      cancelling_at: job.cancelRequestedAt !== undefined ? unixSeconds(job.cancelRequestedAt) : null, cancelled_at: at('cancelled'),
      request_counts: { total: job.lines.length, completed: succeeded.length, failed },
      usage: batchUsage(succeeded), metadata: job.extra.metadata ?? null,
    };
  }

  private outputFiles(job: EmulatedBatchJob<InputLine, OutputLine>): { output?: string; error?: string } {
    if (!job.ending || job.ending === 'failed') return {};
    if (job.extra.files) return job.extra.files as { output?: string; error?: string };
    const unserved = UNSERVED[job.ending];
    const lines = unserved
      ? job.lines.map((line): OutputLine => ({ id: `batch_req_${randomBytes(12).toString('hex')}`, custom_id: line.custom_id, response: null, error: unserved }))
      : job.results;
    const ok = lines.filter((line) => line.response?.status_code === 200);
    const failed = lines.filter((line) => line.response?.status_code !== 200);
    const jsonl = (list: OutputLine[]) => list.map((line) => JSON.stringify(line)).join('\n') + '\n';
    const files = {
      ...(ok.length > 0 ? { output: this.store(`${job.id}_output.jsonl`, 'batch_output', jsonl(ok)).id } : {}),
      ...(failed.length > 0 ? { error: this.store(`${job.id}_error.jsonl`, 'batch_output', jsonl(failed)).id } : {}),
    };
    job.extra.files = files;
    return files;
  }

  private store(filename: string, purpose: string, content: string): StoredFile {
    const file = { id: `file-${randomBytes(11).toString('base64url')}`, bytes: Buffer.byteLength(content), createdAt: Date.now(), filename, purpose, content };
    this.files.set(file.id, file);
    return file;
  }

  private withFile({ params, response }: RouteContext, handle: (file: StoredFile) => void): void {
    const file = this.files.get(params.id!);
    if (!file) return sendJson(response, 404, notFound(`No such File object: ${params.id}`), this.dependencies.headers());
    handle(file);
  }

  private withJob({ params, response }: RouteContext, handle: (job: EmulatedBatchJob<InputLine, OutputLine>) => void): void {
    const job = this.jobs.get(params.id!);
    if (!job) return sendJson(response, 404, notFound(`No batch found with id '${params.id}'.`), this.dependencies.headers());
    handle(job);
  }

  private send(context: RouteContext, status: number, body: unknown): void {
    sendJson(context.response, status, body, this.dependencies.headers());
  }

  private invalid(response: http.ServerResponse, message: string, param: string | null): void {
    sendJson(response, 400, { error: { message, type: 'invalid_request_error', param, code: null } }, this.dependencies.headers());
  }
}

function fileObject(file: StoredFile): Record<string, unknown> {
  return {
    id: file.id, object: 'file', bytes: file.bytes, created_at: unixSeconds(file.createdAt), expires_at: null, filename: file.filename,
    purpose: file.purpose, status: 'processed', status_details: null,
  };
}

function notFound(message: string): Record<string, unknown> {
  return { error: { message, type: 'invalid_request_error', param: null, code: null } };
}

/** The input file's lines, and OpenAI-style validation errors (`{code,message,param,line}`) for the ones that are not valid. */
function parseInputFile(content: string, endpoint: unknown): { lines: InputLine[]; errors: Array<Record<string, unknown>> } {
  const lines: InputLine[] = [];
  const errors: Array<Record<string, unknown>> = [];
  const seen = new Set<string>();
  content.split('\n').forEach((text, index) => {
    if (!text.trim()) return;
    const error = (code: string, message: string, param: string | null) => errors.push({ code, message, param, line: index + 1 });
    let line: Record<string, unknown>;
    try { line = JSON.parse(text) as Record<string, unknown>; } catch { return error('invalid_json_line', 'This line is not parseable as valid JSON.', null); }
    if (typeof line.custom_id !== 'string') return error('missing_required_parameter', "Missing required parameter: 'custom_id'.", 'custom_id');
    if (seen.has(line.custom_id)) return error('duplicate_custom_id', `The custom_id '${line.custom_id}' is not unique.`, 'custom_id');
    if (line.method !== 'POST') return error('invalid_method', "The method must be 'POST'.", 'method');
    if (line.url !== endpoint) return error('mismatched_url', `The url must match the batch endpoint '${String(endpoint)}'.`, 'url');
    if (typeof line.body !== 'object' || line.body === null) return error('missing_required_parameter', "Missing required parameter: 'body'.", 'body');
    seen.add(line.custom_id);
    lines.push({ custom_id: line.custom_id, body: line.body as Record<string, unknown> });
  });
  if (lines.length === 0 && errors.length === 0) errors.push({ code: 'empty_file', message: 'The input file is empty.', param: null, line: null });
  return { lines, errors };
}

/** The batch `usage` (batches after 2025-09-07): the successful lines' chat usage summed in Responses-style names. */
function batchUsage(succeeded: OutputLine[]): Record<string, unknown> {
  let input = 0; let cached = 0; let output = 0; let reasoning = 0;
  for (const line of succeeded) {
    const usage = (line.response?.body.usage ?? {}) as {
      prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number }; completion_tokens_details?: { reasoning_tokens?: number };
    };
    input += usage.prompt_tokens ?? 0;
    cached += usage.prompt_tokens_details?.cached_tokens ?? 0;
    output += usage.completion_tokens ?? 0;
    reasoning += usage.completion_tokens_details?.reasoning_tokens ?? 0;
  }
  return { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output };
}

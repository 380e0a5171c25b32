/**
 * The provider-neutral half of the emulators' batch APIs: a job store whose time tests compress
 * (`clock.processingMs`, 0–200 ms in tests instead of hours), scripted per-line failures
 * (`failCustomIds`, `lineStatus`) and job-level endings (`endNextJobsAs('expired')`). Jobs advance
 * lazily whenever they are read, so nothing runs on timers: a job created at t ends on the first read
 * at or after t + processingMs, and only then are its lines processed, with the online reply logic
 * the provider emulator passes in. Each provider file renders these jobs in its own wire format.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';

export interface BatchClock {
  /** How long a job stays in progress before it ends; `0` ends it on the first read after creation. */
  processingMs: number;
}

/** How a job ended; `failed` and `expired` only happen when scripted. */
export type BatchJobEnding = 'completed' | 'failed' | 'expired' | 'cancelled';

export interface EmulatedBatchJob<Line, Result> {
  id: string;
  model: string;
  lines: Line[];
  createdAt: number;
  processingMs: number;
  /** Read at least once since creation (OpenAI `validating` → `in_progress`, Gemini `PENDING` → `RUNNING`). */
  seen: boolean;
  scripted?: 'failed' | 'expired';
  cancelRequestedAt?: number;
  endedAt?: number;
  ending?: BatchJobEnding;
  /** One per processed line, in input order; empty when the job ended without running (failed, expired, cancelled). */
  results: Result[];
  /** Provider-specific extras (OpenAI metadata, Gemini display name, validation errors). */
  extra: Record<string, unknown>;
}

export abstract class EmulatedBatches<Line, Result> {
  clock: BatchClock;
  /** Lines with these custom ids get an error result (the provider's own error body for `lineStatus`, default 500). */
  readonly failCustomIds = new Set<string>();
  /** The HTTP status a scripted line failure reports, per custom id (default 500). */
  readonly lineStatus = new Map<string, number>();
  readonly jobs = new Map<string, EmulatedBatchJob<Line, Result>>();
  private readonly scriptedEndings: Array<'failed' | 'expired'> = [];
  /** The next this-many job creations create their job but lose the answer (the connection drops), as a network failure would. */
  lostCreateAnswers = 0;

  constructor(clock: BatchClock = { processingMs: 0 }) {
    this.clock = { ...clock };
  }

  /** The next created jobs end this way instead of completing, one per job. */
  endNextJobsAs(...endings: Array<'failed' | 'expired'>): this {
    this.scriptedEndings.push(...endings);
    return this;
  }

  /** Let running jobs (all, or the one named) end on their next read, whatever their clock said: time travel for tests. */
  fastForward(jobId?: string): this {
    for (const job of this.jobs.values()) if (jobId === undefined || job.id === jobId) job.processingMs = 0;
    return this;
  }

  /** Forget jobs, files and scripts; the clock is kept. */
  reset(): void {
    this.jobs.clear();
    this.failCustomIds.clear();
    this.lineStatus.clear();
    this.scriptedEndings.length = 0;
    this.lostCreateAnswers = 0;
  }

  /**
   * The response a job creation answers on: the real one, or — while `lostCreateAnswers` lasts — one
   * whose answer is never sent (the job is created; the connection drops when the answer would go out).
   */
  protected creationResponse(response: http.ServerResponse): http.ServerResponse {
    if (this.lostCreateAnswers <= 0) return response;
    this.lostCreateAnswers -= 1;
    const socket = response.socket;
    const lost = { writeHead: () => lost, setHeader: () => undefined, end: () => { socket?.destroy(); } } as unknown as http.ServerResponse;
    return lost;
  }

  /** The status a scripted failure of this line reports, or undefined when the line is not scripted to fail. */
  protected scriptedLineStatus(customId: string): number | undefined {
    if (this.lineStatus.has(customId)) return this.lineStatus.get(customId);
    return this.failCustomIds.has(customId) ? 500 : undefined;
  }

  protected createJob(prefix: string, model: string, lines: Line[], extra: Record<string, unknown> = {}): EmulatedBatchJob<Line, Result> {
    const job: EmulatedBatchJob<Line, Result> = {
      id: `${prefix}${randomBytes(12).toString('hex')}`, model, lines, createdAt: Date.now(), processingMs: this.clock.processingMs,
      seen: false, results: [], extra,
    };
    const scripted = this.scriptedEndings.shift();
    if (scripted) job.scripted = scripted;
    this.jobs.set(job.id, job);
    return job;
  }

  /** Bring a job to where the clock says it is; the read itself counts as "seen" from the next read on. */
  protected advance(job: EmulatedBatchJob<Line, Result>): EmulatedBatchJob<Line, Result> {
    if (job.ending) return job;
    const now = Date.now();
    if (job.cancelRequestedAt !== undefined) this.end(job, 'cancelled', now);
    else if (now - job.createdAt >= job.processingMs) {
      if (job.scripted) this.end(job, job.scripted, now);
      else {
        job.results = job.lines.map((line) => this.processLine(line, job));
        this.end(job, 'completed', now);
      }
    }
    job.seen = true;
    return job;
  }

  /** Answer one line with the same logic as the online route. */
  protected abstract processLine(line: Line, job: EmulatedBatchJob<Line, Result>): Result;

  private end(job: EmulatedBatchJob<Line, Result>, ending: BatchJobEnding, now: number): void {
    job.ending = ending;
    job.endedAt = now;
  }
}

/** Unix seconds, as OpenAI reports times. */
export function unixSeconds(milliseconds: number): number {
  return Math.floor(milliseconds / 1000);
}

/** RFC 3339 without fractional seconds, as Anthropic and Google report times. */
export function rfc3339(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

/** One parsed part of a multipart/form-data body. */
export interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  content: string;
}

/** Parse a multipart/form-data body (as the kit logs it: the text of the body) by the boundary in its content type. */
export function parseMultipart(body: unknown, contentType: string | undefined): FormPart[] | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!boundary || typeof body !== 'string') return undefined;
  const delimiter = `--${boundary[1] ?? boundary[2]!.trim()}`;
  const parts: FormPart[] = [];
  for (const chunk of body.split(delimiter).slice(1)) {
    if (chunk.startsWith('--')) break;
    const separator = chunk.indexOf('\r\n\r\n');
    if (separator < 0) continue;
    const head = chunk.slice(0, separator);
    const content = chunk.slice(separator + 4).replace(/\r\n$/, '');
    const name = /[;\s]name="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined) continue;
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1];
    parts.push({ name, content, ...(filename !== undefined ? { filename } : {}), ...(type ? { contentType: type.trim() } : {}) });
  }
  return parts;
}

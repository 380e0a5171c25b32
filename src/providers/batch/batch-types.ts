/**
 * The optional batch ability of a provider (OpenAI Batch, Anthropic Message Batches, Gemini batch
 * mode), kept apart from the narrow online `ProviderAdapter`: a provider without a native batch API
 * simply has no `BatchCapableAdapter`. Lines go in as OpenAI chat bodies and come back as the same
 * `ChatResult` an online call gives, matched by `customId`. Everything here is plain, serialisable
 * data so a batch workflow can keep jobs in its state and poll them with durable timers.
 */
import type { FailureKind } from '../../domain/failure-kinds';
import type { CallTimeouts, ProviderCredential } from '../types';
import type { ChatRequest, ChatResult, ProviderWarning } from '../../contract/chat';

/** One request of a batch: the caller's id for it and its OpenAI chat body (`model` and `stream` are ignored). */
export interface BatchLine {
  customId: string;
  body: ChatRequest;
}

/**
 * The provider-neutral job state. `in_progress` covers every "not yet" state (OpenAI `validating`,
 * `finalizing`; Gemini `PENDING`/`RUNNING`); `cancelling` means a cancel was accepted and the job has
 * not stopped yet. The other four are terminal.
 */
export type BatchJobStatus = 'in_progress' | 'cancelling' | 'completed' | 'failed' | 'expired' | 'cancelled';

export const TERMINAL_BATCH_STATUSES: ReadonlySet<BatchJobStatus> = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** Line counts as the provider reports them (Anthropic reports outcome counts only once the batch has ended). */
export interface BatchCounts {
  total: number;
  succeeded: number;
  /** Lines the provider answered with an error (cancelled and expired lines are counted apart). */
  failed: number;
  /** Lines not finished yet. */
  pending: number;
  cancelled?: number;
  expired?: number;
}

export interface BatchJob {
  /** The provider's job id (`batch_…`, `msgbatch_…`, `batches/…`): what `poll`, `results` and `cancel` take. */
  id: string;
  provider: string;
  status: BatchJobStatus;
  /** The provider's own status string (`finalizing`, `canceling`, `BATCH_STATE_RUNNING`, …), kept next to the unified one. */
  rawStatus: string;
  /** True once the job will not change any more: stop polling, read `results` (some lines may have been served). */
  done: boolean;
  counts?: BatchCounts;
  /** RFC 3339 times, when the provider reports them. */
  createdAt?: string;
  expiresAt?: string;
  endedAt?: string;
  /** Why the job as a whole failed (OpenAI validation errors, a Gemini job error), when the provider says. */
  error?: { message: string; code?: string };
  /** The provider's request id of the call that returned this state, for support. */
  providerRequestId?: string;
}

/** A line the provider (or the conversion) failed: the same fields a `ProviderError` carries, as plain data. */
export interface BatchLineError {
  /** What the failure means for serving the line online instead (the taxonomy's retry/failover meaning). */
  kind: FailureKind;
  message: string;
  /** The HTTP status the provider recorded for the line, when it records one (OpenAI). */
  status?: number;
  /** The provider's own code (`rate_limit_exceeded`, `overloaded_error`, `RESOURCE_EXHAUSTED`, `expired`, …). */
  providerCode?: string;
  providerRequestId?: string;
}

export type BatchLineResult =
  | { customId: string; ok: true; result: ChatResult }
  | { customId: string; ok: false; error: BatchLineError };

/** What `submit` answers: the job, plus what the conversion of each line decided before anything was sent. */
export interface BatchSubmission extends BatchJob {
  /** Lines that could not be converted for this provider and were left out of the job (never sent). */
  rejected: Array<Extract<BatchLineResult, { ok: false }>>;
  /** Conversion warnings per custom id (only lines that have some); hand them back to `results` to attach them. */
  warnings: Record<string, ProviderWarning[]>;
}

export interface BatchCallOptions {
  credential: ProviderCredential;
  /** Aborts the upstream call (activity cancellation); the job itself is not cancelled by this. */
  signal?: AbortSignal;
  timeouts?: CallTimeouts;
}

export interface BatchSubmitOptions extends BatchCallOptions {
  /** The provider's model id; every line runs on it. */
  model: string;
  /** Non-secret labels stored with the job where the provider keeps them (OpenAI `metadata`); ignored elsewhere. */
  metadata?: Record<string, string>;
  /** A human-readable job name where the provider has one (Gemini `displayName`). */
  displayName?: string;
  /** Stable, non-secret key for provider-side cache routing, as on the online path. */
  cacheKeyHint?: string;
}

export interface BatchResultsOptions extends BatchCallOptions {
  /** The `warnings` of the submission: attached to each line's ChatResult so it equals the online answer. */
  warnings?: Record<string, ProviderWarning[]>;
}

/** Sizes one job may have at most; the caller splits larger batches before `submit`. */
export interface BatchLimits {
  maxLines: number;
  /** Bytes of the serialised job input (the JSONL file or the request body). */
  maxBytes: number;
}

/**
 * A provider's native batch API. Every failure of a call is thrown as a classified `ProviderError`;
 * failures of single lines are `BatchLineResult`s with `ok: false`, classified with the same taxonomy.
 */
export interface BatchCapableAdapter {
  readonly provider: string;
  readonly limits: BatchLimits;
  /** Convert the lines, create the job and answer its first state. Throws `invalid_request` for an empty, duplicate-id or oversized batch. */
  submit(lines: BatchLine[], options: BatchSubmitOptions): Promise<BatchSubmission>;
  /** The job's current state; cheap, meant to be called after each durable timer. */
  poll(jobId: string, options: BatchCallOptions): Promise<BatchJob>;
  /**
   * The per-line outcomes of a done job, streamed as the provider's result files are read (never
   * buffered whole). Order is the provider's, not the input's. A line the provider never reports (a
   * Gemini job that failed, expired or was cancelled reports none) was not served.
   */
  results(jobId: string, options: BatchResultsOptions): AsyncIterable<BatchLineResult>;
  /** Ask the provider to stop the job; answers the state right after (usually `cancelling`). */
  cancel(jobId: string, options: BatchCallOptions): Promise<BatchJob>;
  /**
   * A job submitted earlier with this submission key, where the provider keeps one to search by
   * (OpenAI: `metadata.zumik_submission`; Gemini: the `displayName`; xAI: the batch `name`), among its
   * most recent jobs. A retried submission asks first, so a job whose creation answer was lost is never
   * created twice. A provider that keeps no label (Anthropic) matches by `hint` instead: the one job
   * created since the first try with exactly that many requests.
   */
  findSubmitted?(submissionKey: string, options: BatchCallOptions, hint: SubmissionHint): Promise<BatchJob | undefined>;
}

/** What a retried submission knows of the job it may have created: when it was first tried, and how many lines it sent. */
export interface SubmissionHint {
  /** When the first try began (epoch ms); a job created before it is not this submission's. */
  since: number;
  lines: number;
}

/** The metadata key a submission key travels in where the provider keeps metadata (OpenAI). */
export const SUBMISSION_KEY_METADATA = 'zumik_submission';

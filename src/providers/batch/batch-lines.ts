/**
 * What every batch adapter does with lines before and after the provider: checks that a batch can be
 * submitted at all, converts each line with the provider's online converter (a line whose conversion
 * fails is rejected alone, not the whole batch), and turns a line's failure into plain error data.
 */
import { ProviderError } from '../provider-error';
import { type FailureKind } from '../../domain/failure-kinds';
import type { ChatRequest, ProviderWarning } from '../../contract/chat';
import type { BatchJob, BatchLimits, BatchLine, BatchLineError, BatchLineResult, BatchSubmission } from './batch-types';

/** A line's `service_tier` is dropped: the batch is its own tier, whatever the line asked for. */
export const BATCH_TIER_WARNING: ProviderWarning = {
  type: 'approximated-setting', setting: 'service_tier', message: 'a batch line is served at the batch tier; its service_tier was dropped',
};

/** The line's body without `service_tier`, and the warning when it had one (the converter never sees a tier to approximate). */
export function withoutServiceTier(body: ChatRequest): { body: ChatRequest; warnings: ProviderWarning[] } {
  if (body.service_tier === undefined) return { body, warnings: [] };
  const { service_tier: _tier, ...rest } = body;
  return { body: rest, warnings: [{ ...BATCH_TIER_WARNING }] };
}

export interface ConvertedLines<T> {
  accepted: Array<{ customId: string; request: T }>;
  rejected: BatchSubmission['rejected'];
  warnings: Record<string, ProviderWarning[]>;
}

/** Throw `invalid_request` for an empty batch, a missing or repeated custom id, or more lines than the provider takes. */
export function checkBatchLines(lines: BatchLine[], limits: BatchLimits, provider: string): void {
  if (lines.length === 0) throw invalidBatch(provider, 'a batch needs at least one line');
  if (lines.length > limits.maxLines) throw invalidBatch(provider, `${lines.length} lines exceed the limit of ${limits.maxLines} per job`);
  const seen = new Set<string>();
  for (const line of lines) {
    if (!line.customId) throw invalidBatch(provider, 'every line needs a custom id');
    if (seen.has(line.customId)) throw invalidBatch(provider, `custom id '${line.customId}' appears twice`);
    seen.add(line.customId);
  }
}

/** Convert each line; a ProviderError from the converter rejects that line only, anything else is a bug and propagates. */
export function convertBatchLines<T>(lines: BatchLine[], provider: string,
  convert: (line: BatchLine) => { request: T; warnings: ProviderWarning[] }): ConvertedLines<T> {
  const converted: ConvertedLines<T> = { accepted: [], rejected: [], warnings: {} };
  for (const line of lines) {
    try {
      const { request, warnings } = convert(line);
      converted.accepted.push({ customId: line.customId, request });
      if (warnings.length > 0) converted.warnings[line.customId] = warnings;
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      converted.rejected.push({ customId: line.customId, ok: false, error: lineErrorFrom(error) });
    }
  }
  if (converted.accepted.length === 0) throw invalidBatch(provider, 'no line of the batch could be converted for this provider');
  return converted;
}

/** Throw `invalid_request` when the serialised job is larger than the provider accepts (the caller splits it). */
export function checkBatchBytes(bytes: number, limits: BatchLimits, provider: string): void {
  if (bytes > limits.maxBytes) throw invalidBatch(provider, `the batch input is ${bytes} bytes, over the limit of ${limits.maxBytes}`);
}

export function lineErrorFrom(error: ProviderError): BatchLineError {
  return {
    kind: error.kind, message: error.message,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.providerCode !== undefined ? { providerCode: error.providerCode } : {}),
    ...(error.providerRequestId !== undefined ? { providerRequestId: error.providerRequestId } : {}),
  };
}

export function lineFailure(customId: string, error: ProviderError | BatchLineError): Extract<BatchLineResult, { ok: false }> {
  return { customId, ok: false, error: error instanceof ProviderError ? lineErrorFrom(error) : error };
}

/** A line the provider did not get to: `expired` can be served online at once; `cancelled` was stopped on purpose. */
export function unservedLine(customId: string, provider: string, how: 'expired' | 'cancelled', providerCode: string): Extract<BatchLineResult, { ok: false }> {
  const kind: FailureKind = how === 'expired' ? 'timeout' : 'cancelled';
  return lineFailure(customId, { kind, providerCode, message: `${provider}: the line was ${how} before the provider served it` });
}

export function invalidBatch(provider: string, message: string): ProviderError {
  return new ProviderError(`${provider}: ${message}`, { kind: 'invalid_request', provider });
}

/** `results` asked for a job that is still running: reading now would make its lines look unserved. */
export function notDone(provider: string, job: BatchJob): ProviderError {
  return new ProviderError(`${provider}: batch ${job.id} is not done (${job.rawStatus}); poll until it is`, { kind: 'invalid_request', provider });
}

/**
 * A 404 on a job's own routes means the job id is unknown (a wrong id, or a job deleted or purged),
 * not a missing model as the online taxonomy reads a 404: re-kind it `invalid_request`.
 */
export function rethrowUnknownJob(error: unknown): never {
  if (!(error instanceof ProviderError) || error.status !== 404) throw error;
  const { message: _message, ...fields } = error.toJSON();
  throw new ProviderError(error.message, { ...fields, kind: 'invalid_request' }, { cause: error });
}

/** A result file line that is not in the provider's format: the rest of the file is still read. */
export function malformedLine(provider: string, what: string): ProviderError {
  return new ProviderError(`${provider}: ${what}`, { kind: 'bad_response', provider });
}

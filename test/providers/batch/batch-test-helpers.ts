/**
 * Helpers for the batch adapter tests: poll a job until it is done (the emulators' compressed clock
 * makes that milliseconds), drain `results` into a map by custom id, and compare a batch line's
 * ChatResult with the online one while ignoring what differs per call by nature (ids, times).
 */
import type { BatchCallOptions, BatchCapableAdapter, BatchJob, BatchLineResult, BatchResultsOptions } from '../../../src/providers/batch/batch-types';
import type { ChatResult } from '../../../src/contract/chat';

export async function pollUntilDone(adapter: BatchCapableAdapter, jobId: string, options: BatchCallOptions,
  seen: BatchJob[] = [], intervalMs = 10, maxMs = 5_000): Promise<BatchJob> {
  const started = Date.now();
  for (;;) {
    const job = await adapter.poll(jobId, options);
    seen.push(job);
    if (job.done) return job;
    if (Date.now() - started > maxMs) throw new Error(`batch ${jobId} not done after ${maxMs} ms (${job.rawStatus})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function collectResults(adapter: BatchCapableAdapter, jobId: string, options: BatchResultsOptions): Promise<Map<string, BatchLineResult>> {
  const results = new Map<string, BatchLineResult>();
  for await (const line of adapter.results(jobId, options)) {
    if (results.has(line.customId)) throw new Error(`custom id ${line.customId} reported twice`);
    results.set(line.customId, line);
  }
  return results;
}

export function succeeded(line: BatchLineResult | undefined): ChatResult {
  if (!line?.ok) throw new Error(`expected a successful line, got ${JSON.stringify(line)}`);
  return line.result;
}

export function failed(line: BatchLineResult | undefined): Extract<BatchLineResult, { ok: false }>['error'] {
  if (!line || line.ok) throw new Error(`expected a failed line, got ${JSON.stringify(line)}`);
  return line.error;
}

/** A ChatResult without the fields that differ between any two calls (provider ids, creation time). */
export function comparable(result: ChatResult): Omit<ChatResult, 'providerResponseId' | 'created' | 'providerRequestId'> {
  const { providerResponseId: _id, created: _created, providerRequestId: _requestId, ...rest } = result;
  return rest;
}

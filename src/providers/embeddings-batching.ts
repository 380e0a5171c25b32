/**
 * Batching of embeddings inputs to a provider's per-call maximum: a request of 2,048 inputs to a
 * provider that takes 100 per call is 21 calls, run a few at a time, answered in input order with
 * the usage summed. One failed call fails the attempt (the workflow retries or fails over whole).
 */
import type { EmbeddingInput, EmbeddingsResult } from '../contract/embeddings';

/** Calls in flight at once for one request (a provider's rate limit is per key, not per request). */
const CONCURRENT_CALLS = 4;

export interface EmbeddingsBatch {
  vectors: number[][];
  promptTokens: number;
  estimatedUsage?: boolean;
  model?: string;
  providerRequestId?: string;
}

export async function embedInBatches(inputs: readonly EmbeddingInput[], maxPerCall: number, fallbackModel: string,
  call: (batch: EmbeddingInput[]) => Promise<EmbeddingsBatch>): Promise<EmbeddingsResult> {
  const batches: EmbeddingInput[][] = [];
  for (let start = 0; start < inputs.length; start += maxPerCall) batches.push(inputs.slice(start, start + maxPerCall));
  const answers: EmbeddingsBatch[] = new Array(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const index = next++;
      const answer = await call(batches[index]!);
      if (answer.vectors.length !== batches[index]!.length) {
        throw new Error(`the provider answered ${answer.vectors.length} vectors for ${batches[index]!.length} inputs`);
      }
      answers[index] = answer;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_CALLS, batches.length) }, worker));
  return {
    model: answers[0]?.model ?? fallbackModel,
    vectors: answers.flatMap((answer) => answer.vectors),
    promptTokens: answers.reduce((sum, answer) => sum + answer.promptTokens, 0),
    ...(answers.some((answer) => answer.estimatedUsage) ? { estimatedUsage: true } : {}),
    calls: batches.length,
    ...(answers[0]?.providerRequestId ? { providerRequestId: answers[0].providerRequestId } : {}),
  };
}

/**
 * Small helpers for adapter tests: drain a stream into its parts, and capture the ProviderError a
 * call fails with (so a test asserts on its fields instead of on message text).
 */
import { ProviderError } from '../../src/providers/provider-error';
import type { StreamPart } from '../../src/contract/chat';

export async function collectParts(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Drain a stream, returning the parts seen before it failed and the failure. */
export async function collectUntilFailure(stream: AsyncIterable<StreamPart>): Promise<{ parts: StreamPart[]; error: ProviderError }> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of stream) parts.push(part);
  } catch (error) {
    if (error instanceof ProviderError) return { parts, error };
    throw error;
  }
  throw new Error(`expected the stream to fail; it ended after ${parts.length} parts`);
}

export async function captureProviderError(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a ProviderError, the call succeeded');
}

/** Concatenated text of one kind of delta. */
export function textOf(parts: StreamPart[], type: 'text-delta' | 'reasoning-delta' | 'refusal-delta' = 'text-delta'): string {
  return parts.map((part) => (part.type === type ? part.text : '')).join('');
}

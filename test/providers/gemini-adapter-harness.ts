/** Shared set-up for the GeminiAdapter tests: a real emulator, a real undici dispatcher, helpers to drain streams. */
import type { Dispatcher } from 'undici';
import { GeminiAdapter } from '../../src/providers/gemini/gemini-adapter';
import type { ProviderCallOptions } from '../../src/providers/types';
import type { StreamPart } from '../../src/contract/chat';
import { createUpstreamDispatcher } from '../../src/providers/upstream-http';
import { GeminiEmulator, type GeminiEmulatorOptions } from '../emulators/gemini-emulator';

export const API_KEY = 'test-gemini-key-AIzaFAKE';
export const MODEL = 'gemini-3.5-flash';

export interface GeminiHarness {
  emulator: GeminiEmulator;
  adapter: GeminiAdapter;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

export async function startGeminiHarness(options: Partial<GeminiEmulatorOptions> = {}): Promise<GeminiHarness> {
  const emulator = await new GeminiEmulator({ apiKey: API_KEY, ...options }).start();
  const dispatcher = createUpstreamDispatcher();
  const adapter = new GeminiAdapter({ baseUrl: emulator.url, dispatcher });
  return { emulator, adapter, dispatcher, close: async () => { await emulator.close(); await dispatcher.close(); } };
}

export function callOptions(overrides: Partial<ProviderCallOptions> = {}): ProviderCallOptions {
  return { model: MODEL, credential: { apiKey: API_KEY }, ...overrides };
}

/** Drain a stream; returns the parts, and the error if it failed. */
export async function drain(stream: AsyncIterable<StreamPart>, onPart?: (part: StreamPart) => void): Promise<{ parts: StreamPart[]; error?: unknown }> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of stream) { parts.push(part); onPart?.(part); }
    return { parts };
  } catch (error) {
    return { parts, error };
  }
}

/** The text a stream produced. */
export function streamedText(parts: StreamPart[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');
}

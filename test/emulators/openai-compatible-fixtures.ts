/**
 * Loads the recorded OpenAI, xAI and OpenAI-compatible wire data in test/fixtures/openai-compatible
 * (sources in its README), for the emulator's recorded error bodies and for parser and mapper tests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root';

export const OPENAI_COMPATIBLE_FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'openai-compatible');

/** A recorded JSON body, e.g. `openai/openai-text.json`. */
export function loadOpenAICompatibleJson(name: string): unknown {
  return JSON.parse(readFileSync(path.join(OPENAI_COMPATIBLE_FIXTURES, name), 'utf8'));
}

/** The `data:` payloads of a recording: one a line in `*.chunks.txt`, the `data: ` lines of a `*.sse` file. */
export function loadOpenAICompatibleData(name: string): string[] {
  const text = readFileSync(path.join(OPENAI_COMPATIBLE_FIXTURES, name), 'utf8');
  if (name.endsWith('.sse')) return text.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length));
  return text.split('\n').filter((line) => line.trim().length > 0);
}

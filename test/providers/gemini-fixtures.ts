/** Loads the recorded Gemini wire data in test/fixtures/gemini (see /work/shared/fixtures/README.md for the format). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const FOLDER = path.join(__dirname, '..', 'fixtures', 'gemini');

/** One non-streamed body (`*.json`). */
export function loadGeminiJson(name: string): unknown {
  return JSON.parse(readFileSync(path.join(FOLDER, `${name}.json`), 'utf8'));
}

/** The chunks of one recorded stream (`*.chunks.txt`, one `data:` payload per line). */
export function loadGeminiChunks(name: string): unknown[] {
  return readFileSync(path.join(FOLDER, `${name}.chunks.txt`), 'utf8').split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}

/**
 * Loads the recorded Anthropic wire data in test/fixtures/anthropic (copied from /work/shared/fixtures,
 * sources in its README) as SSE events or JSON, for the emulator to replay and for stream tests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root';
import type { SseEvent } from './emulator-kit';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'anthropic');

/** A raw `*.sse` recording (with `event:` lines), split into events. */
export function loadAnthropicSse(name: string): SseEvent[] {
  const text = readFileSync(path.join(FIXTURES, name), 'utf8');
  return text.split(/\n\n+/).map((frame) => frame.trim()).filter(Boolean).map((frame) => {
    const event = /^event: (.*)$/m.exec(frame)?.[1];
    const data = /^data: (.*)$/m.exec(frame)?.[1] ?? '';
    return event ? { event, data } : { data };
  });
}

/** A `*.chunks.txt` recording (one data payload a line); the event name is the payload's `type`. */
export function loadAnthropicChunks(name: string): SseEvent[] {
  const text = readFileSync(path.join(FIXTURES, name), 'utf8');
  return text.split('\n').filter((line) => line.trim().length > 0)
    .map((line) => ({ event: String((JSON.parse(line) as { type: unknown }).type), data: line }));
}

/** A recorded non-streamed Message. */
export function loadAnthropicJson(name: string): unknown {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
}

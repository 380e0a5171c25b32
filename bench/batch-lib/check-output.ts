/**
 * The batch benchmark's input file and its check: small-prompt JSONL lines with custom ids
 * `line-<n>`, written to disk as a stream; and a streaming read of an output or error file through
 * the official SDK (`files.content`, line by line — never the whole file in memory) that tallies every
 * custom_id, so that each line can be checked to appear exactly once across both files.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type OpenAI from 'openai';

export const customId = (index: number) => `line-${String(index).padStart(5, '0')}`;

/** Write `lines` batch lines to `file`; returns the byte size. */
export async function writeBatchInput(file: string, lines: number, model: string): Promise<number> {
  const out = fs.createWriteStream(file);
  for (let index = 0; index < lines; index++) {
    const id = customId(index);
    const text = `${JSON.stringify({
      custom_id: id, method: 'POST', url: '/v1/chat/completions',
      body: { model, messages: [{ role: 'user', content: `${id}: reply with one short greeting.` }], max_tokens: 16 },
    })}\n`;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return fs.statSync(file).size;
}

export interface FileCheck {
  fileId: string;
  kind: 'output' | 'error';
  lines: number;
  bytes: number;
  downloadMs: number;
  statusCodes: Record<string, number>;
  errorCodes: Record<string, number>;
  unknownIds: number;
  malformed: number;
  /** A few error lines, as they came. */
  examples: string[];
}

/** Stream one result file and count every custom_id into `seen` (indexed by line). */
export async function checkResultFile(client: OpenAI, fileId: string, kind: 'output' | 'error', seen: Uint16Array): Promise<FileCheck> {
  const started = Date.now();
  const response = await client.files.content(fileId);
  if (!response.body) throw new Error(`files.content(${fileId}): no body`);
  const check: FileCheck = { fileId, kind, lines: 0, bytes: 0, downloadMs: 0, statusCodes: {}, errorCodes: {}, unknownIds: 0, malformed: 0, examples: [] };
  const input = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  input.on('data', (chunk: Buffer) => { check.bytes += chunk.length; });
  const reader = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const text of reader) {
    if (text.trim() === '') continue;
    check.lines += 1;
    let entry: { custom_id?: string; response?: { status_code?: number; body?: { error?: { code?: string | null; type?: string } } } | null; error?: { code?: string } | null };
    try {
      entry = JSON.parse(text);
    } catch {
      check.malformed += 1;
      continue;
    }
    const match = /^line-(\d+)$/.exec(entry.custom_id ?? '');
    const index = match ? Number(match[1]) : -1;
    if (index >= 0 && index < seen.length) seen[index] = Math.min(65_535, seen[index]! + 1);
    else check.unknownIds += 1;
    const status = String(entry.response?.status_code ?? 'none');
    check.statusCodes[status] = (check.statusCodes[status] ?? 0) + 1;
    const code = entry.error?.code ?? entry.response?.body?.error?.code ?? entry.response?.body?.error?.type;
    if (code) check.errorCodes[code] = (check.errorCodes[code] ?? 0) + 1;
    if (kind === 'error' && check.examples.length < 5) check.examples.push(text.slice(0, 600));
  }
  check.downloadMs = Date.now() - started;
  return check;
}

/** Lines never seen, and lines seen more than once (with the first few of each). */
export function tallyLines(seen: Uint16Array) {
  let missing = 0;
  let duplicated = 0;
  const firstMissing: number[] = [];
  const firstDuplicated: number[] = [];
  for (let index = 0; index < seen.length; index++) {
    if (seen[index] === 0) {
      missing += 1;
      if (firstMissing.length < 20) firstMissing.push(index);
    } else if (seen[index]! > 1) {
      duplicated += 1;
      if (firstDuplicated.length < 20) firstDuplicated.push(index);
    }
  }
  return { missing, duplicated, firstMissing, firstDuplicated, exactlyOnce: seen.length - missing - duplicated };
}

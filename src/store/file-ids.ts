/** Identifiers of files, batches and batch request lines, shaped like OpenAI's (`file-` + base62). */
import { randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && text.length < length) text += BASE62[byte % 62];
    }
  }
  return text;
}

/** `file-` + 24 base62 characters (OpenAI's file ids have this shape). */
export const newFileId = (): string => `file-${randomBase62(24)}`;
/** `batch_` + 24 base62 characters. */
export const newBatchId = (): string => `batch_${randomBase62(24)}`;
/** The `id` of one output or error line: `batch_req_` + 24 base62 characters. */
export const newBatchRequestId = (): string => `batch_req_${randomBase62(24)}`;

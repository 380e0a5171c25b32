/**
 * The batch input line contract (PROVIDERS.md §1.7): `{"custom_id","method":"POST","url":"/v1/chat/completions"|"/v1/embeddings","body":{…}}`.
 * Checked for every line while an upload streams in, so a bad file is refused at upload time with the
 * line named, as OpenAI's batch validation does. The body schemas are the ones /v1/chat/completions
 * and /v1/embeddings apply (pure zod modules in src/contract). One file holds one endpoint's lines, as
 * one OpenAI batch does: a line whose url differs from the first line's is refused.
 */
import { createHash } from 'node:crypto';
import { formatParam } from '../contract/error-envelope';
import { chatRequestSchema } from '../contract/chat-request-schema';
import { embeddingsRequestSchema } from '../contract/embeddings';
import { CUSTOM_ID_MAX_LENGTH } from '../contract/limits';
import { InvalidLineError } from './file-errors';

/** The endpoints Zumik batches (a batch names one; its file's lines all use it). */
export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings'] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

export interface BatchInputLine {
  custom_id: string;
  method: 'POST';
  url: BatchEndpoint;
  body: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validate one parsed line; throws InvalidLineError naming the field. */
export function checkBatchInputLine(value: unknown): BatchInputLine {
  if (!isObject(value)) throw new InvalidLineError('each line must be a JSON object', 'invalid_json_line');
  const { custom_id: customId, method, url, body } = value;
  if (customId === undefined || customId === null) throw new InvalidLineError('custom_id is required', 'missing_required_parameter');
  if (typeof customId !== 'string' || customId.length === 0) throw new InvalidLineError('custom_id must be a non-empty string', 'invalid_custom_id');
  if (customId.length > CUSTOM_ID_MAX_LENGTH) throw new InvalidLineError(`custom_id must be at most ${CUSTOM_ID_MAX_LENGTH} characters`, 'invalid_custom_id');
  // It is stored as text and written back into the output file: no NUL (Postgres refuses it), no broken UTF-16.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(customId) || !(customId as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new InvalidLineError('custom_id must not contain control characters or lone UTF-16 surrogates', 'invalid_custom_id');
  }
  if (method === undefined) throw new InvalidLineError('method is required', 'missing_required_parameter');
  if (method !== 'POST') throw new InvalidLineError(`method must be 'POST', not ${JSON.stringify(method)}`, 'invalid_method');
  if (url === undefined) throw new InvalidLineError('url is required', 'missing_required_parameter');
  if (!(BATCH_ENDPOINTS as readonly unknown[]).includes(url)) {
    throw new InvalidLineError(`url must be one of ${BATCH_ENDPOINTS.map((endpoint) => `'${endpoint}'`).join(', ')} (the endpoints Zumik batches), not ${JSON.stringify(url)}`, 'invalid_url');
  }
  if (body === undefined) throw new InvalidLineError('body is required', 'missing_required_parameter');
  if (!isObject(body)) throw new InvalidLineError(`body must be a JSON object (the ${url === '/v1/embeddings' ? 'embeddings' : 'chat completion'} request)`, 'invalid_body');
  if (body.stream === true) throw new InvalidLineError('body.stream: streaming is not supported in a batch', 'invalid_body');
  const parsed = (url === '/v1/embeddings' ? embeddingsRequestSchema : chatRequestSchema).safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const param = formatParam(['body', ...path])!;
    const last = path.at(-1);
    // "messages is required" at body.messages reads "body.messages is required"; otherwise "param: message".
    const message = typeof last === 'string' && issue.message.startsWith(last)
      ? `${param.slice(0, param.length - last.length)}${issue.message}` : `${param}: ${issue.message}`;
    throw new InvalidLineError(message, 'invalid_body');
  }
  return { custom_id: customId, method, url: url as BatchEndpoint, body };
}

/**
 * A validator for one upload: every line a valid batch input line, custom_ids unique within the file.
 * It remembers a 128-bit hash of each custom_id (not the id), so its memory is bounded by the line limit.
 */
export function createBatchLineValidator(): (text: string, lineNumber: number) => void {
  const seen = new Map<string, number>();
  let endpoint: BatchEndpoint | undefined;
  return (text, lineNumber) => {
    if (text.trim() === '') throw new InvalidLineError('empty line (every line must be one JSON request object)', 'invalid_json_line');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InvalidLineError(`not valid JSON (${(error as Error).message})`, 'invalid_json_line');
    }
    const line = checkBatchInputLine(value);
    endpoint ??= line.url;
    if (line.url !== endpoint) {
      throw new InvalidLineError(`url '${line.url}' differs from the first line's '${endpoint}'; a batch file holds the requests of one endpoint`, 'mismatched_url');
    }
    const key = createHash('sha256').update(line.custom_id).digest('base64').slice(0, 22);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new InvalidLineError(`custom_id '${line.custom_id}' is a duplicate of line ${first}; custom_id must be unique within the file`,
        'duplicate_custom_id');
    }
    seen.set(key, lineNumber);
  };
}

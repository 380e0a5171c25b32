/**
 * Inspects every parsed JSON body once, without recursion (so no body can overflow the stack):
 * - nesting deeper than JSON_MAX_DEPTH is a 400 naming the field where it goes too deep;
 * - a lone UTF-16 surrogate (`"\ud800"` is valid JSON, but no text) becomes U+FFFD, as it would on any
 *   UTF-8 wire anyway, so Postgres' jsonb, provider calls and hashes all see the same well-formed text;
 * - NUL (`\u0000`), which Postgres cannot store in text, is a 400 naming the field, except inside chat
 *   `messages` (prompt text reaches providers, never a text column).
 */
import type { RequestHandler } from 'express';
import { formatParam } from '../../contract/error-envelope';
import { JSON_MAX_DEPTH } from '../../contract/limits';
import { badRequest } from '../errors';

interface WellFormedString { isWellFormed(): boolean; toWellFormed(): string }
const wellFormed = (text: string) => (text as unknown as WellFormedString).isWellFormed();
const toWellFormed = (text: string) => (text as unknown as WellFormedString).toWellFormed();

/** Where NUL is harmless: the chat prompt's text. */
const nulAllowed = (path: ReadonlyArray<string | number>) => path[0] === 'messages';

declare module 'express-serve-static-core' {
  interface Request {
    /** The size of the JSON body as received (set while it is parsed). */
    bodyBytes?: number;
  }
}

type Container = Record<string, unknown> | unknown[];

/** Check and clean a parsed JSON value in place (throws a 400 HttpError); returns the cleaned value. */
export function inspectJsonBody(body: unknown): unknown {
  const clean = (text: string, path: ReadonlyArray<string | number>): string => {
    if (text.includes('\u0000') && !nulAllowed(path)) {
      throw badRequest(`${formatParam(path) ?? 'The body'} must not contain the NUL character (\\u0000).`, formatParam(path), 'invalid_string');
    }
    return wellFormed(text) ? text : toWellFormed(text);
  };
  if (typeof body === 'string') return clean(body, []);
  if (typeof body !== 'object' || body === null) return body;
  const stack: Array<{ value: Container; path: Array<string | number> }> = [{ value: body as Container, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (path.length >= JSON_MAX_DEPTH) {
      throw badRequest(`The JSON body is nested deeper than ${JSON_MAX_DEPTH} levels (at ${formatParam(path.slice(0, 8))}…).`,
        formatParam(path.slice(0, 8)), 'json_too_deep');
    }
    const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
    for (const [key, item] of entries) {
      let name = key;
      if (typeof key === 'string' && (!wellFormed(key) || key.includes('\u0000'))) {
        name = clean(key, [...path, key]);
        delete (value as Record<string, unknown>)[key];
        (value as Record<string, unknown>)[name] = item;
      }
      if (typeof item === 'string') {
        if (!wellFormed(item) || item.includes('\u0000')) (value as Record<string | number, unknown>)[name] = clean(item, [...path, name]);
      } else if (typeof item === 'object' && item !== null) {
        stack.push({ value: item as Container, path: [...path, name] });
      }
    }
  }
  return body;
}

export function jsonBodyGuard(): RequestHandler {
  return (request, _response, next) => {
    if (request.body !== undefined) request.body = inspectJsonBody(request.body);
    next();
  };
}

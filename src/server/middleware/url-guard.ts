/**
 * Refuses a URL the routes could not use, before any route sees it: a path that is not valid
 * percent-encoded UTF-8 (`/v2/model-aliases/%zz`, `%ed%a0%80`), or a path or query carrying NUL or
 * another control character (`/v1/files/%00/content`), which no id or name contains and Postgres
 * cannot even store. Answered with a 400 in the envelope instead of reaching a decoder or a query.
 */
import type { RequestHandler } from 'express';
import { badRequest } from '../errors';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

export function urlGuard(): RequestHandler {
  return (request, _response, next) => {
    const url = request.originalUrl;
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw badRequest('The request path is not valid percent-encoded UTF-8.', 'path', 'invalid_path');
    }
    if (CONTROL.test(decoded)) throw badRequest('The request path must not contain control characters.', 'path', 'invalid_path');
    if (queryAt !== -1 && ENCODED_CONTROL.test(url.slice(queryAt))) {
      throw badRequest('The query string must not contain control characters.', 'query', 'invalid_query');
    }
    next();
  };
}

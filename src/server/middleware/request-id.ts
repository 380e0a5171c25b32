/** Every response carries `x-request-id` (the caller's, when it sent a sane one) for support and logs. */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

export function requestId(): RequestHandler {
  return (request, response, next) => {
    const given = request.get('x-request-id');
    response.setHeader('x-request-id', given && /^[\w.:-]{1,128}$/.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`);
    next();
  };
}

/** The error middleware, registered last: body-parser failures, HttpErrors and unexpected errors, all in one envelope. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { describeBytes } from '../../contract/limits';
import { HttpError } from '../errors';

export interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** A body-parser or router failure as the HttpError it means (undefined for anything else). */
export function fromBodyParser(error: BodyParserError): HttpError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'We could not parse the JSON body of your request. The body must be valid JSON.', 'invalid_json');
    case 'entity.too.large':
      return new HttpError(413, `The request body is larger than the limit of ${error.limit === undefined ? 'this server' : describeBytes(error.limit)}.`,
        'request_too_large');
    case 'encoding.unsupported': case 'charset.unsupported':
      return new HttpError(415, error.message, 'unsupported_media_type');
    case 'request.aborted':
      return new HttpError(400, 'The request was aborted while its body was being read.', 'request_aborted');
    default:
      // A client error raised below the routes (the router's URIError for a bad percent-encoding, and the like).
      if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
        return new HttpError(error.status, error instanceof URIError ? 'The request path is not valid percent-encoded UTF-8.' : 'The request is invalid.',
          'invalid_request_error');
      }
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const known = error instanceof HttpError ? error : fromBodyParser(error as BodyParserError);
    const requestId = response.getHeader('x-request-id');
    if (response.headersSent) {
      logger.error({ err: error, requestId }, 'error after the response started');
      response.destroy();
      return;
    }
    if (known) {
      response.status(known.status).set(known.headers).json({ ...known.extraBody, ...known.toEnvelope() });
      return;
    }
    logger.error({ err: error, requestId, method: request.method, path: request.path }, 'unhandled error');
    response.status(500).json(new HttpError(500, `The server had an error while processing your request (request id ${String(requestId)}).`,
      'internal_error').toEnvelope());
  };
}

export function notFoundHandler(): RequestHandler {
  return (request) => {
    throw new HttpError(404, `Invalid URL (${request.method} ${request.path})`, 'invalid_request_error');
  };
}

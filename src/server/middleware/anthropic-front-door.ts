/**
 * Authentication and errors the way Anthropic's API does them, for `/v1/messages`: a Zumik key in
 * `x-api-key` (what Anthropic's SDKs and `ANTHROPIC_API_KEY` clients send) or `Authorization: Bearer`
 * (`ANTHROPIC_AUTH_TOKEN`), and every error in Anthropic's envelope
 * `{"type":"error","error":{"type","message"},"request_id"}` with its status and the `x-zumik-*` headers.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { anthropicErrorEnvelope } from '../../contract/anthropic-messages';
import { HttpError, unauthorized } from '../errors';
import type { ApiKeyAuthenticator } from './authenticate';
import { fromBodyParser, type BodyParserError } from './error-handler';

export function authenticateAnthropic(authenticator: ApiKeyAuthenticator): RequestHandler {
  return async (request, _response, next) => {
    const apiKey = request.get('x-api-key');
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.get('authorization') ?? '')?.[1];
    const secret = apiKey ?? bearer;
    if (!secret) throw unauthorized('x-api-key header is required (a Zumik API key; `Authorization: Bearer` is accepted too)');
    const principal = await authenticator.authenticate(secret);
    if (!principal) throw unauthorized('invalid x-api-key: not a live Zumik API key');
    request.principal = principal;
    next();
  };
}

export function anthropicErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const known = error instanceof HttpError ? error : fromBodyParser(error as BodyParserError);
    const requestId = String(response.getHeader('x-request-id') ?? '');
    if (response.headersSent) {
      logger.error({ err: error, requestId }, 'error after the response started');
      response.destroy();
      return;
    }
    if (!known) logger.error({ err: error, requestId, method: request.method, path: request.path }, 'unhandled error');
    const status = known?.status ?? 500;
    const message = known ? (known.param && !known.message.startsWith(known.param) ? `${known.param}: ${known.message}` : known.message)
      : `The server had an error while processing your request (request id ${requestId}).`;
    response.status(status).set({ ...(known?.headers ?? {}), 'request-id': requestId }).json(anthropicErrorEnvelope(status, message, requestId));
  };
}

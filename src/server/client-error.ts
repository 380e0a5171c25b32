/**
 * What Node's HTTP parser refuses before Express sees it (a malformed request line or header, headers
 * over the size limit, a request that timed out) is answered with the OpenAI error envelope instead of
 * Node's empty 400/431, wherever the socket can still take an answer.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { errorEnvelope } from '../contract/error-envelope';

const ANSWERS: Record<string, { status: number; reason: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431, reason: 'Request Header Fields Too Large', code: 'request_header_fields_too_large',
    message: 'The request headers are larger than the server accepts.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: 'request_timeout', message: 'The request was not received in time.' },
};

/** The raw HTTP/1.1 response for a parser error code. */
export function clientErrorResponse(code: string | undefined): string {
  const answer = ANSWERS[code ?? ''] ?? {
    status: 400, reason: 'Bad Request', code: 'malformed_request', message: 'The HTTP request is malformed and could not be parsed.',
  };
  const body = JSON.stringify(errorEnvelope(answer.message, 'invalid_request_error', null, answer.code));
  return `HTTP/1.1 ${answer.status} ${answer.reason}\r\ncontent-type: application/json; charset=utf-8\r\n`
    + `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** Install the handler on a server (replaces Node's default answer). */
export function answerClientErrors(server: http.Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(error.code));
  });
}

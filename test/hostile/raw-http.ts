/**
 * Raw HTTP/1.1 over a socket for the fuzzer: it sends exactly the bytes generated (any path, any
 * header bytes, invalid UTF-8, malformed request lines), which fetch and http.request would refuse to
 * send, and reads the answer with a per-request timeout, so an unanswered request is a finding.
 */
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (may be malformed on purpose). */
  target: string;
  /** Header lines as raw bytes (latin1), in order. */
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Send these bytes instead of a request built from the fields above (malformed framing). */
  raw?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Send one request on a fresh connection; rejects on timeout or when the server closes without answering. */
export function sendRaw(port: number, request: RawRequest, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) { reject(error); return; }
      const parsed = parseResponse(Buffer.concat(chunks), request.method === 'HEAD');
      if (parsed) resolve(parsed);
      else reject(new Error(`no complete HTTP answer (${Buffer.concat(chunks).length} bytes received)`));
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const parsed = parseResponse(Buffer.concat(chunks), request.method === 'HEAD');
      if (parsed && parsed.complete) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer and close before it read everything we sent: the answer still counts.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else finish(error);
    });
    socket.write(request.raw ?? frame(request));
  });
}

function frame(request: RawRequest): Buffer {
  const head = [`${request.method} ${request.target} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close',
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
    ...(request.body ? [`content-length: ${request.body.length}`] : [])].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), request.body ?? Buffer.alloc(0)]);
}

/** The answer once its head has arrived; `complete` once its body has (content-length, chunked end, or close). */
function parseResponse(data: Buffer, head: boolean): (RawResponse & { complete: boolean }) | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(match[1]);
  let body = data.subarray(end + 4);
  let complete = false;
  if (head || status === 204 || status === 304) {
    complete = true;
    body = Buffer.alloc(0);
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    complete = body.length >= length;
    body = body.subarray(0, length);
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const decoded = dechunk(body);
    complete = decoded !== undefined;
    body = decoded ?? body;
  }
  return { status, headers, body, complete };
}

function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

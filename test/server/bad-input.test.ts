import net from 'node:net';
import { startTestApp, type TestApp } from '../support/test-app';

/** Send raw bytes and read the whole answer (the server closes after a parser error). */
function rawExchange(url: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer in 5 s')));
    socket.end(Buffer.from(bytes, 'latin1'));
  });
}

describe('bad input at the front door', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startTestApp({ bodyLimit: '16kb' }); });
  afterAll(async () => { await app.close(); });

  afterEach(async () => {
    // nothing is lost and the process stays up: the next request is served normally
    expect((await app.call('GET', '/healthz', { key: null })).status).toBe(200);
  });

  it('answers malformed JSON with a 400 in the OpenAI envelope', async () => {
    const response = await app.call('PUT', '/v2/model-aliases/bad.json', { rawBody: '{"targets": [' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { message: expect.stringContaining('JSON'), type: 'invalid_request_error', param: null, code: 'invalid_json' } });
  });

  it('answers an oversized body with a 413 in the OpenAI envelope', async () => {
    const response = await app.call('PUT', '/v2/model-aliases/bad.size', {
      body: { targets: [{ provider: 'x'.repeat(20_000), model: 'm', model_revision: 'r' }] },
    });
    expect(response.status).toBe(413);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
  });

  it.each([
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"targets"'],
    ['null', 'null'],
  ])('answers %s instead of an object with a 400', async (_case, rawBody) => {
    const response = await app.call('PUT', '/v2/model-aliases/bad.shape', { rawBody });
    expect(response.status).toBe(400);
    expect(response.body.error.type).toBe('invalid_request_error');
  });

  it('answers a body that is not JSON at all (wrong content type) with a 400', async () => {
    const response = await app.call('PUT', '/v2/model-aliases/bad.type', { rawBody: 'targets=1', headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('JSON');
  });

  it('answers an unknown route with a 404 in the envelope', async () => {
    const response = await app.call('GET', '/v2/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request_error' });
  });

  it.each([
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'malformed_request'],
    ['a header without a colon', 'GET /v1/models HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n', 400, 'malformed_request'],
    ['a NUL in a header value', 'GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: a\u0000b\r\n\r\n', 400, 'malformed_request'],
    ['a bad chunk size', 'POST /v2/model-aliases/x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400, 'malformed_request'],
    ['headers over the size limit', `GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'request_header_fields_too_large'],
  ])('answers what the HTTP parser refuses (%s) with %s in the OpenAI envelope', async (_case, bytes, status, code) => {
    const answer = await rawExchange(app.url, bytes);
    expect(answer.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`);
    expect(answer).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code } });
  });

  it('sets x-request-id on every response, echoing a sane one from the caller', async () => {
    const response = await app.call('GET', '/v1/models', { headers: { 'x-request-id': 'trace-123' } });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    expect((await app.call('GET', '/v1/models')).headers.get('x-request-id')).toMatch(/^req_/);
  });
});

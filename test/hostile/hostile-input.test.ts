import { waitForRecorded } from '../request-path/request-path-helpers';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { sendRaw, type RawResponse } from './raw-http';

const MESSAGES = [{ role: 'user', content: 'Say hi' }];

describe('hostile input on a whole Zumik (issue 17)', () => {
  let harness: Harness;
  let port: number;
  beforeAll(async () => {
    harness = await startHarness();
    port = Number(new URL(harness.url).port);
    await harness.installAlias('hostile.basic', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.openai.resetReply(); });
  afterEach(async () => {
    // The process stays up and ready after every hostile request.
    expect((await harness.call('GET', '/readyz')).status).toBe(200);
  });

  /** Exactly these bytes, with the admin key, answered within 10 s or the test fails. */
  async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse & { json: any }> {
    const response = await sendRaw(port, {
      method, target: path, body: body === undefined ? undefined : Buffer.from(body, 'utf8'),
      headers: [['authorization', `Bearer ${harness.adminKey}`], ...(body === undefined ? [] : [['content-type', 'application/json'] as [string, string]]),
        ...Object.entries(headers)],
    }, 10_000);
    return { ...response, json: JSON.parse(response.body.toString('utf8') || 'null') };
  }
  const chatBody = (fields: Record<string, unknown>) => JSON.stringify({ model: 'hostile.basic', messages: MESSAGES, ...fields });

  describe('paths and queries', () => {
    it.each([
      ['GET', '/v2/model-aliases/%zz'],
      ['GET', '/v1/files/%00/content'],
      ['GET', '/v2/requests/%ed%a0%80'],
      ['POST', '/v1/batches/%E2%82/cancel'],
      ['DELETE', '/v2/api-keys/a%0db'],
    ])('answers %s %s (bad percent-encoding or a control character) with a 400 naming the path', async (method, path) => {
      const response = await send(method, path);
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: 'path', code: 'invalid_path' } });
    });

    it('answers a NUL in the query with a 400 naming the query', async () => {
      const response = await send('GET', '/v1/files?after=%00');
      expect(response.status).toBe(400);
      expect(response.json.error).toMatchObject({ param: 'query', code: 'invalid_query' });
    });
  });

  describe('model', () => {
    it.each([
      ['a NUL', 'hostile\u0000basic'],
      ['a 2.5 KB string', 'x'.repeat(2_500)],
      ['a lone UTF-16 surrogate', 'hostile.basic\ud800'],
      ['a control character', 'hostile\u0007basic'],
    ])('answers a model with %s with a 400 naming model', async (_case, model) => {
      const response = await send('POST', '/v1/chat/completions', chatBody({ model }));
      expect(response.status).toBe(400);
      expect(response.json.error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
    });

    it('states the length limit in the message', async () => {
      const response = await send('POST', '/v1/chat/completions', chatBody({ model: 'x'.repeat(257) }));
      expect(response.json.error.message).toContain('at most 256 characters');
    });
  });

  describe('JSON bodies', () => {
    const nested = (depth: number) => `${'{"a":['.repeat(depth / 2)}1${']}'.repeat(depth / 2)}`;

    it('answers JSON nested 5,000 deep in an unknown field with a 400 naming the field', async () => {
      const response = await send('POST', '/v1/chat/completions', `{"model":"hostile.basic","messages":${JSON.stringify(MESSAGES)},"extra":${nested(5_000)}}`);
      expect(response.status).toBe(400);
      expect(response.json.error).toMatchObject({ type: 'invalid_request_error', code: 'json_too_deep', param: expect.stringMatching(/^extra\.a\[0\]/) });
    });

    it('accepts nesting within the limit in an unknown field', async () => {
      const response = await send('POST', '/v1/chat/completions', `{"model":"hostile.basic","messages":${JSON.stringify(MESSAGES)},"extra":${nested(40)}}`);
      expect(response.status).toBe(200);
    });

    it('answers a NUL outside the prompt (a name Postgres would store) with a 400 naming the field', async () => {
      const response = await send('POST', '/v2/api-keys', JSON.stringify({ name: 'a\u0000b' }));
      expect(response.status).toBe(400);
      expect(response.json.error).toMatchObject({ param: 'name', code: 'invalid_string' });
    });

    it('serves a prompt with lone surrogates and a NUL: the provider receives well-formed text (U+FFFD)', async () => {
      const response = await send('POST', '/v1/chat/completions',
        '{"model":"hostile.basic","messages":[{"role":"user","content":"a\\ud800b\\u0000c"}],"metadata":{"k\\udc00":"v"}}');
      expect(response.status).toBe(200);
      const received = harness.openai.requests.at(-1)!.body as any;
      expect(received.messages[0].content).toBe('a\ufffdb\u0000c');
    });
  });

  describe('lone surrogates never hang a request', () => {
    it('answers the Idempotency-Key replay of an answer with a lone surrogate at once (its record used to fail and retry for ever)', async () => {
      harness.openai.setReply({ text: 'broken \ud800 text' });
      const first = await send('POST', '/v1/chat/completions', chatBody({}), { 'idempotency-key': 'surrogate-answer' });
      expect(first.status).toBe(200);
      // The client retries at once: the replay follows the first request's workflow to its end, which used to never come.
      const replay = await send('POST', '/v1/chat/completions', chatBody({}), { 'idempotency-key': 'surrogate-answer' });
      expect(replay.status).toBe(200);
      expect(replay.json.id).toBe(first.json.id);
      expect(replay.json.choices[0].message.content).toBe('broken \ufffd text');
      expect((await waitForRecorded(harness, first.json.id)).completion).toBe('completed');
      expect(harness.openai.requests).toHaveLength(1);
    });
  });
});

import { REQUEST_BODY_MAX_BYTES } from '../../src/contract/limits';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { sendRaw } from './raw-http';

const MIB = 1024 * 1024;

/** A chat body of about `bytes` bytes (one long user message). */
function chatOfSize(bytes: number): Buffer {
  const frame = JSON.stringify({ model: 'limits.basic', messages: [{ role: 'user', content: '' }] });
  return Buffer.from(JSON.stringify({ model: 'limits.basic', messages: [{ role: 'user', content: 'x'.repeat(bytes - frame.length) }] }));
}

describe('explicit request size limits (issue 17)', () => {
  let harness: Harness;
  let port: number;
  beforeAll(async () => {
    harness = await startHarness();
    port = Number(new URL(harness.url).port);
    // A context window of a million tokens: a 1.9 MiB prompt fits it.
    await harness.installAlias('limits.basic', [target('openai', 'gpt-4.1-mini')]);
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  afterEach(async () => {
    expect((await harness.call('GET', '/readyz')).status).toBe(200);
  });

  const post = async (body: Buffer) => {
    const response = await sendRaw(port, {
      method: 'POST', target: '/v1/chat/completions', body,
      headers: [['authorization', `Bearer ${harness.adminKey}`], ['content-type', 'application/json']],
    }, 30_000);
    return { status: response.status, json: JSON.parse(response.body.toString('utf8')) };
  };

  it('lets a 1.9 MiB chat body through the front door', async () => {
    const body = chatOfSize(1.9 * MIB);
    const response = await post(body);
    expect([response.status, response.json.error]).toEqual([200, undefined]);
    expect(harness.openai.requests).toHaveLength(1);
  });

  it('serves a 2.5 MB chat body, over Temporal\'s 2 MiB payload limit, by reference (the claim check)', async () => {
    const response = await post(chatOfSize(2.5 * 1000 * 1000));
    expect([response.status, response.json.error]).toEqual([200, undefined]);
    expect(harness.openai.requests).toHaveLength(2);
  });

  it('answers a 20 MB body, over the request body limit, with a 413 naming the limit, without parsing it', async () => {
    const response = await post(chatOfSize(20 * 1000 * 1000));
    expect(response.status).toBe(413);
    expect(response.json).toEqual({ error: { message: expect.stringContaining(`${REQUEST_BODY_MAX_BYTES} bytes (10 MiB)`), type: 'invalid_request_error', param: null, code: 'request_too_large' } });
  });
});

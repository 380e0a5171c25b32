import OpenAI from 'openai';
import { startHarness, target, type Harness } from '../support/zumik-harness';

describe('POST /v1/chat/completions', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('chat.basic', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => { await harness.stop(); });

  it('answers a plain completion through the official SDK, with the outcome in headers', async () => {
    const client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'chat.basic', messages: [{ role: 'user', content: 'Say hi' }] }).withResponse();
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message.content).toEqual(expect.any(String));
    expect(response.headers.get('x-zumik-request-id')).toBe(data.id);
    expect(response.headers.get('x-zumik-completion')).toBe('completed');
    expect(response.headers.get('x-zumik-reason-code')).toBe('ok');
    expect(response.headers.get('x-zumik-provider')).toBe('openai');
    const outcome = await harness.call('GET', `/v2/requests/${data.id}`);
    expect(outcome.status).toBe(200);
  });
});

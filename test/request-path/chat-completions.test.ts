import OpenAI from 'openai';
import { validateAgainstSchema } from '../support/openapi-validator';
import { attemptsInHistory, eventTypes } from '../support/history';
import { startHarness, target, type Harness } from '../support/zumik-harness';

describe('POST /v1/chat/completions', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness();
    await harness.installAlias('chat.basic', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('chat.failover', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.anthropic.reset(); });

  it('answers a plain completion through the official SDK, with the outcome in headers', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'chat.basic', messages: [{ role: 'user', content: 'Say hi' }] }).withResponse();
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message.content).toEqual(expect.any(String));
    expect(validateAgainstSchema('CreateChatCompletionResponse', data)).toEqual([]);
    expect(response.headers.get('x-zumik-request-id')).toBe(data.id);
    expect(response.headers.get('x-zumik-completion')).toBe('completed');
    expect(response.headers.get('x-zumik-reason-code')).toBe('ok');
    expect(response.headers.get('x-zumik-provider')).toBe('openai');
  });

  it('costs the engine one workflow task on the happy path, plain or streamed: the attempt is one marker (7 events, the floor has 6)', async () => {
    const plain = await client.chat.completions.create({ model: 'chat.basic', messages: [{ role: 'user', content: 'Say hi' }] });
    const stream = await client.chat.completions.create({ model: 'chat.basic', stream: true, messages: [{ role: 'user', content: 'Say hi' }] }).withResponse();
    for await (const _chunk of stream.data) { /* drain */ }
    for (const id of [plain.id, stream.response.headers.get('x-zumik-request-id')!]) {
      const handle = harness.zumik.client.workflow.getHandle(`req:default:${id}`);
      await handle.result();
      const history = await handle.fetchHistory();
      expect(eventTypes(history)).toEqual(['WorkflowExecutionStarted', 'WorkflowTaskScheduled', 'WorkflowTaskStarted', 'WorkflowTaskCompleted',
        'MarkerRecorded', 'UpsertWorkflowSearchAttributes', 'WorkflowExecutionCompleted']);
      expect(attemptsInHistory(history, harness.zumik.codec)).toEqual([{ via: 'local', id: expect.any(String), summary: 'attempt 1: openai/gpt-4o-mini @default (primary)' }]);
    }
  });

  it('streams through the official SDK and ends with the outcome comment', async () => {
    const stream = await client.chat.completions.create({ model: 'chat.basic', stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Say hi' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(validateAgainstSchema('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
    const raw = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat.basic', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await raw.text();
    expect(text).toMatch(/: zumik-outcome \{.*"completion":"completed".*\}\n\ndata: \[DONE\]\n\n$/s);
  });

  it('fails over to the standby when the primary answers 503, and keeps both attempts', async () => {
    harness.openai.inject({ kind: 'status', status: 503 });
    const { data, response } = await client.chat.completions.create({ model: 'chat.failover', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
    expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
    expect(response.headers.get('x-zumik-attempts')).toBe('2');
    const outcome = await waitForRecorded(harness, data.id);
    expect(outcome).toMatchObject({ completion: 'completed', fallback_used: true, reason_code: 'ok_after_failover' });
    expect(outcome.attempts.map((attempt: any) => [attempt.provider, attempt.status, attempt.failure_kind])).toEqual([
      ['openai', 'failed', 'upstream_unavailable'], ['anthropic', 'succeeded', null]]);
    // Each attempt is its own record in history with its summary: the first a local activity, the failover a regular one.
    const handle = harness.zumik.client.workflow.getHandle(outcome.workflow.id);
    await handle.result();
    const history = await handle.fetchHistory();
    expect(attemptsInHistory(history, harness.zumik.codec)).toEqual([
      { via: 'local', id: expect.any(String), summary: 'attempt 1: openai/gpt-4o-mini @default (primary)' },
      { via: 'activity', id: 'attempt-2', summary: 'attempt 2: anthropic/claude-haiku-4-5 @default (standby, failover:upstream_unavailable)' },
    ]);
  });
});

async function waitForRecorded(harness: Harness, id: string): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const response = await harness.call('GET', `/v2/requests/${id}`);
    if (response.status === 200 && response.body.attempts) return response.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`request ${id} was never recorded`);
}

/**
 * The managed data plane via Bifrost, through the whole Zumik: ZUMIK_PROVIDERS_FILE names a Bifrost
 * deployment (the emulator's `bifrost` flavour) serving `openai`, ZUMIK_BIFROST_VIRTUAL_KEY its key.
 * A managed openai target then reaches Bifrost (virtual key in `x-bf-vk`, model `openai/<model>`),
 * never OpenAI's own API, and the attempt record says `via: bifrost` under the real provider; a
 * provider Bifrost does not serve still goes direct; a wrong virtual key is a clean auth failure
 * whose key appears in no answer and no log line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { attemptSummary, chat, outcomeCommentOf, requestIdOf, resetCircuits, sseData, waitForRecorded } from './request-path-helpers';

const VIRTUAL_KEY = 'sk-bf-virtual-key-for-tests-0001';
const WRONG_KEY = 'sk-bf-wrong-virtual-key-0002';

const completions = (emulator: OpenAICompatibleEmulator) => emulator.requests.filter((request) => request.path.endsWith('/chat/completions'));

async function startWithBifrost(bifrost: OpenAICompatibleEmulator, directory: string, virtualKey: string, logs?: string[]): Promise<Harness> {
  const file = path.join(directory, `providers-${virtualKey}.json`);
  fs.writeFileSync(file, JSON.stringify({ bifrost: { baseUrl: bifrost.baseUrl, providers: ['openai'] } }));
  // No OPENAI_API_KEY: a Bifrost-served provider needs only the virtual key.
  return startHarness({ env: { ZUMIK_PROVIDERS_FILE: file, ZUMIK_BIFROST_VIRTUAL_KEY: virtualKey, OPENAI_API_KEY: undefined }, ...(logs ? { logs } : {}) });
}

describe('managed openai served via Bifrost', () => {
  let harness: Harness;
  let bifrost: OpenAICompatibleEmulator;
  let directory: string;

  beforeAll(async () => {
    bifrost = await new OpenAICompatibleEmulator({ flavour: 'bifrost', apiKey: VIRTUAL_KEY }).start();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-bifrost-'));
    harness = await startWithBifrost(bifrost, directory, VIRTUAL_KEY);
    await harness.installAlias('bifrost.openai', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('direct.anthropic', [target('anthropic', 'claude-haiku-4-5')]);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await bifrost?.close();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const emulator of [bifrost, harness.openai, harness.anthropic]) emulator.reset();
    await resetCircuits(harness);
  });

  it('non-streaming: sends x-bf-vk and openai/<model> to Bifrost, never calls OpenAI, records via bifrost', async () => {
    const response = await chat(harness, { model: 'bifrost.openai' });
    expect(response.status).toBe(200);
    expect(response.body.choices[0].message.content).toEqual(expect.any(String));
    expect(response.body.choices[0].message.content.length).toBeGreaterThan(0);
    expect(completions(harness.openai)).toHaveLength(0);
    const calls = completions(bifrost);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers['x-bf-vk']).toBe(VIRTUAL_KEY);
    expect(calls[0]!.headers.authorization).toBeUndefined();
    expect((calls[0]!.body as { model: string }).model).toBe('openai/gpt-4o-mini');
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(attemptSummary(outcome)).toEqual([['openai', 'succeeded', null]]);
    expect(outcome.attempts[0].via).toBe('bifrost');
    expect(outcome.attempts[0].execution_profile).toBe('managed_provider');
    expect(outcome.attempts[0].served_model).toBe('gpt-4o-mini');
  });

  it('streaming: the SSE answer comes through Bifrost with the same header and model name', async () => {
    const response = await chat(harness, { model: 'bifrost.openai', stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    const events = sseData(response.text);
    expect(events.at(-1)).toBe('[DONE]');
    const text = events.filter((event) => typeof event === 'object').map((event) => event.choices?.[0]?.delta?.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
    expect(events.some((event) => typeof event === 'object' && event.usage?.total_tokens > 0)).toBe(true);
    const calls = completions(bifrost);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers['x-bf-vk']).toBe(VIRTUAL_KEY);
    expect(calls[0]!.body).toMatchObject({ model: 'openai/gpt-4o-mini', stream: true });
    expect(completions(harness.openai)).toHaveLength(0);
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(attemptSummary(outcome)).toEqual([['openai', 'succeeded', null]]);
    expect(outcome.attempts[0].via).toBe('bifrost');
    expect(outcomeCommentOf(response.text)?.reason_code ?? outcome.reason_code).toBe('ok');
  });

  it('a batch whose policy asks for the provider-native tier runs online through Bifrost: the virtual key never reaches OpenAI', async () => {
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: true, poll_interval_ms: 200 } } });
    const client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
    const lines = ['b1', 'b2'].map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions',
      body: { model: 'bifrost.openai', messages: [{ role: 'user', content: `question ${id}` }] } }));
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'bifrost.jsonl'), purpose: 'batch' });
    let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    for (let polls = 0; !['completed', 'failed', 'expired', 'cancelled'].includes(batch.status); polls += 1) {
      if (polls > 300) throw new Error(`batch stayed ${batch.status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      batch = await client.batches.retrieve(batch.id);
    }
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(harness.openai.requests).toHaveLength(0);
    expect(completions(bifrost)).toHaveLength(2);
    expect(completions(bifrost).every((call) => call.headers['x-bf-vk'] === VIRTUAL_KEY)).toBe(true);
    await harness.call('PUT', '/v2/tenants/default/policy', { body: { batch: { provider_native: false } } });
  });

  it('a provider Bifrost does not serve still goes to its own API, without via', async () => {
    const response = await chat(harness, { model: 'direct.anthropic' });
    expect(response.status).toBe(200);
    expect(completions(bifrost)).toHaveLength(0);
    expect(harness.anthropic.requests.filter((request) => request.path.endsWith('/messages'))).toHaveLength(1);
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(attemptSummary(outcome)).toEqual([['anthropic', 'succeeded', null]]);
    expect(outcome.attempts[0].via).toBeUndefined();
  });
});

describe('a wrong Bifrost virtual key', () => {
  let harness: Harness;
  let bifrost: OpenAICompatibleEmulator;
  let directory: string;
  const logs: string[] = [];

  beforeAll(async () => {
    bifrost = await new OpenAICompatibleEmulator({ flavour: 'bifrost', apiKey: VIRTUAL_KEY }).start();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-bifrost-'));
    harness = await startWithBifrost(bifrost, directory, WRONG_KEY, logs);
    await harness.installAlias('bifrost.openai', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await bifrost?.close();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  it('fails cleanly as auth: Bifrost refused it with 401, OpenAI was never called, the key is in no answer or log', async () => {
    const response = await chat(harness, { model: 'bifrost.openai' });
    // The credential Zumik holds (here: Bifrost's virtual key) was refused: the operator's problem, a 502 in the OpenAI envelope.
    expect(response.status).toBe(502);
    expect(response.body.error).toMatchObject({ type: 'server_error', code: 'upstream_auth_failed', message: expect.stringContaining('provider_auth') });
    const calls = completions(bifrost);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.every((call) => call.headers['x-bf-vk'] === WRONG_KEY)).toBe(true);
    expect(completions(harness.openai)).toHaveLength(0);
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(outcome.attempts[0]).toMatchObject({ provider: 'openai', status: 'failed', failure_kind: 'auth', http_status: 401, via: 'bifrost' });
    expect(outcome.completion).toBe('failed');
    expect(outcome.reason_code).toBe('provider_auth');
    expect(response.text).not.toContain(WRONG_KEY);
    expect(JSON.stringify(outcome)).not.toContain(WRONG_KEY);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.filter((line) => line.includes(WRONG_KEY))).toEqual([]);
  });
});

import type { Payload } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { PAYLOAD_REF_THRESHOLD_BYTES } from '../../src/domain/payload-ref';
import { attemptsInHistory, largestPayloadBytes } from '../support/history';
import { startHarness, target, type Harness } from '../support/zumik-harness';

const MB = 1024 * 1024;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** A prompt of about `bytes` bytes that is not one repeated character (every part of it must arrive). */
const prompt = (bytes: number, seed: string) => {
  const parts: string[] = [];
  let length = 0;
  for (let index = 0; length < bytes; index += 1) {
    const part = `${seed}-${index}-${sha256(`${seed}${index}`)} `;
    parts.push(part);
    length += part.length;
  }
  return parts.join('');
};

describe('Large payloads by reference (claim check)', () => {
  let harness: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    harness = await startHarness();
    // A manifest revision that knows the emulated model without a window: no prompt here is too large for it.
    const manifest = await harness.installManifest({ 'openai/emulated-long-context': {}, 'anthropic/emulated-long-context': {} });
    await harness.installAlias('big.basic', [target('openai', 'emulated-long-context')], { capability_manifest_revision: manifest });
    await harness.installAlias('big.failover', [target('openai', 'emulated-long-context', 1), target('anthropic', 'emulated-long-context', 0)],
      { capability_manifest_revision: manifest });
    client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => { await harness.stop(); });
  beforeEach(() => { harness.openai.reset(); harness.openai.resetReply(); harness.anthropic.reset(); });

  const payloadRows = async () => Number((await harness.database.pool.query('SELECT count(*) AS n FROM payloads')).rows[0].n);
  const historyOf = async (id: string) => {
    const handle = harness.zumik.client.workflow.getHandle(`req:default:${id}`);
    await handle.result();
    return handle.fetchHistory();
  };
  const receivedPrompt = (emulator: Harness['openai'] | Harness['anthropic']) => {
    const body = emulator.requests.find((request) => /\/(chat\/completions|messages)$/.test(request.path))!.body as any;
    const content = body.messages.at(-1).content;
    return typeof content === 'string' ? content : content.map((part: any) => part.text).join('');
  };

  it('answers a 1.9 MB chat body, and its workflow history holds no payload over the threshold', async () => {
    const content = prompt(1.9 * MB, 'plain');
    const before = await payloadRows();
    const answer = await client.chat.completions.create({ model: 'big.basic', messages: [{ role: 'user', content }] });
    expect(answer.choices[0]!.message.content).toBe('Hello from the emulator.');
    // The provider got the whole prompt, byte for byte, though history only carried its reference.
    expect(sha256(receivedPrompt(harness.openai))).toBe(sha256(content));
    expect(await payloadRows()).toBe(before + 1);
    const history = await historyOf(answer.id);
    expect(largestPayloadBytes(history)).toBeLessThanOrEqual(PAYLOAD_REF_THRESHOLD_BYTES);
    // Payloads are encrypted (payload codec): the test reads its own with the instance's codec.
    const input = JSON.parse(Buffer.from(harness.zumik.codec!.decrypt(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]! as Payload).data!).toString());
    expect(input.bodyRef).toEqual({ ref: expect.stringMatching(/^pl_[0-9a-z]{26}$/), bytes: Buffer.byteLength(JSON.stringify({ model: 'big.basic', messages: [{ role: 'user', content }] })), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(input.body).toEqual({ model: 'big.basic', messages: [] });
  });

  it('streams the answer to a 2.5 MB chat body (with a 300 KB answer), history under the threshold', async () => {
    const content = prompt(2.5 * MB, 'stream');
    const text = prompt(300 * 1024, 'answer');
    harness.openai.setReply({ text });
    const stream = await client.chat.completions.create({ model: 'big.basic', stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content }] }).withResponse();
    let streamed = '';
    for await (const chunk of stream.data) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(text);
    expect(sha256(receivedPrompt(harness.openai))).toBe(sha256(content));
    const history = await historyOf(stream.response.headers.get('x-zumik-request-id')!);
    expect(largestPayloadBytes(history)).toBeLessThanOrEqual(PAYLOAD_REF_THRESHOLD_BYTES);
  });

  it('keeps a 2.5 MB body by reference through a failover: the regular attempt activity reads it back', async () => {
    const content = prompt(2.5 * MB, 'failover');
    harness.openai.inject({ kind: 'status', status: 503 });
    const { data, response } = await client.chat.completions.create({ model: 'big.failover', messages: [{ role: 'user', content }] },
      { headers: { 'Idempotency-Key': `big-${Date.now()}` } }).withResponse();
    expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
    expect(data.choices[0]!.message.content).toEqual(expect.any(String));
    expect(sha256(receivedPrompt(harness.anthropic))).toBe(sha256(content));
    const history = await historyOf(data.id);
    expect(attemptsInHistory(history).map((attempt) => attempt.via)).toEqual(['local', 'activity']);
    expect(largestPayloadBytes(history)).toBeLessThanOrEqual(PAYLOAD_REF_THRESHOLD_BYTES);
  });

  it('keeps a body by reference when it arrived gzip-compressed (small on the wire, 2.5 MB parsed)', async () => {
    const content = `${'the same sentence again. '.repeat(100_000)}end`;
    const wire = gzipSync(JSON.stringify({ model: 'big.basic', messages: [{ role: 'user', content }] }));
    expect(wire.length).toBeLessThan(64 * 1024);
    const response = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST', body: wire,
      headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(response.status).toBe(200);
    const answer = await response.json() as { id: string };
    expect(sha256(receivedPrompt(harness.openai))).toBe(sha256(content));
    expect(largestPayloadBytes(await historyOf(answer.id))).toBeLessThanOrEqual(PAYLOAD_REF_THRESHOLD_BYTES);
  });

  it('leaves a small body in the workflow input: no payload row', async () => {
    const before = await payloadRows();
    const answer = await client.chat.completions.create({ model: 'big.basic', messages: [{ role: 'user', content: prompt(100 * 1024, 'small') }] });
    expect(answer.choices[0]!.message.content).toEqual(expect.any(String));
    expect(await payloadRows()).toBe(before);
  });
});

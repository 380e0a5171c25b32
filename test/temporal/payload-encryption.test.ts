/**
 * Payload encryption end to end (issue 17): a BYOK secret and a prompt planted in real requests
 * (plain and streamed, one kept by its Idempotency-Key) appear nowhere in plaintext — not in the raw
 * history the Temporal server stores, not in its visibility records, not in Zumik's logs (at debug
 * level), not in any Postgres table — while the codec (and the `/v2/codec` endpoint an operator's
 * tools use) still reads them back. The control assertions show the scan would have found them.
 */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Client as PgClient } from 'pg';
import { workflowIdFor } from '../../src/server/chat-gateway';
import { ENCRYPTED_ENCODING } from '../../src/temporal/payload-codec';
import { EMULATOR_KEY, startHarness, type Harness } from '../support/zumik-harness';

jest.setTimeout(120_000);

const History = temporal.api.history.v1.History;

/** Every payload in a history, wherever it sits (inputs, results, markers, summaries), with where it sits. */
function payloadsOf(value: unknown, where = '', found: Array<{ where: string; payload: Payload }> = []): Array<{ where: string; payload: Payload }> {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return found;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') found.push({ where, payload: record as Payload });
  for (const [key, child] of Object.entries(record)) payloadsOf(child, `${where}.${key}`, found);
  return found;
}

describe('payload encryption', () => {
  let harness: Harness;
  const logs: string[] = [];
  const prompt = `planted-prompt-${randomBytes(8).toString('hex')}`;
  const answer = `planted-answer-${randomBytes(8).toString('hex')}`;
  // The tenant's own provider key (BYOK): the emulator accepts only this key.
  const secret = EMULATOR_KEY;

  beforeAll(async () => {
    harness = await startHarness({ logs });
    const stored = await harness.call('PUT', '/v2/credentials/openai', { body: { api_key: secret } });
    expect(stored.status).toBe(200);
    await harness.installAlias('sealed.chat', [{ execution_profile: 'byok', provider: 'openai', model: 'gpt-4o-mini', model_revision: '2024-07-18', weight: 1 }]);
    harness.openai.setReply({ text: answer });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('keeps the prompt, the answer and the secret out of history, visibility, logs and Postgres', async () => {
    const ids: string[] = [];
    const opensBefore = { ...harness.zumik.codec!.opens };
    for (const stream of [false, true]) {
      const response = await fetch(`${harness.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json', 'idempotency-key': `sealed-${stream}` },
        body: JSON.stringify({ model: 'sealed.chat', stream, messages: [{ role: 'user', content: prompt }] }),
      });
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text.replace(/"|\\n|data: |\n/g, '')).toContain(stream ? answer.slice(0, 8) : answer);
      ids.push(response.headers.get('x-zumik-request-id')!);
    }

    const client = harness.zumik.client;
    const codec = harness.zumik.codec!;
    // What this process sealed and opened again itself (the workflow input at the eager first task, the local attempt's
    // arguments and its result) came from the codec's sealed cache, not a second decryption.
    for (const id of ids) await client.workflow.getHandle(workflowIdFor('default', id)).result();
    expect(codec.opens.cached - opensBefore.cached).toBeGreaterThanOrEqual(6);
    expect(codec.opens.decrypted - opensBefore.decrypted).toBe(0);
    for (const id of ids) {
      const outcome = await harness.call('GET', `/v2/requests/${id}`);
      expect(outcome.body.completion).toBe('completed');
      const handle = client.workflow.getHandle(outcome.body.workflow.id);
      await handle.result();
      const history = await handle.fetchHistory();
      const raw = Buffer.from(History.encode(History.fromObject(history)).finish());
      for (const planted of [prompt, answer, secret]) expect(raw.includes(planted)).toBe(false);

      // Every payload is encrypted, and the codec opens them: the prompt is in there (so the scan above could see it).
      const payloads = payloadsOf(history);
      expect(payloads.length).toBeGreaterThan(2);
      // Plaintext by design: search attributes (ids the visibility store indexes) and Core's own local-activity
      // marker header (activity type, id, attempt, times); the raw scan above shows neither holds user content.
      const byDesign = /\.searchAttributes\.indexedFields\.|\.markerRecordedEventAttributes\.details\.data\./;
      const plain = payloads.filter(({ payload, where }) => !byDesign.test(where) && Buffer.from(payload.metadata!.encoding!).toString() !== ENCRYPTED_ENCODING);
      expect(plain.map(({ where }) => where)).toEqual([]);
      expect(payloads.filter(({ where }) => !byDesign.test(where)).length).toBeGreaterThan(2);
      const opened = Buffer.concat(payloads.map(({ payload }) => Buffer.from(codec.decrypt(payload).data ?? new Uint8Array())));
      expect(opened.includes(prompt)).toBe(true);
      expect(opened.includes(secret)).toBe(false);

      // Visibility: the list answer for this workflow, as the server returns it.
      const listed = await client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `WorkflowId = '${outcome.body.workflow.id}'` });
      expect(listed.executions).toHaveLength(1);
      const visibility = Buffer.from(temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse.encode(listed).finish());
      for (const planted of [prompt, answer, secret]) expect(visibility.includes(planted)).toBe(false);
    }

    // Logs, at debug level.
    expect(logs.length).toBeGreaterThan(0);
    const logText = logs.join('\n');
    for (const planted of [prompt, secret]) expect(logText.includes(planted)).toBe(false);

    // Postgres: every row of every table, as text. The kept answer lives there by design (Idempotency-Key); the
    // secret is sealed and the prompt is never stored.
    const pg = new PgClient({ connectionString: harness.database.url });
    await pg.connect();
    try {
      const tables = await pg.query<{ name: string }>(`SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'public'`);
      expect(tables.rows.length).toBeGreaterThan(3);
      let dump = '';
      for (const { name } of tables.rows) {
        const rows = await pg.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
        dump += rows.rows.map((row) => row.row).join('\n');
      }
      expect(dump.includes(secret)).toBe(false);
      expect(dump.includes(prompt)).toBe(false);
      expect(dump.includes(answer)).toBe(true);
    } finally {
      await pg.end();
    }
  });

  it('serves Temporal\'s remote codec protocol to operators only', async () => {
    const response = await fetch(`${harness.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sealed.chat', messages: [{ role: 'user', content: prompt }] }),
    });
    expect(response.status).toBe(200);
    const outcome = await harness.call('GET', `/v2/requests/${response.headers.get('x-zumik-request-id')}`);
    const handle = harness.zumik.client.workflow.getHandle(outcome.body.workflow.id);
    await handle.result();
    const started = (await handle.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const wire = {
      metadata: Object.fromEntries(Object.entries(started.metadata!).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      data: Buffer.from(started.data!).toString('base64'),
    };

    const decoded = await harness.call('POST', '/v2/codec/decode', { body: { payloads: [wire] } });
    expect(decoded.status).toBe(200);
    expect(Buffer.from(decoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(Buffer.from(decoded.body.payloads[0].data, 'base64').toString()).toContain(prompt);

    // Round trip: what encode gives, decode opens (a fresh nonce each time).
    const encoded = await harness.call('POST', '/v2/codec/encode', { body: { payloads: decoded.body.payloads } });
    expect(encoded.status).toBe(200);
    expect(encoded.body.payloads[0].data).not.toBe(wire.data);
    const again = await harness.call('POST', '/v2/codec/decode', { body: { payloads: encoded.body.payloads } });
    expect(again.body.payloads[0].data).toBe(decoded.body.payloads[0].data);

    // A tampered payload is a clear 400, never plaintext garbage.
    const tampered = { ...wire, data: Buffer.from(Buffer.from(wire.data, 'base64').map((byte, index) => (index === 20 ? byte ^ 1 : byte))).toString('base64') };
    const refused = await harness.call('POST', '/v2/codec/decode', { body: { payloads: [tampered] } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ param: 'payloads', message: expect.stringContaining('failed authentication') });

    // Only the operator reads decoded payloads (any tenant's prompts): not a tenant admin, not an inference key; no key is a 401.
    for (const scopes of [['admin'], ['inference']]) {
      const key = await harness.call('POST', '/v2/api-keys', { body: { name: scopes[0], scopes } });
      expect(key.status).toBe(201);
      const forbidden = await harness.call('POST', '/v2/codec/decode', { key: key.body.key, body: { payloads: [wire] } });
      expect(forbidden.status).toBe(403);
    }
    const anonymous = await fetch(`${harness.url}/v2/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payloads: [wire] }) });
    expect(anonymous.status).toBe(401);

    // The Temporal UI's origin may call it from a browser: the preflight is answered without a key.
    const preflight = await fetch(`${harness.url}/v2/codec/decode`, {
      method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const otherOrigin = await fetch(`${harness.url}/v2/codec/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    expect(otherOrigin.headers.get('access-control-allow-origin')).toBeNull();
  });
});

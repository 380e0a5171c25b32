/**
 * Demo mode from a fresh start (issue 11): the built program with `--demo`, a fresh data dir and a fresh
 * database, no provider key anywhere in its environment. Through the official `openai` SDK (6.x):
 * the models list says demo, a chat and a stream answer from the loopback emulators. The start-up
 * output names the mode, and /metrics on ZUMIK_METRICS_PORT (loopback, no key) counts the requests and
 * carries the Temporal worker's own metrics bridged from the SDK runtime.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { freeStablePorts } from './support/ports';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { spawnZumik, waitForReady, type ZumikProcess } from './support/zumik-process';

describe('npm start -- --demo', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-demo-'));
  const adminKey = `zk_demo_test_${'x'.repeat(24)}`;
  let database: TestDatabase;
  let zumik: ZumikProcess;
  let url: string;
  let metricsPort: number;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    // Below the ephemeral range: the demo's emulators inside the child listen on port 0 and would take an
    // ephemeral port, which could be this one before the server binds it.
    const [port, metrics] = await freeStablePorts(2);
    metricsPort = metrics!;
    url = `http://127.0.0.1:${port}`;
    zumik = spawnZumik({
      PORT: String(port), ZUMIK_DATA_DIR: dataDir, DATABASE_URL: database.url, ZUMIK_ADMIN_KEY: adminKey,
      TEMPORAL_ADDRESS: process.env.ZUMIK_TEST_TEMPORAL_ADDRESS!, ZUMIK_TASK_QUEUE: `demo-${process.pid}`,
      ZUMIK_METRICS_PORT: String(metricsPort),
    }, ['--demo']);
    await waitForReady(url, 90_000, zumik);
  }, 120_000);

  afterAll(async () => {
    if (zumik && zumik.child.exitCode === null) {
      process.kill(-zumik.child.pid!, 'SIGTERM');
      await zumik.exited;
    }
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says it is a demo at start, without printing any provider key', () => {
    expect(zumik.output()).toContain('DEMO MODE');
    expect(zumik.output()).toContain('demo.chat');
    expect(zumik.output()).not.toContain('sk-zumik-demo');
  });

  it('lists demo.chat as a zumik-demo model, chats and streams through the openai SDK', async () => {
    const client = new OpenAI({ apiKey: adminKey, baseURL: `${url}/v1`, maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data).toEqual([expect.objectContaining({ id: 'demo.chat', object: 'model', owned_by: 'zumik-demo' })]);

    const completion = await client.chat.completions.create({ model: 'demo.chat', messages: [{ role: 'user', content: 'Say hi' }] });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]!.message.content).toEqual(expect.any(String));
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({
      model: 'demo.chat', messages: [{ role: 'user', content: 'Say hi' }], stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('serves /metrics on its own loopback port without a key, with the requests and the Temporal worker metrics', async () => {
    let text = '';
    for (let tries = 0; tries < 50 && !/zumik_requests_total\{[^}]*alias="demo.chat"[^}]*\} 2/.test(text); tries += 1) {
      text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(text).toMatch(/zumik_requests_total\{tenant="default",alias="demo.chat",provider="openai",completion="completed",reason_code="ok"\} 2/);
    expect(text).toMatch(/^temporal_[a-z_]+/m);
    // The Grafana dashboard's Temporal panel queries series the bridged SDK runtime really exports.
    const dashboard = fs.readFileSync(path.join(__dirname, '../deploy/grafana/zumik-dashboard.json'), 'utf8');
    const families = new Set(text.split('\n').filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]));
    const queried = [...new Set(dashboard.match(/\btemporal_[a-z0-9_]+/g) ?? [])].map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    expect(queried.length).toBeGreaterThan(0);
    expect(queried.filter((name) => !families.has(name))).toEqual([]);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } })).status).toBe(404);
  });
});

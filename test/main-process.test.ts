import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeStablePorts } from './support/ports';
import { processesMentioning, spawnZumik, waitForReady } from './support/zumik-process';
import { WATCHDOG_MARKER } from '../src/process/orphan-watchdog';

// Starts the real program twice on one data dir: embedded PostgreSQL and the Temporal dev
// server started by Zumik itself, as `npm start` does on a fresh clone.
describe('zumik process (npm start on embedded defaults)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-main-'));
  afterAll(() => { fs.rmSync(dataDir, { recursive: true, force: true }); });

  it('becomes ready with its own Temporal and Postgres, serves the UI, keeps state, and leaves no child behind on Ctrl-C or SIGKILL', async () => {
    const [port, temporalPort, uiPort] = await freeStablePorts(3);
    const env = { PORT: String(port), ZUMIK_DATA_DIR: dataDir, ZUMIK_TEMPORAL_PORT: String(temporalPort), ZUMIK_TEMPORAL_UI_PORT: String(uiPort) };
    const url = `http://127.0.0.1:${port}`;

    const first = spawnZumik(env);
    await waitForReady(url, 90_000, first);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
    // A first run without provider keys says so, and how to try Zumik anyway.
    expect(first.output()).toContain('No provider is configured: set OPENAI_API_KEY');
    expect(first.output()).toContain('npm start -- --demo');
    const adminKey = /(zk_[A-Za-z0-9_-]{43})/.exec(first.output())?.[1];
    expect(adminKey).toBeDefined();
    const installed = await fetch(`${url}/v2/model-aliases/kept.alias`, {
      method: 'PUT', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ targets: [{ execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-5.4', model_revision: '1', weight: 1 }] }),
    });
    expect(installed.status).toBe(200);
    // Concurrent parameterised queries on the embedded database each get their own answer.
    const aliases = ['emb.a', 'emb.b', 'emb.c', 'emb.d', 'emb.e'];
    for (const alias of aliases) {
      await fetch(`${url}/v2/model-aliases/${alias}`, {
        method: 'PUT', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ targets: [{ execution_profile: 'managed_provider', provider: 'openai', model: `gpt-5.4-${alias}`, model_revision: '1', weight: 1 }] }),
      });
    }
    const answers = await Promise.all(Array.from({ length: 160 }, async (_unused, index) => {
      const alias = aliases[index % aliases.length]!;
      if (index % 4 === 3) {
        // installs (transactions) racing the reads
        const installed = await fetch(`${url}/v2/model-aliases/emb.w${index % 3}`, {
          method: 'PUT', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ targets: [{ execution_profile: 'managed_provider', provider: 'openai', model: `gpt-5.4-w${index}`, model_revision: '1', weight: 1 }] }),
        });
        const release = (await installed.json()) as { targets?: Array<{ model: string }> };
        return [installed.status, release.targets?.[0]?.model === `gpt-5.4-w${index}`];
      }
      const response = await fetch(`${url}/v2/model-aliases/${alias}`, { headers: { authorization: `Bearer ${adminKey}` } });
      const body = (await response.json()) as { alias?: string; targets?: Array<{ model: string }> };
      return [response.status, body.alias === alias && body.targets?.[0]?.model === `gpt-5.4-${alias}`];
    }));
    expect(answers.filter(([status, right]) => status !== 200 || !right)).toEqual([]);
    expect(first.output()).toContain('"eagerlyStarted":true');
    expect(processesMentioning(dataDir).length).toBeGreaterThanOrEqual(1); // the Temporal dev server

    process.kill(-first.child.pid!, 'SIGINT'); // what a terminal's Ctrl-C does: the whole foreground group
    expect(await first.exited).toBe(0);
    await waitUntil(() => processesMentioning(dataDir).length === 0, 10_000);
    expect(processesMentioning(dataDir)).toEqual([]);

    // a Zumik killed outright leaves nothing behind: its orphan watchdog sees the pipe from it close and
    // stops the dev server and PostgreSQL, then exits itself
    const crashed = spawnZumik(env);
    await waitForReady(url, 90_000, crashed);
    const children = processesMentioning(dataDir).filter((pid) => pid !== crashed.child.pid);
    expect(children.length).toBeGreaterThanOrEqual(2); // the Temporal dev server and the postmaster
    const watchdogMarker = `${WATCHDOG_MARKER}:${crashed.child.pid}`;
    expect(processesMentioning(watchdogMarker)).toHaveLength(1);
    process.kill(crashed.child.pid!, 'SIGKILL');
    await crashed.exited;
    await waitUntil(() => processesMentioning(dataDir).length === 0 && processesMentioning(watchdogMarker).length === 0, 30_000);
    expect(processesMentioning(dataDir)).toEqual([]);
    expect(processesMentioning(watchdogMarker)).toEqual([]);

    // second start on the same data dir: the alias is still there and no new admin key is printed
    const second = spawnZumik(env);
    await waitForReady(url, 90_000, second);
    const alias = await fetch(`${url}/v2/model-aliases/kept.alias`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(alias.status).toBe(200);
    expect(second.output()).not.toMatch(/zk_[A-Za-z0-9_-]{43}/);
    const terminated = Date.now();
    process.kill(second.child.pid!, 'SIGTERM');
    expect(await second.exited).toBe(0);
    console.info(`SIGTERM of an idle all-in-one Zumik: exited after ${Date.now() - terminated} ms`);
    await waitUntil(() => processesMentioning(dataDir).length === 0, 10_000);
    expect(processesMentioning(dataDir)).toEqual([]);
  }, 240_000);

  it('stops at start-up with a message naming a bad variable', async () => {
    const bad = spawnZumik({ PORT: 'eighty', ZUMIK_DATA_DIR: dataDir });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('PORT');
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!predicate() && Date.now() - started < timeoutMs) await new Promise((resolve) => setTimeout(resolve, 100));
}

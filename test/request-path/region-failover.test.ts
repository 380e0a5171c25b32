/**
 * Region failover through the whole Zumik: ZUMIK_PROVIDERS_FILE gives OpenAI a second region (its own
 * emulator), so one target is two candidates. A 5xx in the first region fails over to the second; an
 * outage of both regions is a verified total outage, and only then (with the policy flag) does the
 * OpenRouter bridge serve, recording how each region failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { EMULATOR_KEY, startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, requestIdOf, resetCircuits, setPolicy, waitForRecorded } from './request-path-helpers';

const QOS = { interactive: { first_token_timeout_ms: 500, stall_timeout_ms: 500, deadline_ms: 8_000 } };
const INTERACTIVE = { 'x-zumik-qos-class': 'interactive' };

describe('region failover end to end', () => {
  let harness: Harness;
  let eu: OpenAICompatibleEmulator;
  let directory: string;

  beforeAll(async () => {
    eu = await new OpenAICompatibleEmulator({ flavour: 'openai', apiKey: EMULATOR_KEY }).start();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-regions-'));
    const file = path.join(directory, 'providers.json');
    fs.writeFileSync(file, JSON.stringify({ providers: { openai: { regions: [{ region: 'eu', baseUrl: eu.baseUrl }] } } }));
    harness = await startHarness({ env: { ZUMIK_PROVIDERS_FILE: file } });
    await harness.installAlias('regions.openai', [target('openai', 'gpt-4o-mini')]);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await eu?.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const emulator of [harness.openai, eu, harness.openrouter]) emulator.reset();
    await resetCircuits(harness);
    await setPolicy(harness, { qos: QOS, max_attempts: 3 });
  });

  const completions = (emulator: OpenAICompatibleEmulator) => emulator.requests.filter((request) => request.path.endsWith('/chat/completions'));

  it('serves from the second region when the first answers 5xx, under the same response id', async () => {
    harness.openai.inject({ kind: 'status', status: 503 });
    const response = await chat(harness, { model: 'regions.openai' }, { headers: INTERACTIVE });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-zumik-reason-code')).toBe('ok_after_failover');
    expect(response.headers.get('x-zumik-fallback-used')).toBe('true');
    expect(response.headers.get('x-zumik-degraded')).toBe('true');
    expect(response.body.id).toBe(response.headers.get('x-zumik-request-id'));
    expect(completions(harness.openai)).toHaveLength(1);
    expect(completions(eu)).toHaveLength(1);
    const outcome = await waitForRecorded(harness, response.body.id);
    expect(outcome.attempts.map((attempt: any) => [attempt.region, attempt.status, attempt.failure_kind])).toEqual([
      ['default', 'failed', 'upstream_unavailable'], ['eu', 'succeeded', null],
    ]);
    expect(outcome.attempts[1].retry_cause).toBe('failover:upstream_unavailable');
  });

  it('bridges only after both regions failed, and records the outage of each', async () => {
    await setPolicy(harness, { qos: QOS, max_attempts: 3, allow_brokered_execution: true });
    harness.openai.inject({ kind: 'status', status: 503 });
    eu.inject({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const response = await chat(harness, { model: 'regions.openai' }, { headers: INTERACTIVE });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-zumik-reason-code')).toBe('ok_via_bridge');
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(outcome.attempts.map((attempt: any) => `${attempt.provider}@${attempt.region}`)).toEqual(['openai@default', 'openai@eu', 'openai@eu', 'openrouter@default']);
    expect(outcome.attempts.at(-1).verified_outage).toEqual([
      { provider: 'openai', model: 'gpt-4o-mini', region: 'default', failure_kind: 'upstream_unavailable' },
      { provider: 'openai', model: 'gpt-4o-mini', region: 'eu', failure_kind: 'upstream_unavailable' },
    ]);
  });

  it('does not bridge when the budget ran out before the second region was tried', async () => {
    await setPolicy(harness, { qos: QOS, max_attempts: 1, allow_brokered_execution: true });
    harness.openai.inject({ kind: 'status', status: 503 });
    const response = await chat(harness, { model: 'regions.openai' }, { headers: INTERACTIVE });
    expect(response.status).toBe(503);
    expect(completions(eu)).toHaveLength(0);
    expect(completions(harness.openrouter)).toHaveLength(0);
  });
});

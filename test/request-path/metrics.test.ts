/**
 * Prometheus /metrics after real requests through a whole Zumik (real Temporal, Postgres, emulators):
 * a success, a failover, a refusal at the front door, a stream and a stored-credential miss each leave
 * the series and values an operator's dashboard reads; /metrics needs the operator key on the API port;
 * tenant label values are capped; ZUMIK_METRICS=off removes the endpoint.
 */
import fs from 'node:fs';
import OpenAI, { toFile } from 'openai';
import path from 'node:path';
import { AdmissionStore } from '../../src/store/admission-store';
import { CircuitBreakerStore } from '../../src/store/circuit-breaker-store';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, requestIdOf, waitForRecorded } from './request-path-helpers';

/** Parsed samples of a Prometheus text exposition: `name{labels}` → value. */
function parseExposition(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line)!;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1]!, pair[2]!]));
    return { name: match[1]!, labels, value: Number(match[3]) };
  });
}

describe('GET /metrics', () => {
  let harness: Harness;

  const scrape = async () => {
    const response = await harness.call('GET', '/metrics');
    expect(response.status).toBe(200);
    return parseExposition(response.body as string);
  };
  const sample = async (name: string, labels: Record<string, string>) =>
    (await scrape()).find((entry) => entry.name === name && Object.entries(labels).every(([key, value]) => entry.labels[key] === value))?.value;

  beforeAll(async () => {
    harness = await startHarness({ env: { ZUMIK_METRICS_MAX_TENANTS: '2' } });
    await harness.installAlias('metrics.ok', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('metrics.failover', [target('xai', 'grok-3-mini'), target('anthropic', 'claude-haiku-4-5', 0)]);
    await harness.installAlias('metrics.byok', [target('openai', 'gpt-4o-mini', 1, { execution_profile: 'byok' })]);
  });
  afterAll(async () => harness?.stop());

  it('needs an operator key on the API port', async () => {
    const anonymous = await fetch(`${harness.url}/metrics`);
    expect(anonymous.status).toBe(401);
  });

  it('counts a success with its tokens, latency, overhead and attempt', async () => {
    const response = await chat(harness, { model: 'metrics.ok' });
    expect(response.status).toBe(200);
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    const labels = { tenant: 'default', alias: 'metrics.ok', provider: 'openai', completion: 'completed', reason_code: 'ok' };
    await eventually(async () => (await sample('zumik_requests_total', labels)) === 1, 5_000, 'the success counted');
    expect(await sample('zumik_tokens_total', { alias: 'metrics.ok', type: 'input' })).toBe(outcome.usage.prompt_tokens);
    expect(await sample('zumik_tokens_total', { alias: 'metrics.ok', type: 'output' })).toBe(outcome.usage.completion_tokens);
    expect(await sample('zumik_attempts_total', { provider: 'openai', status: 'succeeded', failure_kind: 'none' })).toBeGreaterThanOrEqual(1);
    expect(await sample('zumik_request_duration_seconds_count', { alias: 'metrics.ok', completion: 'completed', stream: 'false' })).toBe(1);
    // Overhead: every request observes it once; its sum cannot exceed the requests' total time.
    const samples = await scrape();
    const overheadCount = samples.filter((entry) => entry.name === 'zumik_overhead_seconds_count').reduce((sum, entry) => sum + entry.value, 0);
    const overheadSum = samples.filter((entry) => entry.name === 'zumik_overhead_seconds_sum').reduce((sum, entry) => sum + entry.value, 0);
    const totalSum = samples.filter((entry) => entry.name === 'zumik_request_duration_seconds_sum').reduce((sum, entry) => sum + entry.value, 0);
    expect(overheadCount).toBeGreaterThanOrEqual(1);
    expect(overheadSum).toBeLessThanOrEqual(totalSum);
    expect(samples.some((entry) => entry.name === 'zumik_admission_queue_depth' && entry.value === 0)).toBe(true);
  });

  it('counts a failover: the failed attempt by kind, the request under the provider that served', async () => {
    harness.xai.inject({ kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const response = await chat(harness, { model: 'metrics.failover' });
    expect(response.status).toBe(200);
    await waitForRecorded(harness, requestIdOf(response));
    await eventually(async () => (await sample('zumik_requests_total',
      { alias: 'metrics.failover', provider: 'anthropic', completion: 'completed', reason_code: 'ok_after_failover' })) === 1, 5_000, 'the failover counted');
    expect(await sample('zumik_attempts_total', { provider: 'xai', status: 'failed', failure_kind: 'upstream_unavailable' })).toBeGreaterThanOrEqual(1);
    expect(await sample('zumik_attempts_total', { provider: 'anthropic', status: 'succeeded', failure_kind: 'none' })).toBe(1);
  });

  it('counts a refusal at the front door (no workflow) and a stored-credential miss in the attempt', async () => {
    expect((await chat(harness, { model: 'metrics.nowhere' })).status).toBe(404);
    expect(await sample('zumik_requests_total', { alias: 'metrics.nowhere', provider: 'none', completion: 'none', reason_code: 'unknown_alias' })).toBe(1);
    const byok = await chat(harness, { model: 'metrics.byok' });
    expect(byok.status).toBe(424);
    await waitForRecorded(harness, requestIdOf(byok));
    await eventually(async () => (await sample('zumik_requests_total', { alias: 'metrics.byok', reason_code: 'no_credentials', completion: 'failed' })) === 1,
      5_000, 'the credential miss counted');
    expect(await sample('zumik_attempts_total', { provider: 'openai', failure_kind: 'no_credentials' })).toBe(1);
  });

  it('counts a stream with its time to first token', async () => {
    const response = await chat(harness, { model: 'metrics.ok', stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    await waitForRecorded(harness, requestIdOf(response));
    await eventually(async () => (await sample('zumik_time_to_first_token_seconds_count', { alias: 'metrics.ok', provider: 'openai' })) === 1,
      5_000, 'the stream counted');
    expect(await sample('zumik_request_duration_seconds_count', { alias: 'metrics.ok', completion: 'completed', stream: 'true' })).toBe(1);
    expect(await sample('zumik_requests_total', { alias: 'metrics.ok', reason_code: 'ok' })).toBe(2);
  });

  it('reads circuit states and the admission queue from the shared stores at scrape time', async () => {
    const key = 'gemini|default|metrics-model';
    await new CircuitBreakerStore(harness.database.pool, { failureThreshold: 1 }).recordFailure(key, 'upstream_unavailable');
    expect(await sample('zumik_circuit_state', { circuit: key })).toBe(2);
    const admission = new AdmissionStore(harness.database.pool);
    const admit = (requestId: string) => admission.tryAdmit({
      requestId, tenantId: 'metrics-queue', apiKeyId: 'k', priority: 3, leaseMs: 60_000, queue: true, limits: { tenantConcurrency: 1, maxQueueLength: 5 },
    });
    expect((await admit('chatcmpl-metrics-lease')).state).toBe('admitted');
    expect((await admit('chatcmpl-metrics-ticket')).state).toBe('queued');
    try {
      expect(await sample('zumik_admission_queue_depth', {})).toBe(1);
    } finally {
      await admission.release('chatcmpl-metrics-ticket');
      await admission.release('chatcmpl-metrics-lease');
      await harness.database.pool.query('DELETE FROM circuit_breakers');
    }
    expect(await sample('zumik_admission_queue_depth', {})).toBe(0);
  });

  it('caps tenant label values: tenants beyond the limit are counted as other', async () => {
    for (const tenant of ['metrics-t1', 'metrics-t2']) {
      const created = await harness.call('POST', '/v2/api-keys', { body: { name: tenant, tenant, scopes: ['inference'] } });
      expect(created.status).toBe(201);
      // Whatever the answer (the alias belongs to the default tenant), the request is counted under its tenant.
      await chat(harness, { model: 'metrics.ok' }, { headers: { authorization: `Bearer ${created.body.key}` } });
    }
    const tenants = async () => [...new Set((await scrape()).filter((entry) => entry.name === 'zumik_requests_total').map((entry) => entry.labels.tenant))].sort();
    await eventually(async () => (await tenants()).length === 3, 5_000, 'both tenants counted');
    expect(await tenants()).toEqual(['default', 'metrics-t1', 'other']);
  });

  it('counts batch lines by completion and reason code', async () => {
    const client = new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: harness.adminKey, maxRetries: 0 });
    const line = (customId: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions',
      body: { model: 'metrics.ok', messages: [{ role: 'user', content: customId }] } });
    const file = await client.files.create({ file: await toFile(Buffer.from(['a', 'b', 'c'].map(line).join('\n')), 'lines.jsonl'), purpose: 'batch' });
    harness.openai.inject({ kind: 'status', status: 400 });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await eventually(async () => (await client.batches.retrieve(created.id)).status === 'completed', 30_000, 'the batch');
    expect(await sample('zumik_batch_lines_total', { completion: 'completed', reason_code: 'ok' })).toBe(2);
    expect(await sample('zumik_batch_lines_total', { completion: 'failed', reason_code: 'provider_invalid_request' })).toBe(1);
  });

  it('lists in the Grafana dashboard only metrics that exist', async () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(__dirname, '../../deploy/grafana/zumik-dashboard.json'), 'utf8'));
    const expressions: string[] = dashboard.panels.flatMap((panel: { targets?: Array<{ expr: string }> }) => (panel.targets ?? []).map((entry) => entry.expr));
    expect(expressions.length).toBeGreaterThan(5);
    const response = await harness.call('GET', '/metrics');
    const families = new Set((response.body as string).split('\n').filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]!));
    const queried = new Set(expressions.flatMap((expression) => expression.match(/\b(zumik|temporal)_[a-z0-9_]+/g) ?? []));
    // Histogram and counter samples carry suffixes the family name does not.
    const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');
    const missing = [...queried].filter((name) => name.startsWith('zumik_') && !families.has(family(name)));
    expect(missing).toEqual([]);
  });
});

describe('ZUMIK_METRICS=off', () => {
  it('serves no /metrics', async () => {
    const harness = await startHarness({ env: { ZUMIK_METRICS: 'off' } });
    try {
      expect((await harness.call('GET', '/metrics')).status).toBe(404);
      expect(harness.zumik.metricsUrl).toBeUndefined();
    } finally {
      await harness.stop();
    }
  });
});

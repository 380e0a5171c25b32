/**
 * OpenTelemetry traces on a whole Zumik (real Temporal, Postgres, emulators), spans caught by the
 * SDK's in-memory exporter: one request is one trace from the front door through the workflow and
 * its activities to the provider call, with the GenAI attributes, and the trace id in the outcome and
 * in the logs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { buildWorkflowBundle } from '../../scripts/build-workflow-bundle';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, eventually, waitForRecorded } from '../request-path/request-path-helpers';

describe('OpenTelemetry tracing', () => {
  const exporter = new InMemorySpanExporter();
  const logs: string[] = [];
  let harness: Harness;
  let bundleDir: string;

  beforeAll(async () => {
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-tracing-bundle-'));
    const tracingBundlePath = await buildWorkflowBundle(path.join(bundleDir, 'workflow-bundle-tracing.js'), { tracing: true });
    harness = await startHarness({ tracing: { exporter, tracingBundlePath }, logs });
    await harness.installAlias('traced', [target('openai', 'gpt-4o-mini')]);
    await harness.installAlias('traced.failover', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
  }, 180_000);
  afterAll(async () => {
    await harness?.stop();
    fs.rmSync(bundleDir, { recursive: true, force: true });
  });

  const spansOf = (traceId: string) => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  const named = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name);
  const parentOf = (span: ReadableSpan) => span.parentSpanId;

  it('one request is one trace: front door, workflow start and run, the attempt and the provider call with GenAI attributes', async () => {
    const response = await chat(harness, { model: 'traced', max_tokens: 32 });
    expect(response.status).toBe(200);
    const outcome = await waitForRecorded(harness, response.body.id);
    expect(outcome.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const traceId: string = outcome.trace_id;
    // The front door's span ends when its response finishes; the workflow's when its last task completes.
    await eventually(() => named(spansOf(traceId), 'RunWorkflow:chatRequestWorkflow').length === 1
      && named(spansOf(traceId), 'POST /v1/chat/completions').length === 1, 10_000, 'the trace to be exported');
    const spans = spansOf(traceId);

    const [front] = named(spans, 'POST /v1/chat/completions');
    expect(front!.kind).toBe(SpanKind.SERVER);
    expect(front!.attributes).toMatchObject({ 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 });
    expect(parentOf(front!)).toBeUndefined();

    const [start] = named(spans, 'StartWorkflow:chatRequestWorkflow');
    expect(parentOf(start!)).toBe(front!.spanContext().spanId);
    const [run] = named(spans, 'RunWorkflow:chatRequestWorkflow');
    expect(parentOf(run!)).toBe(start!.spanContext().spanId);

    const [provider] = named(spans, 'chat gpt-4o-mini');
    expect(provider!.kind).toBe(SpanKind.CLIENT);
    expect(provider!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.request.max_tokens': 32,
      'gen_ai.response.model': response.body.model,
      'gen_ai.usage.input_tokens': response.body.usage.prompt_tokens,
      'gen_ai.usage.output_tokens': response.body.usage.completion_tokens,
      'gen_ai.response.finish_reasons': [response.body.choices[0].finish_reason],
      'zumik.tenant': outcome.tenant, 'zumik.alias': 'traced', 'zumik.release': outcome.release_id,
      'zumik.attempt.n': 1, 'zumik.reason_code': 'ok', 'zumik.request_id': response.body.id,
    });
    // The provider call sits under the attempt activity's span, which the workflow's run span scheduled.
    const activity = spans.find((span) => span.spanContext().spanId === parentOf(provider!));
    expect(activity!.name).toBe('RunActivity:runAttempt');
    const scheduled = spans.find((span) => span.spanContext().spanId === parentOf(activity!));
    expect(scheduled!.name).toBe('StartActivity:runAttempt');
    expect(parentOf(scheduled!)).toBe(run!.spanContext().spanId);
  });

  it('a failed attempt carries its failure kind, and the failover attempt that served comes next in the same trace', async () => {
    harness.openai.inject({ kind: 'status', status: 503 });
    const response = await chat(harness, { model: 'traced.failover' }, { headers: { 'x-zumik-qos-class': 'interactive' } });
    expect(response.status).toBe(200);
    const outcome = await waitForRecorded(harness, response.body.id);
    await eventually(() => named(spansOf(outcome.trace_id), 'chat claude-haiku-4-5').length === 1, 10_000, 'the failover span');
    const spans = spansOf(outcome.trace_id);
    const [failed] = named(spans, 'chat gpt-4o-mini');
    expect(failed!.attributes).toMatchObject({ 'zumik.attempt.n': 1, 'zumik.failure_kind': 'upstream_unavailable', 'error.type': 'upstream_unavailable' });
    const [served] = named(spans, 'chat claude-haiku-4-5');
    expect(served!.attributes).toMatchObject({
      'gen_ai.system': 'anthropic', 'zumik.attempt.n': 2, 'zumik.attempt.role': 'standby', 'zumik.reason_code': 'ok_after_failover',
    });
  });

  it('a request that fails is traced too: its recorded outcome has the trace id, and the span recording it its reason code', async () => {
    harness.openai.inject({ kind: 'status', status: 401 });
    const response = await chat(harness, { model: 'traced' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    const id = response.headers.get('x-zumik-request-id')!;
    const outcome = await waitForRecorded(harness, id);
    expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'provider_auth', trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    await eventually(() => spansOf(outcome.trace_id).some((span) => span.attributes['zumik.reason_code'] === 'provider_auth'), 10_000, 'the reason code span');
    const spans = spansOf(outcome.trace_id);
    expect(named(spans, 'chat gpt-4o-mini')[0]!.attributes).toMatchObject({ 'zumik.failure_kind': 'auth', 'http.response.status_code': 401 });
    expect(spans.find((span) => span.attributes['zumik.reason_code'] === 'provider_auth')!.name).toBe('RunActivity:recordOutcome');
  });

  it('a request refused at the front door (no workflow) records the trace of its HTTP request', async () => {
    const response = await chat(harness, { model: 'no.such.alias' });
    expect(response.status).toBe(404);
    const id = response.headers.get('x-zumik-request-id')!;
    const outcome = await waitForRecorded(harness, id);
    expect(outcome).toMatchObject({ reason_code: 'unknown_alias', workflow: null, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    await eventually(() => named(spansOf(outcome.trace_id), 'POST /v1/chat/completions').length === 1, 10_000, 'the front door span');
    expect(named(spansOf(outcome.trace_id), 'POST /v1/chat/completions')[0]!.attributes).toMatchObject({
      'zumik.reason_code': 'unknown_alias', 'http.response.status_code': 404,
    });
  });

  it("writes the trace id on the log lines of the request's work", async () => {
    harness.openai.inject({ kind: 'status', status: 503 });
    const response = await chat(harness, { model: 'traced.failover' }, { headers: { 'x-zumik-qos-class': 'interactive' } });
    const outcome = await waitForRecorded(harness, response.body.id);
    const lines = logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'attempt failed' && line.requestId === response.body.id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ trace_id: outcome.trace_id, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });
});

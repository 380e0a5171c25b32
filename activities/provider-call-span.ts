/**
 * The provider call's span (tracing on only): OpenTelemetry's GenAI semantic conventions
 * (`gen_ai.*`, operation `chat`, span name `chat <model>`), plus Zumik's own `zumik.*` attributes.
 * It is a child of the attempt activity's span, so one trace runs from the front door to the provider.
 * Attribute names are written out here (the conventions are still "incubating" in
 * @opentelemetry/semantic-conventions, whose own advice is to copy them).
 */
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { ChatResult } from '../src/contract/chat';
import type { AttemptCall } from './attempt-core';

/** `gen_ai.system` / `gen_ai.provider.name` values of the conventions, where they differ from Zumik's provider names. */
const GEN_AI_SYSTEM: Record<string, string> = { gemini: 'gcp.gemini' };

export interface ProviderCallLabels {
  releaseId: string;
}

/** Runs `call` inside the provider-call span when there is a tracer; without one it is just `call()`. */
export async function withProviderCallSpan<T>(tracer: Tracer | undefined, input: AttemptCall, labels: ProviderCallLabels,
  call: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!tracer) return call(undefined);
  const { request, attempt, n } = input;
  const system = GEN_AI_SYSTEM[attempt.provider] ?? attempt.provider;
  const maxTokens = request.body.max_completion_tokens ?? request.body.max_tokens;
  const span = tracer.startSpan(`chat ${attempt.model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': system,
      'gen_ai.provider.name': system,
      'gen_ai.request.model': attempt.model,
      ...(typeof maxTokens === 'number' ? { 'gen_ai.request.max_tokens': maxTokens } : {}),
      ...(typeof request.body.temperature === 'number' ? { 'gen_ai.request.temperature': request.body.temperature } : {}),
      'zumik.request_id': request.requestId,
      'zumik.tenant': request.tenantId,
      'zumik.alias': request.alias,
      'zumik.release': labels.releaseId,
      'zumik.qos_class': request.qosClass,
      'zumik.attempt.n': n,
      'zumik.attempt.role': attempt.role,
      'zumik.provider.region': attempt.region,
      'zumik.stream': request.stream,
    },
  }, context.active());
  try {
    return await context.with(trace.setSpan(context.active(), span), () => call(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}

/** What the provider answered, on the span. */
export function recordProviderAnswer(span: Span | undefined, result: ChatResult): void {
  if (!span) return;
  span.setAttributes({
    'gen_ai.response.model': result.model,
    'gen_ai.response.id': result.providerResponseId,
    'gen_ai.response.finish_reasons': result.choices.map((choice) => choice.finish_reason ?? 'unknown'),
    'gen_ai.usage.input_tokens': result.usage.prompt_tokens,
    'gen_ai.usage.output_tokens': result.usage.completion_tokens,
    ...(result.serviceTier ? { 'zumik.service_tier': result.serviceTier } : {}),
  });
}

/** Why the attempt failed, on the span: Zumik's failure kind (also the conventions' `error.type`). */
export function recordProviderFailure(span: Span | undefined, failure: { kind: string; status?: number }): void {
  if (!span) return;
  span.setAttributes({
    'error.type': failure.kind, 'zumik.failure_kind': failure.kind,
    ...(failure.status ? { 'http.response.status_code': failure.status } : {}),
  });
}

/** The trace the current activity runs in (tracing on), for the request's outcome. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/** The request's reason code on the span that records its outcome. */
export function recordReasonCode(reasonCode: string): void {
  trace.getActiveSpan()?.setAttribute('zumik.reason_code', reasonCode);
}

/**
 * The request outcome at the HTTP edge: the compact `x-zumik-*` headers (DESIGN.md §3), the
 * end-of-stream comment, and the one table that maps a refused or failed outcome to an HTTP error.
 */
import type { StreamMeta } from '../domain/request-messages';
import type { ProviderWarning } from '../contract/chat';
import { servingAttempt, type RequestOutcome } from '../domain/request-outcome';
import { outcomeErrorShape, type MissingCredential } from '../domain/reason-code-errors';
import { HttpError } from './errors';

export function outcomeHeaders(outcome: RequestOutcome): Record<string, string> {
  const winner = servingAttempt(outcome);
  return {
    'x-zumik-request-id': outcome.id,
    'x-zumik-alias-release': outcome.release_id ?? '',
    'x-zumik-admission': outcome.admission,
    'x-zumik-completion': outcome.completion ?? '',
    'x-zumik-target-met': String(outcome.target_met),
    'x-zumik-degraded': String(outcome.degraded),
    'x-zumik-fallback-used': String(outcome.fallback_used),
    'x-zumik-reason-code': outcome.reason_code,
    'x-zumik-attempts': String(outcome.attempts.length),
    'x-zumik-provider': winner?.provider ?? '',
    'x-zumik-model': winner?.served_model ?? winner?.model ?? '',
    ...(winner?.warnings?.length ? { 'x-zumik-warnings': warningsHeader(winner.warnings) } : {}),
  };
}

/**
 * `x-zumik-warnings`: what the serving target could not do as asked, as `type=setting` pairs
 * (`unsupported-setting=logit_bias, approximated-setting=thinking`); the messages are in the outcome.
 */
function warningsHeader(warnings: readonly ProviderWarning[]): string {
  return [...new Set(warnings.map((warning) => `${warning.type}=${headerToken(warning.setting ?? 'request')}`))].join(', ');
}

/** A setting's name as a header token: printable ASCII without separators (names are ours, but stay safe). */
function headerToken(text: string): string {
  return text.replace(/[^\x21-\x7e]|[,;=]/g, '_').slice(0, 100);
}

/** What is known when a stream's headers leave: the rest follows in the `: zumik-outcome` comment. */
export function streamHeaders(requestId: string, meta: StreamMeta): Record<string, string> {
  return {
    'x-zumik-request-id': requestId,
    'x-zumik-alias-release': meta.releaseId,
    'x-zumik-admission': meta.admission,
    'x-zumik-fallback-used': String(meta.fallbackUsed),
    'x-zumik-attempts': String(meta.attempt),
    'x-zumik-provider': meta.provider,
    'x-zumik-model': meta.model,
  };
}

/** The SSE comment line that ends a stream (OpenAI clients ignore comments). */
export function outcomeComment(outcome: RequestOutcome): string {
  const warnings = servingAttempt(outcome)?.warnings;
  const compact = {
    request_id: outcome.id, release_id: outcome.release_id, admission: outcome.admission, completion: outcome.completion,
    target_met: outcome.target_met, degraded: outcome.degraded, fallback_used: outcome.fallback_used, reason_code: outcome.reason_code,
    attempts: outcome.attempts.length, timing: outcome.timing, cost_usd: outcome.cost_usd,
    ...(warnings?.length ? { warnings } : {}),
  };
  return `: zumik-outcome ${JSON.stringify(compact)}\n\n`;
}

/**
 * The HTTP error for an outcome that did not complete (the table: src/domain/reason-code-errors.ts).
 * On the native surface the body carries the full outcome beside the envelope (`zumik`), as a
 * completed /v2 answer does; /v1 keeps OpenAI's bare envelope and the compact headers. `missing`:
 * the targets without a credential, for a `no_credentials` message that names where each comes from.
 */
export function outcomeError(outcome: RequestOutcome, surface: 'v1' | 'v2' = 'v1', missing?: readonly MissingCredential[]): HttpError {
  const shape = outcomeErrorShape(outcome, missing);
  return new HttpError(shape.status, shape.message, shape.code, shape.param ?? null, shape.type, outcomeHeaders(outcome),
    surface === 'v2' ? { zumik: outcome } : {});
}

/**
 * Small helpers shared by the request-path integration tests: tenant policy, raw chat calls with
 * timing, SSE parsing, and waiting for the recorded outcome.
 */
import type { Harness } from '../support/zumik-harness';

export const MESSAGES = [{ role: 'user', content: 'Say hi' }];

/** Replace the default tenant's policy (admin API); throws on anything but 200. */
export async function setPolicy(harness: Harness, policy: Record<string, unknown>): Promise<void> {
  const response = await harness.call('PUT', '/v2/tenants/default/policy', { body: policy });
  if (response.status !== 200) throw new Error(`policy: ${response.status} ${JSON.stringify(response.body)}`);
}

/** Forget circuit state between tests: earlier tests' outage failures must not open circuits for later ones. */
export async function resetCircuits(harness: Harness): Promise<void> {
  await harness.database.pool.query('DELETE FROM circuit_breakers');
}

export interface TimedResponse {
  status: number;
  body: any;
  text: string;
  headers: Headers;
  ms: number;
}

/** POST a chat completion (JSON or SSE) and measure the wall time until the whole body has arrived. */
export async function chat(harness: Harness, body: Record<string, unknown>, options: {
  headers?: Record<string, string>; path?: string; signal?: AbortSignal;
} = {}): Promise<TimedResponse> {
  const started = Date.now();
  const response = await fetch(`${harness.url}${options.path ?? '/v1/chat/completions'}`, {
    method: 'POST', signal: options.signal,
    headers: { authorization: `Bearer ${harness.adminKey}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ messages: MESSAGES, ...body }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* SSE */ }
  return { status: response.status, body: parsed, text, headers: response.headers, ms: Date.now() - started };
}

/** The `data:` payloads of an SSE body, parsed when JSON (`[DONE]` stays a string). */
export function sseData(text: string): any[] {
  return text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => {
    const data = block.slice('data: '.length);
    try { return JSON.parse(data); } catch { return data; }
  });
}

/** The `: zumik-outcome {...}` comment of an SSE body. */
export function outcomeCommentOf(text: string): any {
  const match = /^: zumik-outcome (\{.*\})$/m.exec(text);
  return match ? JSON.parse(match[1]!) : undefined;
}

/** GET /v2/requests/{id} until the outcome is recorded (attempts present). */
export async function waitForRecorded(harness: Harness, id: string, timeoutMs = 10_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const response = await harness.call('GET', `/v2/requests/${id}`);
    if (response.status === 200 && response.body.attempts) return response.body;
    await sleep(50);
  }
  throw new Error(`request ${id} was never recorded`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wait until `predicate` holds (polling), or fail after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await predicate()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The request id of a finished call: the header, else the JSON body's id. */
export function requestIdOf(response: TimedResponse): string {
  const id = response.headers.get('x-zumik-request-id') ?? response.body?.id;
  if (!id) throw new Error(`no request id in ${response.status} ${response.text.slice(0, 300)}`);
  return id;
}

/** [provider, status, failure_kind] of each attempt. */
export function attemptSummary(outcome: any): Array<[string, string, string | null]> {
  return outcome.attempts.map((attempt: any) => [attempt.provider, attempt.status, attempt.failure_kind]);
}

/**
 * Property-based fuzzing of every /v1 and /v2 endpoint against a whole Zumik (real Temporal, real
 * Postgres, provider emulators): generated hostile requests (bodies, headers, paths, multipart
 * uploads, invalid UTF-8, lone surrogates, malformed HTTP) must each be answered, never with a 5xx,
 * every error in the OpenAI envelope, and the process stays up and ready.
 *
 * Reproducible: fast-check generates the requests from a fixed seed (ZUMIK_FUZZ_SEED and
 * ZUMIK_FUZZ_REQUESTS override it); a finding names the request's index in that sequence.
 */
import fc from 'fast-check';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { hostileRequest, type FuzzContext, type FuzzRequest } from './fuzz-arbitraries';
import { sendRaw, type RawResponse } from './raw-http';

const SEED = Number(process.env.ZUMIK_FUZZ_SEED ?? 17_017);
const TOTAL = Number(process.env.ZUMIK_FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 24;
const ANSWER_TIMEOUT_MS = 15_000;

/** What is wrong with an answer, or undefined when it is fine. */
function problemWith(request: FuzzRequest, response: RawResponse): string | undefined {
  if (response.status >= 500) return `answered ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`;
  if (response.status < 400 || request.method === 'HEAD' || response.body.length === 0 && request.category === 'malformed' && response.status === 0) return undefined;
  let envelope: any;
  try {
    envelope = JSON.parse(response.body.toString('utf8'));
  } catch {
    return `answered ${response.status} with a body that is not JSON: ${JSON.stringify(response.body.toString('latin1').slice(0, 200))}`;
  }
  const error = envelope?.error;
  const fine = error && typeof error.message === 'string' && typeof error.type === 'string'
    && (error.param === null || typeof error.param === 'string') && (error.code === null || typeof error.code === 'string')
    && Object.keys(envelope).length === 1;
  return fine ? undefined : `answered ${response.status} outside the OpenAI envelope: ${JSON.stringify(envelope).slice(0, 300)}`;
}

function describeRequest(request: FuzzRequest): string {
  const bytes = request.raw ?? request.body;
  return `${request.category}: ${request.method} ${request.target.slice(0, 200)} ${JSON.stringify(request.headers).slice(0, 300)}`
    + ` body ${bytes ? JSON.stringify(bytes.toString('latin1').slice(0, 300)) : '-'}`;
}

describe('every endpoint under generated hostile input', () => {
  let harness: Harness;
  let context: FuzzContext;
  beforeAll(async () => {
    harness = await startHarness();
    const release: Record<string, any> = await harness.installAlias('fuzz.fast', [target('openai', 'gpt-4o-mini')]);
    // A flex request on a target without a flex tier is no_eligible_target (503) unless flex may fall back to standard.
    const policy = await harness.call('PUT', '/v2/tenants/default/policy', { body: { flex: { fallback_to_standard: true } } });
    await harness.call('PUT', '/v2/tenants/acme-fuzz/policy', { body: { flex: { fallback_to_standard: true } } });
    const key = await harness.call('POST', '/v2/api-keys', { body: { name: 'fuzz inference', scopes: ['inference'], tenant: 'acme-fuzz' } });
    const upload = new FormData();
    upload.set('purpose', 'batch');
    upload.set('file', new Blob([`${JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions',
      body: { model: 'fuzz.fast', messages: [{ role: 'user', content: 'hi' }] } })}\n`]), 'input.jsonl');
    const file: any = await (await fetch(`${harness.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${harness.adminKey}` }, body: upload })).json();
    const chat = await harness.call('POST', '/v1/chat/completions', { body: { model: 'fuzz.fast', messages: [{ role: 'user', content: 'hi' }] } });
    expect([policy.status, key.status, typeof file.id, chat.status]).toEqual([200, 201, 'string', 200]);
    context = { adminKey: harness.adminKey, inferenceKey: key.body.key, alias: 'fuzz.fast', fileId: file.id, requestId: chat.body.id, releaseId: release.id };
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });

  it(`answers ${TOTAL} generated requests across /v1 and /v2 without a 5xx, each in time and in the OpenAI envelope`, async () => {
    const port = Number(new URL(harness.url).port);
    const counts = new Map<string, number>();
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    // fast-check generates the requests from the seed; a pool sends them CONCURRENCY at a time (no barrier per batch).
    const requests = fc.sample(hostileRequest(context), { seed: SEED, numRuns: TOTAL });
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index]!;
        counts.set(request.category, (counts.get(request.category) ?? 0) + 1);
        try {
          const response = await sendRaw(port, request, ANSWER_TIMEOUT_MS);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const problem = problemWith(request, response);
          if (problem) problems.push(`#${index} ${describeRequest(request)}\n  → ${problem}`);
        } catch (error) {
          problems.push(`#${index} ${describeRequest(request)}\n  → never answered: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    process.stderr.write(`fuzz seed ${SEED}: ${requests.length} requests; by category ${JSON.stringify(Object.fromEntries(counts))}; `
      + `by status ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}\n`);
    expect(problems.slice(0, 10)).toEqual([]);
    for (const category of ['chat/v1', 'chat/v2', 'responses', 'aliases', 'files-upload', 'files', 'batches', 'requests', 'models', 'admin', 'codec', 'paths', 'malformed']) {
      expect([category, (counts.get(category) ?? 0) > 0]).toEqual([category, true]);
    }
    // Valid requests went through too: the fuzz reached the request path and the providers, not only the validators.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(TOTAL / 20);
    // The process stayed up and ready.
    expect((await harness.call('GET', '/readyz')).status).toBe(200);
  }, 300_000);
});

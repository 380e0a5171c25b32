import { computeOutcome } from '../../src/domain/outcome';
import { builtInManifest } from '../../src/domain/capabilities';
import type { AttemptRecord, RequestOutcome } from '../../src/domain/request-outcome';
import { AdmissionStore } from '../../src/store/admission-store';
import { RequestRepository } from '../../src/store/request-repository';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

function attempt(n: number, status: AttemptRecord['status']): AttemptRecord {
  return {
    n, execution_profile: 'managed_provider', provider: n === 1 ? 'openai' : 'anthropic', model: 'm', model_revision: '1', region: 'default',
    started_at: '2026-12-04T00:00:00.000Z', ended_at: '2026-12-04T00:00:01.000Z', latency_ms: 1000, ttft_ms: null, status, http_status: status === 'succeeded' ? 200 : 503,
    failure_kind: status === 'succeeded' ? null : 'upstream_unavailable', retry_cause: n === 1 ? null : 'failover:upstream_unavailable', service_tier: null,
    usage: status === 'succeeded' ? { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } : null,
  };
}

function outcomeOf(id: string, attempts: AttemptRecord[]): RequestOutcome {
  return computeOutcome({
    input: { requestId: id, tenantId: 'default', alias: 'a', qosClass: 'standard', receivedAt: 0, deadlineAt: 60_000, stream: false },
    release: { id: 'alr_x', capability_manifest_revision: 'cap_custom' }, admission: 'admitted', admittedAt: 0, attempts, endedAt: 1000,
    cancelled: false, deadlineExpired: false, bridged: false, targets: { ttftTargetMs: 10_000, totalTargetMs: 60_000 },
    workflow: { id: `req:default:${id}`, run_id: 'r', ui_url: null },
  }, builtInManifest());
}

describe('RequestRepository.record', () => {
  let database: TestDatabase;
  let requests: RequestRepository;
  beforeAll(async () => {
    database = await createTestDatabase();
    requests = new RequestRepository(database.pool);
  });
  afterAll(async () => { await database?.drop(); });

  it('writes the request and every attempt in one statement, and a repeated write replaces them', async () => {
    await requests.record({ outcome: outcomeOf('chatcmpl-one', [attempt(1, 'failed'), attempt(2, 'succeeded')]), receivedAt: 0, endedAt: 1000 });
    const rows = await database.pool.query('SELECT n, provider, status FROM request_attempts WHERE request_id = $1 ORDER BY n', ['chatcmpl-one']);
    expect(rows.rows).toEqual([{ n: 1, provider: 'openai', status: 'failed' }, { n: 2, provider: 'anthropic', status: 'succeeded' }]);
    await requests.record({ outcome: outcomeOf('chatcmpl-one', [attempt(1, 'succeeded')]), receivedAt: 0, endedAt: 1000 });
    const again = await database.pool.query('SELECT n, status FROM request_attempts WHERE request_id = $1 ORDER BY n', ['chatcmpl-one']);
    expect(again.rows).toEqual([{ n: 1, status: 'succeeded' }]);
    expect((await requests.find('default', 'chatcmpl-one'))?.outcome.attempts).toHaveLength(1);
  });

  it('keeps an answer with a NUL character (jsonb refuses \\u0000): it is stored as U+FFFD, and a literal "\\u0000" text stays', async () => {
    const response = { choices: [{ message: { content: 'before\u0000after and a literal \\u0000' } }] };
    await requests.record({ outcome: outcomeOf('chatcmpl-nul', [attempt(1, 'succeeded')]), response, receivedAt: 0, endedAt: 1000 });
    const stored = await requests.find('default', 'chatcmpl-nul');
    expect((stored?.response as typeof response).choices[0]!.message.content).toBe('before\ufffdafter and a literal \\u0000');
  });

  it('keeps an answer and an alias with lone UTF-16 surrogates (jsonb refuses them): each is stored as U+FFFD, pairs and literal text stay', async () => {
    const response = { choices: [{ message: { content: 'a\ud800b \udc00 \ud83d\ude00 \\ud800' } }] };
    await requests.record({ outcome: { ...outcomeOf('chatcmpl-surrogate', [attempt(1, 'succeeded')]), alias: 'x\udfff' }, response, receivedAt: 0, endedAt: 1000 });
    const stored = await requests.find('default', 'chatcmpl-surrogate');
    expect((stored?.response as typeof response).choices[0]!.message.content).toBe('a\ufffdb \ufffd \ud83d\ude00 \\ud800');
    expect(stored?.outcome.alias).toBe('x\ufffd');
  });

  it('frees the admission lease in the same statement when asked', async () => {
    const admission = new AdmissionStore(database.pool);
    await admission.tryAdmit({ requestId: 'chatcmpl-lease', tenantId: 'default', apiKeyId: 'k', priority: 3, leaseMs: 60_000, queue: false,
      limits: { tenantConcurrency: 1, maxQueueLength: 0 } });
    expect((await admission.stats('default')).active).toBe(1);
    await requests.record({ outcome: outcomeOf('chatcmpl-lease', [attempt(1, 'succeeded')]), receivedAt: 0, endedAt: 1000, releaseLease: true });
    expect((await admission.stats('default')).active).toBe(0);
  });
});

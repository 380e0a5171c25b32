/**
 * A missing credential is its own answer (issue 11, first run): `no_credentials`, naming the provider
 * and where its credential comes from, decided before any provider is called — at the front door for
 * managed providers (this harness leaves FIREWORKS_API_KEY unset), in the attempt for BYOK (no stored
 * secret), which then fails over to a target that has one and never counts against a circuit.
 */
import { startHarness, target, type Harness } from '../support/zumik-harness';
import { chat, requestIdOf, resetCircuits, waitForRecorded } from './request-path-helpers';

describe('no_credentials on the request path', () => {
  let harness: Harness;

  beforeAll(async () => {
    // Fireworks without its key: its emulator runs, but Zumik has no managed credential for it.
    harness = await startHarness({ env: { FIREWORKS_API_KEY: undefined } });
    await harness.installAlias('nokey.managed', [target('fireworks', 'accounts/fireworks/models/gpt-oss-20b')]);
    await harness.installAlias('nokey.byok', [target('openai', 'gpt-4o-mini', 1, { execution_profile: 'byok' })]);
    await harness.installAlias('nokey.failover', [
      target('openai', 'gpt-4o-mini', 1, { execution_profile: 'byok' }),
      target('anthropic', 'claude-haiku-4-5', 0),
    ]);
    await harness.installAlias('nokey.skip', [target('fireworks', 'accounts/fireworks/models/gpt-oss-20b'), target('openai', 'gpt-4o-mini', 0)]);
    // Releases are validated against a capability manifest: one that names a provider Zumik has no adapter for (installed last: it becomes the current one).
    const acme = await harness.installManifest({ 'acme/acme-1': {} });
    await harness.installAlias('nokey.unknown', [target('acme', 'acme-1')], { capability_manifest_revision: acme });
  });
  afterAll(async () => harness?.stop());
  beforeEach(async () => resetCircuits(harness));

  it('refuses a managed provider without its key at the front door, naming the env variable, without calling anyone', async () => {
    const response = await chat(harness, { model: 'nokey.managed' });
    expect(response.status).toBe(424);
    expect(response.body.error).toMatchObject({ code: 'no_credentials', param: 'model' });
    expect(response.body.error.message).toContain('fireworks (managed_provider): set FIREWORKS_API_KEY');
    expect(response.headers.get('x-zumik-reason-code')).toBe('no_credentials');
    const outcome = await harness.call('GET', `/v2/requests/${requestIdOf(response)}`);
    expect(outcome.body).toMatchObject({ reason_code: 'no_credentials', completion: 'failed', attempts: [] });
  });

  it('refuses a provider that is not built in the same way', async () => {
    const response = await chat(harness, { model: 'nokey.unknown' });
    expect(response.status).toBe(424);
    expect(response.body.error.message).toContain('acme (managed_provider): it is not a built-in provider');
  });

  it('skips an unconfigured managed target in the plan and serves from one that has its key', async () => {
    const response = await chat(harness, { model: 'nokey.skip' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-zumik-provider')).toBe('openai');
  });

  it('answers a BYOK target without a stored credential with no_credentials naming the /v2 route, and no circuit counts it', async () => {
    const openaiCalls = harness.openai.requests.length;
    const response = await chat(harness, { model: 'nokey.byok' });
    expect(response.status).toBe(424);
    expect(response.body.error.code).toBe('no_credentials');
    expect(response.body.error.message).toContain('openai (byok): store the tenant\'s key with PUT /v2/credentials/openai');
    expect(response.body.error.message).not.toContain('rejected the credentials');
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(outcome).toMatchObject({ reason_code: 'no_credentials', completion: 'failed' });
    expect(outcome.attempts).toEqual([expect.objectContaining({ provider: 'openai', execution_profile: 'byok', failure_kind: 'no_credentials' })]);
    expect(harness.openai.requests.length).toBe(openaiCalls);
    const circuits = await harness.database.pool.query('SELECT key FROM circuit_breakers WHERE consecutive_failures > 0');
    expect(circuits.rows).toEqual([]);
  });

  it('fails over from a BYOK target without a credential to a target that has one', async () => {
    const response = await chat(harness, { model: 'nokey.failover' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-zumik-provider')).toBe('anthropic');
    expect(response.headers.get('x-zumik-reason-code')).toBe('ok_after_failover');
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(outcome.attempts.map((attempt: { failure_kind: string | null }) => attempt.failure_kind)).toEqual(['no_credentials', null]);
  });
});

import { randomBytes } from 'node:crypto';
import type { Config } from '../../src/config';
import type { ExecutionProfile } from '../../src/domain/model-alias';
import { CredentialResolver, CredentialUnavailableError, targetMayHaveCredential } from '../../activities/credential-resolver';
import { SecretBox } from '../../src/secrets/secret-box';
import { ByocEndpointRepository } from '../../src/store/byoc-endpoint-repository';
import { CredentialRepository } from '../../src/store/credential-repository';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const MANAGED_OPENAI_KEY = 'sk-managed-openai-000000000000000000000001';
const TENANT_OPENAI_KEY = 'sk-tenant-acme-openai-00000000000000000002';
const TENANT_ANTHROPIC_KEY = 'sk-ant-tenant-acme-00000000000000000000003';
const ENDPOINT_KEY = 'dyn-endpoint-key-000000000000000000000004';
const SECRETS = [MANAGED_OPENAI_KEY, TENANT_OPENAI_KEY, TENANT_ANTHROPIC_KEY, ENDPOINT_KEY];

const providers: Config['providers'] = {
  openai: { apiKey: MANAGED_OPENAI_KEY, baseUrl: 'http://127.0.0.1:9/openai' },
  anthropic: {}, gemini: {}, xai: {}, fireworks: {}, openrouter: {},
};

describe('CredentialResolver', () => {
  let database: TestDatabase;
  let secretBox: SecretBox;
  let credentials: CredentialRepository;
  let endpoints: ByocEndpointRepository;
  let resolver: CredentialResolver;

  beforeAll(async () => {
    database = await createTestDatabase();
    secretBox = new SecretBox(randomBytes(32));
    credentials = new CredentialRepository(database.pool, secretBox);
    endpoints = new ByocEndpointRepository(database.pool, secretBox);
    resolver = new CredentialResolver({ providers, credentials, endpoints, secretBox });
    await credentials.put({ tenantId: 'acme', provider: 'openai', apiKey: TENANT_OPENAI_KEY });
    await credentials.put({ tenantId: 'acme', provider: 'anthropic', apiKey: TENANT_ANTHROPIC_KEY });
    await endpoints.put({ tenantId: 'acme', id: 'acme-dynamo', profile: 'byoc_dynamo', baseUrl: 'https://dynamo.acme.internal/v1', apiKey: ENDPOINT_KEY });
    await endpoints.put({ tenantId: 'acme', id: 'acme-epp', profile: 'byoc_epp', baseUrl: 'http://10.0.0.7:8000/v1' });
    await endpoints.put({ tenantId: 'acme', id: 'acme-reserved', profile: 'subscription', baseUrl: 'https://reserved.example.com/v1',
      apiKey: ENDPOINT_KEY, metadata: { reserved_capacity: { tokens_per_minute: 2_000_000 } } });
  });
  afterAll(async () => { await database.drop(); });

  const resolve = (executionProfile: ExecutionProfile, provider: string, tenantId = 'acme') =>
    resolver.resolve({ tenantId, executionProfile, provider });

  async function unavailable(executionProfile: ExecutionProfile, provider: string, tenantId = 'acme'): Promise<CredentialUnavailableError> {
    const error = await resolve(executionProfile, provider, tenantId).then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CredentialUnavailableError);
    const unavailableError = error as CredentialUnavailableError;
    expect(unavailableError).toMatchObject({ tenantId, executionProfile, provider });
    expect(unavailableError.message).toContain(provider);
    for (const secret of SECRETS) {
      expect(unavailableError.message).not.toContain(secret);
      expect(JSON.stringify(unavailableError)).not.toContain(secret);
    }
    return unavailableError;
  }

  describe('managed_provider', () => {
    it("uses Zumik's own key from the environment, leaving the base URL to the provider directory", async () => {
      await expect(resolve('managed_provider', 'openai')).resolves.toEqual({ apiKey: MANAGED_OPENAI_KEY });
    });

    it('is unavailable for a provider without an env key, and says which variable to set', async () => {
      const error = await unavailable('managed_provider', 'anthropic');
      expect(error.reason).toBe('not_configured');
      expect(error.message).toContain('ANTHROPIC_API_KEY');
    });

    it.each(['acme-dynamo', 'toString', '__proto__'])('is unavailable for %s, which is not a built-in provider', async (provider) => {
      expect((await unavailable('managed_provider', provider)).reason).toBe('not_configured');
    });
  });

  describe('managed_provider served through Bifrost', () => {
    const VIRTUAL_KEY = 'sk-bf-virtual-key-000000000000000000000005';
    const serves = (provider: string) => provider === 'anthropic' || provider === 'openai';
    const through = (virtualKey?: string) => new CredentialResolver({ providers, credentials, endpoints, secretBox, bifrost: { serves, virtualKey } });

    it("uses Bifrost's virtual key (not the provider's own key) for a provider it serves, and says so", async () => {
      await expect(through(VIRTUAL_KEY).resolve({ tenantId: 'acme', executionProfile: 'managed_provider', provider: 'openai' }))
        .resolves.toEqual({ apiKey: VIRTUAL_KEY, via: 'bifrost' });
      await expect(through(VIRTUAL_KEY).resolve({ tenantId: 'acme', executionProfile: 'managed_provider', provider: 'anthropic' }))
        .resolves.toEqual({ apiKey: VIRTUAL_KEY, via: 'bifrost' });
    });

    it("leaves other providers and the tenant's own keys (byok) alone", async () => {
      const resolver = through(VIRTUAL_KEY);
      await expect(resolver.resolve({ tenantId: 'acme', executionProfile: 'managed_provider', provider: 'gemini' })).rejects.toThrow('GEMINI_API_KEY');
      await expect(resolver.resolve({ tenantId: 'acme', executionProfile: 'byok', provider: 'openai' })).resolves.toEqual({ apiKey: TENANT_OPENAI_KEY });
    });

    it('is unavailable without a virtual key, and says which variable to set', async () => {
      const error = await through(undefined).resolve({ tenantId: 'acme', executionProfile: 'managed_provider', provider: 'openai' })
        .then(() => undefined, (thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(CredentialUnavailableError);
      expect(error).toMatchObject({ reason: 'not_configured' });
      expect((error as Error).message).toContain('ZUMIK_BIFROST_VIRTUAL_KEY');
    });

    it('tells the front door a served provider may be called with the virtual key alone', () => {
      const managed = (provider: string) => ({ execution_profile: 'managed_provider' as const, provider });
      expect(targetMayHaveCredential(providers, managed('anthropic'), { serves, virtualKey: VIRTUAL_KEY })).toBe(true);
      expect(targetMayHaveCredential(providers, managed('anthropic'), { serves })).toBe(false);
      expect(targetMayHaveCredential(providers, managed('anthropic'))).toBe(false);
      expect(targetMayHaveCredential(providers, managed('gemini'), { serves, virtualKey: VIRTUAL_KEY })).toBe(false);
    });
  });

  describe('byok', () => {
    it("uses the tenant's own key for that provider, not Zumik's", async () => {
      await expect(resolve('byok', 'openai')).resolves.toEqual({ apiKey: TENANT_OPENAI_KEY });
      await expect(resolve('byok', 'anthropic')).resolves.toEqual({ apiKey: TENANT_ANTHROPIC_KEY });
    });

    it('is unavailable when the tenant stored no key for the provider, even if Zumik has one', async () => {
      expect((await unavailable('byok', 'gemini')).reason).toBe('not_configured');
      expect((await unavailable('byok', 'openai', 'globex')).reason).toBe('not_configured');
    });

    it('sees a replaced key at once, and none after delete', async () => {
      await credentials.put({ tenantId: 'initech', provider: 'xai', apiKey: 'xai-first-key-0000000000000000' });
      await credentials.put({ tenantId: 'initech', provider: 'xai', apiKey: 'xai-second-key-000000000000000' });
      await expect(resolve('byok', 'xai', 'initech')).resolves.toEqual({ apiKey: 'xai-second-key-000000000000000' });
      await credentials.delete('initech', 'xai');
      expect((await unavailable('byok', 'xai', 'initech')).reason).toBe('not_configured');
    });

    it("refuses another row's ciphertext copied over a tenant's key, without revealing either", async () => {
      await credentials.put({ tenantId: 'globex', provider: 'openai', apiKey: 'sk-globex-00000000000000000000000' });
      await database.pool.query(
        `UPDATE tenant_credentials SET sealed_secret = (SELECT sealed_secret FROM tenant_credentials WHERE tenant_id = 'acme' AND provider = 'openai')
         WHERE tenant_id = 'globex' AND provider = 'openai'`);
      const error = await unavailable('byok', 'openai', 'globex');
      expect(error.reason).toBe('unreadable');
      expect(error.message).not.toContain('sk-globex');
    });

    it('reports a key sealed under a master key this process lacks as unreadable', async () => {
      const otherBox = new SecretBox(randomBytes(32));
      await new CredentialRepository(database.pool, otherBox).put({ tenantId: 'umbrella', provider: 'fireworks', apiKey: 'fw-000000000000000000000000' });
      const error = await unavailable('byok', 'fireworks', 'umbrella');
      expect(error.reason).toBe('unreadable');
      expect(error.message).toContain('unknown_key');
    });
  });

  describe.each([
    ['byoc_dynamo', 'acme-dynamo', 'https://dynamo.acme.internal/v1', ENDPOINT_KEY],
    ['byoc_epp', 'acme-epp', 'http://10.0.0.7:8000/v1', ''],
    ['subscription', 'acme-reserved', 'https://reserved.example.com/v1', ENDPOINT_KEY],
  ] as const)('%s', (profile, endpointId, baseUrl, apiKey) => {
    it(`uses the tenant's endpoint named by the target's provider (${endpointId}): its base URL and key`, async () => {
      await expect(resolve(profile, endpointId)).resolves.toEqual({ apiKey, baseUrl, flavour: profile });
    });

    it("is unavailable for an endpoint id the tenant does not have (another tenant's does not count)", async () => {
      expect((await unavailable(profile, 'missing-endpoint')).reason).toBe('not_configured');
      expect((await unavailable(profile, endpointId, 'globex')).reason).toBe('not_configured');
    });
  });

  it('refuses an endpoint registered under another profile than the target names', async () => {
    const error = await unavailable('byoc_epp', 'acme-dynamo');
    expect(error.reason).toBe('profile_mismatch');
    expect(error.message).toContain('byoc_dynamo');
  });

  it('never stores a secret in clear', async () => {
    const { rows } = await database.pool.query(
      `SELECT row_to_json(c)::text AS row FROM tenant_credentials c UNION ALL SELECT row_to_json(e)::text FROM byoc_endpoints e`);
    expect(rows.length).toBeGreaterThan(4);
    for (const { row } of rows) for (const secret of SECRETS) expect(row).not.toContain(secret);
  });
});

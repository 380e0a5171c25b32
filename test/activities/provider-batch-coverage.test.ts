/**
 * The provider-native batch tier never takes a broader-coverage target (a model outside the capability
 * manifest, reachable only through Bifrost under the tenant policy): with the Bifrost deployment gone from
 * the configuration, such a target would otherwise go to the provider's own batch API, past the policy.
 * Its lines run online, where the front door's rules decide.
 */
import { createProviderBatchActivities } from '../../activities/provider-batch-activities';
import type { ModelAliasRelease, ReleaseTarget } from '../../src/domain/model-alias';
import { parseTenantPolicy } from '../../src/domain/tenant-policy';
import { ProviderDirectory } from '../../src/providers/provider-directory';

const release = (target: ReleaseTarget): ModelAliasRelease => ({
  id: 'alr_test', object: 'model_alias_release', alias: 'wide.oss', status: 'active', policy_revision: 'policy_custom',
  capability_manifest_revision: 'cap_custom', targets: [target], created_at: 0,
});
const target: ReleaseTarget = { execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-oss-bifrost-only', model_revision: '1', weight: 1 };

describe('planBatch with a broader-coverage target', () => {
  const directory = new ProviderDirectory();
  afterAll(async () => { await directory.close(); });

  const plan = (aliasTarget: ReleaseTarget) => createProviderBatchActivities({
    directory, credentials: { resolve: async () => ({ apiKey: 'unused' }) },
    policies: { get: async () => parseTenantPolicy({ batch: { provider_native: true }, allow_bifrost_broader_coverage: true }) },
    aliases: { findActive: async () => release(aliasTarget) },
    files: { readLines: async () => [{ index: 0, value: { custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'wide.oss' } } }] } as never,
  }).planBatch({ batchId: 'batch_1', tenantId: 'wide', inputFileId: 'file-1' });

  it('runs its lines online, never through the provider-native batch API', async () => {
    expect(await plan({ ...target, coverage: 'bifrost_broader' })).toEqual({ mode: 'online' });
  });

  it('(the same target without the mark would have gone native: the guard is what keeps it online)', async () => {
    expect(await plan(target)).toMatchObject({ mode: 'provider_native', target: { provider: 'openai' } });
  });
});

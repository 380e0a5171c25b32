/**
 * Which adapter an attempt planned in Bifrost's region gets: the directory's Bifrost adapter when the
 * credential says `via: bifrost`; and when this worker's configuration does not serve the provider through
 * Bifrost (another process planned it), a clean `no_credentials` failure (nothing called, no circuit counted)
 * instead of an unknown-region error or a direct call under Bifrost's circuit.
 */
import { AttemptAdapters } from '../../activities/attempt-adapters';
import type { PlannedAttempt } from '../../src/domain/request-outcome';
import { ProviderDirectory } from '../../src/providers/provider-directory';
import { ProviderError } from '../../src/providers/provider-error';
import { parseProvidersFile } from '../../src/providers/providers-file';

const attempt: PlannedAttempt = {
  targetIndex: 0, execution_profile: 'managed_provider', provider: 'openai', model: 'gpt-4o-mini', model_revision: '1', region: 'bifrost', role: 'primary',
};

describe('AttemptAdapters for an attempt in region bifrost', () => {
  const withBifrost = new AttemptAdapters(new ProviderDirectory({ file: parseProvidersFile({ bifrost: { baseUrl: 'https://bifrost.test/v1', providers: ['openai'] } }) }));
  const without = new AttemptAdapters(new ProviderDirectory());
  afterAll(async () => { await withBifrost.close(); await without.close(); });

  it('is served by the Bifrost adapter when the credential goes through Bifrost', () => {
    expect(withBifrost.forAttempt(attempt, { via: 'bifrost' })).toBe(withBifrost.forAttempt({ ...attempt, region: 'default' }, { via: 'bifrost' }));
  });

  it('fails as no_credentials where this worker has no Bifrost for the provider', () => {
    let caught: unknown;
    try {
      without.forAttempt(attempt, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProviderError);
    expect(caught).toMatchObject({ kind: 'no_credentials', message: expect.stringMatching(/planned through Bifrost/) });
  });
});

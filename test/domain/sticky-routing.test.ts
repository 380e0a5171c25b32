import { buildAttemptPlan, seededRandom } from '../../src/domain/attempt-plan';
import type { ModelAliasRelease, ReleaseTarget } from '../../src/domain/model-alias';
import { laneChoice } from '../../src/domain/request-planning';
import { promptPrefix, rendezvousOrder, stickyKeyHash, stickyKeyOf } from '../../src/domain/sticky-routing';

/** FNV-1a 64 with BigInt: the reference the 32-bit implementation must match. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= BigInt(text.charCodeAt(index));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

const target = (provider: string, weight: number, execution_profile: ReleaseTarget['execution_profile'] = 'managed_provider'): ReleaseTarget =>
  ({ execution_profile, provider, model: 'm', model_revision: '1', weight });

const release = (targets: ReleaseTarget[]): ModelAliasRelease => ({
  id: 'alr_01jdtest0000000000000000000', object: 'model_alias_release', alias: 'hot', status: 'active', policy_revision: 'policy_custom',
  capability_manifest_revision: 'cap_custom', targets, created_at: 0,
});

const planFor = (rel: ModelAliasRelease, keyHash: string, openCircuits: ReadonlySet<string> = new Set()) => buildAttemptPlan(rel, {
  random: seededRandom('unused'), regions: {}, openCircuits, contextWindow: () => undefined, stickyKeyHash: keyHash,
});

describe('stickyKeyHash', () => {
  it('is FNV-1a 64 (the same digits as a BigInt reference), never the key itself', () => {
    for (const text of ['', 'a', 'session:alice', 'prefix:system\u0000You are terse.\u0000', 'ünïcödé 🦊'.repeat(20)]) {
      expect(stickyKeyHash(text)).toBe(fnv1a64(text));
    }
    expect(stickyKeyHash('session:alice')).not.toContain('alice');
  });
});

describe('stickyKeyOf', () => {
  const body = { messages: [{ role: 'system' as const, content: 'You are a code reviewer.' }, { role: 'user' as const, content: 'Review this diff' }] };
  it('reads the session header (the default or the one the release names); none gives no key', () => {
    const header = (values: Record<string, string>) => (name: string) => values[name];
    expect(stickyKeyOf({ by: 'session' }, { body, header: header({ 'x-zumik-session-id': 'alice' }) })).toBe(stickyKeyHash('session:alice'));
    expect(stickyKeyOf({ by: 'session', header: 'x-user' }, { body, header: header({ 'x-user': 'bob' }) })).toBe(stickyKeyHash('session:bob'));
    expect(stickyKeyOf({ by: 'session' }, { body, header: header({}) })).toBeNull();
  });

  it('hashes only the first prefix_chars of the prompt: requests that share that prefix share a key', () => {
    const other = { messages: [body.messages[0]!, { role: 'user' as const, content: 'Something else entirely' }] };
    const short = { by: 'prefix' as const, prefix_chars: 20 };
    expect(stickyKeyOf(short, { body, header: () => undefined })).toBe(stickyKeyOf(short, { body: other, header: () => undefined }));
    expect(stickyKeyOf({ by: 'prefix' }, { body, header: () => undefined })).not.toBe(stickyKeyOf({ by: 'prefix' }, { body: other, header: () => undefined }));
    expect(promptPrefix(body, 10)).toHaveLength(10);
    // An embeddings body has no messages: its input is the prefix, so different inputs do not all share one key.
    const embed = (input: unknown) => stickyKeyOf({ by: 'prefix' }, { body: { input } as never, header: () => undefined });
    expect(embed(['alpha'])).not.toBe(embed(['beta']));
    expect(embed(['alpha'])).toBe(embed(['alpha']));
  });
});

describe('rendezvousOrder', () => {
  const targets = [target('lane-a', 3, 'byoc_dynamo'), target('openai', 1), target('anthropic', 1)];
  const pool = targets.map((entry, targetIndex) => ({ targetIndex, target: entry }));

  it('gives one key the same order every time, whatever order the release lists its targets in', () => {
    const key = stickyKeyHash('session:alice');
    const first = rendezvousOrder(pool, key).map((entry) => entry.target.provider);
    expect(rendezvousOrder(pool, key).map((entry) => entry.target.provider)).toEqual(first);
    expect(rendezvousOrder([...pool].reverse(), key).map((entry) => entry.target.provider)).toEqual(first);
  });

  it('spreads keys over the targets in proportion to their weights', () => {
    const counts: Record<string, number> = {};
    const sessions = 6_000;
    for (let session = 0; session < sessions; session += 1) {
      const pick = rendezvousOrder(pool, stickyKeyHash(`session:user-${session}`))[0]!.target.provider;
      counts[pick] = (counts[pick] ?? 0) + 1;
    }
    expect(counts['lane-a']! / sessions).toBeCloseTo(0.6, 1);
    expect(counts.openai! / sessions).toBeCloseTo(0.2, 1);
    expect(counts.anthropic! / sessions).toBeCloseTo(0.2, 1);
  });

  it('moves only the keys of a removed target when a release drops it', () => {
    const without = pool.filter((entry) => entry.target.provider !== 'anthropic');
    for (let session = 0; session < 500; session += 1) {
      const key = stickyKeyHash(`session:user-${session}`);
      const before = rendezvousOrder(pool, key)[0]!.target.provider;
      if (before !== 'anthropic') expect(rendezvousOrder(without, key)[0]!.target.provider).toBe(before);
    }
  });
});

describe('a sticky plan and its lane', () => {
  it('puts the key\'s pick first, and records an overflow when that pick is a BYOC lane whose circuit is open', () => {
    const rel = release([target('lane-a', 1, 'byoc_dynamo'), target('openai', 1)]);
    // A session whose pick is the BYOC lane.
    let session = 0;
    while (planFor(rel, stickyKeyHash(`session:${session}`)).candidates[0]!.provider !== 'lane-a') session += 1;
    const key = stickyKeyHash(`session:${session}`);
    const healthy = planFor(rel, key);
    expect(laneChoice(healthy.candidates, healthy.skipped, healthy.pick)).toEqual({ lane: 'byoc', overflow: false });
    const open = planFor(rel, key, new Set(['lane-a|default|m']));
    expect(open.candidates[0]!.provider).toBe('openai');
    expect(laneChoice(open.candidates, open.skipped, open.pick)).toEqual({ lane: 'managed', overflow: true, overflow_reason: 'circuit_open', overflow_from: 'lane-a' });
  });
});

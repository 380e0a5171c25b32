import { TtlCache } from '../../src/store/ttl-cache';

describe('TtlCache', () => {
  let now = 0;
  const loads: string[] = [];
  const load = async (key: string) => { loads.push(key); return `${key}@${now}`; };
  beforeEach(() => { now = 0; loads.length = 0; });

  it('serves an entry for its TTL, then loads it again', async () => {
    const cache = new TtlCache<string, string>(1_000, 10, () => now);
    expect(await cache.get('a', load)).toBe('a@0');
    now = 999;
    expect(await cache.get('a', load)).toBe('a@0');
    now = 1_000;
    expect(await cache.get('a', load)).toBe('a@1000');
    expect(loads).toEqual(['a', 'a']);
  });

  it('forgets one key or all at once when told (the change feed), before the TTL', async () => {
    const cache = new TtlCache<string, string>(60_000, 10, () => now);
    await cache.get('a', load);
    await cache.get('b', load);
    cache.invalidate('a');
    await cache.get('a', load);
    await cache.get('b', load);
    expect(loads).toEqual(['a', 'b', 'a']);
    cache.invalidate();
    await cache.get('b', load);
    expect(loads).toEqual(['a', 'b', 'a', 'b']);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new TtlCache<string, string>(60_000, 2, () => now);
    for (const key of ['a', 'b', 'c']) await cache.get(key, load);
    await cache.get('c', load);
    await cache.get('a', load);
    expect(loads).toEqual(['a', 'b', 'c', 'a']);
  });
});

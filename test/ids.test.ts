import { decodeTime, isValid } from 'ulid';
import { hashApiKey, newApiKeyId, newReleaseId, ulid } from '../src/ids';

describe('ids', () => {
  it('makes valid ULIDs whose time part is the current time', () => {
    const before = Date.now();
    const id = ulid();
    const after = Date.now();
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isValid(id)).toBe(true);
    expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id)).toBeLessThanOrEqual(after);
  });

  it('never repeats, across many refills of the random pool', () => {
    const ids = Array.from({ length: 20_000 }, () => ulid());
    expect(new Set(ids).size).toBe(ids.length);
    // The 80 random bits use the whole alphabet in every position (not a stuck or short pool).
    for (let position = 10; position < 26; position++) expect(new Set(ids.map((id) => id[position])).size).toBe(32);
  });

  it('prefixes the public ids and hashes keys with SHA-256', () => {
    expect(newReleaseId()).toMatch(/^alr_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(newApiKeyId()).toMatch(/^key_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(hashApiKey('zk_x')).toMatch(/^[0-9a-f]{64}$/);
  });
});

import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError, masterKeyId, secretHint, type SecretBinding } from '../../src/secrets/secret-box';

const row: SecretBinding = { tenantId: 'acme', kind: 'credential', id: 'openai' };
const secret = 'sk-proj-0123456789abcdefghijklmnopqrstuvwxyz';

/** Flip one bit of one base64url part of an envelope, keeping it canonical. */
function flipBit(envelope: string, partIndex: number): string {
  const parts = envelope.split('.');
  const bytes = Buffer.from(parts[partIndex]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[partIndex] = bytes.toString('base64url');
  return parts.join('.');
}

function openError(box: SecretBox, envelope: string, binding: SecretBinding): SecretBoxError {
  try {
    box.open(envelope, binding);
  } catch (error) {
    expect(error).toBeInstanceOf(SecretBoxError);
    return error as SecretBoxError;
  }
  throw new Error('expected open to fail');
}

describe('SecretBox', () => {
  const masterKey = randomBytes(32);
  const box = new SecretBox(masterKey);

  it('opens what it sealed, for the same row', () => {
    expect(box.open(box.seal(secret, row), row)).toBe(secret);
    expect(box.open(box.seal('', row), row)).toBe('');
    expect(box.open(box.seal('ключ-🔑', row), row)).toBe('ключ-🔑');
  });

  it('writes a versioned envelope that names the key and never contains the plaintext', () => {
    const envelope = box.seal(secret, row);
    const [version, keyId, nonce, ciphertext, tag, ...rest] = envelope.split('.');
    expect(rest).toEqual([]);
    expect(version).toBe('zsb1');
    expect(keyId).toBe(box.keyId);
    expect(keyId).toBe(masterKeyId(masterKey));
    expect(Buffer.from(nonce!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(Buffer.byteLength(secret));
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(envelope).not.toContain(secret);
    expect(envelope).not.toContain(Buffer.from(secret).toString('base64url').slice(0, 12));
    expect(SecretBox.keyIdOf(envelope)).toBe(box.keyId);
  });

  it('uses a fresh nonce for every seal', () => {
    const envelopes = new Set(Array.from({ length: 50 }, () => box.seal(secret, row)));
    expect(envelopes.size).toBe(50);
    expect(new Set([...envelopes].map((envelope) => envelope.split('.')[2])).size).toBe(50);
  });

  it.each([[2, 'nonce'], [3, 'ciphertext'], [4, 'tag']])('refuses an envelope whose %s (part %#) was tampered with', (index) => {
    const error = openError(box, flipBit(box.seal(secret, row), index), row);
    expect(error.reason).toBe('authentication_failed');
  });

  it.each([
    ['another tenant', { ...row, tenantId: 'globex' }],
    ['another provider of the same tenant', { ...row, id: 'anthropic' }],
    ['another kind of row with the same id', { ...row, kind: 'byoc_endpoint' }],
  ])('refuses a ciphertext moved to %s', (_case, otherRow) => {
    const error = openError(box, box.seal(secret, row), otherRow);
    expect(error.reason).toBe('authentication_failed');
    expect(error.message).toContain(`${otherRow.kind} ${otherRow.tenantId}/${otherRow.id}`);
  });

  it('does not confuse bindings whose fields concatenate alike', () => {
    const envelope = box.seal(secret, { tenantId: 'a', kind: 'b.c', id: 'd' });
    expect(openError(box, envelope, { tenantId: 'a.b', kind: 'c', id: 'd' }).reason).toBe('authentication_failed');
  });

  it.each([
    ['garbage', 'not-an-envelope'],
    ['another version', () => box.seal(secret, row).replace(/^zsb1/, 'zsb2')],
    ['a short nonce', () => { const parts = box.seal(secret, row).split('.'); parts[2] = 'AAAA'; return parts.join('.'); }],
    ['a non-canonical part', () => { const parts = box.seal(secret, row).split('.'); parts[4] = `${parts[4]}!`; return parts.join('.'); }],
  ])('reports %s as malformed', (_case, make) => {
    const envelope = typeof make === 'function' ? make() : make;
    expect(openError(box, envelope, row).reason).toBe('malformed');
  });

  it('never puts the secret in an error message', () => {
    const envelope = box.seal(secret, row);
    for (const error of [openError(box, flipBit(envelope, 3), row), openError(box, envelope, { ...row, tenantId: 'x' }),
      openError(new SecretBox(randomBytes(32)), envelope, row)]) {
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain(envelope);
    }
  });

  describe('key rotation', () => {
    it('opens envelopes of a previous key it was given, and seals with the current one', () => {
      const oldKey = randomBytes(32);
      const oldEnvelope = new SecretBox(oldKey).seal(secret, row);
      const rotated = new SecretBox(randomBytes(32), [oldKey]);
      expect(rotated.open(oldEnvelope, row)).toBe(secret);
      expect(SecretBox.keyIdOf(rotated.seal(secret, row))).toBe(rotated.keyId);
      expect(rotated.keyId).not.toBe(masterKeyId(oldKey));
    });

    it('reports an envelope of a key it does not hold as unknown_key, naming only the key id', () => {
      const other = new SecretBox(randomBytes(32));
      const error = openError(box, other.seal(secret, row), row);
      expect(error.reason).toBe('unknown_key');
      expect(error.keyId).toBe(other.keyId);
    });

    it('rejects a master key that is not 32 bytes', () => {
      expect(() => new SecretBox(randomBytes(16))).toThrow(RangeError);
    });
  });
});

describe('secretHint', () => {
  it('shows the last four characters of a long secret and nothing of a short one', () => {
    expect(secretHint('sk-test-0000abcd')).toBe('…abcd');
    expect(secretHint('short')).toBe('…');
  });
});

import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { ENCRYPTED_ENCODING, EncryptionCodec, PayloadCodecError } from '../../src/temporal/payload-codec';
import { masterKeyId } from '../../src/secrets/secret-box';

const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)!;
const encodingOf = (payload: Payload) => Buffer.from(payload.metadata!.encoding!).toString();

describe('EncryptionCodec', () => {
  const key = randomBytes(32);
  const codec = new EncryptionCodec(key);

  it('round-trips payloads, metadata included, with a fresh nonce each time', async () => {
    const original = [json({ prompt: 'a secret prompt' }), json(null), json('x'.repeat(100_000))];
    const encoded = await codec.encode(original);
    for (const payload of encoded) {
      expect(encodingOf(payload)).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(payload.metadata!['encryption-key-id']!).toString()).toBe(masterKeyId(key));
      expect(Buffer.from(payload.data!).includes('secret prompt')).toBe(false);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([{ prompt: 'a secret prompt' }, null, 'x'.repeat(100_000)]);
    const [again] = await codec.encode([original[0]!]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(encoded[0]!.data!))).toBe(false);
  });

  it('never repeats a nonce, across refills of its random pool', async () => {
    const sealed = await codec.encode(Array.from({ length: 2_000 }, () => json('same')));
    const nonces = sealed.map((payload) => Buffer.from(payload.data!).subarray(0, 12).toString('hex'));
    expect(new Set(nonces).size).toBe(nonces.length);
    expect((await codec.decode(sealed)).every((payload) => defaultPayloadConverter.fromPayload(payload) === 'same')).toBe(true);
  });

  it('passes payloads written before encryption through unchanged', async () => {
    const plain = json({ old: true });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('opens payloads of a rotated key with the previous keys, and names a key it does not hold', async () => {
    const [sealed] = await codec.encode([json('before rotation')]);
    const rotated = new EncryptionCodec(randomBytes(32), [key]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealed!]))[0]!)).toBe('before rotation');
    const [resealed] = await rotated.encode([json('after')]);
    expect(Buffer.from(resealed!.metadata!['encryption-key-id']!).toString()).toBe(rotated.keyId);
    await expect(codec.decode([resealed!])).rejects.toThrow(new RegExp(`master key ${rotated.keyId}.*ZUMIK_PREVIOUS_MASTER_KEYS`));
  });

  it('refuses tampered data and an edited key id', async () => {
    const [sealed] = await codec.encode([json('integrity')]);
    const data = Buffer.from(sealed!.data!);
    data[15] = data[15]! ^ 0xff;
    await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow(PayloadCodecError);
    const other = new EncryptionCodec(randomBytes(32), [key]);
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from(other.keyId) } };
    await expect(other.decode([relabelled])).rejects.toThrow(/failed authentication/);
  });

  describe('the sealed cache (what this process sealed, opened again by this process)', () => {
    it('opens a payload it sealed from the cache, once, and decrypts it the next time', async () => {
      const local = new EncryptionCodec(key);
      const [sealed] = await local.encode([json({ prompt: 'kept' })]);
      expect(defaultPayloadConverter.fromPayload((await local.decode([sealed!]))[0]!)).toEqual({ prompt: 'kept' });
      expect(local.opens).toEqual({ cached: 1, decrypted: 0 });
      // Replayed from history later (the entry was taken): decrypted and authenticated like any other.
      expect(defaultPayloadConverter.fromPayload((await local.decode([sealed!]))[0]!)).toEqual({ prompt: 'kept' });
      expect(local.opens).toEqual({ cached: 1, decrypted: 1 });
      // Another process (same key) never had it: decrypted.
      const other = new EncryptionCodec(key);
      expect(defaultPayloadConverter.fromPayload((await other.decode([sealed!]))[0]!)).toEqual({ prompt: 'kept' });
      expect(other.opens).toEqual({ cached: 0, decrypted: 1 });
    });

    it('answers from the cache only for the very bytes it sealed: an edited byte or key id is decrypted and refused', async () => {
      const previous = randomBytes(32);
      const local = new EncryptionCodec(key, [previous]);
      const [sealed] = await local.encode([json('integrity')]);
      const data = Buffer.from(sealed!.data!);
      data[20] = data[20]! ^ 0x01;
      await expect(local.decode([{ ...sealed!, data }])).rejects.toThrow(/failed authentication/);
      const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from(masterKeyId(previous)) } };
      await expect(local.decode([relabelled])).rejects.toThrow(/failed authentication/);
      expect(local.opens).toEqual({ cached: 0, decrypted: 2 });
      // The untouched payload still opens from the cache.
      expect(defaultPayloadConverter.fromPayload((await local.decode([sealed!]))[0]!)).toBe('integrity');
      expect(local.opens.cached).toBe(1);
    });

    it('keeps the last 512 small payloads only: older and larger ones are decrypted', async () => {
      const local = new EncryptionCodec(key);
      const sealed = await local.encode(Array.from({ length: 600 }, (_, index) => json(index)));
      const [large] = await local.encode([json('x'.repeat(100_000))]);
      expect((await local.decode([sealed[0]!, sealed[599]!, large!])).map((payload) => defaultPayloadConverter.fromPayload(payload)))
        .toEqual([0, 599, 'x'.repeat(100_000)]);
      expect(local.opens).toEqual({ cached: 1, decrypted: 2 });
    });
  });
});

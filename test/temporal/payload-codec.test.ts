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
});

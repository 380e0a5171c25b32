/**
 * Encryption of every Temporal payload Zumik writes (workflow inputs and results, activity arguments
 * and results, local-activity markers, queries, summaries): prompts and answers never sit in the
 * Temporal server's history or visibility stores in plaintext (issue 17, TEMPORAL.md §codecs).
 *
 * AES-256-GCM with a random 96-bit nonce per payload, under a key derived (HKDF-SHA-256, its own info
 * string) from the same master key that seals tenant secrets, so one key and one rotation story serve
 * both. The encoded payload names the master key by its public id (`masterKeyId`), so keys rotate:
 * the codec encrypts with the current key and decrypts with whichever key the payload names (the
 * previous keys stay configured until the histories they sealed have aged out of retention).
 *
 * Encoded payload: metadata `encoding: binary/encrypted`, `encryption-cipher: AES-256-GCM`,
 * `encryption-key-id: <id>`; data = nonce (12) ‖ ciphertext ‖ tag (16) of the original payload as a
 * `temporal.api.common.v1.Payload` protobuf (its metadata too: an encoding name can say what a value is).
 * Associated data binds the ciphertext to the cipher and key id, so an edited header fails to open.
 * Payloads that are not encrypted (histories written before the codec) pass through `decode` as they are.
 *
 * Most payloads this process seals it opens again itself a moment later (bench/README.md, fifth wave: of
 * the nine codec operations of a request, three open what the same process sealed: the workflow input
 * sealed by the front door's start and opened by its eager first task, a local activity's arguments
 * sealed by the workflow's command and opened by the worker that runs it, and its result, opened by the
 * next activation). `decode` answers those from a small cache of the payloads it sealed last, keyed by
 * nonce and taken only when the whole sealed payload (data, cipher, key id) is byte for byte the one
 * sealed; anything else (history replayed after eviction, another process's payloads, an edited byte)
 * is decrypted and authenticated as before. The cache holds plaintext this process already holds.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { masterKeyId } from '../secrets/secret-box';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const CIPHER = 'AES-256-GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_INFO = 'zumik/payload-codec/aes-256-gcm/v1';
const ProtoPayload = temporal.api.common.v1.Payload;

/** A payload that names a key this process does not hold, or fails authentication: never silently passed on. */
/**
 * Random 96-bit GCM nonces, cut from a 4 KiB pool of CSPRNG bytes refilled when used up (the same
 * bytes `randomBytes` would give, without a call into OpenSSL for every payload: about eight payloads
 * per request are sealed on the front door's main thread). Each nonce is a copy: never reused.
 */
const noncePool = Buffer.alloc(NONCE_BYTES * 341);
let nonceAt = noncePool.length;
function nextNonce(): Buffer {
  if (nonceAt + NONCE_BYTES > noncePool.length) {
    randomFillSync(noncePool);
    nonceAt = 0;
  }
  const nonce = Buffer.from(noncePool.subarray(nonceAt, nonceAt + NONCE_BYTES));
  nonceAt += NONCE_BYTES;
  return nonce;
}

export class PayloadCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadCodecError';
  }
}

/** Sealed payloads kept for their own process's `decode`: entries, and the plaintext bytes they may hold together. */
const SEALED_CACHE_ENTRIES = 512;
const SEALED_CACHE_BYTES = 8 * 1024 * 1024;
/** Larger payloads are rare (bodies above 64 KiB go by reference) and cheap to decrypt per byte: not kept. */
const SEALED_CACHE_MAX_PAYLOAD = 64 * 1024;

interface Sealed {
  data: Buffer;
  keyId: string;
  plain: Payload;
  bytes: number;
}

interface CodecKey {
  id: string;
  key: Buffer;
  aad: Buffer;
}

function codecKey(masterKey: Buffer): CodecKey {
  if (masterKey.length !== 32) throw new RangeError('the master key must be 32 bytes');
  const id = masterKeyId(masterKey);
  return { id, key: Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), KEY_INFO, 32)), aad: Buffer.from(`${CIPHER}\0${id}`) };
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export class EncryptionCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly keys = new Map<string, CodecKey>();
  /** By nonce (latin1), oldest first: what `encrypt` sealed last, for `decode` in this process. */
  private readonly sealed = new Map<string, Sealed>();
  private sealedBytes = 0;
  /** Opens answered from the sealed cache, and decrypted (for tests and bench/workflow-cost.ts). */
  readonly opens = { cached: 0, decrypted: 0 };

  /** `previousKeys`: retired master keys whose payloads must still decrypt. */
  constructor(masterKey: Buffer, previousKeys: Buffer[] = []) {
    this.current = codecKey(masterKey);
    for (const key of [this.current, ...previousKeys.map(codecKey)]) if (!this.keys.has(key.id)) this.keys.set(key.id, key);
  }

  /** The id of the key new payloads are encrypted with. */
  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  encrypt(payload: Payload): Payload {
    const plain = ProtoPayload.encode(payload).finish();
    const nonce = nextNonce();
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(this.current.aad);
    const data = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    if (plain.length <= SEALED_CACHE_MAX_PAYLOAD) this.keep(nonce.toString('latin1'), { data, keyId: this.current.id, plain: payload, bytes: plain.length });
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), 'encryption-cipher': utf8(CIPHER), 'encryption-key-id': utf8(this.current.id) },
      data,
    };
  }

  decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const cipherName = text(payload.metadata?.['encryption-cipher']);
    const keyId = text(payload.metadata?.['encryption-key-id']);
    if (cipherName !== CIPHER) throw new PayloadCodecError(`encrypted payload with an unknown cipher ${JSON.stringify(cipherName)}`);
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (!key) {
      throw new PayloadCodecError(`encrypted payload sealed with master key ${keyId ?? '?'}, which this process does not hold `
        + '(set it in ZUMIK_PREVIOUS_MASTER_KEYS after a rotation)');
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadCodecError('encrypted payload too short');
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const nonceKey = bytes.toString('latin1', 0, NONCE_BYTES);
    const sealed = this.sealed.get(nonceKey);
    if (sealed && sealed.keyId === key.id && sealed.data.equals(bytes)) {
      this.forget(nonceKey, sealed);
      this.opens.cached += 1;
      return { metadata: sealed.plain.metadata ?? {}, data: sealed.plain.data ?? new Uint8Array() };
    }
    this.opens.decrypted += 1;
    const decipher = createDecipheriv('aes-256-gcm', key.key, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(key.aad);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`encrypted payload failed authentication (key ${key.id}): tampered or corrupted`);
    }
    const decoded = ProtoPayload.decode(plain);
    return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
  }

  private keep(nonceKey: string, entry: Sealed): void {
    this.sealed.set(nonceKey, entry);
    this.sealedBytes += entry.bytes;
    // Oldest first: a payload not opened by now (a workflow's result, a summary: read only from history) is not coming back.
    while (this.sealed.size > SEALED_CACHE_ENTRIES || this.sealedBytes > SEALED_CACHE_BYTES) {
      const [oldest, old] = this.sealed.entries().next().value as [string, Sealed];
      this.forget(oldest, old);
    }
  }

  private forget(nonceKey: string, entry: Sealed): void {
    this.sealed.delete(nonceKey);
    this.sealedBytes -= entry.bytes;
  }
}

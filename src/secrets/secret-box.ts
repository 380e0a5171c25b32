/**
 * Authenticated encryption for tenant secrets at rest: AES-256-GCM with a random 96-bit nonce per
 * seal, under a key derived (HKDF-SHA-256) from the master key. The envelope names the master key
 * that sealed it, so keys can rotate: a box holds the current key and any previous ones, seals with
 * the current key and opens with whichever the envelope names.
 *
 * Envelope (one ASCII string, base64url parts):
 *   `zsb1.<key id>.<nonce, 12 bytes>.<ciphertext>.<tag, 16 bytes>`
 * Associated data binds a ciphertext to its row (tenant, kind, id) and to the header, so an envelope
 * copied into another row, or with an edited header, fails to open.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'zsb1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ENCRYPTION_INFO = 'zumik/secret-box/aes-256-gcm/v1';

/** The row a secret belongs to; a sealed secret opens only for the same binding. */
export interface SecretBinding {
  tenantId: string;
  /** What kind of row holds it, e.g. `credential` or `byoc_endpoint`. */
  kind: string;
  /** The row's id within the tenant and kind, e.g. the provider or the endpoint id. */
  id: string;
}

export type SecretBoxFailure = 'malformed' | 'unknown_key' | 'authentication_failed';

/**
 * Thrown when a sealed secret cannot be opened: the envelope is malformed, was sealed with a master
 * key this process does not hold, or fails authentication (tampered, or moved to another row).
 */
export class SecretBoxError extends Error {
  constructor(readonly reason: SecretBoxFailure, readonly binding: SecretBinding, readonly keyId?: string) {
    super(`the sealed secret of ${binding.kind} ${binding.tenantId}/${binding.id} cannot be opened: ${describe(reason, keyId)}`);
    this.name = 'SecretBoxError';
  }
}

function describe(reason: SecretBoxFailure, keyId?: string): string {
  switch (reason) {
    case 'malformed': return 'not a SecretBox envelope';
    case 'unknown_key': return `it was sealed with master key ${keyId ?? '?'}, which this process does not hold`;
    case 'authentication_failed': return 'authentication failed (tampered, or sealed for another row)';
  }
}

interface BoxKey {
  id: string;
  encryptionKey: Buffer;
}

/** A public, stable name for a master key (a truncated hash of it), recorded in envelopes and rows. */
export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update('zumik/secret-box/key-id\0').update(masterKey).digest('hex').slice(0, 16);
}

function boxKey(masterKey: Buffer): BoxKey {
  if (masterKey.length !== 32) throw new RangeError('the master key must be 32 bytes');
  return { id: masterKeyId(masterKey), encryptionKey: Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), ENCRYPTION_INFO, 32)) };
}

export class SecretBox {
  private readonly current: BoxKey;
  private readonly keys = new Map<string, BoxKey>();

  /** `previousKeys`: master keys retired by a rotation whose envelopes must still open until re-sealed. */
  constructor(masterKey: Buffer, previousKeys: Buffer[] = []) {
    this.current = boxKey(masterKey);
    for (const key of [this.current, ...previousKeys.map(boxKey)]) if (!this.keys.has(key.id)) this.keys.set(key.id, key);
  }

  /** The id of the key new envelopes are sealed with. */
  get keyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, binding: SecretBinding): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.encryptionKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(this.current.id, binding));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, nonce, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  open(envelope: string, binding: SecretBinding): string {
    const parts = envelope.split('.');
    const [version, keyId, nonce, ciphertext, tag] = parts;
    if (parts.length !== 5 || version !== VERSION || !keyId || !nonce || ciphertext === undefined || !tag) {
      throw new SecretBoxError('malformed', binding);
    }
    const key = this.keys.get(keyId);
    if (!key) throw new SecretBoxError('unknown_key', binding, keyId);
    const [nonceBytes, ciphertextBytes, tagBytes] = [decodePart(nonce), decodePart(ciphertext), decodePart(tag)];
    if (nonceBytes?.length !== NONCE_BYTES || !ciphertextBytes || tagBytes?.length !== TAG_BYTES) {
      throw new SecretBoxError('malformed', binding, keyId);
    }
    const decipher = createDecipheriv('aes-256-gcm', key.encryptionKey, nonceBytes, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(key.id, binding));
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(ciphertextBytes), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('authentication_failed', binding, keyId);
    }
  }

  /** The master key id an envelope names (for rotation bookkeeping); undefined when it is not an envelope. */
  static keyIdOf(envelope: string): string | undefined {
    const parts = envelope.split('.');
    return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
  }
}

/**
 * What lists show instead of a secret: its last four characters, and nothing for a secret shorter
 * than 12 characters, where four would give away too much of it.
 */
export function secretHint(secret: string): string {
  return secret.length >= 12 ? `…${secret.slice(-4)}` : '…';
}

/** Canonical base64url only: Node's decoder skips stray characters, and an envelope has one spelling. */
function decodePart(part: string): Buffer | undefined {
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

/** Unambiguous (JSON-encoded) so that no two different bindings produce the same bytes. */
function associatedData(keyId: string, binding: SecretBinding): Buffer {
  return Buffer.from(JSON.stringify([VERSION, keyId, binding.tenantId, binding.kind, binding.id]), 'utf8');
}

/**
 * The master key that seals tenant secrets at rest (DESIGN.md §2 `ZUMIK_MASTER_KEY`). Production sets
 * it; a dev install without it gets one generated once into `<dataDir>/master.key` (mode 0600) and
 * reused on every start, so sealed secrets survive restarts. Losing that file loses those secrets.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = 'master.key';

/** Thrown at start-up when the configured or stored master key is not 32 bytes of base64/base64url; never quotes the key. */
export class MasterKeyError extends Error {
  constructor(readonly source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'MasterKeyError';
  }
}

export function loadMasterKey(options: { masterKey?: string; dataDir: string }): Buffer {
  if (options.masterKey !== undefined) return decodeMasterKey(options.masterKey, 'ZUMIK_MASTER_KEY');
  const file = path.join(options.dataDir, MASTER_KEY_FILE);
  if (!fs.existsSync(file)) createKeyFile(file);
  const key = decodeMasterKey(fs.readFileSync(file, 'utf8'), file);
  // A key file someone made group- or world-readable is tightened back to owner-only.
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return key;
}

/** 32 bytes as base64 or base64url, padded or not. */
export function decodeMasterKey(encoded: string, source: string): Buffer {
  const text = encoded.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new MasterKeyError(source, 'expected base64 or base64url');
  const key = Buffer.from(text, 'base64');
  if (key.length !== MASTER_KEY_BYTES) {
    throw new MasterKeyError(source, `expected ${MASTER_KEY_BYTES} bytes, got ${key.length} (generate one with \`openssl rand -base64 32\`)`);
  }
  return key;
}

/**
 * Write a fresh key to a private temporary file, then link it into place: the link fails if another
 * process got there first (its key wins), and a reader never sees a half-written file.
 */
function createKeyFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, `${randomBytes(MASTER_KEY_BYTES).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.unlinkSync(temporary);
  }
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { MasterKeyError, loadMasterKey } from '../../src/secrets/master-key';

describe('loadMasterKey', () => {
  let dataDir: string;
  beforeEach(() => { dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-master-key-')); });
  afterEach(() => { fs.rmSync(dataDir, { recursive: true, force: true }); });

  describe('with ZUMIK_MASTER_KEY', () => {
    const key = randomBytes(32);

    it.each([
      ['base64', key.toString('base64')],
      ['base64url', key.toString('base64url')],
      ['base64 without padding', key.toString('base64').replace(/=+$/, '')],
      ['surrounding whitespace', `  ${key.toString('base64')}\n`],
    ])('decodes %s and writes no file', (_case, encoded) => {
      expect(loadMasterKey({ masterKey: encoded, dataDir }).equals(key)).toBe(true);
      expect(fs.readdirSync(dataDir)).toEqual([]);
    });

    it.each([
      ['16 bytes', randomBytes(16).toString('base64')],
      ['48 bytes', randomBytes(48).toString('base64')],
      ['not base64', `${key.toString('base64').slice(0, 40)}!!!!`],
    ])('refuses %s with a message that names the variable, not the value', (_case, encoded) => {
      let thrown: unknown;
      try { loadMasterKey({ masterKey: encoded, dataDir }); } catch (error) { thrown = error; }
      expect(thrown).toBeInstanceOf(MasterKeyError);
      expect((thrown as Error).message).toMatch(/^ZUMIK_MASTER_KEY: /);
      expect((thrown as Error).message).not.toContain(encoded.trim());
    });
  });

  describe('without ZUMIK_MASTER_KEY (dev)', () => {
    it('generates a key once into <dataDir>/master.key with mode 0600, and reuses it', () => {
      const nested = path.join(dataDir, 'not-yet-created');
      const first = loadMasterKey({ dataDir: nested });
      const file = path.join(nested, 'master.key');
      expect(first).toHaveLength(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url').equals(first)).toBe(true);
      const second = loadMasterKey({ dataDir: nested });
      expect(second.equals(first)).toBe(true);
      expect(fs.readdirSync(nested)).toEqual(['master.key']);
    });

    it('gives every process the same key when several start at once on a fresh data dir', async () => {
      // Real processes racing on one directory (as `--role api` and `--role worker` do), from a transpiled copy.
      const source = fs.readFileSync(path.join(__dirname, '../../src/secrets/master-key.ts'), 'utf8');
      const script = path.join(dataDir, 'master-key.js');
      fs.writeFileSync(script, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText);
      const keysDir = path.join(dataDir, 'keys');
      const run = () => new Promise<string>((resolve, reject) => execFile(process.execPath,
        ['-e', `process.stdout.write(require(${JSON.stringify(script)}).loadMasterKey({ dataDir: ${JSON.stringify(keysDir)} }).toString('hex'))`],
        (error, stdout) => (error ? reject(error) : resolve(stdout))));
      const keys = await Promise.all(Array.from({ length: 6 }, run));
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toHaveLength(64);
      expect(fs.readdirSync(keysDir)).toEqual(['master.key']);
    });

    it('tightens a key file that became readable by others back to 0600', () => {
      loadMasterKey({ dataDir });
      const file = path.join(dataDir, 'master.key');
      fs.chmodSync(file, 0o644);
      loadMasterKey({ dataDir });
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    });

    it('refuses a corrupt key file, naming the file', () => {
      fs.writeFileSync(path.join(dataDir, 'master.key'), 'too-short\n', { mode: 0o600 });
      expect(() => loadMasterKey({ dataDir })).toThrow(`${path.join(dataDir, 'master.key')}: expected 32 bytes`);
    });

    it('prefers a configured key to the file', () => {
      const stored = loadMasterKey({ dataDir });
      const configured = randomBytes(32);
      expect(loadMasterKey({ masterKey: configured.toString('base64'), dataDir }).equals(configured)).toBe(true);
      expect(loadMasterKey({ dataDir }).equals(stored)).toBe(true);
    });
  });
});

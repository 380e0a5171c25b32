/**
 * Where the `temporal` CLI is: ZUMIK_TEMPORAL_BIN, else PATH, else the project's tool dir, where
 * `npm install` (scripts/install-temporal.js) builds it. Used by `npm start` and by the tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';

export function findTemporalBinary(explicit?: string): string {
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'temporal');
    if (dir && isExecutable(candidate)) return candidate;
  }
  const inToolDir = path.join(PROJECT_ROOT, '.tools', 'bin', 'temporal');
  if (isExecutable(inToolDir)) return inToolDir;
  throw new Error('the Temporal CLI was not found (PATH, .tools/bin): run `npm install`, which builds it, or set ZUMIK_TEMPORAL_BIN');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

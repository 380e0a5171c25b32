/**
 * Runs the built Zumik (`node dist/src/main.js`) as a real child process in its own process group,
 * as `npm start` would, and tells which processes it left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root';

export const MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');

export interface ZumikProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function spawnZumik(env: Record<string, string>, args: string[] = []): ZumikProcess {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ZUMIK_LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout!.on('data', (data: Buffer) => { output += data.toString(); });
  child.stderr!.on('data', (data: Buffer) => { output += data.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitForReady(url: string, timeoutMs: number, zumik: ZumikProcess): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (zumik.child.exitCode !== null) throw new Error(`zumik exited early (${zumik.child.exitCode}):\n${zumik.output()}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return Date.now() - started;
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`zumik was not ready within ${timeoutMs} ms:\n${zumik.output()}`);
}

/** Pids of live processes whose command line mentions `marker` (e.g. a unique data dir). */
export function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes(marker) && state !== 'Z') pids.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

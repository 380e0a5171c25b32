/**
 * Children that must not outlive Zumik — the embedded Temporal dev server and PostgreSQL — stopped
 * even when Zumik is SIGKILLed (OOM killer, `kill -9`, a crashed container runtime), which gives it no
 * chance to stop them. Linux tells a child of its parent's death only if the child asked
 * (`prctl(PR_SET_PDEATHSIG)`), which Node cannot do without a native addon, and neither binary asks.
 * So a small watchdog process (plain Node, no addon) holds the read end of a pipe whose only write end
 * is Zumik's: however Zumik dies, the kernel closes that end, the watchdog reads end-of-file, signals
 * the process groups it was told about (then SIGKILLs what is left after KILL_AFTER_MS) and exits.
 * A clean stop tells it to exit without touching anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** How long a watched child gets after its stop signal before the watchdog SIGKILLs its group. */
export const KILL_AFTER_MS = 5_000;

/** Every process's command line carries this word and its parent's pid (`zumik-orphan-watchdog:<pid>`). */
export const WATCHDOG_MARKER = 'zumik-orphan-watchdog';

// Runs as `node -e`: lines `watch <pid> <signal>`, `forget <pid>`, `exit` on stdin; end-of-file means Zumik died.
const SCRIPT = `
const watched = new Map();
let pending = '';
const signalGroup = (pid, signal) => { try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch {} } };
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  pending += text;
  for (let end = pending.indexOf('\\n'); end >= 0; end = pending.indexOf('\\n')) {
    const [command, pid, signal] = pending.slice(0, end).split(' ');
    pending = pending.slice(end + 1);
    if (command === 'watch') watched.set(Number(pid), signal);
    else if (command === 'forget') watched.delete(Number(pid));
    else if (command === 'exit') process.exit(0);
  }
});
process.stdin.on('error', () => undefined);
process.stdin.on('end', () => {
  for (const [pid, signal] of watched) signalGroup(pid, signal);
  if (watched.size === 0) process.exit(0);
  setTimeout(() => { for (const pid of watched.keys()) signalGroup(pid, 'SIGKILL'); process.exit(0); }, ${KILL_AFTER_MS});
});
`;

export class OrphanWatchdog {
  private constructor(private readonly child: ChildProcess) {}

  /** Start a watchdog for this process (its own process group: a terminal's Ctrl-C reaches Zumik, not it). */
  static start(): OrphanWatchdog {
    const child = spawn(process.execPath, ['-e', SCRIPT, `${WATCHDOG_MARKER}:${process.pid}`], {
      stdio: ['pipe', 'ignore', 'ignore'], detached: true,
    });
    child.stdin!.on('error', () => undefined);
    // Neither the watchdog nor its pipe keeps Zumik's event loop alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new OrphanWatchdog(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stop `pid`'s process group with `signal` should Zumik die without stopping it. */
  watch(pid: number, signal: NodeJS.Signals): void {
    this.send(`watch ${pid} ${signal}`);
  }

  /** `pid` was stopped (or exited) in order: nothing to do for it any more. */
  forget(pid: number): void {
    this.send(`forget ${pid}`);
  }

  /** A clean stop: the watchdog exits without signalling anything. */
  close(): void {
    this.send('exit');
    this.child.stdin?.end();
  }

  private send(line: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }
}

let shared: OrphanWatchdog | undefined;

/** The process's one watchdog, started on first use (only processes with embedded children have one). */
export function orphanWatchdog(): OrphanWatchdog {
  shared ??= OrphanWatchdog.start();
  return shared;
}

/** Close the process's watchdog, if it has one (after every watched child was stopped). */
export function closeOrphanWatchdog(): void {
  shared?.close();
  shared = undefined;
}

/**
 * Child processes for the benchmark: each started in its own process group, its output kept (last
 * lines in memory, everything in a log file), and killed — group, then every descendant the bench saw
 * — on stop, on error and on exit. Also reads /proc for CPU time and RSS of a process tree, and the
 * machine's busy time (to tell what else ran on the box during a phase).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  comm: string;
  /** utime + stime, in milliseconds. */
  cpuMs: number;
  /** Kernel start time (clock ticks since boot): with the pid, identifies one process across pid reuse. */
  startTicks: number;
}

/** /proc/<pid>/stat, or undefined when the process is gone or a zombie. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field n is fields[n - 3].
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return {
    pid, comm: text.slice(open + 1, close), ppid: Number(fields[1]), pgid: Number(fields[2]),
    cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS,
    startTicks: Number(fields[19]),
  };
}

/**
 * Proportional set size of a process, in KiB: its private pages plus its share of pages it shares
 * (PostgreSQL's backends share their buffers; summing their RSS would count those once per backend).
 */
export function readPssKb(pid: number): number | undefined {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak RSS) of a process, in KiB. */
export function readMemory(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/** The process and all its live descendants. */
export function processTree(rootPid: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.push(stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const stat of all) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat);
    children.set(stat.ppid, list);
  }
  const root = all.find((stat) => stat.pid === rootPid);
  if (!root) return [];
  const tree: ProcStat[] = [root];
  for (let index = 0; index < tree.length && index < 10_000; index++) tree.push(...(children.get(tree[index]!.pid) ?? []));
  return tree;
}

/** Busy and total CPU time of the whole machine since boot (ms), from the first line of /proc/stat. */
export function machineCpu(): { busyMs: number; totalMs: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busyMs: ((total - idle) * 1000) / CLOCK_TICKS, totalMs: (total * 1000) / CLOCK_TICKS };
}

export interface TreeSample {
  /** CPU time of every process ever seen in the set (exited ones keep their last value), ms. */
  cpuMs: number;
  /** The same, by process name (`node`, `temporal`, `postgres`, …). */
  cpuMsByName: Record<string, number>;
}

/**
 * Watches a set of processes — a process tree, or whatever `discover` returns — for CPU time
 * (descendants that exited since keep their last reading), current and peak RSS. The full /proc scan
 * that finds new members runs every `rescanEvery` samples and on every explicit sample(); between,
 * only the known pids are read. Remembers every pid it saw, so stop() can kill stragglers.
 */
export class TreeMonitor {
  private readonly seen = new Map<string, { stat: ProcStat; cpuMs: number; hwmKb: number; threads?: ThreadSplit }>();
  private timer?: NodeJS.Timeout;
  private ticks = 0;
  /** Largest sum of the set's RSS observed at one sampling instant (KiB). */
  peakTreeRssKb = 0;
  /** Largest sum of the set's PSS observed at one full scan (KiB): shared pages counted once. */
  peakTreePssKb = 0;

  constructor(private readonly discover: () => ProcStat[], options: { intervalMs?: number; rescanEvery?: number } = {}) {
    this.sample();
    const rescanEvery = options.rescanEvery ?? 4;
    this.timer = setInterval(() => this.sample(++this.ticks % rescanEvery === 0), options.intervalMs ?? 500);
    this.timer.unref();
  }

  /** A process and its descendants. */
  static ofTree(rootPid: number): TreeMonitor {
    return new TreeMonitor(() => processTree(rootPid));
  }

  sample(rescan = true): TreeSample {
    let members: ProcStat[];
    if (rescan) {
      members = this.discover();
    } else {
      members = [];
      for (const { stat } of this.seen.values()) {
        const now = readStat(stat.pid);
        if (now && now.startTicks === stat.startTicks) members.push(now);
      }
    }
    let treeRss = 0;
    let treePss = 0;
    for (const stat of members) {
      if (rescan) treePss += readPssKb(stat.pid) ?? 0;
      const key = `${stat.pid}:${stat.startTicks}`;
      const memory = readMemory(stat.pid);
      const previous = this.seen.get(key);
      const cpuMs = Math.max(previous?.cpuMs ?? 0, stat.cpuMs);
      const threads = stat.comm === 'node' && rescan ? nodeThreads(stat.pid, previous?.threads) : previous?.threads;
      this.seen.set(key, { stat, cpuMs, hwmKb: Math.max(previous?.hwmKb ?? 0, memory?.hwmKb ?? 0), threads });
      treeRss += memory?.rssKb ?? 0;
    }
    this.peakTreeRssKb = Math.max(this.peakTreeRssKb, treeRss);
    this.peakTreePssKb = Math.max(this.peakTreePssKb, treePss);
    const byName: Record<string, number> = {};
    let total = 0;
    const add = (name: string, ms: number) => { byName[name] = (byName[name] ?? 0) + ms; };
    for (const { stat, cpuMs, threads } of this.seen.values()) {
      total += cpuMs;
      if (!threads) {
        add(stat.comm, cpuMs);
        continue;
      }
      // A Node process split by thread: the JS main thread, the Temporal core's tokio threads, the rest
      // (V8 GC and platform workers, libuv pool, worker_threads such as the SDK's workflow thread).
      add('node main thread', threads.mainMs);
      add('node temporal-core threads', threads.tokioMs);
      add('node other threads', Math.max(0, cpuMs - threads.mainMs - threads.tokioMs));
    }
    return { cpuMs: total, cpuMsByName: byName };
  }

  /** Peak RSS (VmHWM) of each process seen, by name, in MiB, and their sum. */
  peakRss(): { byProcess: Array<{ pid: number; name: string; peakMb: number }>; sumOfPeaksMb: number; peakTreeMb: number; peakTreePssMb: number } {
    this.sample();
    const byProcess = [...this.seen.values()].map(({ stat, hwmKb }) => ({ pid: stat.pid, name: stat.comm, peakMb: round(hwmKb / 1024) }));
    return {
      byProcess, sumOfPeaksMb: round(byProcess.reduce((sum, entry) => sum + entry.peakMb, 0)), peakTreeMb: round(this.peakTreeRssKb / 1024),
      peakTreePssMb: round(this.peakTreePssKb / 1024),
    };
  }

  /** Every process seen, for cleanup. */
  known(): ProcStat[] {
    return [...this.seen.values()].map((entry) => entry.stat);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

interface ThreadSplit {
  mainMs: number;
  tokioMs: number;
  /** Last reading of each tokio thread (tid:start), so one that exits keeps its time. */
  tokio: Record<string, number>;
}

/** CPU of a Node process's main thread and of its `tokio-runtime-w` threads (the Temporal core's). */
function nodeThreads(pid: number, previous?: ThreadSplit): ThreadSplit {
  const tokio: Record<string, number> = { ...(previous?.tokio ?? {}) };
  let mainMs = previous?.mainMs ?? 0;
  let tids: string[] = [];
  try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { /* gone */ }
  for (const tid of tids) {
    let text: string;
    try { text = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; }
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    if (Number(tid) === pid) mainMs = Math.max(mainMs, ms);
    else if (comm.startsWith('tokio')) tokio[`${tid}:${fields[19]}`] = ms;
  }
  return { mainMs, tokioMs: Object.values(tokio).reduce((sum, ms) => sum + ms, 0), tokio };
}

/** Processes whose command line contains `marker` (e.g. PostgreSQL backends serving one database). */
export function processesMatching(marker: string): ProcStat[] {
  const found: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) continue;
    } catch {
      continue;
    }
    const stat = readStat(Number(entry));
    if (stat) found.push(stat);
  }
  return found;
}

/** Is this exact process (pid and start time) still alive? */
export function stillAlive(stat: Pick<ProcStat, 'pid' | 'startTicks'>): boolean {
  const now = readStat(stat.pid);
  return now !== undefined && now.startTicks === stat.startTicks;
}

export interface Supervised {
  label: string;
  child: ChildProcess;
  pid: number;
  startTicks: number;
  /** Last lines of stdout and stderr together. */
  tail(): string;
  /** Resolves with the first output line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  monitor?: TreeMonitor;
}

const registry = new Set<Supervised>();

/** Start a command in its own process group; its output goes to `logFile` and a short in-memory tail. */
export function startProcess(label: string, command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): Supervised {
  const log = fs.createWriteStream(options.logFile);
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${label}: could not start ${command}`);
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let partial = '';
  const onData = (data: Buffer) => {
    log.write(data);
    const text = partial + data.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      for (const listener of listeners) listener(line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { log.end(); resolve({ code, signal }); });
  });
  const supervised: Supervised = {
    label, child, pid: child.pid, startTicks: readStat(child.pid)?.startTicks ?? -1, exited,
    tail: () => [...lines, partial].filter(Boolean).slice(-40).join('\n'),
    waitForLine(pattern, timeoutMs) {
      for (const line of lines) {
        const match = pattern.exec(line);
        if (match) return Promise.resolve(match);
      }
      return new Promise((resolve, reject) => {
        const done = () => { listeners.delete(listener); clearTimeout(timer); };
        const listener = (line: string) => {
          const match = pattern.exec(line);
          if (match) { done(); resolve(match); }
        };
        const timer = setTimeout(() => { done(); reject(new Error(`${label}: no line matching ${pattern} within ${timeoutMs} ms:\n${supervised.tail()}`)); }, timeoutMs);
        listeners.add(listener);
        void exited.then(({ code, signal }) => {
          if (!listeners.has(listener)) return;
          done();
          reject(new Error(`${label} exited (${code ?? signal}) before printing ${pattern}:\n${supervised.tail()}`));
        });
      });
    },
  };
  registry.add(supervised);
  return supervised;
}

/**
 * Stop a supervised process: SIGTERM to its group (it may shut down its own children gracefully), then,
 * after `graceMs`, SIGKILL to the group and to every descendant the monitor saw that is still alive
 * (a child in a process group of its own, such as Zumik's Temporal dev server, included).
 */
export async function stopProcess(proc: Supervised, graceMs = 15_000): Promise<void> {
  const descendants = [...(proc.monitor?.sample() ? proc.monitor.known() : []), ...processTree(proc.pid)];
  proc.monitor?.close();
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    signalGroup(proc.pid, 'SIGTERM');
    await Promise.race([proc.exited, delay(graceMs)]);
  }
  // Whatever is left of the tree after the graceful stop (and the root, if it ignored SIGTERM).
  const deadline = Date.now() + 5_000;
  for (;;) {
    const alive = [{ pid: proc.pid, startTicks: proc.startTicks, pgid: proc.pid }, ...descendants].filter((stat) => stillAlive(stat));
    if (alive.length === 0 || Date.now() > deadline) break;
    for (const stat of alive) {
      signalGroup(stat.pgid, 'SIGKILL', stat);
      try { process.kill(stat.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await delay(200);
  }
  registry.delete(proc);
}

/** Signal a process group whose leader is (or was) one of ours. */
const OWN_GROUP = readStat(process.pid)?.pgid;

function signalGroup(pgid: number, signal: NodeJS.Signals, owner?: Pick<ProcStat, 'pid' | 'startTicks'>): void {
  if (pgid <= 1 || pgid === process.pid || pgid === OWN_GROUP) return;
  if (owner && owner.pid !== pgid && !stillAlive(owner)) return;
  try { process.kill(-pgid, signal); } catch { /* no such group */ }
}

/** Last resort (synchronous, for process 'exit'): SIGKILL every supervised group and known descendant. */
export function killAllNow(): void {
  for (const proc of registry) {
    const known = proc.monitor?.known() ?? [];
    for (const stat of [{ pid: proc.pid, startTicks: proc.startTicks, pgid: proc.pid }, ...known]) {
      if (!stillAlive(stat)) continue;
      signalGroup(stat.pgid, 'SIGKILL', stat);
      try { process.kill(stat.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  registry.clear();
}

/** Stop every supervised process, newest first. */
export async function stopAll(): Promise<void> {
  for (const proc of [...registry].reverse()) await stopProcess(proc).catch(() => undefined);
}

/** TCP ports a process listens on (IPv4 and IPv6), from its socket fds and /proc/net/tcp{,6}. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match) inodes.add(match[1]!);
      } catch { /* closed meanwhile */ }
    }
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // 0A = LISTEN
      if (inodes.has(fields[9]!)) ports.add(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

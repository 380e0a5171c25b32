/**
 * Summaries of the V8 CPU profiles a gateway wrote with `node --cpu-prof` (`npm run bench -- --profile`):
 * self time by where the code lives (Zumik's own modules, each dependency, the workflow bundle, GC),
 * and the hottest functions. One profile per JS thread: the main thread and each worker_thread
 * (the Temporal SDK runs workflow code in one). Native threads (the Temporal core's tokio threads,
 * V8's GC helpers) are not in these profiles: /proc gives their CPU time.
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  thread: string;
  sampledMs: number;
  /** Self time by category, ms and share of the non-idle time, largest first. */
  categories: Array<{ category: string; ms: number; share: number }>;
  top: Array<{ fn: string; where: string; ms: number; share: number }>;
}

export function summarizeProfiles(dir: string, projectRoot: string): ProfileSummary[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((file) => file.endsWith('.cpuprofile')).sort().map((file) => {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread.
    const threadId = file.split('.')[4];
    return summarize(profile, file, threadId === '0' ? 'main thread' : `worker thread ${threadId}`, projectRoot);
  });
}

function summarize(profile: CpuProfile, file: string, thread: string, projectRoot: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (let index = 0; index < profile.samples.length; index++) {
    const id = profile.samples[index]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  }
  const categories = new Map<string, number>();
  const functions = new Map<string, { fn: string; where: string; ms: number }>();
  let busy = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    total += ms;
    const category = categorize(frame, projectRoot);
    if (category === 'idle') continue;
    busy += ms;
    categories.set(category, (categories.get(category) ?? 0) + ms);
    const where = frame.url ? `${shorten(frame.url, projectRoot)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { fn: frame.functionName || '(anonymous)', where, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
  }
  const share = (ms: number) => (busy ? Math.round((ms / busy) * 1000) / 10 : 0);
  return {
    file, thread, sampledMs: Math.round(total),
    categories: [...categories].sort((a, b) => b[1] - a[1]).map(([category, ms]) => ({ category, ms: Math.round(ms), share: share(ms) })),
    top: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, 15).map((entry) => ({ ...entry, ms: Math.round(entry.ms), share: share(entry.ms) })),
  };
}

function shorten(url: string, projectRoot: string): string {
  return url.replace(/^file:\/\//, '').replace(`${projectRoot}/`, '').replace(/^.*\/node_modules\//, '');
}

/** Where a frame's code lives. */
export function categorize(frame: { functionName: string; url: string }, projectRoot: string): string {
  const { functionName, url } = frame;
  if (!url) {
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'V8 garbage collector';
    if (functionName === '(program)') return 'native / V8 (program)';
    return 'native / V8 (program)';
  }
  if (url.startsWith('node:')) return 'Node.js core (node:*)';
  const file = url.replace(/^file:\/\//, '');
  if (file.includes('workflow-bundle')) return 'workflow code (the SDK\'s bundle: Zumik workflows + @temporalio/workflow)';
  const modules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (modules) {
    const name = modules[1]!;
    if (['pg', 'pg-pool', 'pg-protocol', 'pg-types', 'postgres-array', 'pgpass'].includes(name)) return 'pg driver';
    if (['express', 'router', 'body-parser', 'raw-body', 'send', 'finalhandler', 'path-to-regexp', 'iconv-lite', 'type-is', 'content-type', 'qs'].includes(name)) return 'express (+ body parsing)';
    return name;
  }
  if (file.startsWith(`${projectRoot}/dist/`)) {
    const rest = file.slice(projectRoot.length + '/dist/'.length);
    const [top, second] = rest.split('/');
    return top === 'src' && second && !second.endsWith('.js') ? `zumik src/${second}` : `zumik ${top === 'src' ? rest : top}`;
  }
  if (file.includes('/shared/floor/')) return 'floor server.mjs';
  return 'other';
}

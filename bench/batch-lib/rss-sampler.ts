/**
 * RSS of a process tree over time, read from /proc every `intervalMs` (a full scan each time, so a
 * child started late — Zumik's Temporal dev server — is counted from its first sample): the peak of
 * the tree's summed RSS, each process's peak, and a series with the largest tree RSS of every
 * `bucketMs` window (for spotting growth over a long run).
 */
import { processTree, readMemory } from '../lib/proc';

export interface RssPoint {
  /** Seconds since the sampler started. */
  t: number;
  treeMb: number;
  byName: Record<string, number>;
}

export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  private bucket: RssPoint | undefined;
  private bucketStart = 0;
  readonly series: RssPoint[] = [];
  peakTreeKb = 0;
  peakTreeAtS = 0;
  /** Peak RSS by pid (and name). */
  readonly peaks = new Map<number, { name: string; peakKb: number }>();
  samples = 0;
  /** The latest sample. */
  last: RssPoint | undefined;

  constructor(private readonly rootPid: number, intervalMs = 500, private readonly bucketMs = 5_000) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const now = Date.now();
    let treeKb = 0;
    const byName: Record<string, number> = {};
    for (const stat of processTree(this.rootPid)) {
      const memory = readMemory(stat.pid);
      if (!memory) continue;
      treeKb += memory.rssKb;
      byName[stat.comm] = (byName[stat.comm] ?? 0) + memory.rssKb;
      const peak = this.peaks.get(stat.pid);
      this.peaks.set(stat.pid, { name: stat.comm, peakKb: Math.max(peak?.peakKb ?? 0, memory.rssKb, memory.hwmKb) });
    }
    if (treeKb === 0) return;
    this.samples += 1;
    const t = Math.round((now - this.started) / 100) / 10;
    if (treeKb > this.peakTreeKb) {
      this.peakTreeKb = treeKb;
      this.peakTreeAtS = t;
    }
    const point: RssPoint = { t, treeMb: mb(treeKb), byName: Object.fromEntries(Object.entries(byName).map(([name, kb]) => [name, mb(kb)])) };
    this.last = point;
    if (!this.bucket || now - this.bucketStart >= this.bucketMs) {
      if (this.bucket) this.series.push(this.bucket);
      this.bucket = point;
      this.bucketStart = now;
    } else if (point.treeMb > this.bucket.treeMb) {
      this.bucket = point;
    }
  }

  close(): void {
    clearInterval(this.timer);
    if (this.bucket) this.series.push(this.bucket);
    this.bucket = undefined;
  }

  report() {
    return {
      samples: this.samples,
      peakTreeMb: mb(this.peakTreeKb),
      peakTreeAtS: this.peakTreeAtS,
      byProcess: [...this.peaks.entries()].map(([pid, { name, peakKb }]) => ({ pid, name, peakMb: mb(peakKb) })),
    };
  }
}

function mb(kb: number): number {
  return Math.round((kb / 1024) * 10) / 10;
}

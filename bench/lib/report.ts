/** The run as Markdown tables: direct / floor / Zumik side by side, then Zumik against the floor. */
import type { Summary } from './stats';

type Result = Record<string, any>;

const LABELS: Record<string, string> = { direct: 'direct (emulator)', floor: 'durable floor', audit: 'audit minimum', zumik: 'Zumik (embedded PostgreSQL)', 'zumik-plain': 'Zumik, payloads unencrypted', 'zumik-nometrics': 'Zumik, metrics off', 'zumik-pg': 'Zumik + PostgreSQL' };

const fmt = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
const pct = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : `${(value * 100).toFixed(digits)} %`;
const pair = (summary: Summary | undefined) => (summary ? `${fmt(summary.p50)} / ${fmt(summary.p99)}` : '–');
const errors = (phase: Result | undefined) => {
  if (!phase) return '–';
  const base = `${phase.errors.count}/${phase.requests}`;
  return phase.errors.count ? `**${base} (${pct(phase.errors.rate, 2)})**` : base;
};

function row(label: string, cells: string[]): string {
  return `| ${label} | ${cells.join(' | ')} |`;
}

export function renderMarkdown(report: Result): string {
  const results: Result[] = report.results;
  const by = (name: string) => results.find((result) => result.name === name);
  const direct = by('direct');
  const header = `| | ${results.map((result) => LABELS[result.name] ?? result.name).join(' | ')} |\n|---|${results.map(() => '---').join('|')}|`;
  const over = (result: Result, get: (r: Result) => number | undefined) => {
    if (!direct || result.name === 'direct') return '–';
    const value = get(result);
    const base = get(direct);
    return value === undefined || base === undefined ? '–' : `+${fmt(value - base)}`;
  };
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`Run ${report.runId} (${report.durationS} s): ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, `
    + `${m.temporal.split('\n')[0]}, TS SDK ${m.temporalSdk}; Zumik at ${m.commit} + ${m.uncommittedFiles} uncommitted files; `
    + `load average ${m.loadAverage.join(' ')} at start, ${report.machineAfter?.loadAverage?.join(' ') ?? '?'} at the end.`);
  for (const note of report.skipped ?? []) lines.push(`Skipped: ${note}`);
  const measured = results.flatMap((result) => [result.sequential, ...result.throughput, result.streaming]).filter((phase) => phase?.cpu);
  const otherShare = measured.reduce((sum, phase) => sum + phase.cpu.otherMs, 0) / Math.max(1, measured.reduce((sum, phase) => sum + phase.cpu.wallMs, 0));
  if (otherShare > 0.25) {
    lines.push(`**Caveat: other processes used ${fmt(otherShare * 100, 0)} % of a core on average while this ran** (of ${report.machine.cpus} cores): `
      + 'latency and throughput are inflated accordingly; CPU per request is the steadier figure. Targets were measured interleaved, phase by phase, so they shared the noise.');
  }
  lines.push(`Settings: ${report.settings.sequentialRequests} sequential requests, ${report.settings.concurrency.map((c: number) => `c=${c}`).join(' and ')} `
    + `for ${report.settings.durationS} s each, ${report.settings.streamRequests} streamed requests, emulator eventIntervalMs ${report.settings.eventIntervalMs}.`);
  lines.push('');

  lines.push('**Latency and throughput** (ms unless stated; "p50 / p99")', '', header);
  lines.push(row('sequential latency', results.map((result) => pair(result.sequential?.latencyMs))));
  lines.push(row('— overhead over direct, p50 / p99', results.map((result) => result.name === 'direct' ? '–'
    : `${over(result, (r) => r.sequential?.latencyMs.p50)} / ${over(result, (r) => r.sequential?.latencyMs.p99)}`)));
  lines.push(row('— errors', results.map((result) => errors(result.sequential))));
  for (const [index, level] of (report.settings.concurrency as number[]).entries()) {
    lines.push(row(`throughput c=${level}, req/s`, results.map((result) => `**${fmt(result.throughput[index]?.rps, 1)}**`)));
    lines.push(row(`— latency at c=${level}`, results.map((result) => pair(result.throughput[index]?.latencyMs))));
    lines.push(row(`— errors at c=${level}`, results.map((result) => errors(result.throughput[index]))));
  }
  lines.push(row('streaming: time to first content', results.map((result) => pair(result.streaming?.ttftMs))));
  lines.push(row('— overhead over direct, p50 / p99', results.map((result) => result.name === 'direct' ? '–'
    : `${over(result, (r) => r.streaming?.ttftMs.p50)} / ${over(result, (r) => r.streaming?.ttftMs.p99)}`)));
  lines.push(row('— whole stream, p50 / p99', results.map((result) => pair(result.streaming?.latencyMs))));
  lines.push(row('— errors', results.map((result) => errors(result.streaming))));
  lines.push('');

  lines.push('**Resources** (the gateway\'s process tree, read from /proc; CPU per successful request over the phase and its settling)', '', header);
  for (const [index, level] of (report.settings.concurrency as number[]).entries()) {
    lines.push(row(`CPU per request at c=${level}, ms`, results.map((result) => {
      const cpu = result.throughput[index]?.cpu;
      if (!cpu || cpu.gatewayPerRequestMs === null) return '–';
      const parts = Object.entries(cpu.gatewayPerRequestByName as Record<string, number>).filter(([, ms]) => ms > 0.005)
        .map(([name, ms]) => `${name} ${fmt(ms, 2)}`).join(', ');
      return `**${fmt(cpu.gatewayPerRequestMs, 2)}** (${parts})`;
    })));
  }
  lines.push(row('peak RSS, MB (per-process peaks)', results.map((result) => result.peakRss
    ? `**${fmt(result.peakRss.sumOfPeaksMb, 0)}** (${byName(result.peakRss.byProcess)})` : '–')));
  lines.push(row('peak PSS of the whole tree, MB (shared pages counted once)', results.map((result) => result.peakRss?.peakTreePssMb
    ? `**${fmt(result.peakRss.peakTreePssMb, 0)}**` : '–')));
  lines.push(row('idle CPU, % of a core', results.map((result) => fmt(result.idleCpuPercent))));
  lines.push(row('start-up to ready, s', results.map((result) => result.startupMs ? fmt(result.startupMs / 1000) : '–')));
  lines.push(row('upstream emulator CPU per request at the highest c, ms', results.map((result) => {
    const last = result.throughput.at(-1);
    return last?.cpu && last.ok ? fmt(last.cpu.emulatorMs / last.ok, 2) : '–';
  })));
  lines.push(row('load generator CPU per request at the highest c, ms', results.map((result) => {
    const last = result.throughput.at(-1);
    return last?.cpu && last.ok ? fmt(last.cpu.loadGeneratorMs / last.ok, 2) : '–';
  })));
  lines.push(row('other processes on the machine meanwhile, % of a core (sequential / c… / streaming)', results.map((result) =>
    [result.sequential, ...result.throughput, result.streaming].filter((phase) => phase?.cpu)
      .map((phase: Result) => fmt((phase.cpu.otherMs / phase.cpu.wallMs) * 100, 0)).join(' / '))));
  lines.push('');

  const floor = by('floor');
  // The audit minimum first: its ratio is the least the per-request audit costs over the floor.
  const variants = results.filter((result) => result.name === 'audit' || result.name.startsWith('zumik'));
  if (floor && variants.length > 0) {
    lines.push('**Over the floor** (difference, and ratio; the audit minimum is the floor plus only the per-request audit)', '');
    lines.push(`| | ${variants.map((result) => `${LABELS[result.name] ?? result.name} − floor | ratio`).join(' | ')} |`);
    lines.push(`|---|${variants.map(() => '---|---').join('|')}|`);
    const diff = (label: string, get: (r: Result) => number | undefined, unit = 'ms') => {
      const b = get(floor);
      lines.push(`| ${label} | ${variants.map((variant) => {
        const a = get(variant);
        if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)) return '– | –';
        return `${a - b >= 0 ? '+' : ''}${fmt(a - b)} ${unit} | ${b ? `${fmt(a / b, 2)}×` : '–'}`;
      }).join(' | ')} |`);
    };
    diff('sequential latency p50', (r) => r.sequential?.latencyMs.p50);
    diff('sequential latency p99', (r) => r.sequential?.latencyMs.p99);
    diff('time to first content p50', (r) => r.streaming?.ttftMs.p50);
    diff('time to first content p99', (r) => r.streaming?.ttftMs.p99);
    for (const [index, level] of (report.settings.concurrency as number[]).entries()) {
      diff(`throughput c=${level}`, (r) => r.throughput[index]?.rps, 'req/s');
      diff(`CPU per request c=${level}`, (r) => r.throughput[index]?.cpu.gatewayPerRequestMs ?? undefined);
    }
    diff('peak RSS (sum of per-process peaks)', (r) => r.peakRss?.sumOfPeaksMb, 'MB');
    diff('peak PSS of the whole tree', (r) => r.peakRss?.peakTreePssMb, 'MB');
    lines.push('');
  }

  const gateways = results.filter((result) => result.eager);
  if (gateways.length > 0) {
    lines.push('**Eager workflow start** (per workflow: `WorkflowExecutionStarted.eagerExecutionAccepted` in its history)', '');
    const phases: string[] = [...new Set(gateways.flatMap((result) => Object.keys(result.eager.byPhase)))];
    lines.push(`| | workflows / requests sent | eager accepted | ${phases.join(' | ')} | server counter: eager requested / denied | last workflow closed, s after the last phase |`);
    lines.push(`|---|---|---|${phases.map(() => '---').join('|')}|---|---|`);
    for (const result of gateways) {
      const eager = result.eager;
      const denied = eager.metrics ? Object.values(eager.metrics.denied as Record<string, number>).reduce((sum, value) => sum + value, 0) : undefined;
      lines.push(`| ${LABELS[result.name] ?? result.name} (\`${eager.workflowType}\`) | ${eager.workflows} / ${result.requestsSent} | `
        + `**${eager.eagerAccepted}/${eager.scanned} = ${pct(eager.share)}**${eager.scanComplete ? '' : ' (scan incomplete)'} | `
        + `${phases.map((name) => { const p = eager.byPhase[name]; return p && p.workflows ? pct(p.share) : '–'; }).join(' | ')} | `
        + `${eager.metrics ? `${eager.metrics.requested} / ${denied}${denied ? ` ${JSON.stringify(eager.metrics.denied)}` : ''}` : 'endpoint not found'} | `
        + `${fmt(eager.drainMs / 1000)} |`);
    }
    lines.push('');
  }

  const checked = results.filter((result) => result.records);
  if (checked.length > 0) {
    lines.push('**Records in Postgres** (`GET /v2/requests/{id}` for every closed workflow: served from the requests table once recorded)', '');
    for (const result of checked) {
      const kinds = Object.entries(result.records.byKind as Record<string, number>).sort((a, b) => b[1] - a[1]).map(([kind, count]) => `${kind} ${count}`).join(', ');
      lines.push(`- ${LABELS[result.name] ?? result.name}: ${result.records.checked} checked: ${kinds}`);
      for (const example of result.records.examples.slice(0, 3)) lines.push(`  - \`${String(example).replace(/`/g, "'")}\``);
    }
    lines.push('');
  }

  for (const result of results.filter((r) => r.timeline && r.timeline.events.length > 0)) {
    const timeline = result.timeline;
    lines.push(`**${LABELS[result.name] ?? result.name}: median workflow history** (last ${timeline.sampled} workflows of the sequential phase; `
      + `${timeline.sameShape} share the shape below; ms after WorkflowExecutionStarted, server clock)`, '');
    const rows: Array<[string, string, number]> = timeline.events.map((event: Result) => [String(event.index), event.type, event.medianMs]);
    if (timeline.client) {
      rows.push(['client', `request sent (bench clock, median of ${timeline.client.n})`, timeline.client.sentMs]);
      rows.push(['client', 'whole answer received', timeline.client.answeredMs]);
      rows.sort((a, b) => a[2] - b[2]);
    }
    lines.push('| # | event | median ms |', '|---|---|---|');
    for (const [index, type, ms] of rows) lines.push(`| ${index} | ${index === 'client' ? `*${type}*` : type} | ${fmt(ms)} |`);
    lines.push('');
  }

  for (const result of results.filter((r) => r.profiles && r.profiles.length > 0)) {
    lines.push(`**${LABELS[result.name] ?? result.name}: CPU profile** (\`node --cpu-prof\`, warm-up and c phases; self time, share of the thread's busy time)`, '');
    for (const thread of result.profiles) {
      lines.push(`*${thread.thread}* (${fmt(thread.sampledMs / 1000)} s sampled): `
        + thread.categories.filter((entry: Result) => entry.share >= 0.5).map((entry: Result) => `${entry.category} ${fmt(entry.share)} %`).join(' · '), '');
      lines.push('| function | where | self ms | % |', '|---|---|---|---|');
      for (const entry of thread.top.slice(0, 10)) lines.push(`| \`${entry.fn}\` | ${entry.where} | ${entry.ms} | ${fmt(entry.share)} |`);
      lines.push('');
    }
  }

  for (const result of results) {
    const phases = [result.sequential, ...result.throughput, result.streaming].filter(Boolean);
    const examples = [...new Set(phases.flatMap((phase: Result) => phase.errors.examples as string[]))];
    if (examples.length > 0) {
      lines.push(`**${LABELS[result.name] ?? result.name}: failures seen** (first distinct messages)`, '');
      for (const example of examples.slice(0, 8)) lines.push(`- \`${example.replace(/`/g, "'").replace(/\n/g, ' ')}\``);
      lines.push('');
    }
    for (const note of result.notes ?? []) lines.push(`- ${LABELS[result.name] ?? result.name}: ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Per-process peaks summed by process name (`node 411 + temporal 251 + postgres 9×: 74`). */
function byName(processes: Array<{ name: string; peakMb: number }>): string {
  const groups = new Map<string, { count: number; mb: number }>();
  for (const entry of processes) {
    const group = groups.get(entry.name) ?? { count: 0, mb: 0 };
    group.count += 1;
    group.mb += entry.peakMb;
    groups.set(entry.name, group);
  }
  return [...groups].map(([name, group]) => `${name}${group.count > 1 ? ` ${group.count}×:` : ''} ${fmt(group.mb, 0)}`).join(' + ');
}

/** Medians of the TTFT probe's stages per gateway (`node bench/probe/summarize.cjs [dir]`); see ttft-probe.cjs. */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dir = process.argv[2] || process.env.BENCH_PROBE_DIR || os.tmpdir();
const median = (values) => { const sorted = [...values].sort((a, b) => a - b); return sorted[Math.floor((sorted.length - 1) / 2)]; };
const stages = ['startCall', 'startReturned', 'startElu', 'upCreate', 'upHeaders', 'firstWrite', 'content', 'end'];
for (const file of fs.readdirSync(dir).filter((name) => /^probe-\d+\.jsonl$/.test(name))) {
  const [head, ...lines] = fs.readFileSync(path.join(dir, file), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  // The last 100 requests: the streaming phase when the bench ran it last.
  const requests = lines.filter((line) => line.content !== undefined).slice(-100);
  if (requests.length === 0) continue;
  const row = stages.map((stage) => {
    const values = requests.map((request) => request[stage]).filter((value) => typeof value === 'number');
    return `${stage} ${values.length ? median(values).toFixed(stage === 'startElu' ? 2 : 1) : '-'}`;
  });
  console.log(`${path.basename(path.dirname(head.gateway))}/${path.basename(head.gateway)} (n=${requests.length}): ${row.join(' · ')}`);
}

/**
 * Where a streamed request's time to first content goes, inside a gateway process. Loaded with
 * `BENCH_GATEWAY_REQUIRE=bench/probe/ttft-probe.cjs npm run bench` (the bench passes it to the gateways'
 * `node --require`); inert in any other process. For each POST it writes one JSON line to
 * `$BENCH_PROBE_DIR/probe-<pid>.jsonl` (default: the OS temp dir) with ms after the request reached the
 * HTTP server: `startCall`/`startReturned` (the Temporal start), `startElu` (the main thread's event-loop
 * utilisation during the start), `upCreate`/`upHeaders` (the upstream request created, its headers),
 * `firstWrite`, `content` (the first body write with non-empty `content`) and `end`. Sequential phases
 * only: it follows one request at a time. Summarise with `node bench/probe/summarize.cjs`.
 */
'use strict';
const isGateway = process.argv.some((arg) => /dist\/src\/main\.js$|floor\/server\.mjs$|audit-floor\/server\.mjs$/.test(arg));
if (isGateway) {
  const channels = require('node:diagnostics_channel');
  const fs = require('node:fs');
  const http = require('node:http');
  const os = require('node:os');
  const path = require('node:path');
  const { performance } = require('node:perf_hooks');
  const out = path.join(process.env.BENCH_PROBE_DIR || os.tmpdir(), `probe-${process.pid}.jsonl`);
  fs.writeFileSync(out, `${JSON.stringify({ gateway: process.argv[1] })}\n`);
  const now = () => performance.now();
  let current = null;
  let previous = null;
  channels.subscribe('http.server.request.start', ({ request, response }) => {
    if (request.method !== 'POST') return;
    current = { t0: now() };
    response.__probe = current;
  });
  channels.subscribe('undici:request:create', ({ request }) => {
    if (current && current.upCreate === undefined && String(request.path).includes('chat')) current.upCreate = now() - current.t0;
  });
  channels.subscribe('undici:request:headers', () => {
    if (current && current.upCreate !== undefined && current.upHeaders === undefined) current.upHeaders = now() - current.t0;
  });
  const write = http.ServerResponse.prototype.write;
  http.ServerResponse.prototype.write = function probedWrite(chunk, ...rest) {
    const probe = this.__probe;
    if (probe) {
      const at = now() - probe.t0;
      if (probe.firstWrite === undefined) probe.firstWrite = at;
      if (probe.content === undefined && /"content":"[^"]/.test(String(chunk))) {
        probe.content = at;
        // Written one request late, so that `end` is in it.
        if (previous) fs.appendFileSync(out, `${JSON.stringify(previous)}\n`);
        previous = probe;
      }
    }
    return write.call(this, chunk, ...rest);
  };
  const end = http.ServerResponse.prototype.end;
  http.ServerResponse.prototype.end = function probedEnd(...args) {
    const probe = this.__probe;
    if (probe && probe.end === undefined) probe.end = now() - probe.t0;
    return end.apply(this, args);
  };
  setImmediate(() => {
    try {
      const client = require(require.resolve('@temporalio/client', { paths: [process.cwd(), path.dirname(process.argv[1])] }));
      const start = client.WorkflowClient.prototype.start;
      client.WorkflowClient.prototype.start = async function probedStart(...args) {
        const probe = current;
        if (probe) probe.startCall = now() - probe.t0;
        const before = performance.eventLoopUtilization();
        try {
          return await start.apply(this, args);
        } finally {
          if (probe) {
            probe.startReturned = now() - probe.t0;
            probe.startElu = performance.eventLoopUtilization(before).utilization;
          }
        }
      };
    } catch (error) {
      fs.appendFileSync(out, `${JSON.stringify({ error: String(error) })}\n`);
    }
  });
}

#!/usr/bin/env node
// The audit minimum: the durable floor (../../../shared/floor) plus only what the per-request audit
// needs at the least (issue 16's estimate): four search attributes at start, the attempt's facts as a
// local-activity marker with a summary, a second local activity inserting one Postgres row, one upsert
// of four outcome attributes — 8 history events in one workflow task. No auth, validation, routing or
// decision. `npm run bench` runs it beside the floor and Zumik, so the distance between Zumik and this
// is what Zumik's own work costs beyond the audit, and the distance between this and the floor is the
// audit's price.   env: PORT, UPSTREAM, TEMPORAL_BIN, DATA_DIR, DATABASE_URL (an empty database)
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { request, Agent } from 'undici';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, Runtime } from '@temporalio/worker';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.PORT || 8791);
const { UPSTREAM, DATABASE_URL } = process.env;
const DATA_DIR = process.env.DATA_DIR || '/tmp';
const ATTRIBUTES = { ZumikTenant: 'Keyword', ZumikAlias: 'Keyword', ZumikRelease: 'Keyword', ZumikQosClass: 'Keyword',
  ZumikCompletion: 'Keyword', ZumikReasonCode: 'Keyword', ZumikProvider: 'Keyword', ZumikFallbackUsed: 'Bool' };
const keyword = (name) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);
const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const quiet = { log() {}, info() {}, warn() {}, debug() {}, trace() {}, error: (message) => console.error(message) };

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
await pool.query(`CREATE TABLE IF NOT EXISTS audit_requests (id text PRIMARY KEY, tenant text NOT NULL, alias text NOT NULL,
  attempt jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);

Runtime.install({ logger: quiet, shutdownSignals: [] });
const temporalPort = await freePort();
const dev = spawn(process.env.TEMPORAL_BIN || 'temporal', ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(temporalPort),
  '--db-filename', path.join(DATA_DIR, 'audit-temporal.db'), '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal',
  '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
  ...Object.entries(ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`])], { stdio: 'inherit' });
let connection;
for (let i = 0; ; i++) {
  try { connection = await NativeConnection.connect({ address: `127.0.0.1:${temporalPort}` }); await connection.workflowService.getSystemInfo({}); break; }
  catch (error) { if (i > 150) throw error; await new Promise((resolve) => setTimeout(resolve, 200)); }
}
const client = new Client({ connection });
const waiters = new Map();
const agent = new Agent({ connections: 256, pipelining: 1 });

async function callUpstream({ id, body }) {
  const startedAt = Date.now();
  const response = waiters.get(id);
  const upstream = await request(`${UPSTREAM}/v1/chat/completions`, { method: 'POST', dispatcher: agent, body,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-perf-floor' } });
  if (!response) { await upstream.body.dump(); return { status: upstream.statusCode, startedAt, endedAt: Date.now() }; }
  response.writeHead(upstream.statusCode, { 'content-type': upstream.headers['content-type'] || 'application/json' });
  let bytes = 0;
  let firstByteAt = null;
  for await (const chunk of upstream.body) { firstByteAt ??= Date.now(); bytes += chunk.length; response.write(chunk); }
  response.end();
  return { status: upstream.statusCode, bytes, provider: 'openai', startedAt, firstByteAt, endedAt: Date.now() };
}

async function record({ id, tenant, alias, attempt }) {
  await pool.query('INSERT INTO audit_requests (id, tenant, alias, attempt) VALUES ($1, $2, $3, $4)', [id, tenant, alias, JSON.stringify(attempt)]);
}

const taskQueue = 'audit';
const worker = await Worker.create({ connection, taskQueue, activities: { callUpstream, record },
  workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(HERE, 'workflows.mjs'), logger: quiet }),
  maxConcurrentWorkflowTaskExecutions: 200, maxConcurrentLocalActivityExecutions: 500 });
worker.run().catch((error) => { console.error(error); process.exit(1); });

let seq = 0;
const server = http.createServer((req, res) => {
  if (req.method !== 'POST') { res.writeHead(200).end('ok'); return; }
  const parts = [];
  req.on('data', (chunk) => parts.push(chunk));
  req.on('end', async () => {
    const id = `audit-${process.pid}-${seq++}`;
    const body = Buffer.concat(parts).toString();
    // The model name is the only field read, for the alias attribute and the summary (the floor reads none).
    const model = /"model"\s*:\s*"([^"]{1,200})"/.exec(body)?.[1] ?? 'unknown';
    waiters.set(id, res);
    res.on('close', () => waiters.delete(id));
    try {
      await client.workflow.start('chat', { taskQueue, workflowId: id, args: [{ id, body, model, tenant: 'bench' }], requestEagerStart: true,
        typedSearchAttributes: [
          { key: keyword('ZumikTenant'), value: 'bench' }, { key: keyword('ZumikAlias'), value: model },
          { key: keyword('ZumikRelease'), value: 'rel-bench' }, { key: keyword('ZumikQosClass'), value: 'standard' },
        ] });
    } catch (error) { waiters.delete(id); res.writeHead(502).end(String(error.message)); }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(PORT, '127.0.0.1', () => console.log(`audit minimum listening on ${PORT}, temporal on ${temporalPort}`));
const stop = async () => { server.close(); worker.shutdown(); dev.kill('SIGTERM'); await pool.end().catch(() => undefined); setTimeout(() => process.exit(0), 3000).unref(); };
process.on('SIGTERM', stop); process.on('SIGINT', stop);

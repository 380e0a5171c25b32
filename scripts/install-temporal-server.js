#!/usr/bin/env node
// Makes the full Temporal server and its SQL schema tool (v1.29.1, the server inside the CLI v1.5.1 dev
// server) available in the project's tool dir as `.tools/bin/temporal-server` and
// `.tools/bin/temporal-sql-tool`, built once with `go install` from the Go module proxy and reused after.
// Only `npm run bench:scale` needs them (a Temporal cluster on PostgreSQL): this is NOT part of
// `npm install`. The first build takes several minutes on 2 cores (TEMPORAL.md §1.0).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const VERSION = 'v1.29.1';
const PACKAGES = { 'temporal-server': 'go.temporal.io/server/cmd/server', 'temporal-sql-tool': 'go.temporal.io/server/cmd/tools/sql' };
const root = path.resolve(__dirname, '..');
const toolDir = process.env.ZUMIK_TOOL_DIR || path.join(root, '.tools', 'bin');

function works(binary, args) {
  return fs.existsSync(binary) && spawnSync(binary, args, { encoding: 'utf8' }).status === 0;
}

function main() {
  const wanted = Object.keys(PACKAGES).filter((name) => !works(path.join(toolDir, name), ['--help']));
  if (wanted.length === 0) return console.log(`temporal server: using ${path.relative(root, toolDir)}/{${Object.keys(PACKAGES).join(',')}}`);
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) {
    fail('Go (>= 1.25) is needed to build the Temporal server for bench:scale (go install from the module proxy).');
  }
  // go install names binaries after their package folder (`server`, `sql`): build into a scratch GOBIN, then rename.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-server-build-'));
  const modules = wanted.map((name) => `${PACKAGES[name]}@${VERSION}`);
  console.log(`temporal server: building ${modules.join(' ')} (several minutes the first time)…`);
  const started = Date.now();
  const build = spawnSync('go', ['install', ...modules], { stdio: 'inherit', env: { ...process.env, GOBIN: scratch } });
  if (build.status !== 0) fail(`go install failed (exit ${build.status})`);
  fs.mkdirSync(toolDir, { recursive: true });
  for (const name of wanted) {
    const built = path.join(scratch, path.basename(PACKAGES[name]));
    fs.copyFileSync(built, path.join(toolDir, name));
    fs.chmodSync(path.join(toolDir, name), 0o755);
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  console.log(`temporal server: built in ${Math.round((Date.now() - started) / 1000)} s into ${path.relative(root, toolDir)}`);
}

function fail(message) {
  console.error(`\nzumik: ${message}\n`);
  process.exit(1);
}

main();

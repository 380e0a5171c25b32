#!/usr/bin/env node
// Makes the `temporal` CLI (v1.5.1: dev server + Web UI) available, once and idempotently:
// found on PATH (or ZUMIK_TEMPORAL_BIN), else in the project's tool dir (.tools/bin), else built there
// with `go install` from the Go module proxy. No package registry ships the binary (DESIGN.md §1).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const VERSION = 'v1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@${VERSION}`;
const root = path.resolve(__dirname, '..');
const toolDir = path.join(root, '.tools', 'bin');
const inToolDir = path.join(toolDir, 'temporal');

function works(binary) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function onPath() {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, 'temporal');
    if (dir && fs.existsSync(candidate) && works(candidate)) return candidate;
  }
  return undefined;
}

function main() {
  if (process.env.ZUMIK_SKIP_TEMPORAL_INSTALL === '1') return;
  const explicit = process.env.ZUMIK_TEMPORAL_BIN;
  if (explicit) {
    if (works(explicit)) return console.log(`temporal: using ZUMIK_TEMPORAL_BIN=${explicit}`);
    fail(`ZUMIK_TEMPORAL_BIN=${explicit} does not run`);
  }
  const found = onPath();
  if (found) return console.log(`temporal: using ${found} (${works(found)})`);
  if (fs.existsSync(inToolDir) && works(inToolDir)) return console.log(`temporal: using ${path.relative(root, inToolDir)}`);

  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) {
    fail([
      'the Temporal CLI is not installed and Go is not available to build it.',
      `Either install Go >= 1.25 and run \`npm install\` again (it runs: GOBIN=${toolDir} go install ${MODULE}),`,
      'or put a `temporal` binary (CLI v1.5.1) on PATH, or set ZUMIK_TEMPORAL_BIN to its path.',
    ].join('\n  '));
  }
  console.log(`temporal: building ${MODULE} into ${path.relative(root, toolDir)} (first build takes about six minutes)…`);
  fs.mkdirSync(toolDir, { recursive: true });
  const started = Date.now();
  const build = spawnSync('go', ['install', MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: toolDir } });
  if (build.status !== 0 || !works(inToolDir)) fail(`go install ${MODULE} failed (exit ${build.status})`);
  console.log(`temporal: built in ${Math.round((Date.now() - started) / 1000)} s: ${works(inToolDir)}`);
}

function fail(message) {
  console.error(`\nzumik install: ${message}\n`);
  process.exit(1);
}

main();

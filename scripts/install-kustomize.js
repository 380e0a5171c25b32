#!/usr/bin/env node
// Makes `kustomize` (v5.7.1) available in the project's tool dir (.tools/bin/kustomize), built once with
// `go install` from the Go module proxy and reused after: what renders deploy/k8s/base for its test.
// Not part of `npm install`; CI (.ci/run) runs it, and test/deploy/kubernetes-manifests.test.ts uses it
// when present (and requires it when CI=true).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const MODULE = 'sigs.k8s.io/kustomize/kustomize/v5@v5.7.1';
const root = path.resolve(__dirname, '..');
const toolDir = process.env.ZUMIK_TOOL_DIR || path.join(root, '.tools', 'bin');
const binary = path.join(toolDir, 'kustomize');

if (fs.existsSync(binary) && spawnSync(binary, ['version'], { encoding: 'utf8' }).status === 0) {
  console.log(`kustomize: using ${path.relative(root, binary)}`);
} else {
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) {
    console.error('\nzumik: Go (>= 1.25) is needed to build kustomize (go install from the module proxy).\n');
    process.exit(1);
  }
  console.log(`kustomize: building ${MODULE} into ${path.relative(root, toolDir)} (a few minutes the first time)…`);
  fs.mkdirSync(toolDir, { recursive: true });
  const started = Date.now();
  const build = spawnSync('go', ['install', MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: toolDir } });
  if (build.status !== 0) {
    console.error(`\nzumik: go install ${MODULE} failed (exit ${build.status})\n`);
    process.exit(1);
  }
  console.log(`kustomize: built in ${Math.round((Date.now() - started) / 1000)} s`);
}

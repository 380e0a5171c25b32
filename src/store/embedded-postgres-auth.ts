/**
 * The embedded server's password. It listens on 127.0.0.1 only, but every local user can reach that
 * (on a shared development machine, every other engineer), and PostgreSQL's superuser can run
 * programs as the server's account (`COPY … TO PROGRAM`): with trust authentication that is anyone's
 * shell as the developer who started Zumik. So the cluster is created with scram-sha-256 and a random
 * password kept in `<data dir>/postgres.password`, readable by Zumik's own user only (outside the
 * server's directory, which its account owns). A cluster created with trust (before this file) is
 * converted at its next start.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';

/** The password in `file`, created on first use. */
export function serverPassword(file: string): string {
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // first start
  }
  const password = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Only TCP from this machine, and only with the password: the whole pg_hba.conf. */
const HBA = [
  '# Written by Zumik (src/store/embedded-postgres-auth.ts): loopback TCP with the password only.',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host all all ::1/128 scram-sha-256',
  '',
].join('\n');

/**
 * Converts a cluster that still trusts every local connection: sets the password (while trust still
 * lets Zumik in), then replaces pg_hba.conf and reloads. Safe to repeat, so an interrupted conversion
 * completes at the next start.
 */
export async function requirePassword(options: { pgdata: string; url: string; password: string; logger: Logger }): Promise<void> {
  const hbaFile = path.join(options.pgdata, 'pg_hba.conf');
  const trusting = fs.readFileSync(hbaFile, 'utf8').split('\n').some((line) => /^\s*[^#\s].*\btrust\s*$/.test(line));
  if (!trusting) return;
  const client = new Client({ connectionString: options.url });
  await client.connect();
  try {
    await client.query(`ALTER ROLE postgres PASSWORD '${options.password.replace(/'/g, "''")}'`); // DDL takes no parameters
    fs.writeFileSync(hbaFile, HBA); // keeps the file's owner (the server's account)
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
  options.logger.warn({ pgdata: options.pgdata }, 'embedded PostgreSQL: the cluster trusted every local connection; it now requires its password');
}

/**
 * initdb's arguments for a cluster that requires the password from the start; the password goes
 * through a file only initdb's account can read, removed by the returned function.
 */
export function initdbAuthArgs(password: string, scratchFile: string, account?: { uid: number; gid: number }): { args: string[]; cleanup: () => void } {
  fs.writeFileSync(scratchFile, `${password}\n`, { mode: 0o600 });
  if (account) fs.chownSync(scratchFile, account.uid, account.gid);
  return { args: ['--auth=scram-sha-256', `--pwfile=${scratchFile}`], cleanup: () => fs.rmSync(scratchFile, { force: true }) };
}

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root';

// The embedded database (a real PostgreSQL server Zumik starts in its data dir) in plain node processes
// running the built dist/, as `npm start` does: real servers, real kills, no mocks. When the tests run
// as root (CI), the server runs as `nobody`.
const DATABASE_JS = JSON.stringify(path.join(PROJECT_ROOT, 'dist', 'src', 'store', 'database.js'));

/** A node program that opens the embedded database on the data dir in argv[1] as `db`, then runs `body`; pino logs (errors only, by default) to stderr. */
function program(body: string, level = 'error'): string {
  return `
    const { openDatabase } = require(${DATABASE_JS});
    const pino = require('pino');
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    (async () => {
      const db = await openDatabase({ dataDir: process.argv[1], logger: pino({ level: '${level}' }, pino.destination(2)) });
      ${body}
    })().catch((error) => { console.error(error.message); process.exit(1); });`;
}

function run(body: string, dataDir: string, level?: string) {
  return spawnSync(process.execPath, ['-e', program(body, level), dataDir], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 90_000 });
}

function postmasterPid(dataDir: string): number {
  return Number(fs.readFileSync(path.join(dataDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe('openDatabase (embedded PostgreSQL server)', () => {
  let dataDir: string;
  beforeEach(() => { dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zumik-embedded-')); });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('answers concurrent parameterised queries and transactions correctly on its pool (three connections), in parallel backends', () => {
    // The request path mixes single statements and transactions; each must get its own answer (the PGlite
    // server it replaced interleaved the protocol messages of different connections and answered wrongly).
    const result = run(`
      const pool = db.pool;
      await pool.query('CREATE TABLE kv (k text PRIMARY KEY, v integer NOT NULL)');
      await pool.query("INSERT INTO kv SELECT 'key' || i, i FROM generate_series(1, 100) AS i");
      const backends = new Set();
      const shapes = [
        async (i) => { const key = (i % 100) + 1; const { rows } = await pool.query('SELECT v, pg_backend_pid() AS b FROM kv WHERE k = $1', ['key' + key]); backends.add(rows[0].b); return rows.length === 1 && rows[0].v === key; },
        async (i) => { const { rows } = await pool.query('SELECT $1::integer + $2::integer AS s, pg_sleep(0.001)', [i, 1]); return rows[0].s === i + 1; },
        async (i) => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await client.query('UPDATE kv SET v = v WHERE k = $1', ['key' + ((i % 100) + 1)]);
            const { rows } = await client.query('SELECT v FROM kv WHERE k = $1', ['key' + ((i % 100) + 1)]);
            await client.query('COMMIT');
            return rows.length === 1 && rows[0].v === (i % 100) + 1;
          } catch (error) { await client.query('ROLLBACK').catch(() => undefined); throw error; } finally { client.release(); }
        },
      ];
      let right = 0, wrong = 0, failed = 0;
      await Promise.all(Array.from({ length: 600 }, (_u, i) => shapes[i % shapes.length](i).then((ok) => { if (ok) right++; else wrong++; }, () => { failed++; })));
      process.stdout.write(JSON.stringify({ right, wrong, failed, pool: pool.options.max, parallel: backends.size > 1 }));
      await db.close();`, dataDir);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ right: 600, wrong: 0, failed: 0, pool: 3, parallel: true });
  }, 120_000);

  it('keeps its data when Zumik restarts on the same data dir', () => {
    const first = run(`await db.pool.query('CREATE TABLE kept (v text)'); await db.pool.query("INSERT INTO kept VALUES ('hello')"); await db.close();`, dataDir);
    expect(first.stderr).toBe('');
    expect(fs.existsSync(path.join(dataDir, 'postgres', 'data', 'postmaster.pid'))).toBe(false); // stopped, not left running
    const second = run(`process.stdout.write(JSON.stringify((await db.pool.query('SELECT v FROM kept')).rows)); await db.close();`, dataDir);
    expect(second.stderr).toBe('');
    expect(JSON.parse(second.stdout)).toEqual([{ v: 'hello' }]);
  }, 120_000);

  it('starts beside the PGlite data dir Zumik used before, says it is not read, and leaves it alone', () => {
    // PGlite kept its cluster in <data dir>/pgdata (a PG_VERSION of its own, files no server of ours may open).
    fs.mkdirSync(path.join(dataDir, 'pgdata', 'base'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'pgdata', 'PG_VERSION'), '17\n');
    const result = run(`process.stdout.write(String((await db.pool.query('SELECT 1 AS one')).rows[0].one)); await db.close();`, dataDir, 'warn');
    expect(result.stdout).toBe('1');
    expect(result.stderr).toContain('this is the data of the PGlite database Zumik used before');
    expect(fs.readFileSync(path.join(dataDir, 'pgdata', 'PG_VERSION'), 'utf8')).toBe('17\n');
  }, 120_000);

  it('stops the server a SIGKILLed Zumik left running, and starts on the same data with its own', () => {
    const killed = run(`await db.pool.query('CREATE TABLE kept (v text)'); await db.pool.query("INSERT INTO kept VALUES ('hello')"); process.kill(process.pid, 'SIGKILL');`, dataDir);
    expect(killed.signal).toBe('SIGKILL');
    const orphan = postmasterPid(dataDir);
    expect(alive(orphan)).toBe(true);
    const next = run(`process.stdout.write(JSON.stringify((await db.pool.query('SELECT v FROM kept')).rows)); await db.close();`, dataDir);
    expect(next.stderr).toBe('');
    expect(JSON.parse(next.stdout)).toEqual([{ v: 'hello' }]);
    expect(alive(orphan)).toBe(false);
  }, 120_000);

  it('starts when its lock file names a pid that now belongs to another process (pids are reused after a reboot)', () => {
    expect(run('await db.close();', dataDir).stderr).toBe('');
    // What a server killed with its machine leaves: a lock file naming a pid that is now another live process
    // of the server's own account (PostgreSQL alone refuses to start then).
    const id = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout);
    const serverAccount = process.getuid!() === 0 ? { uid: id('-u'), gid: id('-g') } : {};
    const stranger = spawn('sleep', ['120'], { stdio: 'ignore', ...serverAccount });
    try {
      const lockFile = path.join(dataDir, 'postgres', 'data', 'postmaster.pid');
      fs.writeFileSync(lockFile, `${stranger.pid}\n${path.join(dataDir, 'postgres', 'data')}\n`);
      const next = run(`process.stdout.write(String((await db.pool.query('SELECT 1 AS one')).rows[0].one)); await db.close();`, dataDir);
      expect(next.stderr).toBe('');
      expect(next.stdout).toBe('1');
      expect(alive(stranger.pid!)).toBe(true); // not stopped: it is not a server
    } finally {
      stranger.kill('SIGKILL');
    }
  }, 120_000);

  it('refuses a data dir whose server belongs to a Zumik that is still running, and leaves that one alone', async () => {
    const owner = spawn(process.execPath, ['-e', program(`
      process.stdout.write('ready\\n');
      process.stdin.resume();
      process.stdin.on('end', async () => { process.stdout.write(String((await db.pool.query('SELECT 2 AS two')).rows[0].two)); await db.close(); });`), dataDir],
    { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    owner.stdout.on('data', (data: Buffer) => { output += data.toString(); });
    owner.stderr.on('data', (data: Buffer) => { output += data.toString(); });
    const exited = new Promise<number | null>((resolve) => owner.once('exit', resolve));
    try {
      for (let waited = 0; !output.includes('ready') && waited < 60_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(output).toBe('ready\n');
      const second = run('await db.close();', dataDir);
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`is in use by another running Zumik (pid ${owner.pid})`);
      owner.stdin.end();
      expect(await exited).toBe(0);
      expect(output).toBe('ready\n2');
    } finally {
      owner.kill('SIGKILL');
    }
  }, 120_000);

  it('as root, names the directory its unprivileged server account cannot pass (as anyone else, just starts)', () => {
    fs.chmodSync(dataDir, 0o711);
    const closed = path.join(dataDir, 'private'); // like /root: drwx------
    fs.mkdirSync(closed, { mode: 0o700 });
    const result = run(`process.stdout.write(String((await db.pool.query('SELECT 1 AS one')).rows[0].one)); await db.close();`, path.join(closed, 'zumik'));
    if (process.getuid!() === 0) {
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`PostgreSQL runs as \`nobody\`, which cannot enter ${closed} (mode 700)`);
    } else {
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('1');
    }
  }, 120_000);

  it('lets in only who has its password (every local user can reach its port)', () => {
    const result = run(`
      const { Client } = require('pg');
      const url = new URL(db.pool.options.connectionString);
      const attempt = (password) => { const client = new Client({ host: url.hostname, port: Number(url.port), user: 'postgres', database: 'postgres', password });
        return client.connect().then(() => client.end()).then(() => 'in', (error) => error.message); };
      process.stdout.write(JSON.stringify({ wrong: await attempt('guess'), right: await attempt(decodeURIComponent(url.password)) }));
      await db.close();`, dataDir);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ wrong: 'password authentication failed for user "postgres"', right: 'in' });
    expect(fs.statSync(path.join(dataDir, 'postgres.password')).mode & 0o077).toBe(0);
  }, 120_000);

  it('converts a cluster that trusted every local connection (as clusters made before the password were)', () => {
    expect(run(`await db.pool.query('CREATE TABLE kept (v text)'); await db.pool.query("INSERT INTO kept VALUES ('hello')"); await db.close();`, dataDir).stderr).toBe('');
    const hba = path.join(dataDir, 'postgres', 'data', 'pg_hba.conf');
    fs.writeFileSync(hba, 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n');
    fs.rmSync(path.join(dataDir, 'postgres.password'));
    const next = run(`
      const { Client } = require('pg');
      const url = new URL(db.pool.options.connectionString);
      const client = new Client({ host: url.hostname, port: Number(url.port), user: 'postgres', database: 'postgres', password: 'guess' });
      const wrong = await client.connect().then(() => client.end()).then(() => 'in', (error) => error.message);
      process.stdout.write(JSON.stringify({ rows: (await db.pool.query('SELECT v FROM kept')).rows, wrong }));
      await db.close();`, dataDir);
    expect(next.stderr).toBe('');
    expect(JSON.parse(next.stdout)).toEqual({ rows: [{ v: 'hello' }], wrong: 'password authentication failed for user "postgres"' });
    expect(fs.readFileSync(hba, 'utf8')).not.toMatch(/trust\s*$/m);
  }, 120_000);

  it('says which file to restore when its password file was lost (instead of waiting for a server that will not let it in)', () => {
    expect(run('await db.close();', dataDir).stderr).toBe('');
    fs.rmSync(path.join(dataDir, 'postgres.password'));
    const next = run('await db.close();', dataDir);
    expect(next.status).toBe(1);
    expect(next.stderr).toContain(`embedded PostgreSQL refuses the password in ${path.join(dataDir, 'postgres.password')}`);
    expect(fs.existsSync(path.join(dataDir, 'postgres', 'data', 'postmaster.pid'))).toBe(false);
  }, 120_000);

  it('restarts a server that dies under it, and the pool answers again', () => {
    const result = run(`
      const before = Number(require('fs').readFileSync(require('path').join(process.argv[1], 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\\n')[0]);
      await db.pool.query('CREATE TABLE kept (v text)');
      await db.pool.query("INSERT INTO kept VALUES ('hello')");
      await sleep(1_000); // past synchronous_commit=off's window (3 × wal_writer_delay): the row is in the WAL on disk
      process.kill(before, 'SIGKILL'); // as the OOM killer would
      let rows;
      for (let waited = 0; !rows && waited < 60_000; waited += 200) {
        await sleep(200);
        rows = await db.pool.query('SELECT v FROM kept').then((result) => result.rows, () => undefined);
      }
      const after = Number(require('fs').readFileSync(require('path').join(process.argv[1], 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\\n')[0]);
      process.stdout.write(JSON.stringify({ rows, restarted: after !== before }));
      await db.close();`, dataDir);
    expect(JSON.parse(result.stdout)).toEqual({ rows: [{ v: 'hello' }], restarted: true });
    expect(result.stderr).toContain('embedded PostgreSQL exited unexpectedly; restarting it');
  }, 120_000);
});

/**
 * A Temporal dev server of a test's own (its own process group, SQLite file in `dataDir`), for tests
 * that kill and restart the engine: killing the suite's shared server would break other test files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { devServerArgs } from '../../src/temporal/dev-server';
import { findTemporalBinary } from '../../src/temporal/temporal-binary';
import { freeStablePorts } from './ports';

export class DedicatedTemporal {
  private child?: ChildProcess;
  private constructor(private readonly args: string[]) {}

  /** A server on free ports, not started yet. */
  static async create(dataDir: string): Promise<DedicatedTemporal> {
    // Restarted on the same port: one no outgoing connection can take meanwhile.
    const [port, uiPort] = await freeStablePorts(2);
    return new DedicatedTemporal(devServerArgs({ dataDir, port: port!, uiPort: uiPort!, namespace: 'default' }).concat('--headless'));
  }

  /** Start (or restart, on the same file and port) and wait until its frontend answers. */
  async start(): Promise<void> {
    const child = spawn(findTemporalBinary(process.env.ZUMIK_TEMPORAL_BIN), this.args, { detached: true, stdio: 'ignore' });
    this.child = child;
    for (let tries = 0; ; tries += 1) {
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1_000 });
        await connection.workflowService.getSystemInfo({});
        await connection.close();
        return;
      } catch (error) {
        if (tries > 150) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  get address(): string {
    return `127.0.0.1:${this.args[this.args.indexOf('--port') + 1]}`;
  }

  /** SIGKILL the server's process group (a crash) and wait for its exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    await exited;
  }
}

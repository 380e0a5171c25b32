import '../support/quiet-temporal';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createWorker } from '../../src/temporal/worker';

describe('a real workflow on the shared connection', () => {
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `eager-start-${process.pid}`;

  beforeAll(async () => {
    connection = await NativeConnection.connect({ address: process.env.ZUMIK_TEST_TEMPORAL_ADDRESS! });
    worker = await createWorker({
      connection, namespace: 'default', taskQueue, bundlePath: process.env.ZUMIK_TEST_WORKFLOW_BUNDLE,
      activities: createActivities({ workerIdentity: 'test-worker' }),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });

  it('starts probeWorkflow eagerly through the NativeConnection the worker shares, and it completes', async () => {
    const client = new Client({ connection });
    const handle = await client.workflow.start('probeWorkflow', {
      taskQueue, workflowId: `probe-test-${Date.now()}`, args: [], requestEagerStart: true, workflowTaskTimeout: '5s',
    });
    expect(handle.eagerlyStarted).toBe(true);
    await expect(handle.result()).resolves.toEqual({ worker: 'test-worker', activityAt: expect.any(String) });
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    // the activity ran as a local activity in the same worker: its marker is in the history
    const history = await handle.fetchHistory();
    expect(history.events?.some((event) => event.markerRecordedEventAttributes)).toBe(true);
  });
});

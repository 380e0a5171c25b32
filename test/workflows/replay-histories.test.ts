/**
 * Stored histories of every released shape of chatRequestWorkflow replay on today's workflow code:
 * requests in flight across an upgrade finish (a nondeterminism error here means they would be stuck).
 * `v2-*` are the lean shape's stream paths: a continuation (timer, regular attempt) and a hedge.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import '../support/quiet-temporal';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');

describe('chatRequestWorkflow replay of stored histories', () => {
  const files = fs.readdirSync(DIR).filter((file) => file.endsWith('.json')).sort();

  it('has histories of the first released shape (v1) to replay', () => {
    expect(files.filter((file) => file.startsWith('v1-')).length).toBeGreaterThanOrEqual(5);
  });

  it('has histories of the stream paths (a continuation after a cut, a hedged first token) to replay', () => {
    // Recorded by test/request-path/stream-resilience.test.ts with ZUMIK_RECORD_HISTORIES=1.
    expect(files).toEqual(expect.arrayContaining(['v2-stream-resume.json', 'v2-hedge.json']));
  });

  it('has a history of the bridge after a verified outage (the bridge-verified-outage patch) to replay', () => {
    // Recorded by test/request-path/contract-promises.test.ts with ZUMIK_RECORD_HISTORIES=1.
    expect(files).toContain('v3-bridge-verified-outage.json');
  });

  it('has a history of a stream handed over by a draining worker (worker_shutdown, continued at once) to replay', () => {
    // Recorded by test/multi-process/graceful-stop.test.ts with ZUMIK_RECORD_HISTORIES=1.
    expect(files).toContain('v3-worker-shutdown-handover.json');
  });

  it.each(files)('replays %s without a nondeterminism error', async (file) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.ZUMIK_TEST_WORKFLOW_BUNDLE! } }, history, file);
  });
});

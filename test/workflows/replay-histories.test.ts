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
import { circuitKey, circuitScope } from '../../src/domain/attempt-plan';
import type { ModelAliasRelease } from '../../src/domain/model-alias';
import { drawsCanary, planRequest } from '../../src/domain/request-planning';

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

  it('has a history of an embeddings batch line (decided in the workflow, the embeddings operation) to replay', () => {
    // Recorded by test/batch/batch-embeddings.test.ts with ZUMIK_RECORD_HISTORIES=1.
    expect(files).toContain('v3-batch-embeddings-line.json');
  });

  it('has histories of release routing (a canary split; a sticky session overflowing an unhealthy BYOC lane) to replay', () => {
    // Recorded by test/request-path/release-routing.test.ts with ZUMIK_RECORD_HISTORIES=1, with the releases they ran on.
    expect(files).toEqual(expect.arrayContaining(['v4-canary.json', 'v4-sticky-overflow.json']));
  });

  it.each(files.filter((file) => file.startsWith('v4-')))('reproduces the routing of %s from its release id and its recorded facts', (file) => {
    const history = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
    const payload = history.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString());
    const { decision } = input;
    // Releases are immutable: the id names the same targets for ever (the stored copy is what GET /v2/model-alias-releases/{id} answered).
    const release = JSON.parse(fs.readFileSync(path.join(DIR, 'releases', `${decision.release.id}.json`), 'utf8')) as ModelAliasRelease;
    expect(decision.routing.release_id).toBe(release.id);
    const skippedFor = (reason: string) => decision.skipped.filter((skip: { reason: string }) => skip.reason === reason);
    const planned = planRequest(input, {
      release, policy: decision.policy, regions: () => ['default'],
      openCircuits: new Set(skippedFor('circuit_open').map((skip: { targetIndex: number; provider: string; region: string; model: string }) =>
        circuitKey(skip.provider, skip.region, skip.model, circuitScope(release.targets[skip.targetIndex]!.execution_profile, input.tenantId)))),
      saturated: (provider) => skippedFor('lane_saturated').some((skip: { provider: string }) => skip.provider === provider),
      stickyKeyHash: decision.routing.sticky?.key_hash ?? null,
    });
    expect('plan' in planned && { plan: planned.plan, skipped: planned.skipped, ...planned.lane })
      .toEqual({ plan: decision.plan, skipped: decision.skipped, ...Object.fromEntries(['lane', 'overflow', 'overflow_reason', 'overflow_from']
        .filter((key) => decision.routing[key] !== undefined).map((key) => [key, decision.routing[key]])) });
    if (decision.routing.canary_weight !== undefined) {
      expect(drawsCanary(decision.routing.canary_key_hash ?? input.requestId, decision.routing.canary_weight)).toBe(decision.routing.canary);
    }
  });

  it('has a history of a replay run that continued as new (replayWorkflow, a sample past its page size) to replay', () => {
    // Recorded by test/replay/replay-gated-activation.test.ts with ZUMIK_RECORD_HISTORIES=1.
    expect(files).toContain('replay-v1-continue-as-new.json');
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

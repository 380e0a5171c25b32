/**
 * Circuits that recover, through the real request path (issue 15's scenario): the primary answers
 * 503 for 60 s and then is healthy again. The fallback must serve during the outage, at most the
 * allowed number of probes may reach the primary at a time, and the primary must be back in use
 * within 30 s of its recovery. Time is compressed: the deployment's own circuit defaults run 10×
 * faster (ZUMIK_CIRCUIT_*), so 60 s of outage is 6 s here and 30 s is 3 s.
 */
import { CircuitBreakerStore, DEFAULT_CIRCUIT_OPTIONS } from '../../src/store/circuit-breaker-store';
import type { ReceivedRequest } from '../emulators/emulator-kit';
import { startHarness, target, type Harness } from '../support/zumik-harness';
import {
  attemptSummary, chat, eventually, requestIdOf, resetCircuits, setPolicy, sleep, waitForRecorded, type TimedResponse,
} from './request-path-helpers';

const SCALE = 10;
const scaled = (ms: number) => Math.round(ms / SCALE);
const OUTAGE_MS = scaled(60_000);
const RECOVERY_BOUND_MS = scaled(30_000);
const CLIENTS = 4;
/** Every primary answer takes this long, so that probes sent at the same moment overlap at the emulator. */
const PRIMARY_LATENCY_MS = 150;
const PRIMARY_KEY = 'openai|default|gpt-4o-mini';

/** The most requests the emulator was serving at one moment, among those received at or after `since`. */
function maxOverlap(requests: readonly ReceivedRequest[], since: number): number {
  const edges = requests.filter((request) => request.receivedAt >= since)
    .flatMap((request) => [[request.receivedAt, 1], [request.endedAt ?? Number.MAX_SAFE_INTEGER, -1]] as const)
    .sort(([a, deltaA], [b, deltaB]) => a - b || deltaA - deltaB);
  let current = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, current += delta);
  return most;
}

describe('circuits on the request path', () => {
  let harness: Harness;
  let circuits: CircuitBreakerStore;

  beforeAll(async () => {
    harness = await startHarness({
      env: {
        ZUMIK_CIRCUIT_WINDOW_MS: String(scaled(DEFAULT_CIRCUIT_OPTIONS.windowMs)),
        ZUMIK_CIRCUIT_OPEN_MS: String(scaled(DEFAULT_CIRCUIT_OPTIONS.openMs)),
        ZUMIK_CIRCUIT_MAX_OPEN_MS: String(scaled(DEFAULT_CIRCUIT_OPTIONS.maxOpenMs)),
        ZUMIK_CIRCUIT_PROBE_TTL_MS: String(scaled(DEFAULT_CIRCUIT_OPTIONS.probeTtlMs)),
      },
    });
    circuits = new CircuitBreakerStore(harness.database.pool);
    await harness.installAlias('circuits.pair', [target('openai', 'gpt-4o-mini', 1), target('anthropic', 'claude-haiku-4-5', 0)]);
    await harness.installAlias('circuits.single', [target('openai', 'gpt-4o-mini', 1)]);
    await setPolicy(harness, {});
  }, 120_000);
  afterAll(async () => { await harness?.stop(); });
  beforeEach(async () => {
    harness.openai.reset();
    harness.anthropic.reset();
    harness.openai.options.latencyMs = 0;
    await resetCircuits(harness);
  });

  it('serves from the fallback during a 60 s outage, probes one at a time, and uses the primary again within 30 s of its recovery', async () => {
    harness.openai.options.latencyMs = PRIMARY_LATENCY_MS;
    const answers: Array<{ at: number; response: TimedResponse }> = [];
    let running = true;
    const client = async () => {
      while (running) {
        const response = await chat(harness, { model: 'circuits.pair' });
        answers.push({ at: Date.now(), response });
      }
    };

    const outageStartedAt = Date.now();
    harness.openai.startOutage({ kind: 'status', status: 503 });
    const clients = Array.from({ length: CLIENTS }, client);
    try {
      let openedAt = 0;
      await eventually(async () => {
        const record = (await circuits.list()).find((circuit) => circuit.key === PRIMARY_KEY);
        openedAt = record?.openedAt?.getTime() ?? 0;
        return record?.state === 'open';
      }, OUTAGE_MS, 'the primary\'s circuit to open');
      const during = (await harness.call('GET', '/v2/circuits')).body.data.find((circuit: any) => circuit.key === PRIMARY_KEY);
      expect(during).toMatchObject({ object: 'circuit', provider: 'openai', region: 'default', model: 'gpt-4o-mini', max_probes: 1 });
      expect(['open', 'half_open']).toContain(during.state);
      expect(during.failures).toBeGreaterThanOrEqual(DEFAULT_CIRCUIT_OPTIONS.failureThreshold);
      await sleep(outageStartedAt + OUTAGE_MS - Date.now());
      harness.openai.endOutage();
      const recoveredAt = Date.now();
      const callsDuringOutage = harness.openai.requests.filter((request) => request.receivedAt < recoveredAt);

      await eventually(() => answers.some(({ at, response }) => at > recoveredAt && response.headers.get('x-zumik-provider') === 'openai'),
        5 * RECOVERY_BOUND_MS, 'an answer from the primary after its recovery');
      const backAt = answers.find(({ at, response }) => at > recoveredAt && response.headers.get('x-zumik-provider') === 'openai')!.at;

      // Once open, the primary saw probes only, one at a time. Calls received after the opening count (with a
      // margin for a call let through just before it; the first probe comes a cool-down later).
      expect(maxOverlap(callsDuringOutage, openedAt + 50)).toBe(1);
      expect(backAt - recoveredAt).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
      // The probe that answered closes the circuit as its stream begins, in a write of its own: wait for it to land.
      const primary = async () => (await harness.call('GET', '/v2/circuits')).body.data.find((circuit: any) => circuit.key === PRIMARY_KEY);
      await eventually(async () => (await primary())?.state === 'closed', RECOVERY_BOUND_MS, 'the primary\'s circuit to close');
      expect(await primary()).toMatchObject({ state: 'closed', failures: 0, open_until: null, probes_in_flight: 0 });
    } finally {
      running = false;
      harness.openai.endOutage();
      await Promise.all(clients);
    }
    // The fallback answered everything the primary could not: no client saw an error.
    expect(answers.filter(({ response }) => response.status !== 200)).toEqual([]);
  }, 60_000);

  it('does not call a target whose circuit opened after the plan was made: the attempt is refused and recorded as circuit_open', async () => {
    harness.openai.options.latencyMs = 500;
    harness.openai.startOutage({ kind: 'status', status: 503 });
    const answer = chat(harness, { model: 'circuits.single' });
    // While the first attempt waits for its 503, another process sees the outage and opens the circuit for a minute.
    await eventually(() => harness.openai.requests.length === 1, 5_000, 'the first attempt to reach the primary');
    const elsewhere = new CircuitBreakerStore(harness.database.pool, { openMs: 60_000, maxOpenMs: 60_000 });
    for (let index = 0; index < DEFAULT_CIRCUIT_OPTIONS.failureThreshold; index++) await elsewhere.recordFailure(PRIMARY_KEY, 'upstream_unavailable');

    const response = await answer;

    // The retry of the same target is refused at call time: no second call, and the request ends as a plan with no target would.
    expect(harness.openai.requests).toHaveLength(1);
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('no_eligible_target');
    const outcome = await waitForRecorded(harness, requestIdOf(response));
    expect(outcome).toMatchObject({ completion: 'failed', reason_code: 'no_eligible_target' });
    expect(attemptSummary(outcome)).toEqual([['openai', 'failed', 'upstream_unavailable'], ['openai', 'failed', 'circuit_open']]);
    expect(outcome.attempts[1]).toMatchObject({ http_status: null, retry_cause: 'retry:upstream_unavailable' });
  });
});

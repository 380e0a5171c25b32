import type { AttemptRecord } from '../../src/domain/request-outcome';
import { HedgeRace } from '../../activities/hedge-race';

const record = (n: number, overrides: Partial<AttemptRecord> = {}): AttemptRecord => ({
  n, execution_profile: 'managed_provider', provider: n === 1 ? 'openai' : 'anthropic', model: 'm', model_revision: 'r', region: 'default',
  started_at: '2026-09-01T12:00:00.000Z', ended_at: '2026-09-01T12:00:01.000Z', latency_ms: 1_000, ttft_ms: null, status: 'succeeded',
  http_status: 200, failure_kind: null, retry_cause: null, service_tier: null, usage: null, ...overrides,
});

describe('HedgeRace', () => {
  it('lets the first lane with content claim the race and aborts the other at once', () => {
    const race = new HedgeRace();
    const first = race.lane(1, () => record(1));
    const second = race.lane(2, () => record(2));
    expect(race.claimed).toBe(false);
    expect(second.claim()).toBe(true);
    expect(first.signal.aborted).toBe(true);
    expect(second.signal.aborted).toBe(false);
    expect(first.claim()).toBe(false);
    expect([first.lost(), second.lost()]).toEqual([true, false]);
    expect(second.claim()).toBe(true); // the winner's later chunks keep their claim
  });

  it('gives the winner the other lanes\' records once they end', async () => {
    const race = new HedgeRace();
    const first = race.lane(1, () => record(1));
    race.lane(2, () => record(2));
    first.claim();
    const others = first.others();
    race.ended(2, record(2, { status: 'cancelled', failure_kind: 'hedge_lost' }));
    await expect(others).resolves.toEqual([expect.objectContaining({ n: 2, status: 'cancelled', failure_kind: 'hedge_lost' })]);
  });

  it('writes a hedge_lost record for a lane that does not report in time', async () => {
    jest.useFakeTimers();
    try {
      const race = new HedgeRace();
      const first = race.lane(1, () => record(1));
      race.lane(2, () => record(2, { status: 'failed' }));
      first.claim();
      const others = first.others();
      await jest.advanceTimersByTimeAsync(5_000);
      await expect(others).resolves.toEqual([expect.objectContaining({ n: 2, provider: 'anthropic', status: 'cancelled', failure_kind: 'hedge_lost' })]);
    } finally {
      jest.useRealTimers();
    }
  });
});

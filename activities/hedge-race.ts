/**
 * Hedged first token (README "Streams that survive their provider"): when the class's TTFT target
 * passes with no first token, the attempt starts the next eligible target beside the first, inside the
 * same activity (so a hedge costs the workflow no timer or extra task on the happy path). Each call is
 * a lane; the first lane to produce content claims the race, which aborts the others; only the
 * claiming lane publishes to the client. Every lane ends with its own attempt record.
 */
import { ApplicationFailure } from '@temporalio/common';
import { buildAttemptRecord } from '../src/domain/attempt-record';
import type { AttemptRecord } from '../src/domain/request-outcome';
import { PROVIDER_FAILURE_PREFIX, type RunAttemptInput, type RunAttemptResult } from './types';

/** One side of a hedge, as performAttempt sees it. */
export interface HedgeLane {
  readonly n: number;
  /** Aborted when another lane claims the race. */
  readonly signal: AbortSignal;
  /** Called at the first content: true when this lane is the winner (first to claim), false when another already is. */
  claim(): boolean;
  /** Another lane won. */
  lost(): boolean;
  /** The other lanes' records, once they have ended (the winner computes the outcome with them). */
  others(): Promise<AttemptRecord[]>;
}

/** How long a winner waits for an aborted lane to report its record before writing one for it. */
const LOSER_SETTLE_MS = 5_000;

export class HedgeRace {
  private winner?: number;
  private readonly lanes = new Map<number, {
    controller: AbortController; ended: Promise<AttemptRecord>; end: (record: AttemptRecord) => void; orphan: () => AttemptRecord;
  }>();

  /** A new side of the race; `orphan` describes it (cancelled, hedge_lost) should it never report its own record. */
  lane(n: number, orphan: () => AttemptRecord): HedgeLane {
    const controller = new AbortController();
    let end: (record: AttemptRecord) => void = () => undefined;
    const ended = new Promise<AttemptRecord>((resolve) => { end = resolve; });
    this.lanes.set(n, { controller, ended, end, orphan });
    return {
      n,
      signal: controller.signal,
      claim: () => this.claim(n),
      lost: () => this.winner !== undefined && this.winner !== n,
      others: () => Promise.all([...this.lanes].filter(([other]) => other !== n).map(([, lane]) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<AttemptRecord>((resolve) => {
          timer = setTimeout(() => resolve({ ...lane.orphan(), status: 'cancelled', failure_kind: 'hedge_lost' }), LOSER_SETTLE_MS);
        });
        return Promise.race([lane.ended, late]).finally(() => clearTimeout(timer));
      })),
    };
  }

  /** A lane ended (won, lost or failed): its record, for the winner's outcome. */
  ended(n: number, record: AttemptRecord): void {
    this.lanes.get(n)?.end(record);
  }

  get claimed(): boolean {
    return this.winner !== undefined;
  }

  private claim(n: number): boolean {
    if (this.winner !== undefined) return this.winner === n;
    this.winner = n;
    for (const [other, lane] of this.lanes) if (other !== n) lane.controller.abort();
    return true;
  }
}

type Settled = { ok: true; result: RunAttemptResult } | { ok: false; error: unknown; record?: AttemptRecord };

/**
 * Run `input` and, when it has no content after `hedge.afterMs`, `hedge.candidate` beside it (attempt
 * n + 1): the first with content wins and stops the other (HedgeRace). One side failing before any
 * content leaves the other to answer. When both fail, the failure thrown is the one that is not the
 * hedge's loss, with the other side's record in its details (the workflow records both).
 */
export async function runHedged(input: RunAttemptInput, hedge: NonNullable<RunAttemptInput['hedge']>,
  run: (call: RunAttemptInput, lane: HedgeLane) => Promise<RunAttemptResult>): Promise<RunAttemptResult> {
  const race = new HedgeRace();
  const start = (call: RunAttemptInput): Promise<Settled> => {
    const startedAt = Date.now();
    const orphan = () => buildAttemptRecord({ n: call.n, attempt: call.attempt, retryCause: call.retryCause, startedAt, endedAt: Date.now(), firstTokenAt: null },
      { status: 'cancelled', failure_kind: 'hedge_lost' });
    return run(call, race.lane(call.n, orphan)).then((result): Settled => {
      race.ended(call.n, result.attempt);
      return { ok: true, result };
    }, (error: unknown): Settled => {
      const record = failureRecord(error);
      race.ended(call.n, record ?? orphan());
      return { ok: false, error, record };
    });
  };
  const primary = start(input);
  let timer: NodeJS.Timeout | undefined;
  const due = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), hedge.afterMs); });
  const early = await Promise.race([primary, due]).finally(() => clearTimeout(timer));
  if (early || race.claimed) return unwrap(await primary);
  const second = start({ ...input, attempt: hedge.candidate, n: input.n + 1, retryCause: 'hedge:ttft', hedge: null, recovering: false });
  const [one, other] = await Promise.all([primary, second]);
  if (one.ok) return one.result;
  if (other.ok) return other.result;
  const [thrown, beside] = other.record?.failure_kind === 'hedge_lost' ? [one, other] : [other, one];
  if (!(thrown.error instanceof ApplicationFailure) || !beside.record) throw thrown.error;
  throw ApplicationFailure.create({
    type: thrown.error.type ?? undefined, message: thrown.error.message, nonRetryable: true, details: [thrown.record, [beside.record]],
  });
}

function unwrap(settled: Settled): RunAttemptResult {
  if (settled.ok) return settled.result;
  throw settled.error;
}

/** The attempt record an attempt's `Provider.<kind>` failure carries. */
function failureRecord(error: unknown): AttemptRecord | undefined {
  return error instanceof ApplicationFailure && error.type?.startsWith(PROVIDER_FAILURE_PREFIX) ? error.details?.[0] as AttemptRecord | undefined : undefined;
}

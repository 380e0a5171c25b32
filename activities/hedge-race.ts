/**
 * Hedged first token (README "Streams that survive their provider"): when the class's TTFT target
 * passes with no first token, the attempt starts the next eligible target beside the first, inside the
 * same activity (so a hedge costs the workflow no timer or extra task on the happy path). Each call is
 * a lane; the first lane to produce content claims the race, which aborts the others; only the
 * claiming lane publishes to the client. Every lane ends with its own attempt record.
 */
import type { AttemptRecord } from '../src/domain/request-outcome';

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
  private readonly lanes = new Map<number, { controller: AbortController; ended: Promise<AttemptRecord>; end: (record: AttemptRecord) => void }>();

  lane(n: number, orphanRecord: () => AttemptRecord): HedgeLane {
    const controller = new AbortController();
    let end: (record: AttemptRecord) => void = () => undefined;
    const ended = new Promise<AttemptRecord>((resolve) => { end = resolve; });
    this.lanes.set(n, { controller, ended, end });
    return {
      n,
      signal: controller.signal,
      claim: () => this.claim(n),
      lost: () => this.winner !== undefined && this.winner !== n,
      others: () => Promise.all([...this.lanes].filter(([other]) => other !== n).map(([other, lane]) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<AttemptRecord>((resolve) => {
          timer = setTimeout(() => resolve(orphanRecordFor(other)), LOSER_SETTLE_MS);
        });
        return Promise.race([lane.ended, late]).finally(() => clearTimeout(timer));
      })),
    };

    function orphanRecordFor(other: number): AttemptRecord {
      return { ...orphanRecord(), n: other, status: 'cancelled', failure_kind: 'hedge_lost' };
    }
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

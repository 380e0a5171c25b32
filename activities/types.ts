/** Inputs and results of the request-path activities (pure data: they land in workflow history; no secrets). */
import type { CapabilityManifest } from '../src/domain/capabilities';
import type { ModelAliasRelease } from '../src/domain/model-alias';
import type { PayloadRef } from '../src/domain/payload-ref';
import type { ReasonCode } from '../src/domain/reason-codes';
import type { PolicySnapshot } from '../src/domain/request-decision';
import type { AttemptRecord, ChatRequestInput, OutcomeFacts, PlannedAttempt, RequestOperation, RequestOutcome } from '../src/domain/request-outcome';
import type { ChatResult } from '../src/contract/chat';
import type { AttemptCall } from './attempt-core';

export type { PolicySnapshot } from '../src/domain/request-decision';

export interface Resolution {
  release: ModelAliasRelease | null;
  /** Regions per provider, preferred first. */
  regions: Record<string, string[]>;
  openCircuits: string[];
  promptTokens: number;
  manifest: CapabilityManifest;
}

export interface AdmitInput {
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  alias: string;
  qosClass: ChatRequestInput['qosClass'];
  body: ChatRequestInput['body'];
  /** false on the first call: a request may queue only when its policy allows. */
  retry: boolean;
}

export interface AdmitResult {
  state: 'admitted' | 'queued' | 'rejected';
  reason?: ReasonCode;
  position?: number;
  policy: PolicySnapshot;
  /** Present once admitted. */
  resolution?: Resolution;
}

/** The first released shape's attempt input (callProvider, kept for its histories in flight). */
export interface CallProviderInput extends Omit<AttemptCall, 'manifestRevision'> {
  /** What the activity needs to publish the provisional outcome with the answer. */
  facts: Omit<OutcomeFacts, 'attempts' | 'endedAt' | 'cancelled' | 'deadlineExpired' | 'bridged'> & { previousAttempts: AttemptRecord[] };
  manifest: CapabilityManifest;
}

export interface CallProviderResult {
  attempt: AttemptRecord;
  result: ChatResult;
}

export interface RecordOutcomeInput {
  outcome: RequestOutcome;
  apiKeyId: string;
  receivedAt: number;
  endedAt: number;
  /** Stored when the request keeps its answer (background, Idempotency-Key, batch line). */
  response?: Record<string, unknown>;
  /** The answer to keep when it was above the claim-check threshold (read back here, never carried in history). */
  responseRef?: PayloadRef;
  /** For a batch line: its result line goes to the batch's output or error file (not when cancelled: the batch decides). */
  batchLine?: ChatRequestInput['batchLine'];
  /** Free the request's admission lease or queue ticket in the same statement. */
  releaseLease?: boolean;
  /** Send the outcome to the waiting HTTP handler (a request that ended without an answer on the bus). */
  publish?: boolean;
  /** The fallback after a record that failed: every string made well-formed (lone surrogates and NUL become U+FFFD). */
  sanitize?: boolean;
}

/** One input line of a batch, as the batch workflow hands it to a child request. */
export interface BatchLineRef {
  lineIndex: number;
  customId: string;
  /** The line's body, or only its stub when `bodyRef` is set (a line above the claim-check threshold). */
  body: ChatRequestInput['body'];
  bodyRef?: PayloadRef;
  /** Set for an embeddings line (url `/v1/embeddings`): its child request runs that operation. */
  operation?: RequestOperation;
}

/** The failure type prefix an attempt's ApplicationFailure carries: `Provider.<kind>`. */
export const PROVIDER_FAILURE_PREFIX = 'Provider.';

/** The lean path's attempt: everything the outcome needs besides the attempt itself travels with it (small). */
export interface RunAttemptInput extends AttemptCall {
  request: AttemptCall['request'] & Pick<ChatRequestInput, 'apiKeyId' | 'batchLine' | 'keepResponse' | 'uiBaseUrl'>;
  facts: Pick<OutcomeFacts, 'release' | 'admission' | 'admittedAt' | 'targets' | 'routing'> & { previousAttempts: AttemptRecord[] };
  /** Release the admission lease with the record (one statement). */
  holdsLease: boolean;
  /** The first workflow task was lost with its worker: the request may already be answered and recorded. */
  recovering?: boolean;
  /**
   * Hedged first token: when no content came within `afterMs`, start `candidate` beside this attempt (as
   * attempt n + 1); the first with content wins. Absent: no hedge.
   */
  hedge?: { candidate: PlannedAttempt; afterMs: number } | null;
}

export interface RunAttemptResult {
  attempt: AttemptRecord;
  /** The request's outcome, computed once, here, with the answer; its `attempts` are the workflow's (sent empty). */
  outcome: RequestOutcome;
  /** False when the Postgres write failed: the workflow records it again (with `response` when it must be kept). */
  recorded: boolean;
  response?: Record<string, unknown>;
  /** The other attempts this activity ran (a hedge's loser, or a side that failed first), numbered beside `attempt`. */
  hedged?: AttemptRecord[];
  /** Instead of `response` when the answer is above the claim-check threshold. */
  responseRef?: PayloadRef;
}

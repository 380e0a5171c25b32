/** Inputs and results of the request-path activities (pure data: they land in workflow history; no secrets). */
import type { CapabilityManifest } from '../src/domain/capabilities';
import type { ModelAliasRelease } from '../src/domain/model-alias';
import type { QosProfile } from '../src/domain/qos';
import type { ReasonCode } from '../src/domain/reason-codes';
import type { AttemptRecord, ChatRequestInput, OutcomeFacts, PlannedAttempt, RequestOutcome } from '../src/domain/request-outcome';
import type { RetryPolicy } from '../src/domain/retry-decision';
import type { ChatResult } from '../src/providers/types';

/** The tenant policy as the workflow needs it for one request. */
export interface PolicySnapshot {
  qos: QosProfile;
  retry: RetryPolicy;
  allowBrokered: boolean;
  flexFallbackToStandard: boolean;
  leaseMs: number;
}

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

export interface CallProviderInput {
  request: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'alias' | 'qosClass' | 'stream' | 'body' | 'receivedAt' | 'deadlineAt' | 'delivery'>;
  attempt: PlannedAttempt;
  n: number;
  retryCause: string | null;
  timeouts: { firstTokenMs: number; stallMs: number };
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
  /** Stored only for background requests. */
  response?: Record<string, unknown>;
  /** For a batch line: its result line goes to the batch's output or error file (not when cancelled: the batch decides). */
  batchLine?: ChatRequestInput['batchLine'];
}

/** One input line of a batch, as the batch workflow hands it to a child request. */
export interface BatchLineRef {
  lineIndex: number;
  customId: string;
  body: ChatRequestInput['body'];
}

/** The failure type prefix an attempt's ApplicationFailure carries: `Provider.<kind>`. */
export const PROVIDER_FAILURE_PREFIX = 'Provider.';

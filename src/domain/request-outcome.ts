/**
 * The shapes of one chat request's life: the workflow input, each attempt's record and the QoS
 * outcome (DESIGN.md §3 "The QoS outcome"). Pure data: safe for workflows, history and Postgres.
 * Nothing here ever holds a credential.
 */
import type { ChatRequest, ChatUsage, ProviderWarning } from '../contract/chat';
import type { FailureKind } from './failure-kinds';
import type { CostReason } from './price-manifest';
import type { PayloadRef } from './payload-ref';
import type { ExecutionProfile, ModelAliasRelease, TargetCoverage } from './model-alias';
import type { QosClass } from './qos';
import type { RequestDecision } from './request-decision';
import type { ReasonCode } from './reason-codes';

export type Admission = 'admitted' | 'queued' | 'rejected' | 'expired_before_start';
export type Completion = 'completed' | 'failed' | 'cancelled' | 'expired_during_execution';

/** The input of chatRequestWorkflow. */
export interface ChatRequestInput {
  /** `chatcmpl-…`: the public id of the answer, whichever attempt serves it. */
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  alias: string;
  qosClass: QosClass;
  /** Epoch ms when the front door received the request. */
  receivedAt: number;
  /** Epoch ms after which the request must not run (from QoS class or `x-zumik-deadline-ms`). */
  deadlineAt: number;
  stream: boolean;
  /** The OpenAI body as the client sent it (model = alias); only its stub when `bodyRef` is set. */
  body: ChatRequest;
  /** A body above the claim-check threshold: stored in Postgres, read by the activities that need it. */
  bodyRef?: PayloadRef;
  /** Where the answer is delivered: `sync` (a waiting HTTP handler on the StreamBus) or `background` (polled). */
  delivery: 'sync' | 'background';
  /** The batch line this request is, when it runs inside a batch: its result line is recorded once per custom_id. */
  batchLine?: { batchId: string; customId: string; lineIndex: number };
  /** Base URL of the Temporal Web UI, for the outcome's `workflow.ui_url`. */
  uiBaseUrl?: string | null;
  /**
   * What the front door decided before starting the workflow (release, plan, policy, admission). Absent
   * for a batch line (its first local activity decides) and in histories of the first released shape.
   */
  decision?: RequestDecision;
  /** No front door decided: the workflow decides in its first local activity (a batch line). */
  decideInWorkflow?: boolean;
  /** Epoch ms when the decision was made (queued_ms for a request that did not queue). */
  decidedAt?: number;
  /** Keep the answer in Postgres (an Idempotency-Key replay, a background poll, a batch line reads it back). */
  keepResponse?: boolean;
  /** Admission polls per workflow run before a queued request continues-as-new (default QUEUE_POLLS_PER_RUN; tests set it small). */
  queuePollsPerRun?: number;
  /** A queued request's wait, carried into the next run by continue-as-new. */
  queueWait?: { position?: number; delay: number; runs: number };
  /** What the attempts do: absent is a chat completion; `embeddings` carries an EmbeddingsRequest as `body` (request-operation.ts). */
  operation?: RequestOperation;
  /** The front door the request came through (shown in its outcome); absent in older histories. */
  ingress?: Ingress;
  /** `model: "alias@alr_…"`: the release the client pinned (`alias` is then the bare alias). */
  pinnedReleaseId?: string;
}

/** What a request's attempts call: the adapter's chat completion (absent) or its embeddings. */
export type RequestOperation = 'embeddings';

/** The wire format a request arrived in: its outcome says which front door served the client. */
export type Ingress = 'openai_chat' | 'anthropic_messages' | 'openai_embeddings' | 'openai_responses';

/**
 * A queued request's admission polls per workflow run (each costs about six history events) before it
 * continues-as-new: a long queue never nears Temporal's 51,200-event history limit.
 */
export const QUEUE_POLLS_PER_RUN = 1_000;

/** One target of the plan: which release target, in which region. */
export interface PlannedAttempt {
  targetIndex: number;
  execution_profile: ExecutionProfile;
  provider: string;
  model: string;
  model_revision: string;
  region: string;
  /** Why this candidate is in the plan: the weighted pick, a failover, a weight-0 standby, or the bridge. */
  role: 'primary' | 'failover' | 'standby' | 'bridge';
  /** The bridge only: the verified total outage that let it run (src/domain/outage-bridge.ts). */
  verified_outage?: OutageEvidence[];
  /** A broader-coverage target (its release target's `coverage`): a model outside the capability manifest, through Bifrost. */
  coverage?: TargetCoverage;
}

/** One target and region of a verified outage, and how it failed (`circuit_open`: skipped, its circuit open). */
export interface OutageEvidence {
  provider: string;
  model: string;
  region: string;
  failure_kind: FailureKind;
}

export interface AttemptRecord {
  n: number;
  execution_profile: ExecutionProfile;
  provider: string;
  model: string;
  model_revision: string;
  region: string;
  started_at: string;
  ended_at: string;
  latency_ms: number;
  ttft_ms: number | null;
  status: 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
  http_status: number | null;
  failure_kind: FailureKind | null;
  /** Why this attempt happened: null for the first, else what made the previous one fail (`retry`/`failover` + kind). */
  retry_cause: string | null;
  service_tier: string | null;
  usage: ChatUsage | null;
  /** The provider's name for the model that served (e.g. a dated snapshot). */
  served_model?: string | null;
  /** True when the stream had delivered content before the failure. */
  after_first_token?: boolean;
  retry_after_ms?: number | null;
  /**
   * Set on an attempt that continued a broken stream: which attempt's text it continued, from which
   * offset (characters and chunks the client already had), and how (`prefill`: the delivered text as a
   * trailing assistant message; `regenerate`: the answer asked for again, only what follows the
   * delivered prefix sent on).
   */
  continuation?: { from_attempt: number; offset_chars: number; offset_chunks: number; mode: 'prefill' | 'regenerate' } | null;
  /** Stream events that were not valid JSON and were skipped (the rest of the stream was valid). */
  malformed_events?: number;
  /** This attempt's cost in USD at the outcome's `price_manifest_revision` (null: no usage, or no price); set when the outcome is costed. */
  cost_usd?: number | null;
  /** Set when a managed target was served through the Bifrost deployment (ZUMIK_PROVIDERS_FILE `bifrost`); `provider` stays the real one. */
  via?: 'bifrost';
  /**
   * `bifrost_broader`: the target's model is outside the capability manifest, served through Bifrost under the
   * tenant policy's allow_bifrost_broader_coverage: conservative capabilities, and no price (cost_usd null).
   */
  coverage?: TargetCoverage;
  /** The bridge's attempt only: which targets and regions failed, and how, before it ran. */
  verified_outage?: OutageEvidence[];
  /**
   * What this target could not do as asked, set only when there is something: a setting it has no
   * equivalent for and that was left out (`unsupported-setting`), or one served approximately
   * (`approximated-setting`). Nothing the client sent is dropped without a word.
   */
  warnings?: ProviderWarning[];
}

/** The attempt that served the request (the last one that succeeded), else the last attempt; undefined without any. */
export function servingAttempt(outcome: Pick<RequestOutcome, 'attempts'>): AttemptRecord | undefined {
  return outcome.attempts.findLast((attempt) => attempt.status === 'succeeded') ?? outcome.attempts.at(-1);
}

export interface RequestOutcome {
  id: string;
  object: 'request_outcome';
  tenant: string;
  alias: string;
  release_id: string | null;
  qos_class: QosClass;
  admission: Admission;
  completion: Completion | null;
  target_met: boolean;
  degraded: boolean;
  fallback_used: boolean;
  reason_code: ReasonCode;
  timing: { queued_ms: number; ttft_ms: number | null; total_ms: number };
  attempts: AttemptRecord[];
  usage: ChatUsage | null;
  cost_usd: number | null;
  /** Why `cost_usd` is null (`no_usage`, `unpriced_model`); null when the cost is known. Absent in outcomes recorded before issue 14. */
  cost_reason?: CostReason | null;
  /** The price manifest revision the cost was computed with (`price_builtin`, `price_…`): the cost is reproducible from it. */
  price_manifest_revision?: string | null;
  /** Answered from the exact-match response cache: no provider was called (`attempts` is empty, `cost_usd` 0). */
  cache_hit?: boolean;
  /** Admitted past a soft budget that was already spent (the request ran; the budget alert counted it). */
  budget_soft_exceeded?: boolean;
  /** null for a request refused at the front door: no workflow was started for it. */
  workflow: WorkflowRef | null;
  /** The front door the request came through (absent for requests recorded before it was kept). */
  ingress?: Ingress;
  /** The OpenTelemetry trace the request ran in (W3C trace id, 32 hex digits), recorded when tracing is on. */
  trace_id?: string;
  /** How the release and the first target were chosen (absent for requests recorded before it was kept). */
  routing?: RoutingRecord;
}

/**
 * How the front door chose the release and the first target of a request: recorded in the workflow
 * input (the decision) and in the outcome, so the plan is reproducible from the release id and these
 * facts. Hashes only: neither a session id nor prompt text is ever kept here.
 */
export interface RoutingRecord {
  /** The release that served: the live one, the canary's candidate, or the pinned one. */
  release_id: string;
  /** `model: "alias@alr_…"` named the release. */
  pinned: boolean;
  /** The alias had a canary and this request drew its candidate release. */
  canary: boolean;
  /** With a canary: the alias's live release (the other side of the split) and the candidate's percent. */
  live_release_id?: string;
  canary_weight?: number;
  /** The sticky key hash the canary draw was seeded with (a sticky live release); absent: the request id seeded it. */
  canary_key_hash?: string;
  /** Sticky releases: what the key came from and its hash (null when the request carried no session header). */
  sticky?: { by: 'session' | 'prefix'; key_hash: string | null };
  /** Where the plan's first attempt goes: a BYOC / reserved-capacity lane, or a managed (or BYOK) provider. */
  lane: 'byoc' | 'managed';
  /** The weighted (or sticky) pick was a BYOC lane that could not take the request, so a later target comes first. */
  overflow: boolean;
  overflow_reason?: 'circuit_open' | 'lane_saturated' | 'no_credentials' | 'context_window';
  /** The BYOC lane the pick chose before it overflowed. */
  overflow_from?: string;
}

export interface WorkflowRef {
  id: string;
  run_id: string;
  ui_url: string | null;
}

/** What the workflow knows when the request ends; `computeOutcome` turns it into a RequestOutcome. */
export interface OutcomeFacts {
  input: Pick<ChatRequestInput, 'requestId' | 'tenantId' | 'alias' | 'qosClass' | 'receivedAt' | 'deadlineAt' | 'stream' | 'ingress'> & {
    /** The `service_tier` the client asked for (body.service_tier): a lower served tier makes the outcome degraded. */
    requestedServiceTier?: string;
  };
  release: Pick<ModelAliasRelease, 'id' | 'capability_manifest_revision'> | null;
  admission: Admission;
  /** Set when the request was refused before any attempt (admission, unknown alias, no target). */
  refusal?: ReasonCode;
  /** Epoch ms when admission succeeded (queued_ms = admittedAt - receivedAt). */
  admittedAt: number | null;
  attempts: AttemptRecord[];
  /** Epoch ms when the request ended. */
  endedAt: number;
  cancelled: boolean;
  /** The deadline fired during execution. */
  deadlineExpired: boolean;
  /** The winning attempt came from the OpenRouter bridge. */
  bridged: boolean;
  targets: { ttftTargetMs: number; totalTargetMs: number };
  workflow: WorkflowRef | null;
  /** How the release and the first target were chosen (the decision's; absent in older histories). */
  routing?: RoutingRecord;
}

/** What chatRequestWorkflow returns: the outcome it recorded and, when it completed, the answer. */
export interface ChatRequestResult {
  outcome: RequestOutcome;
  /**
   * The OpenAI `chat.completion` body, in histories of the first released shape only: the answer now
   * travels on the StreamBus, and is kept in Postgres when the request asked for it (keepResponse).
   */
  response: Record<string, unknown> | null;
}

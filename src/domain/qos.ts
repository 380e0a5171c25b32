/**
 * QoS classes and their documented defaults (README "QoS classes"). A tenant policy may override any
 * field. Deadlines bound the whole request; targets decide `target_met`; timeouts bound each attempt.
 */
export const QOS_CLASSES = ['interactive', 'standard', 'flex', 'batch'] as const;
export type QosClass = (typeof QOS_CLASSES)[number];

export interface QosProfile {
  /** Whole-request deadline from receipt (queueing + every attempt + backoff). */
  deadlineMs: number;
  /** Longest a request may wait in the admission queue before `expired_before_start`. */
  maxQueueWaitMs: number;
  /** Time-to-first-token target (streams) used for `target_met`. */
  ttftTargetMs: number;
  /** Total-latency target used for `target_met`. */
  totalTargetMs: number;
  /** Per-attempt: no first token within this → timeout, fail over. */
  firstTokenTimeoutMs: number;
  /** Per-attempt: no bytes mid-stream for this long → stream_stalled. */
  stallTimeoutMs: number;
  /** Temporal priority key, 1 (highest) … 5. */
  priority: number;
}

export const DEFAULT_QOS: Record<QosClass, QosProfile> = {
  interactive: { deadlineMs: 60_000, maxQueueWaitMs: 2_000, ttftTargetMs: 2_000, totalTargetMs: 30_000, firstTokenTimeoutMs: 15_000, stallTimeoutMs: 15_000, priority: 1 },
  standard: { deadlineMs: 300_000, maxQueueWaitMs: 30_000, ttftTargetMs: 10_000, totalTargetMs: 120_000, firstTokenTimeoutMs: 60_000, stallTimeoutMs: 30_000, priority: 3 },
  flex: { deadlineMs: 3_600_000, maxQueueWaitMs: 1_800_000, ttftTargetMs: 600_000, totalTargetMs: 1_800_000, firstTokenTimeoutMs: 300_000, stallTimeoutMs: 60_000, priority: 4 },
  batch: { deadlineMs: 86_400_000, maxQueueWaitMs: 43_200_000, ttftTargetMs: 3_600_000, totalTargetMs: 43_200_000, firstTokenTimeoutMs: 300_000, stallTimeoutMs: 60_000, priority: 5 },
};

export function qosProfile(qosClass: QosClass, overrides?: Partial<Record<QosClass, Partial<QosProfile>>>): QosProfile {
  return { ...DEFAULT_QOS[qosClass], ...overrides?.[qosClass] };
}

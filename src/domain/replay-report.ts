/**
 * A replay's report (README "Replay"): from the per-request results, the numbers (success rate, TTFT and
 * latency percentiles, tokens, cost, agreement) and each threshold of the tenant's policy judged pass or
 * fail; the verdict passes only when every threshold does. Pure.
 */
import type { TenantPolicy } from './tenant-policy';

/** What one replayed request came to (stored per item, never in workflow history). */
export interface ReplayItemResult {
  ok: boolean;
  /** The failure kind when the candidate did not answer. */
  failure_kind: string | null;
  ttft_ms: number | null;
  latency_ms: number;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  cost_usd: number | null;
  /** The candidate's answer is identical to the one served. */
  exact: boolean;
  /** The replay's similarity between the two answers (null when the candidate did not answer). */
  similarity: number | null;
  finish_reason: string | null;
  served_finish_reason: string | null;
}

export type ReplayThresholds = TenantPolicy['replay'];

export interface ThresholdCheck {
  name: 'min_sample' | 'min_success_rate' | 'min_agreement' | 'min_exact_match_rate' | 'max_p95_ttft_ms' | 'max_p95_latency_ms';
  threshold: number;
  /** null when there was nothing to measure (no successful answer): the check fails. */
  value: number | null;
  pass: boolean;
}

export interface ReplayReport {
  count: number;
  succeeded: number;
  failed: number;
  success_rate: number | null;
  failure_kinds: Record<string, number>;
  ttft_ms: { p50: number | null; p95: number | null };
  latency_ms: { p50: number | null; p95: number | null };
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** Summed over priced answers; null when no answer could be priced. */
  cost_usd: number | null;
  agreement: { similarity: string; exact_match_rate: number | null; mean_similarity: number | null };
  checks: ThresholdCheck[];
  verdict: 'pass' | 'fail';
}

/** The nearest-rank percentile of a list of numbers (null for an empty list). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (value: number | null, digits = 4) => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);
const mean = (values: readonly number[]) => (values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length);

export function replayReport(items: readonly ReplayItemResult[], similarity: string, thresholds: ReplayThresholds): ReplayReport {
  const answered = items.filter((item) => item.ok);
  const failureKinds: Record<string, number> = {};
  for (const item of items) if (!item.ok) failureKinds[item.failure_kind ?? 'unknown'] = (failureKinds[item.failure_kind ?? 'unknown'] ?? 0) + 1;
  const ttfts = answered.map((item) => item.ttft_ms).filter((value): value is number => value !== null);
  const latencies = answered.map((item) => item.latency_ms);
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const item of answered) {
    usage.prompt_tokens += item.usage?.prompt_tokens ?? 0;
    usage.completion_tokens += item.usage?.completion_tokens ?? 0;
    usage.total_tokens += item.usage?.total_tokens ?? 0;
  }
  const costs = items.map((item) => item.cost_usd).filter((value): value is number => value !== null);
  const successRate = items.length === 0 ? null : answered.length / items.length;
  const exactRate = answered.length === 0 ? null : answered.filter((item) => item.exact).length / answered.length;
  const meanSimilarity = mean(answered.map((item) => item.similarity ?? 0));
  const p95Ttft = percentile(ttfts, 95);
  const p95Latency = percentile(latencies, 95);

  const checks: ThresholdCheck[] = [];
  const atLeast = (name: ThresholdCheck['name'], threshold: number | undefined, value: number | null) => {
    if (threshold !== undefined) checks.push({ name, threshold, value: round(value), pass: value !== null && value >= threshold });
  };
  const atMost = (name: ThresholdCheck['name'], threshold: number | undefined, value: number | null) => {
    if (threshold !== undefined) checks.push({ name, threshold, value, pass: value !== null && value <= threshold });
  };
  atLeast('min_sample', thresholds.min_sample, items.length);
  atLeast('min_success_rate', thresholds.min_success_rate, successRate);
  atLeast('min_agreement', thresholds.min_agreement, meanSimilarity);
  atLeast('min_exact_match_rate', thresholds.min_exact_match_rate, exactRate);
  atMost('max_p95_ttft_ms', thresholds.max_p95_ttft_ms, p95Ttft);
  atMost('max_p95_latency_ms', thresholds.max_p95_latency_ms, p95Latency);

  return {
    count: items.length, succeeded: answered.length, failed: items.length - answered.length, success_rate: round(successRate),
    failure_kinds: failureKinds,
    ttft_ms: { p50: percentile(ttfts, 50), p95: p95Ttft },
    latency_ms: { p50: percentile(latencies, 50), p95: p95Latency },
    usage, cost_usd: costs.length === 0 ? null : Math.round(costs.reduce((sum, value) => sum + value, 0) * 1e8) / 1e8,
    agreement: { similarity, exact_match_rate: round(exactRate), mean_similarity: round(meanSimilarity) },
    checks, verdict: checks.every((check) => check.pass) ? 'pass' : 'fail',
  };
}

/** The names of a report's failing checks, for the activation refusal's message. */
export function failingChecks(report: Pick<ReplayReport, 'checks'>): string[] {
  return report.checks.filter((check) => !check.pass).map((check) => `${check.name} (${check.value ?? 'n/a'} against ${check.threshold})`);
}

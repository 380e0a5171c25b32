/**
 * Zumik's Prometheus metrics (prom-client, its own registry): every series is derived from a request's
 * finished outcome (`observeOutcome`), so the request path does no extra work until the outcome
 * exists, and the same code counts a front-door refusal and a workflow's recorded outcome. Gauges that
 * need shared state (queue depth, circuit states) are read at scrape time, never on a request.
 *
 * Label cardinality is bounded: no request ids; tenant, alias and provider values are capped
 * (`LabelCap`: the first N distinct values keep their name, later ones read `other`).
 * Which process counts what: the process that records the outcome (the worker for workflow outcomes,
 * the API for refusals at the front door). In split roles each process exposes its own /metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Budget } from '../domain/budget';
import type { RequestOutcome } from '../domain/request-outcome';

/** Seconds: from a 5 ms cache hit to a 5 min flex request. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds: Zumik's own share is milliseconds; anything above a second is a problem worth seeing. */
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The value itself for the first `max` distinct values seen, `other` afterwards (bounded label cardinality). */
export class LabelCap {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  value(raw: string | null | undefined): string {
    const value = raw === null || raw === undefined || raw === '' ? 'none' : raw;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}

export interface ScrapeSources {
  /** Tickets waiting for admission, by QoS priority or in total. */
  queueDepth?: () => Promise<number>;
  /** Circuits with a state other than closed-and-clean (bounded by the caller). */
  circuits?: () => Promise<Array<{ key: string; state: 'closed' | 'open' | 'half_open' }>>;
  /** The Temporal SDK runtime's own Prometheus text (worker metrics), appended to ours. */
  temporalMetrics?: () => Promise<string>;
}

export interface MetricsOptions { maxTenants: number; maxAliases: number; maxProviders?: number; maxCircuits?: number }

const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export class ZumikMetrics {
  readonly registry = new Registry();
  private readonly tenants: LabelCap;
  private readonly aliases: LabelCap;
  private readonly providers: LabelCap;
  private sources: ScrapeSources = {};

  readonly requests = new Counter({
    name: 'zumik_requests_total', help: 'Requests that ended, by tenant, alias, provider that served (or last tried), completion and reason code.',
    labelNames: ['tenant', 'alias', 'provider', 'completion', 'reason_code'] as const, registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'zumik_attempts_total', help: 'Provider attempts by provider, status and failure kind (none when it succeeded).',
    labelNames: ['provider', 'status', 'failure_kind'] as const, registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'zumik_request_duration_seconds', help: 'Time from receipt to the end of the request (total_ms).',
    labelNames: ['alias', 'completion', 'stream'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: 'zumik_time_to_first_token_seconds', help: 'Streamed requests: time from receipt to the first token the client got.',
    labelNames: ['alias', 'provider'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'zumik_attempt_duration_seconds', help: 'Time spent in one provider attempt (its latency_ms).',
    labelNames: ['provider', 'status'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly overhead = new Histogram({
    name: 'zumik_overhead_seconds',
    help: "Zumik's own share of a request: total time minus the time its attempts spent with providers (and minus the admission queue wait).",
    labelNames: ['stream'] as const, buckets: OVERHEAD_BUCKETS, registers: [this.registry],
  });
  readonly admissionWait = new Histogram({
    name: 'zumik_admission_wait_seconds', help: 'Requests that queued for admission: time until they were admitted or gave up.',
    labelNames: ['tenant', 'admission'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly batchLines = new Counter({
    name: 'zumik_batch_lines_total', help: 'Batch lines that ended, by completion and reason code.',
    labelNames: ['completion', 'reason_code'] as const, registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'zumik_tokens_total', help: 'Tokens of completed requests by tenant, alias, provider and type (input, output, cached input).',
    labelNames: ['tenant', 'alias', 'provider', 'type'] as const, registers: [this.registry],
  });
  readonly cost = new Counter({
    name: 'zumik_cost_usd_total', help: 'Estimated cost in USD of the requests, by tenant, alias and provider.',
    labelNames: ['tenant', 'alias', 'provider'] as const, registers: [this.registry],
  });
  /** Budget alerts (issue 14): refusals by a spent hard budget, requests admitted past a spent soft one. Budget ids are few (admin-created). */
  readonly budgetAlerts = new Counter({
    name: 'zumik_budget_alerts_total', help: 'Requests refused by a spent hard budget (mode="hard") or admitted past a spent soft one (mode="soft"), by tenant and budget.',
    labelNames: ['tenant', 'budget', 'mode'] as const, registers: [this.registry],
  });
  readonly budgetUtilisation = new Gauge({
    name: 'zumik_budget_utilisation_ratio', help: "A budget's committed spend (settled + reserved) over its amount, as of its last reservation; alert at 0.8 and 1.",
    labelNames: ['tenant', 'budget'] as const, registers: [this.registry],
  });
  /** Exact-match response cache lookups by result (hit, miss, refresh, skip). */
  readonly cacheLookups = new Counter({
    name: 'zumik_response_cache_total', help: 'Response cache lookups by tenant and result (hit, miss, refresh).',
    labelNames: ['tenant', 'result'] as const, registers: [this.registry],
  });

  constructor(options: MetricsOptions) {
    this.tenants = new LabelCap(options.maxTenants);
    this.aliases = new LabelCap(options.maxAliases);
    this.providers = new LabelCap(options.maxProviders ?? 50);
    const maxCircuits = options.maxCircuits ?? 200;
    const sources = () => this.sources;
    new Gauge({
      name: 'zumik_admission_queue_depth', help: 'Requests waiting for admission (all tenants; shared state, read at scrape).', registers: [this.registry],
      async collect() { const read = sources().queueDepth; if (read) this.set(await read()); },
    });
    new Gauge({
      name: 'zumik_circuit_state', help: 'Circuit state per provider|region|model key: 0 closed, 1 half-open, 2 open (keys with counted failures, at most 200).',
      labelNames: ['circuit'] as const, registers: [this.registry],
      async collect() {
        const read = sources().circuits;
        if (!read) return;
        this.reset();
        for (const circuit of (await read()).slice(0, maxCircuits)) this.set({ circuit: circuit.key }, CIRCUIT_STATE_VALUE[circuit.state]);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'zumik_process_' });
  }

  /** Where scrape-time gauges read from (set once the stores exist). */
  scrapeFrom(sources: ScrapeSources): void {
    this.sources = sources;
  }

  /** Count one finished request (a refusal, a workflow's outcome, a batch line). Pure bookkeeping in memory. */
  observeOutcome(outcome: RequestOutcome, options: { batchLine?: boolean } = {}): void {
    const tenant = this.tenants.value(outcome.tenant);
    const alias = this.aliases.value(outcome.alias);
    const last = outcome.attempts.at(-1);
    const provider = this.providers.value(last?.provider);
    const completion = outcome.completion ?? 'none';
    // The outcome does not say whether the client asked for a stream; a first token timed on a stream does.
    const stream = outcome.timing.ttft_ms !== null ? 'true' : 'false';
    this.requests.inc({ tenant, alias, provider, completion, reason_code: outcome.reason_code });
    this.requestDuration.observe({ alias, completion, stream }, outcome.timing.total_ms / 1000);
    let providerMs = 0;
    for (const attempt of outcome.attempts) {
      const attemptProvider = this.providers.value(attempt.provider);
      this.attempts.inc({ provider: attemptProvider, status: attempt.status, failure_kind: attempt.failure_kind ?? 'none' });
      this.attemptDuration.observe({ provider: attemptProvider, status: attempt.status }, attempt.latency_ms / 1000);
      providerMs += attempt.latency_ms;
    }
    const queuedMs = outcome.admission === 'queued' || outcome.admission === 'expired_before_start' ? outcome.timing.queued_ms : 0;
    if (queuedMs > 0 || outcome.admission === 'queued') this.admissionWait.observe({ tenant, admission: outcome.admission }, queuedMs / 1000);
    // Attempts run one after another (a hedge overlaps, so the sum can exceed the total: clamp at zero).
    this.overhead.observe({ stream }, Math.max(0, outcome.timing.total_ms - queuedMs - providerMs) / 1000);
    if (outcome.timing.ttft_ms !== null) this.ttft.observe({ alias, provider }, outcome.timing.ttft_ms / 1000);
    if (options.batchLine) this.batchLines.inc({ completion, reason_code: outcome.reason_code });
    if (outcome.usage) {
      const cached = outcome.usage.prompt_tokens_details?.cached_tokens ?? 0;
      this.tokens.inc({ tenant, alias, provider, type: 'input' }, outcome.usage.prompt_tokens);
      this.tokens.inc({ tenant, alias, provider, type: 'output' }, outcome.usage.completion_tokens);
      if (cached > 0) this.tokens.inc({ tenant, alias, provider, type: 'cached_input' }, cached);
    }
    if (outcome.cost_usd) this.cost.inc({ tenant, alias, provider }, outcome.cost_usd);
  }

  budgetRefused(budget: Budget): void {
    this.budgetAlerts.inc({ tenant: this.tenants.value(budget.tenantId), budget: budget.id, mode: 'hard' });
  }

  budgetSoftExceeded(budget: Budget): void {
    this.budgetAlerts.inc({ tenant: this.tenants.value(budget.tenantId), budget: budget.id, mode: 'soft' });
  }

  budgetUtilisationAt(budget: Budget, committedUsd: number): void {
    this.budgetUtilisation.set({ tenant: this.tenants.value(budget.tenantId), budget: budget.id }, committedUsd / budget.amountUsd);
  }

  cacheLookup(tenantId: string, result: 'hit' | 'miss' | 'refresh'): void {
    this.cacheLookups.inc({ tenant: this.tenants.value(tenantId), result });
  }

  /** The exposition text: Zumik's registry, then the Temporal SDK runtime's metrics when bridged. */
  async text(): Promise<string> {
    const ours = await this.registry.metrics();
    const temporal = this.sources.temporalMetrics ? await this.sources.temporalMetrics().catch(() => '') : '';
    return temporal ? `${ours}\n${temporal}` : ours;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

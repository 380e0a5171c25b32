-- Up Migration
-- One row per request that reached a workflow: its QoS outcome (the same record the workflow
-- history holds), kept for the API and for retention beyond Temporal's namespace retention.
CREATE TABLE requests (
  id               text PRIMARY KEY,
  tenant_id        text NOT NULL,
  api_key_id       text,
  alias            text NOT NULL,
  release_id       text,
  qos_class        text NOT NULL,
  admission        text NOT NULL,
  completion       text,
  reason_code      text NOT NULL,
  target_met       boolean NOT NULL,
  degraded         boolean NOT NULL,
  fallback_used    boolean NOT NULL,
  provider         text,
  model            text,
  attempt_count    integer NOT NULL,
  cost_usd         numeric(18, 8),
  outcome          jsonb NOT NULL,
  -- the answer, kept only for background requests (polled at GET /v2/requests/{id})
  response         jsonb,
  batch_id         text,
  received_at      timestamptz NOT NULL,
  ended_at         timestamptz NOT NULL,
  recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_tenant_time ON requests (tenant_id, received_at DESC);
CREATE INDEX requests_batch ON requests (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE request_attempts (
  request_id       text NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  n                integer NOT NULL,
  execution_profile text NOT NULL,
  provider         text NOT NULL,
  model            text NOT NULL,
  model_revision   text NOT NULL,
  region           text NOT NULL,
  status           text NOT NULL,
  http_status      integer,
  failure_kind     text,
  retry_cause      text,
  service_tier     text,
  latency_ms       integer NOT NULL,
  ttft_ms          integer,
  usage            jsonb,
  started_at       timestamptz NOT NULL,
  ended_at         timestamptz NOT NULL,
  PRIMARY KEY (request_id, n)
);

-- Idempotency-Key: one request per (tenant, key); the body hash tells a replay from a misuse.
CREATE TABLE idempotency_keys (
  tenant_id    text NOT NULL,
  key          text NOT NULL,
  body_hash    text NOT NULL,
  request_id   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE request_attempts;
DROP TABLE requests;

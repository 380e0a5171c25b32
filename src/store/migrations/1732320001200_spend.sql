-- Up Migration
-- Spend (issue 14): prices as data, budgets with reservations, the exact-match response cache.

-- Price manifest revisions: immutable `price_…` rows; the newest is the current one. The built-in
-- revision (`price_builtin`, today's list prices from src/domain/capabilities.ts) is seeded by Zumik at start.
CREATE TABLE price_manifests (
  revision   text PRIMARY KEY,
  seq        bigserial NOT NULL,
  models     jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER price_manifests_notify AFTER INSERT ON price_manifests
  FOR EACH ROW EXECUTE FUNCTION zumik_notify_config('prices');

-- Budgets per tenant or per key (optionally per alias). A hard budget refuses at admission once its
-- committed spend (settled costs + open reservations) in the period reaches the amount; a soft one flags.
CREATE TABLE budgets (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL,
  api_key_id     text,
  alias          text,
  amount_usd     numeric(18, 8) NOT NULL,
  period         text NOT NULL,
  window_seconds integer,
  mode           text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX budgets_tenant ON budgets (tenant_id);
CREATE TRIGGER budgets_notify AFTER INSERT OR UPDATE ON budgets
  FOR EACH ROW EXECUTE FUNCTION zumik_notify_config('budgets', 'tenant_id');
CREATE FUNCTION zumik_notify_budget_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('zumik_config', 'budgets:' || OLD.tenant_id);
  RETURN NULL;
END $$;
CREATE TRIGGER budgets_notify_delete AFTER DELETE ON budgets
  FOR EACH ROW EXECUTE FUNCTION zumik_notify_budget_delete();

-- One row per (request, budget) it counts against: the reservation at admission, replaced by the
-- actual cost when the request is recorded (settled). An unsettled reservation counts until it expires.
CREATE TABLE budget_reservations (
  request_id    text NOT NULL,
  budget_id     text NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
  amount_usd    numeric(18, 8) NOT NULL,
  reserved_usd  numeric(18, 8) NOT NULL,
  soft_exceeded boolean NOT NULL DEFAULT false,
  at            timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  settled_at    timestamptz,
  PRIMARY KEY (request_id, budget_id)
);
CREATE INDEX budget_reservations_budget_time ON budget_reservations (budget_id, at);

-- Spend breakdowns read the requests by tenant and end time.
CREATE INDEX requests_tenant_ended ON requests (tenant_id, ended_at);

-- The exact-match response cache: per tenant (never shared), keyed by the sha256 of the normalised request.
CREATE TABLE response_cache (
  tenant_id   text NOT NULL,
  key         text NOT NULL,
  stream      boolean NOT NULL,
  body        jsonb NOT NULL,
  bytes       integer NOT NULL,
  source_request_id text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_hit_at timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  hits        integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, key, stream)
);
CREATE INDEX response_cache_lru ON response_cache (tenant_id, last_hit_at);

-- Down Migration
DROP TABLE response_cache;
DROP INDEX requests_tenant_ended;
DROP TABLE budget_reservations;
DROP TRIGGER budgets_notify_delete ON budgets;
DROP FUNCTION zumik_notify_budget_delete();
DROP TABLE budgets;
DROP TABLE price_manifests;

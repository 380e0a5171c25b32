-- Up Migration
-- Issue 12: prompt retention, replay, replay-gated BYOC activation.

-- A BYOC endpoint serves traffic only once active. Endpoints registered before this migration are active
-- (nothing in flight breaks); new registrations start pending until a passing replay (or an operator
-- override) activates them. `activation`: who activated it, when, with which report or override reason.
ALTER TABLE byoc_endpoints ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active'));
ALTER TABLE byoc_endpoints ALTER COLUMN status SET DEFAULT 'pending';
ALTER TABLE byoc_endpoints ADD COLUMN activation jsonb;

-- Prompts kept for replay, only for tenants whose policy turns `prompt_retention` on: the request as the
-- client sent it (no headers, no credentials) and the answer served, purged after `expires_at`.
CREATE TABLE retained_prompts (
  request_id  text PRIMARY KEY,
  tenant_id   text NOT NULL,
  alias       text NOT NULL,
  release_id  text,
  request     jsonb NOT NULL,
  answer      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX retained_prompts_selection ON retained_prompts (tenant_id, alias, created_at);
CREATE INDEX retained_prompts_expiry ON retained_prompts (expires_at);

-- Replays: a selection of retained prompts sent to a candidate in shadow, and the report judged against
-- the tenant's thresholds (snapshotted at the start).
CREATE TABLE replays (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL,
  selection     jsonb NOT NULL,
  candidate     jsonb NOT NULL,
  similarity    text NOT NULL,
  thresholds    jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed')),
  sample_count  integer,
  report        jsonb,
  verdict       text CHECK (verdict IN ('pass', 'fail')),
  created_by    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz
);
CREATE INDEX replays_tenant ON replays (tenant_id, created_at DESC);

-- One row per sampled request: what the candidate answered, against what was served.
CREATE TABLE replay_items (
  replay_id   text NOT NULL REFERENCES replays(id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  request_id  text NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  result      jsonb,
  PRIMARY KEY (replay_id, seq)
);

-- Releases are immutable in their routing content: the activation of a BYOC target they name is metadata beside them.
CREATE TABLE release_activations (
  release_id    text NOT NULL REFERENCES model_alias_releases(id),
  endpoint_id   text NOT NULL,
  tenant_id     text NOT NULL,
  report_id     text,
  override      boolean NOT NULL DEFAULT false,
  reason        text,
  activated_by  text,
  activated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (release_id, endpoint_id)
);

-- Down Migration
DROP TABLE release_activations;
DROP TABLE replay_items;
DROP TABLE replays;
DROP TABLE retained_prompts;
ALTER TABLE byoc_endpoints DROP COLUMN activation;
ALTER TABLE byoc_endpoints DROP COLUMN status;

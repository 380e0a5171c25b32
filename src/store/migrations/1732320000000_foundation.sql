-- Up Migration
CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored only as SHA-256 hashes of high-entropy random secrets; `prefix` is for display.
CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants(id),
  name          text NOT NULL,
  prefix        text NOT NULL,
  key_hash      text NOT NULL UNIQUE,
  scopes        text[] NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- Immutable alias releases: a release row is never updated except to retire it.
CREATE TABLE model_alias_releases (
  id                            text PRIMARY KEY,
  seq                           bigserial NOT NULL UNIQUE,
  alias                         text NOT NULL,
  status                        text NOT NULL CHECK (status IN ('active', 'retired')),
  policy_revision               text NOT NULL,
  capability_manifest_revision  text NOT NULL,
  targets                       jsonb NOT NULL,
  created_at                    timestamptz NOT NULL DEFAULT now(),
  retired_at                    timestamptz
);
-- At most one active release per alias, whatever races happen above.
CREATE UNIQUE INDEX model_alias_releases_one_active ON model_alias_releases (alias) WHERE status = 'active';
CREATE INDEX model_alias_releases_history ON model_alias_releases (alias, seq DESC);

-- Down Migration
DROP TABLE model_alias_releases;
DROP TABLE api_keys;
DROP TABLE tenants;

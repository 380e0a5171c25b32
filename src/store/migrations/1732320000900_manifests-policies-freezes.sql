-- Up Migration
-- Capability manifests as versioned data (issue 10): immutable `cap_…` revisions. The built-in manifest
-- (src/domain/capabilities.ts) is seeded as `cap_custom` by Zumik at start-up (its content lives in code).
CREATE TABLE capability_manifests (
  revision   text PRIMARY KEY,
  seq        bigserial NOT NULL,
  models     jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Routing policy revisions: the routing fields of a tenant policy, immutable, named by a release's
-- `policy_revision`. Owned by a tenant, or shared (NULL: the operator's).
CREATE TABLE routing_policies (
  revision   text PRIMARY KEY,
  tenant_id  text REFERENCES tenants(id),
  policy     jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Frozen aliases, per owner ('' for the shared catalogue): installs are refused, the live release stays.
CREATE TABLE model_alias_freezes (
  owner      text NOT NULL,
  alias      text NOT NULL,
  frozen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, alias)
);

-- The smallest context window a release's targets must have (declared by the release; NULL: none).
ALTER TABLE model_alias_releases ADD COLUMN min_context_window integer;

-- Down Migration
ALTER TABLE model_alias_releases DROP COLUMN min_context_window;
DROP TABLE model_alias_freezes;
DROP TABLE routing_policies;
DROP TABLE capability_manifests;

-- Up Migration
-- Issue 12: releases you can pin, canary and roll back; hybrid hot lanes.

-- A release's sticky routing (NULL: plain weighted draws) and, for a rollback, the release it copies.
ALTER TABLE model_alias_releases ADD COLUMN sticky jsonb;
ALTER TABLE model_alias_releases ADD COLUMN copied_from text;

-- A canary per owner ('' for the shared catalogue) and alias: `weight` percent of the alias's requests go
-- to the candidate release, the rest to the live one. One row at most; DELETE ends the canary.
CREATE TABLE model_alias_canaries (
  owner       text NOT NULL,
  alias       text NOT NULL,
  release_id  text NOT NULL REFERENCES model_alias_releases(id),
  weight      integer NOT NULL CHECK (weight BETWEEN 0 AND 100),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, alias)
);

-- Every process forgets its cached routing of the alias when its canary starts, changes or ends.
CREATE FUNCTION zumik_notify_canary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('zumik_config', 'alias:' || COALESCE(NEW.alias, OLD.alias));
  RETURN NULL;
END $$;
CREATE TRIGGER model_alias_canaries_notify AFTER INSERT OR UPDATE OR DELETE ON model_alias_canaries
  FOR EACH ROW EXECUTE FUNCTION zumik_notify_canary();

-- A BYOC lane's concurrency cap (NULL: none): requests above it overflow to the release's other targets.
ALTER TABLE byoc_endpoints ADD COLUMN max_concurrency integer CHECK (max_concurrency > 0);

-- Every process forgets its cached cap of the endpoint when it is registered again.
CREATE TRIGGER byoc_endpoints_notify AFTER INSERT OR UPDATE ON byoc_endpoints
  FOR EACH ROW EXECUTE FUNCTION zumik_notify_config('lane', 'id');

-- Requests in flight on a capped lane: taken at the front door, dropped when the outcome is recorded
-- (or at expiry, for a request whose record never came).
CREATE TABLE byoc_lane_leases (
  tenant_id   text NOT NULL,
  endpoint_id text NOT NULL,
  request_id  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (request_id, endpoint_id)
);
CREATE INDEX byoc_lane_leases_lane ON byoc_lane_leases (tenant_id, endpoint_id);

-- Down Migration
DROP TABLE byoc_lane_leases;
DROP TRIGGER byoc_endpoints_notify ON byoc_endpoints;
ALTER TABLE byoc_endpoints DROP COLUMN max_concurrency;
DROP TRIGGER model_alias_canaries_notify ON model_alias_canaries;
DROP FUNCTION zumik_notify_canary();
DROP TABLE model_alias_canaries;
ALTER TABLE model_alias_releases DROP COLUMN copied_from;
ALTER TABLE model_alias_releases DROP COLUMN sticky;

-- Up Migration

-- The request path decides from per-process caches (src/store/hot-config.ts). Every change those caches
-- depend on is announced on the `zumik_config` channel, so every Zumik process forgets the stale entry at
-- once; a process whose listener is down falls back to its caches' TTLs (the stated staleness bound).
-- Arguments: the topic, and the column whose value follows it (`alias:<alias>`); no column = the bare topic.
CREATE FUNCTION zumik_notify_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('zumik_config', CASE WHEN TG_NARGS > 1 THEN TG_ARGV[0] || ':' || (to_jsonb(NEW) ->> TG_ARGV[1]) ELSE TG_ARGV[0] END);
  RETURN NULL;
END $$;

CREATE TRIGGER model_alias_releases_notify AFTER INSERT OR UPDATE ON model_alias_releases
  FOR EACH ROW EXECUTE FUNCTION zumik_notify_config('alias', 'alias');
CREATE TRIGGER tenant_policies_notify AFTER INSERT OR UPDATE ON tenant_policies
  FOR EACH ROW EXECUTE FUNCTION zumik_notify_config('policy', 'tenant_id');
CREATE TRIGGER api_keys_notify AFTER UPDATE ON api_keys
  FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at) EXECUTE FUNCTION zumik_notify_config('key', 'id');
-- Only a change of whether a circuit is open: failures counted below the threshold announce nothing.
CREATE TRIGGER circuit_breakers_notify_insert AFTER INSERT ON circuit_breakers
  FOR EACH ROW WHEN (NEW.open_until IS NOT NULL) EXECUTE FUNCTION zumik_notify_config('circuits');
CREATE TRIGGER circuit_breakers_notify_update AFTER UPDATE ON circuit_breakers
  FOR EACH ROW WHEN (OLD.open_until IS DISTINCT FROM NEW.open_until) EXECUTE FUNCTION zumik_notify_config('circuits');

-- Down Migration
DROP TRIGGER circuit_breakers_notify_update ON circuit_breakers;
DROP TRIGGER circuit_breakers_notify_insert ON circuit_breakers;
DROP TRIGGER api_keys_notify ON api_keys;
DROP TRIGGER tenant_policies_notify ON tenant_policies;
DROP TRIGGER model_alias_releases_notify ON model_alias_releases;
DROP FUNCTION zumik_notify_config();

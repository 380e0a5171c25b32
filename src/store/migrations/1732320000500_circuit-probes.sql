-- Up Migration

-- Half-open probes (src/store/circuit-breaker-store.ts). Once a circuit's cool-down has passed
-- (open_until <= now()), at most N calls at a time may go to its target as probes; each holds a slot
-- here until it reports (a success closes the circuit and frees every slot, a counted failure reopens
-- it) or releases it, and a slot whose holder never came back stops counting at `expires_at`. A slot
-- taken before the circuit's latest opening (`opened_at`) belongs to an earlier half-open phase and
-- never counts.
CREATE TABLE circuit_probes (
  key          text NOT NULL REFERENCES circuit_breakers (key) ON DELETE CASCADE,
  probe_id     text NOT NULL,
  acquired_at  timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (key, probe_id)
);

-- Probe slots of `p_key` that count now.
CREATE FUNCTION circuit_live_probes(p_key text, p_opened_at timestamptz, p_now timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT count(*)::integer FROM circuit_probes p
   WHERE p.key = p_key AND p.expires_at > p_now AND p.acquired_at >= coalesce(p_opened_at, '-infinity'::timestamptz)
$$;

-- May a call go to the target now? 'closed' (yes, no slot needed), 'probe' (yes: slot p_probe_id of a
-- half-open circuit is taken), 'open' (no: cooling down) or 'busy' (no: half-open, every slot taken).
-- The common case, a closed circuit, is one index read without a lock; slots are counted under the
-- row's lock, so concurrent callers in any number of processes never take more than p_max_probes.
CREATE FUNCTION circuit_try_acquire(p_key text, p_probe_id text, p_max_probes integer, p_probe_ttl_ms integer)
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_now timestamptz;
  v_open_until timestamptz;
  v_opened_at timestamptz;
BEGIN
  SELECT c.open_until INTO v_open_until FROM circuit_breakers c WHERE c.key = p_key;
  IF v_open_until IS NULL THEN RETURN 'closed'; END IF;
  IF v_open_until > now() THEN RETURN 'open'; END IF;

  SELECT c.open_until, c.opened_at INTO v_open_until, v_opened_at FROM circuit_breakers c WHERE c.key = p_key FOR UPDATE;
  -- Time is read after the lock is granted: now() would be the time the wait began.
  v_now := clock_timestamp();
  IF v_open_until IS NULL THEN RETURN 'closed'; END IF;  -- closed (or deleted) while we waited
  IF v_open_until > v_now THEN RETURN 'open'; END IF;    -- reopened while we waited
  DELETE FROM circuit_probes p
   WHERE p.key = p_key AND (p.expires_at <= v_now OR p.acquired_at < coalesce(v_opened_at, '-infinity'::timestamptz));
  IF circuit_live_probes(p_key, v_opened_at, v_now) >= p_max_probes THEN RETURN 'busy'; END IF;
  INSERT INTO circuit_probes (key, probe_id, acquired_at, expires_at)
  VALUES (p_key, p_probe_id, v_now, v_now + p_probe_ttl_ms * interval '1 millisecond');
  RETURN 'probe';
END
$$;

-- Down Migration
DROP FUNCTION circuit_try_acquire(text, text, integer, integer);
DROP FUNCTION circuit_live_probes(text, timestamptz, timestamptz);
DROP TABLE circuit_probes;

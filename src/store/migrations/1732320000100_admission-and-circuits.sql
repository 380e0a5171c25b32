-- Up Migration

-- Admission (src/store/admission-store.ts). Shared by every Zumik process through this database.
-- A lease is one admitted request holding a concurrency slot until `expires_at`; an expired lease never
-- counts, so a crashed holder frees its slot by itself.
CREATE TABLE admission_leases (
  request_id   text PRIMARY KEY,
  tenant_id    text NOT NULL,
  api_key_id   text NOT NULL,
  admitted_at  timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX admission_leases_tenant ON admission_leases (tenant_id, expires_at);
CREATE INDEX admission_leases_api_key ON admission_leases (api_key_id, expires_at);

-- A ticket is one request waiting for a slot. Queue order per tenant: priority (1 first), then `seq`
-- (enqueue order; assigned under the tenant's lock, so it is the arrival order). A ticket that its
-- waiter has not refreshed by `expires_at` is stale: skipped and deleted.
CREATE TABLE admission_tickets (
  request_id       text PRIMARY KEY,
  tenant_id        text NOT NULL,
  api_key_id       text NOT NULL,
  priority         smallint NOT NULL,
  seq              bigserial NOT NULL,
  -- The waiter's per-key limit, so that others can tell whether this waiter could take a free slot.
  key_concurrency  integer,
  enqueued_at      timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL
);
CREATE INDEX admission_tickets_queue ON admission_tickets (tenant_id, priority, seq);

-- Requests-per-minute, one row per scope ('tenant:<id>' or 'key:<id>'): a sliding-window counter over
-- two fixed one-minute windows (the previous window's count weighted by how much of it still overlaps
-- the last 60 s, plus the current window's count).
CREATE TABLE admission_rate_windows (
  scope           text PRIMARY KEY,
  window_start    timestamptz NOT NULL,
  current_count   integer NOT NULL,
  previous_count  integer NOT NULL
);

-- Estimated requests in the 60 s before p_now for one scope.
CREATE FUNCTION admission_rate_estimate(p_scope text, p_now timestamptz) RETURNS double precision
LANGUAGE sql STABLE AS $$
  SELECT coalesce((
    SELECT CASE
      WHEN w.window_start = m.start
        THEN w.previous_count * (1 - extract(epoch FROM p_now - m.start) / 60) + w.current_count
      WHEN w.window_start = m.start - interval '1 minute'
        THEN w.current_count * (1 - extract(epoch FROM p_now - m.start) / 60)
      ELSE 0
    END
    FROM admission_rate_windows w,
         (SELECT to_timestamp(floor(extract(epoch FROM p_now) / 60) * 60) AS start) m
    WHERE w.scope = p_scope), 0)::double precision
$$;

-- Count one request against a scope.
CREATE FUNCTION admission_rate_charge(p_scope text, p_now timestamptz) RETURNS void
LANGUAGE sql VOLATILE AS $$
  INSERT INTO admission_rate_windows AS w (scope, window_start, current_count, previous_count)
  VALUES (p_scope, to_timestamp(floor(extract(epoch FROM p_now) / 60) * 60), 1, 0)
  ON CONFLICT (scope) DO UPDATE SET
    previous_count = CASE
      WHEN w.window_start = excluded.window_start THEN w.previous_count
      WHEN w.window_start = excluded.window_start - interval '1 minute' THEN w.current_count
      ELSE 0 END,
    current_count = CASE WHEN w.window_start = excluded.window_start THEN w.current_count + 1 ELSE 1 END,
    window_start = excluded.window_start
$$;

-- The whole admission decision in one statement (one round trip). Serialised per tenant by a
-- transaction-level advisory lock; every read after the lock sees what earlier holders committed
-- (each statement of a VOLATILE PL/pgSQL function takes a fresh snapshot). The key scope is covered by
-- the tenant's lock because an API key belongs to exactly one tenant.
CREATE FUNCTION admission_try_admit(
  p_request_id text, p_tenant_id text, p_api_key_id text, p_priority integer,
  p_tenant_concurrency integer, p_key_concurrency integer,
  p_tenant_requests_per_minute integer, p_key_requests_per_minute integer,
  p_max_queue_length integer, p_lease_ms integer, p_queue boolean, p_ticket_ttl_ms integer)
RETURNS TABLE (state text, reason text, queue_position integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_now timestamptz;
  v_lease_expires_at timestamptz;
  v_known boolean := false;
  v_has_ticket boolean := false;
  v_priority integer := p_priority;
  v_seq bigint := 9223372036854775807;  -- a newcomer sorts after every waiter of its priority
  v_tenant_active integer := 0;
  v_key_active integer := 0;
  v_ahead integer;
  v_ahead_same_key integer;
  v_reserved integer;
  v_queued integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('zumik.admission:' || p_tenant_id, 0));
  -- Time is read after the lock is granted: now() would be the time the wait began.
  v_now := clock_timestamp();

  -- Idempotence: a request that holds a live lease is admitted again without a second slot.
  SELECT l.expires_at INTO v_lease_expires_at FROM admission_leases l WHERE l.request_id = p_request_id;
  IF FOUND THEN
    IF v_lease_expires_at > v_now THEN
      RETURN QUERY SELECT 'admitted'::text, NULL::text, NULL::integer;
      RETURN;
    END IF;
    v_known := true;  -- its lease lapsed: it competes for a slot again, but its rate was already counted
  END IF;

  -- Housekeeping for this tenant: lapsed leases and stale tickets count for nothing.
  DELETE FROM admission_leases l WHERE l.tenant_id = p_tenant_id AND l.expires_at <= v_now;
  DELETE FROM admission_tickets t WHERE t.tenant_id = p_tenant_id AND t.expires_at <= v_now;

  SELECT t.priority, t.seq INTO v_priority, v_seq FROM admission_tickets t WHERE t.request_id = p_request_id;
  IF FOUND THEN
    v_known := true;
    v_has_ticket := true;
  ELSE
    v_priority := p_priority;
    v_seq := 9223372036854775807;
  END IF;

  -- Rate limits apply once per request, when it first arrives (admitted or queued).
  IF NOT v_known THEN
    IF (p_tenant_requests_per_minute IS NOT NULL
          AND admission_rate_estimate('tenant:' || p_tenant_id, v_now) + 1 > p_tenant_requests_per_minute)
       OR (p_key_requests_per_minute IS NOT NULL
          AND admission_rate_estimate('key:' || p_api_key_id, v_now) + 1 > p_key_requests_per_minute) THEN
      RETURN QUERY SELECT 'rejected'::text, 'rejected_rate_limit'::text, NULL::integer;
      RETURN;
    END IF;
  END IF;

  IF p_tenant_concurrency IS NOT NULL THEN
    SELECT count(*) INTO v_tenant_active FROM admission_leases l WHERE l.tenant_id = p_tenant_id AND l.expires_at > v_now;
  END IF;
  IF p_key_concurrency IS NOT NULL THEN
    SELECT count(*) INTO v_key_active FROM admission_leases l WHERE l.api_key_id = p_api_key_id AND l.expires_at > v_now;
  END IF;

  -- Waiters ahead (priority, then seq). `v_reserved` is how many tenant slots they would take now: a
  -- waiter whose own key is at its key limit cannot use a slot, so it does not hold one back.
  SELECT coalesce(sum(a.waiting), 0),
         coalesce(sum(a.waiting) FILTER (WHERE a.api_key_id = p_api_key_id), 0),
         coalesce(sum(CASE WHEN a.key_limit IS NULL THEN a.waiting
                           ELSE least(a.waiting, greatest(a.key_limit - (
                             SELECT count(*) FROM admission_leases l WHERE l.api_key_id = a.api_key_id AND l.expires_at > v_now), 0)) END), 0)
    INTO v_ahead, v_ahead_same_key, v_reserved
    FROM (SELECT t.api_key_id, count(*)::integer AS waiting, min(t.key_concurrency) AS key_limit
            FROM admission_tickets t
           WHERE t.tenant_id = p_tenant_id AND t.request_id <> p_request_id
             AND (t.priority, t.seq) < (v_priority, v_seq)
           GROUP BY t.api_key_id) a;

  IF (p_tenant_concurrency IS NULL OR v_tenant_active + v_reserved < p_tenant_concurrency)
     AND (p_key_concurrency IS NULL OR v_key_active + v_ahead_same_key < p_key_concurrency) THEN
    IF v_has_ticket THEN
      DELETE FROM admission_tickets t WHERE t.request_id = p_request_id;
    END IF;
    INSERT INTO admission_leases (request_id, tenant_id, api_key_id, admitted_at, expires_at)
    VALUES (p_request_id, p_tenant_id, p_api_key_id, v_now, v_now + p_lease_ms * interval '1 millisecond')
    ON CONFLICT (request_id) DO UPDATE SET
      tenant_id = excluded.tenant_id, api_key_id = excluded.api_key_id,
      admitted_at = excluded.admitted_at, expires_at = excluded.expires_at;
    IF NOT v_known THEN
      IF p_tenant_requests_per_minute IS NOT NULL THEN PERFORM admission_rate_charge('tenant:' || p_tenant_id, v_now); END IF;
      IF p_key_requests_per_minute IS NOT NULL THEN PERFORM admission_rate_charge('key:' || p_api_key_id, v_now); END IF;
    END IF;
    RETURN QUERY SELECT 'admitted'::text, NULL::text, NULL::integer;
    RETURN;
  END IF;

  IF v_has_ticket THEN
    UPDATE admission_tickets t
       SET expires_at = v_now + p_ticket_ttl_ms * interval '1 millisecond', key_concurrency = p_key_concurrency
     WHERE t.request_id = p_request_id;
    RETURN QUERY SELECT 'queued'::text, NULL::text, v_ahead + 1;
    RETURN;
  END IF;

  IF NOT p_queue THEN
    RETURN QUERY SELECT 'rejected'::text, 'rejected_concurrency_limit'::text, NULL::integer;
    RETURN;
  END IF;
  SELECT count(*) INTO v_queued FROM admission_tickets t WHERE t.tenant_id = p_tenant_id;
  IF v_queued >= p_max_queue_length THEN
    RETURN QUERY SELECT 'rejected'::text, 'rejected_queue_full'::text, NULL::integer;
    RETURN;
  END IF;

  -- A lapsed lease of this request is replaced by its ticket.
  DELETE FROM admission_leases l WHERE l.request_id = p_request_id;
  INSERT INTO admission_tickets (request_id, tenant_id, api_key_id, priority, key_concurrency, enqueued_at, expires_at)
  VALUES (p_request_id, p_tenant_id, p_api_key_id, p_priority, p_key_concurrency, v_now,
          v_now + p_ticket_ttl_ms * interval '1 millisecond');
  IF NOT v_known THEN
    IF p_tenant_requests_per_minute IS NOT NULL THEN PERFORM admission_rate_charge('tenant:' || p_tenant_id, v_now); END IF;
    IF p_key_requests_per_minute IS NOT NULL THEN PERFORM admission_rate_charge('key:' || p_api_key_id, v_now); END IF;
  END IF;
  RETURN QUERY SELECT 'queued'::text, NULL::text, v_ahead + 1;
END
$$;

-- Circuit breakers (src/store/circuit-breaker-store.ts), one row per `provider|region|model`.
-- Closed: open_until IS NULL. Open: open_until > now(). Half-open: open_until <= now() (probes may go).
CREATE TABLE circuit_breakers (
  key                   text PRIMARY KEY,
  -- Times of the counted failures of the current consecutive run, oldest first, at most the threshold.
  recent_failures       timestamptz[] NOT NULL DEFAULT '{}',
  -- Counted failures since the last success (for the admin view).
  consecutive_failures  integer NOT NULL DEFAULT 0,
  open_until            timestamptz,
  -- Length of the latest opening; a failed half-open probe reopens for twice as long (capped).
  open_ms               integer,
  opened_at             timestamptz,
  last_failure_at       timestamptz,
  last_failure_kind     text,
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX circuit_breakers_open ON circuit_breakers (open_until) WHERE open_until IS NOT NULL;

-- One counted (outage) failure; the row is locked, so concurrent reports from many processes add up.
CREATE FUNCTION circuit_record_failure(
  p_key text, p_kind text, p_failure_threshold integer, p_window_ms integer, p_open_ms integer, p_max_open_ms integer)
RETURNS TABLE (state text, failures integer, open_until timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_now timestamptz := now();
  v_row circuit_breakers%ROWTYPE;
  v_recent timestamptz[];
BEGIN
  INSERT INTO circuit_breakers (key) VALUES (p_key) ON CONFLICT (key) DO NOTHING;
  SELECT * INTO v_row FROM circuit_breakers c WHERE c.key = p_key FOR UPDATE;

  IF v_row.open_until IS NOT NULL AND v_row.open_until > v_now THEN
    -- Open: a late report from a call that started before it opened changes nothing but the counter.
    UPDATE circuit_breakers c SET consecutive_failures = c.consecutive_failures + 1,
           last_failure_at = v_now, last_failure_kind = p_kind, updated_at = v_now
     WHERE c.key = p_key;
  ELSIF v_row.open_until IS NOT NULL THEN
    -- Half-open: the probe failed; reopen for twice as long as last time.
    UPDATE circuit_breakers c SET consecutive_failures = c.consecutive_failures + 1, recent_failures = '{}',
           open_ms = least(coalesce(c.open_ms, p_open_ms) * 2, p_max_open_ms),
           open_until = v_now + least(coalesce(c.open_ms, p_open_ms) * 2, p_max_open_ms) * interval '1 millisecond',
           opened_at = v_now, last_failure_at = v_now, last_failure_kind = p_kind, updated_at = v_now
     WHERE c.key = p_key;
  ELSE
    -- Closed: keep the run's failures inside the window; the threshold-th one opens the circuit.
    v_recent := ARRAY(SELECT f FROM unnest(v_row.recent_failures) f
                       WHERE f > v_now - p_window_ms * interval '1 millisecond' ORDER BY f) || v_now;
    IF cardinality(v_recent) >= p_failure_threshold THEN
      UPDATE circuit_breakers c SET consecutive_failures = c.consecutive_failures + 1, recent_failures = '{}',
             open_ms = p_open_ms, open_until = v_now + p_open_ms * interval '1 millisecond', opened_at = v_now,
             last_failure_at = v_now, last_failure_kind = p_kind, updated_at = v_now
       WHERE c.key = p_key;
    ELSE
      UPDATE circuit_breakers c SET consecutive_failures = c.consecutive_failures + 1, recent_failures = v_recent,
             last_failure_at = v_now, last_failure_kind = p_kind, updated_at = v_now
       WHERE c.key = p_key;
    END IF;
  END IF;

  RETURN QUERY
    SELECT CASE WHEN c.open_until IS NULL THEN 'closed' WHEN c.open_until > v_now THEN 'open' ELSE 'half_open' END,
           c.consecutive_failures, c.open_until
      FROM circuit_breakers c WHERE c.key = p_key;
END
$$;

-- Down Migration
DROP FUNCTION circuit_record_failure(text, text, integer, integer, integer, integer);
DROP TABLE circuit_breakers;
DROP FUNCTION admission_try_admit(text, text, text, integer, integer, integer, integer, integer, integer, integer, boolean, integer);
DROP FUNCTION admission_rate_charge(text, timestamptz);
DROP FUNCTION admission_rate_estimate(text, timestamptz);
DROP TABLE admission_rate_windows;
DROP TABLE admission_tickets;
DROP TABLE admission_leases;

-- kaireon 0.13 -> 0.14: the rest of the automation work (SPEC 6.7, issue 14,
-- docs/automation.md): journeys advanced by events and kaireon.tick(), and
-- the signed, retried delivery of the outbox to webhook endpoints.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.14'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Journeys
-- One row per customer's pass through a journey (an instance): where it is,
-- since when, until when, and what it has seen. src/core/journeys.h moves
-- it; src/pg/journey_functions.cpp stores it and records every transition.
CREATE TABLE kaireon.journey_instances (
    tenant_id       text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    journey_id      text NOT NULL,
    customer_id     text NOT NULL,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'exited')),
    node_id         text,                  -- where the customer is (NULL once ended)
    node_entered_at timestamptz NOT NULL,
    entered_at      timestamptz NOT NULL,
    expires_at      timestamptz,           -- entered_at + maxDurationDays
    wake_at         timestamptz,           -- when tick() looks again (NULL: only an outcome moves it)
    context         jsonb NOT NULL DEFAULT '{}',  -- the enrolment's context (an ingested event's payload)
    outcomes        jsonb NOT NULL DEFAULT '{}',  -- outcome type -> when last seen in the journey (Unix seconds)
    steps           integer NOT NULL DEFAULT 0,   -- transitions recorded
    last_decision_id uuid,
    last_error      text,                  -- why tick() could not advance it (retried 15 minutes later)
    ended_at        timestamptz,
    end_reason      text,
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'active') = (node_id IS NOT NULL AND ended_at IS NULL))
);
COMMENT ON TABLE kaireon.journey_instances IS
    'Customers in journeys: one row per enrolment, where it is and what it has seen (docs/automation.md).';
CREATE INDEX journey_instances_customer ON kaireon.journey_instances (tenant_id, customer_id, journey_id)
    WHERE status = 'active';
CREATE INDEX journey_instances_due ON kaireon.journey_instances (wake_at) WHERE status = 'active';
ALTER TABLE kaireon.journey_instances ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.journey_instances USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.journey_instances TO kaireon_admin, kaireon_app, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.journey_instances', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.journey_instances_id_seq', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.journey_instances', 'delete', 5);

-- Every move of an instance, in order: entered (from NULL), each step, and
-- the end (to NULL). Written once, never changed.
CREATE TABLE kaireon.journey_transitions (
    tenant_id   text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    instance_id bigint NOT NULL,
    step        integer NOT NULL,
    journey_id  text NOT NULL,
    customer_id text NOT NULL,
    from_node   text,
    to_node     text,
    reason      text NOT NULL,
    decision_id uuid,
    at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, instance_id, step),
    FOREIGN KEY (tenant_id, instance_id) REFERENCES kaireon.journey_instances ON DELETE CASCADE
);
COMMENT ON TABLE kaireon.journey_transitions IS
    'Every transition of every journey instance: entered, each step with its reason (and decision), the end.';
ALTER TABLE kaireon.journey_transitions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.journey_transitions USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.journey_transitions TO kaireon_admin, kaireon_app, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.journey_transitions', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.journey_transitions', 'delete', 4);

-- One row per journey and customer ever enrolled: enrolling upserts it, so
-- two sessions enrolling the same customer take turns (skip_if_active and
-- restart stay exact; under REPEATABLE READ the later one gets a
-- serialization failure to retry).
CREATE TABLE kaireon.journey_enrollments (
    tenant_id        text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    journey_id       text NOT NULL,
    customer_id      text NOT NULL,
    enrolled         bigint NOT NULL DEFAULT 0,  -- how many times the customer entered
    last_enrolled_at timestamptz,
    PRIMARY KEY (tenant_id, journey_id, customer_id)
);
COMMENT ON TABLE kaireon.journey_enrollments IS 'How many times each customer entered each journey, and when last.';
ALTER TABLE kaireon.journey_enrollments ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.journey_enrollments USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.journey_enrollments TO kaireon_admin, kaireon_app, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.journey_enrollments', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.journey_enrollments', 'delete', 5);

-- How many customers each journey has at each node, and how many ended how.
CREATE VIEW kaireon.journey_summary WITH (security_invoker = true) AS
SELECT tenant_id, journey_id, status, coalesce(node_id, end_reason) AS at, count(*) AS customers
FROM kaireon.journey_instances
GROUP BY tenant_id, journey_id, status, coalesce(node_id, end_reason);
COMMENT ON VIEW kaireon.journey_summary IS
    'Customers per journey: active ones by node, ended ones by reason.';
GRANT SELECT ON kaireon.journey_summary TO kaireon_admin, kaireon_app, kaireon_reader;

CREATE FUNCTION kaireon.enroll_journey(customer_id text, journey_id text, context jsonb DEFAULT '{}'::jsonb,
                                       mode text DEFAULT 'skip_if_active') RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_enroll_journey' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.enroll_journey(text, text, jsonb, text) IS
    'Enrols a customer of the current tenant in a journey (mode skip_if_active, restart or allow_multiple) and advances it as far as it goes now.';
GRANT EXECUTE ON FUNCTION kaireon.enroll_journey(text, text, jsonb, text) TO kaireon_admin, kaireon_app;

CREATE FUNCTION kaireon.exit_journey(customer_id text, journey_id text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_exit_journey' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.exit_journey(text, text) IS
    'Takes a customer of the current tenant out of a journey (every active instance; reason "removed").';
GRANT EXECUTE ON FUNCTION kaireon.exit_journey(text, text) TO kaireon_admin, kaireon_app;

-- _advance_journey moves one instance as far as it goes now (tick's step).
CREATE FUNCTION kaireon._advance_journey(tenant_id text, instance_id bigint) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_advance_journey' LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;

-- advance_journeys advances the instances that are due, each on its own
-- (a savepoint per instance): one that fails (a decision refused past the
-- quota, a journey that can no longer run) keeps its place, records why in
-- last_error and is tried again 15 minutes later; the others go on. Rows are
-- taken with SKIP LOCKED, so concurrent runs share the work and never
-- advance an instance twice.
CREATE FUNCTION kaireon.advance_journeys(max_instances integer DEFAULT 1000) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    due record;
    advanced integer := 0;
    failed integer := 0;
BEGIN
    IF max_instances IS NULL OR max_instances NOT BETWEEN 1 AND 100000 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_instances must be between 1 and 100000', '{"path": "max_instances"}');
    END IF;
    FOR due IN
        SELECT i.tenant_id, i.id FROM kaireon.journey_instances i
        WHERE i.status = 'active' AND i.wake_at <= kaireon.clock()
        ORDER BY i.wake_at, i.tenant_id, i.id
        LIMIT max_instances
        FOR UPDATE SKIP LOCKED
    LOOP
        BEGIN
            PERFORM kaireon._advance_journey(due.tenant_id, due.id);
            advanced := advanced + 1;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available THEN
                RAISE;  -- the whole transaction must go (or wait): not the step's fault
            WHEN OTHERS THEN
                failed := failed + 1;
                UPDATE kaireon.journey_instances i
                SET last_error = left(SQLERRM, 500), wake_at = kaireon.clock() + interval '15 minutes'
                WHERE i.tenant_id = due.tenant_id AND i.id = due.id;
        END;
    END LOOP;
    RETURN jsonb_build_object('advanced', advanced, 'failed', failed);
END
$$;
COMMENT ON FUNCTION kaireon.advance_journeys(integer) IS
    'Advances the journey instances that are due (waits ended, decisions to make), at most max_instances; returns {advanced, failed}.';
GRANT EXECUTE ON FUNCTION kaireon.advance_journeys(integer) TO kaireon_admin;

-- tick gains the journeys: {"at", "quotaPeriods", "capPeriods", "journeys"}.
CREATE OR REPLACE FUNCTION kaireon.tick() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    quota_periods integer := kaireon.rollover_periods();
    cap_periods integer := kaireon.reset_expired_caps();
    journeys jsonb := kaireon.advance_journeys();
BEGIN
    RETURN jsonb_build_object('at', kaireon._iso_utc(kaireon.clock()), 'quotaPeriods', quota_periods,
                              'capPeriods', cap_periods, 'journeys', journeys);
END
$$;
COMMENT ON FUNCTION kaireon.tick() IS
    'Runs the periodic jobs that are due (rollover_periods, reset_expired_caps, advance_journeys) for every tenant; returns {at, quotaPeriods, capPeriods, journeys}.';

-- ---------------------------------------------------------------------------
-- Webhook delivery (docs/webhooks.md). The daemon kaireon_webhookd connects
-- as a member of kaireon_deliverer and loops: plan_webhook_deliveries fans
-- committed outbox events out into one delivery per matching endpoint,
-- claim_webhook_deliveries leases what is due (per endpoint in seq order)
-- and returns the signed requests, finish_webhook_delivery records each
-- attempt's outcome. Signatures are computed here: secrets never leave the
-- database.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_deliverer') THEN
        CREATE ROLE kaireon_deliverer NOLOGIN;
    END IF;
END
$roles$;
GRANT USAGE ON SCHEMA kaireon TO kaireon_deliverer;

-- An endpoint receives the events numbered after it was registered (the
-- last seq given then); endpoints registered before this release start now.
ALTER TABLE kaireon.webhook_endpoints ADD COLUMN start_seq bigint NOT NULL DEFAULT kaireon._last_event_seq();
COMMENT ON COLUMN kaireon.webhook_endpoints.start_seq IS 'The endpoint receives events with a larger seq.';
GRANT SELECT (start_seq) ON kaireon.webhook_endpoints TO kaireon_admin, kaireon_reader;

-- How far plan_webhook_deliveries has read the outbox: one row, locked by
-- the planner, so two daemons never plan an event twice. The first plan
-- makes it (at 0: start_seq keeps older events from endpoints), so that a
-- restore, which loads the dumped row, finds the table empty.
CREATE TABLE kaireon.webhook_plan_position (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position   bigint NOT NULL,
    planned_at timestamptz
);
COMMENT ON TABLE kaireon.webhook_plan_position IS 'The last event seq plan_webhook_deliveries has fanned out.';
SELECT pg_catalog.pg_extension_config_dump('kaireon.webhook_plan_position', '');

-- One delivery per (endpoint, event): what to send, where it stands.
CREATE TABLE kaireon.webhook_deliveries (
    tenant_id       text NOT NULL,
    endpoint_id     bigint NOT NULL,
    event_id        bigint NOT NULL,
    event_seq       bigint NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    leased_until    timestamptz,
    lease_owner     text,
    last_status     int,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT kaireon.clock(),
    delivered_at    timestamptz,
    dead_at         timestamptz,
    PRIMARY KEY (tenant_id, endpoint_id, event_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES kaireon.webhook_endpoints ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES kaireon.events ON DELETE CASCADE,
    CHECK ((leased_until IS NULL) = (lease_owner IS NULL))
);
COMMENT ON TABLE kaireon.webhook_deliveries IS
    'One row per (endpoint, event) to deliver: pending, delivered or dead (dead letters), with its attempts and lease.';
CREATE INDEX webhook_deliveries_pending ON kaireon.webhook_deliveries (tenant_id, endpoint_id, event_seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event ON kaireon.webhook_deliveries (tenant_id, event_id);
ALTER TABLE kaireon.webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.webhook_deliveries USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.webhook_deliveries TO kaireon_admin, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.webhook_deliveries', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.webhook_deliveries', 'delete', 75);

-- Every attempt, append-only: its outcome as the deliverer reported it.
CREATE TABLE kaireon.webhook_attempts (
    tenant_id   text NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    endpoint_id bigint NOT NULL,
    event_id    bigint NOT NULL,
    attempt     int NOT NULL,
    worker      text,
    recorded_at timestamptz NOT NULL DEFAULT kaireon.clock(),
    http_status int,
    error       text,
    duration_ms int,
    outcome     text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead', 'stale', 'lease_expired')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id, event_id) REFERENCES kaireon.webhook_deliveries ON DELETE CASCADE
);
COMMENT ON TABLE kaireon.webhook_attempts IS
    'Every webhook delivery attempt (append-only): status or error, duration, worker, what it decided.';
CREATE INDEX webhook_attempts_delivery ON kaireon.webhook_attempts (tenant_id, endpoint_id, event_id, id);
ALTER TABLE kaireon.webhook_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.webhook_attempts USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.webhook_attempts TO kaireon_admin, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.webhook_attempts', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.webhook_attempts_id_seq', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.webhook_attempts', 'delete', 70);

-- Dead letters: deliveries whose every attempt failed (the caller's tenant
-- only: the view runs with the caller's rights, so RLS applies).
CREATE VIEW kaireon.webhook_dead_letters WITH (security_invoker = true) AS
SELECT d.tenant_id, d.endpoint_id, d.event_id, d.event_seq, e.type AS event_type, d.attempts,
       d.last_status, d.last_error, d.created_at, d.dead_at
FROM kaireon.webhook_deliveries d
JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
WHERE d.state = 'dead';
COMMENT ON VIEW kaireon.webhook_dead_letters IS 'Dead-lettered webhook deliveries; requeue with redeliver_webhook.';
GRANT SELECT ON kaireon.webhook_dead_letters TO kaireon_admin, kaireon_reader;

CREATE FUNCTION kaireon._webhook_signature(secret text, "timestamp" bigint, body text) RETURNS text
AS 'MODULE_PATHNAME', 'kaireon_webhook_signature' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION kaireon._webhook_retry_delay(attempt int) RETURNS bigint
AS 'MODULE_PATHNAME', 'kaireon_webhook_retry_delay' LANGUAGE C VOLATILE;

-- _webhook_error returns a worker's error text fit to store: without the
-- endpoint's secret, at most 500 characters.
CREATE FUNCTION kaireon._webhook_error(error text, secret text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT left(replace(error, secret, '[secret]'), 500)
$$;

-- plan_webhook_deliveries fans the next committed events (at most
-- max_events, in seq order) out into deliveries and moves the position past
-- them, in one transaction; returns how many deliveries it made. An event
-- goes to every active endpoint of its tenant registered before it whose
-- event_types is NULL or holds its type; a trigger.fired event of a webhook
-- action goes to the action's endpoint too. Another planner busy at the
-- same time makes this one return 0 at once (it plans those events).
CREATE FUNCTION kaireon.plan_webhook_deliveries(max_events int DEFAULT 1000) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pos bigint;
    last_seq bigint;
    planned int;
BEGIN
    IF max_events IS NULL OR max_events NOT BETWEEN 1 AND 10000 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_events must be between 1 and 10000', '{"path": "max_events"}');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM kaireon.webhook_plan_position) THEN
        INSERT INTO kaireon.webhook_plan_position (position) VALUES (0) ON CONFLICT DO NOTHING;
    END IF;
    SELECT p.position INTO pos FROM kaireon.webhook_plan_position p FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    PERFORM kaireon._sequence_events();
    SELECT max(b.seq) INTO last_seq
    FROM (SELECT e.seq FROM kaireon.events e WHERE e.seq > pos ORDER BY e.seq LIMIT max_events) b;
    IF last_seq IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO kaireon.webhook_deliveries AS d (tenant_id, endpoint_id, event_id, event_seq, next_attempt_at)
    SELECT e.tenant_id, w.id, e.id, e.seq, kaireon.clock()
    FROM kaireon.events e
    JOIN kaireon.webhook_endpoints w ON w.tenant_id = e.tenant_id AND w.active AND e.seq > w.start_seq
    WHERE e.seq > pos AND e.seq <= last_seq
      AND (w.event_types IS NULL OR e.type = ANY (w.event_types)
           OR (e.type = 'trigger.fired' AND e.payload ->> 'action' = 'webhook'
               AND e.payload #>> '{result,endpointId}' = w.id::text))
    ORDER BY e.seq, w.id
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS planned = ROW_COUNT;
    UPDATE kaireon.webhook_plan_position p SET position = last_seq, planned_at = now();
    RETURN planned;
END
$$;

-- _webhook_body returns the JSON body delivered for an event to an
-- endpoint: the envelope {id, seq, type, tenantId, createdAt, data}. data is
-- the event's payload, or for the endpoint a trigger's webhook action
-- names, the action's payload with the trigger's context.
CREATE FUNCTION kaireon._webhook_body(e kaireon.events, endpoint_id bigint) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'id', e.id, 'seq', e.seq, 'type', e.type, 'tenantId', e.tenant_id,
        'createdAt', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'data', CASE WHEN e.type = 'trigger.fired' AND e.payload ->> 'action' = 'webhook'
                          AND e.payload #>> '{result,endpointId}' = endpoint_id::text
                     THEN jsonb_build_object('triggerId', e.payload -> 'triggerId',
                                             'customerId', e.payload -> 'customerId',
                                             'eventType', e.payload -> 'eventType',
                                             'payload', coalesce(e.payload #> '{result,payload}', '{}'))
                     ELSE e.payload END)::text
$$;

-- _check_worker validates a worker name (it is stored and logged).
CREATE FUNCTION kaireon._check_worker(worker text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF worker IS NULL OR worker !~ '^[A-Za-z0-9_.:@-]{1,100}$' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'worker must be 1 to 100 characters of [A-Za-z0-9_.:@-]', '{"path": "worker"}');
    END IF;
END
$$;

-- claim_webhook_deliveries leases up to max_deliveries deliveries to
-- `worker` for lease_seconds and returns them ready to POST: at most one per
-- endpoint, each the endpoint's earliest pending delivery (so an endpoint
-- receives its events in seq order; dead ones do not hold it up), due, not
-- leased, of an active endpoint. Claiming counts the attempt. A lease that
-- expired without a finish is recorded as a failed attempt (lease_expired)
-- first, and dead-letters the delivery if it was the last one allowed.
-- Rows locked by another claim are skipped, so two workers never get the
-- same delivery.
CREATE FUNCTION kaireon.claim_webhook_deliveries(worker text, max_deliveries int DEFAULT 10, lease_seconds int DEFAULT 60)
RETURNS TABLE (tenant_id text, endpoint_id bigint, event_id bigint, attempt int, url text, body text, headers jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    now timestamptz := kaireon.clock();
    max_attempts int := current_setting('kaireon.webhook_max_attempts')::int;
BEGIN
    PERFORM kaireon._check_worker(worker);
    IF max_deliveries IS NULL OR max_deliveries NOT BETWEEN 1 AND 1000 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_deliveries must be between 1 and 1000', '{"path": "max_deliveries"}');
    END IF;
    IF lease_seconds IS NULL OR lease_seconds NOT BETWEEN 1 AND 3600 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'lease_seconds must be between 1 and 3600', '{"path": "lease_seconds"}');
    END IF;
    -- Leases that ran out: the worker died or gave up. Counted as failed.
    WITH expired AS (
        SELECT d.tenant_id, d.endpoint_id, d.event_id, d.lease_owner
        FROM kaireon.webhook_deliveries d
        WHERE d.state = 'pending' AND d.leased_until <= now
        FOR UPDATE SKIP LOCKED),
    released AS (
        UPDATE kaireon.webhook_deliveries d
        SET state = CASE WHEN d.attempts >= max_attempts THEN 'dead' ELSE 'pending' END,
            dead_at = CASE WHEN d.attempts >= max_attempts THEN now END,
            last_status = NULL, last_error = 'lease expired without a result from the worker',
            leased_until = NULL, lease_owner = NULL
        FROM expired x
        WHERE d.tenant_id = x.tenant_id AND d.endpoint_id = x.endpoint_id AND d.event_id = x.event_id
        RETURNING d.tenant_id, d.endpoint_id, d.event_id, d.attempts, d.state, d.last_error, x.lease_owner)
    INSERT INTO kaireon.webhook_attempts (tenant_id, endpoint_id, event_id, attempt, worker, error, outcome)
    SELECT r.tenant_id, r.endpoint_id, r.event_id, r.attempts, r.lease_owner, r.last_error,
           CASE WHEN r.state = 'dead' THEN 'dead' ELSE 'lease_expired' END
    FROM released r;

    RETURN QUERY
    WITH heads AS (
        SELECT DISTINCT ON (d.tenant_id, d.endpoint_id) d.tenant_id, d.endpoint_id, d.event_id, d.event_seq,
               d.next_attempt_at, d.leased_until
        FROM kaireon.webhook_deliveries d
        WHERE d.state = 'pending'
        ORDER BY d.tenant_id, d.endpoint_id, d.event_seq),
    due AS (
        SELECT h.tenant_id, h.endpoint_id, h.event_id
        FROM heads h
        JOIN kaireon.webhook_endpoints w ON w.tenant_id = h.tenant_id AND w.id = h.endpoint_id AND w.active
        WHERE h.next_attempt_at <= now AND h.leased_until IS NULL
        ORDER BY h.next_attempt_at, h.event_seq
        LIMIT max_deliveries),
    locked AS (
        SELECT d.tenant_id, d.endpoint_id, d.event_id
        FROM kaireon.webhook_deliveries d
        JOIN due ON due.tenant_id = d.tenant_id AND due.endpoint_id = d.endpoint_id AND due.event_id = d.event_id
        WHERE d.state = 'pending' AND d.next_attempt_at <= now AND d.leased_until IS NULL
        FOR UPDATE OF d SKIP LOCKED),
    claimed AS (
        UPDATE kaireon.webhook_deliveries d
        SET attempts = d.attempts + 1, leased_until = now + make_interval(secs => lease_seconds),
            lease_owner = worker
        FROM locked l
        WHERE d.tenant_id = l.tenant_id AND d.endpoint_id = l.endpoint_id AND d.event_id = l.event_id
        RETURNING d.tenant_id, d.endpoint_id, d.event_id, d.event_seq, d.attempts),
    built AS (
        SELECT c.tenant_id, c.endpoint_id, c.event_id, c.event_seq, c.attempts, w.url, w.secret, e.type,
               kaireon._webhook_body(e, c.endpoint_id) AS body,
               floor(extract(epoch FROM now))::bigint AS ts
        FROM claimed c
        JOIN kaireon.webhook_endpoints w ON w.tenant_id = c.tenant_id AND w.id = c.endpoint_id
        JOIN kaireon.events e ON e.tenant_id = c.tenant_id AND e.id = c.event_id)
    SELECT b.tenant_id, b.endpoint_id, b.event_id, b.attempts, b.url, b.body,
           jsonb_build_object('Content-Type', 'application/json',
                              'Kaireon-Event-Id', b.event_id::text,
                              'Kaireon-Event-Type', b.type,
                              'Kaireon-Timestamp', b.ts::text,
                              'Kaireon-Signature', kaireon._webhook_signature(b.secret, b.ts, b.body),
                              'Kaireon-Delivery-Attempt', b.attempts::text)
    FROM built b
    ORDER BY b.event_seq, b.endpoint_id;
END
$$;

-- _webhook_delivery returns the delivery (locked), or raises KR400.
CREATE FUNCTION kaireon._webhook_delivery(tenant_id text, endpoint_id bigint, event_id bigint)
RETURNS kaireon.webhook_deliveries
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    delivery kaireon.webhook_deliveries;
BEGIN
    SELECT * INTO delivery FROM kaireon.webhook_deliveries d
    WHERE d.tenant_id = _webhook_delivery.tenant_id AND d.endpoint_id = _webhook_delivery.endpoint_id
      AND d.event_id = _webhook_delivery.event_id
    FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kaireon._raise('BAD_REQUEST',
                               format('unknown webhook delivery (tenant %s, endpoint %s, event %s)', tenant_id, endpoint_id, event_id),
                               jsonb_build_object('path', 'delivery', 'tenantId', tenant_id, 'endpointId', endpoint_id,
                                                  'eventId', event_id));
    END IF;
    RETURN delivery;
END
$$;

-- finish_webhook_delivery records the outcome of attempt `attempt` of a
-- delivery claimed by `worker`: an HTTP status (2xx: delivered) or an
-- error (timeout, connection refused...). A failure is retried after the
-- backoff (_webhook_retry_delay), or dead-lettered after
-- kaireon.webhook_max_attempts attempts. The attempt is always recorded;
-- it changes the delivery only while it is the current one (the worker
-- still holds the claim: same attempt, lease not taken back). Returns
-- {"state", "applied", "attempts", "nextAttemptAt"}.
CREATE FUNCTION kaireon.finish_webhook_delivery(tenant_id text, endpoint_id bigint, event_id bigint, attempt int,
                                                worker text, http_status int DEFAULT NULL, error text DEFAULT NULL,
                                                duration_ms int DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d kaireon.webhook_deliveries;
    secret text;
    now timestamptz := kaireon.clock();
    max_attempts int := current_setting('kaireon.webhook_max_attempts')::int;
    is_current boolean;
    ok boolean;
    outcome text;
    stored_error text;
BEGIN
    PERFORM kaireon._check_worker(worker);
    IF attempt IS NULL OR attempt < 1 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'attempt must be at least 1', '{"path": "attempt"}');
    END IF;
    IF http_status IS NULL AND error IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'give http_status or error', '{"path": "http_status"}');
    END IF;
    IF http_status IS NOT NULL AND http_status NOT BETWEEN 100 AND 599 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'http_status must be between 100 and 599', '{"path": "http_status"}');
    END IF;
    IF duration_ms IS NOT NULL AND duration_ms < 0 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'duration_ms must not be negative', '{"path": "duration_ms"}');
    END IF;
    d := kaireon._webhook_delivery(tenant_id, endpoint_id, event_id);
    IF attempt > d.attempts THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('attempt %s of this delivery was never claimed', attempt),
                               jsonb_build_object('path', 'attempt', 'attempts', d.attempts));
    END IF;
    SELECT w.secret INTO secret FROM kaireon.webhook_endpoints w
    WHERE w.tenant_id = d.tenant_id AND w.id = d.endpoint_id;
    stored_error := kaireon._webhook_error(error, secret);
    ok := http_status BETWEEN 200 AND 299;
    is_current := d.state = 'pending' AND d.attempts = attempt AND d.lease_owner = worker;
    IF NOT is_current THEN
        outcome := 'stale';
    ELSIF ok THEN
        outcome := 'delivered';
        UPDATE kaireon.webhook_deliveries x
        SET state = 'delivered', delivered_at = now, last_status = http_status, last_error = NULL,
            leased_until = NULL, lease_owner = NULL
        WHERE x.tenant_id = d.tenant_id AND x.endpoint_id = d.endpoint_id AND x.event_id = d.event_id
        RETURNING * INTO d;
    ELSIF d.attempts >= max_attempts THEN
        outcome := 'dead';
        UPDATE kaireon.webhook_deliveries x
        SET state = 'dead', dead_at = now, last_status = http_status, last_error = stored_error,
            leased_until = NULL, lease_owner = NULL
        WHERE x.tenant_id = d.tenant_id AND x.endpoint_id = d.endpoint_id AND x.event_id = d.event_id
        RETURNING * INTO d;
    ELSE
        outcome := 'retry';
        UPDATE kaireon.webhook_deliveries x
        SET next_attempt_at = now + kaireon._webhook_retry_delay(d.attempts) * interval '1 millisecond',
            last_status = http_status, last_error = stored_error, leased_until = NULL, lease_owner = NULL
        WHERE x.tenant_id = d.tenant_id AND x.endpoint_id = d.endpoint_id AND x.event_id = d.event_id
        RETURNING * INTO d;
    END IF;
    INSERT INTO kaireon.webhook_attempts (tenant_id, endpoint_id, event_id, attempt, worker, http_status, error,
                                          duration_ms, outcome)
    VALUES (d.tenant_id, d.endpoint_id, d.event_id, attempt, worker, http_status, stored_error, duration_ms, outcome);
    RETURN jsonb_build_object('state', d.state, 'applied', is_current, 'attempts', d.attempts,
                              'nextAttemptAt', CASE WHEN d.state = 'pending' THEN d.next_attempt_at END);
END
$$;

-- release_webhook_delivery gives back a claim whose request was never sent
-- (the worker is stopping): the attempt is not counted, the delivery is due
-- at once. A release that is not current changes nothing. Returns whether
-- it released.
CREATE FUNCTION kaireon.release_webhook_delivery(tenant_id text, endpoint_id bigint, event_id bigint, attempt int,
                                                 worker text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d kaireon.webhook_deliveries;
BEGIN
    PERFORM kaireon._check_worker(worker);
    IF attempt IS NULL OR attempt < 1 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'attempt must be at least 1', '{"path": "attempt"}');
    END IF;
    d := kaireon._webhook_delivery(tenant_id, endpoint_id, event_id);
    IF d.state <> 'pending' OR d.attempts <> attempt OR d.lease_owner IS DISTINCT FROM worker THEN
        RETURN false;
    END IF;
    UPDATE kaireon.webhook_deliveries x
    SET attempts = x.attempts - 1, leased_until = NULL, lease_owner = NULL
    WHERE x.tenant_id = d.tenant_id AND x.endpoint_id = d.endpoint_id AND x.event_id = d.event_id;
    RETURN true;
END
$$;

-- redeliver_webhook requeues the current tenant's dead deliveries to an
-- endpoint: the one of event_id, or (NULL) all of them. They start again
-- with a full set of attempts, due now, in seq order with the endpoint's
-- other pending deliveries. Returns {"endpointId", "requeued"}.
CREATE FUNCTION kaireon.redeliver_webhook(endpoint_id bigint, event_id bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon.current_tenant();
    found_state text;
    requeued int;
BEGIN
    IF endpoint_id IS NULL OR NOT EXISTS (SELECT 1 FROM kaireon.webhook_endpoints w
                                          WHERE w.tenant_id = tenant AND w.id = redeliver_webhook.endpoint_id) THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('unknown webhook endpoint %s', coalesce(endpoint_id::text, 'NULL')),
                               jsonb_build_object('path', 'endpoint_id', 'endpointId', endpoint_id));
    END IF;
    IF event_id IS NOT NULL THEN
        SELECT d.state INTO found_state FROM kaireon.webhook_deliveries d
        WHERE d.tenant_id = tenant AND d.endpoint_id = redeliver_webhook.endpoint_id AND d.event_id = redeliver_webhook.event_id
        FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM kaireon._raise('BAD_REQUEST', format('no delivery of event %s to webhook endpoint %s', event_id, endpoint_id),
                                   jsonb_build_object('path', 'event_id', 'endpointId', endpoint_id, 'eventId', event_id));
        ELSIF found_state <> 'dead' THEN
            PERFORM kaireon._raise('BAD_REQUEST',
                                   format('the delivery of event %s to webhook endpoint %s is %s, not dead', event_id, endpoint_id, found_state),
                                   jsonb_build_object('path', 'event_id', 'endpointId', endpoint_id, 'eventId', event_id,
                                                      'state', found_state));
        END IF;
    END IF;
    UPDATE kaireon.webhook_deliveries d
    SET state = 'pending', attempts = 0, next_attempt_at = kaireon.clock(), dead_at = NULL
    WHERE d.tenant_id = tenant AND d.endpoint_id = redeliver_webhook.endpoint_id AND d.state = 'dead'
      AND (redeliver_webhook.event_id IS NULL OR d.event_id = redeliver_webhook.event_id);
    GET DIAGNOSTICS requeued = ROW_COUNT;
    RETURN jsonb_build_object('endpointId', endpoint_id, 'requeued', requeued);
END
$$;

GRANT EXECUTE ON FUNCTION kaireon.plan_webhook_deliveries(int), kaireon.claim_webhook_deliveries(text, int, int),
    kaireon.finish_webhook_delivery(text, bigint, bigint, int, text, int, text, int),
    kaireon.release_webhook_delivery(text, bigint, bigint, int, text)
    TO kaireon_deliverer;
GRANT EXECUTE ON FUNCTION kaireon.redeliver_webhook(bigint, bigint) TO kaireon_admin;

SELECT kaireon._revoke_public();

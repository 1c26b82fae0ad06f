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
            WHEN serialization_failure OR deadlock_detected THEN
                RAISE;
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
-- Webhook delivery
-- (to come)

SELECT kaireon._revoke_public();

-- kaireon 0.12 -> 0.13: multi-armed bandits (SPEC 6.5, docs/experiments.md):
-- the counts a bandit experiment with variants learns from; streaming
-- ingest and triggers (SPEC 6.7, docs/automation.md).
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.13'" to load this file. \quit

-- Impressions and positive outcomes per (bandit experiment, variant): the
-- interactions answering the decisions the bandit placed in the variant,
-- counted by kaireon_respond, in slots as kaireon.offer_stat_slots are (a
-- responding transaction adds to a slot no other open transaction holds,
-- so answers never queue on one row per arm; a rollback takes its counts
-- back). Writing a bandit experiment counts them again from
-- kaireon.interactions and adds the difference as a correction slot.
-- Dumped, like kaireon.offer_stat_slots from now on: pg_restore loads the
-- catalog tables before kaireon.interactions, so counting them again at
-- restore would count nothing (a restore, a superuser writing without
-- kaireon.tenant, counts nothing again: it loads the slots as they were).
-- Bandits over offers read kaireon.offer_stat_slots.
CREATE TABLE kaireon.bandit_arm_slots (
    tenant_id     text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    experiment_id text NOT NULL,
    variant       text NOT NULL,
    slot          integer NOT NULL,
    impressions   bigint NOT NULL DEFAULT 0,  -- a correction slot may be negative; the sums never are
    positives     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, experiment_id, variant, slot)
);
COMMENT ON TABLE kaireon.bandit_arm_slots IS
    'Bandit arms'' counts in slots (read kaireon.bandit_arms): impressions and positives per experiment and variant.';
ALTER TABLE kaireon.bandit_arm_slots ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.bandit_arm_slots USING (tenant_id = kaireon.visible_tenant());
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.bandit_arm_slots', 'delete', 5);
GRANT SELECT ON kaireon.bandit_arm_slots TO kaireon_admin, kaireon_app, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.bandit_arm_slots', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.offer_stat_slots', '');

CREATE VIEW kaireon.bandit_arms WITH (security_invoker = true) AS
    SELECT tenant_id, experiment_id, variant, sum(impressions)::bigint AS impressions,
           sum(positives)::bigint AS positives
    FROM kaireon.bandit_arm_slots
    GROUP BY tenant_id, experiment_id, variant;
COMMENT ON VIEW kaireon.bandit_arms IS
    'Impressions and positive outcomes per bandit experiment and variant, as the bandits read them.';
GRANT SELECT ON kaireon.bandit_arms TO kaireon_admin, kaireon_app, kaireon_reader;

-- Streaming ingest and triggers (SPEC 6.7, docs/automation.md): when each
-- trigger last fired for each customer, for its cooldown. An ingest that
-- fires a trigger upserts the row (ON CONFLICT ... WHERE the cooldown has
-- passed), so two sessions ingesting for one customer take turns on it and
-- the trigger fires once per cooldown.
CREATE TABLE kaireon.trigger_cooldowns (
    tenant_id     text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    trigger_id    text NOT NULL,
    customer_id   text NOT NULL,
    last_fired_at timestamptz NOT NULL,
    fired         bigint NOT NULL DEFAULT 1,  -- how many times it fired for the customer
    PRIMARY KEY (tenant_id, trigger_id, customer_id)
);
COMMENT ON TABLE kaireon.trigger_cooldowns IS
    'When each trigger last fired for each customer (its cooldown) and how many times it fired.';
ALTER TABLE kaireon.trigger_cooldowns ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.trigger_cooldowns USING (tenant_id = kaireon.visible_tenant());
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.trigger_cooldowns', 'delete', 5);
GRANT SELECT ON kaireon.trigger_cooldowns TO kaireon_admin, kaireon_app, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.trigger_cooldowns', '');

CREATE FUNCTION kaireon.ingest_event(customer_id text, event_type text, payload jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_ingest_event' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.ingest_event(text, text, jsonb) IS
    'Ingests an event of a customer: fires the tenant''s triggers of its type in priority order (condition, cooldown, action).';
GRANT EXECUTE ON FUNCTION kaireon.ingest_event(text, text, jsonb) TO kaireon_admin, kaireon_app;

CREATE FUNCTION kaireon.ingest_events(events jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_ingest_events' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.ingest_events(jsonb) IS
    'Ingests an array of {customerId, eventType, payload} in order, in one transaction.';
GRANT EXECUTE ON FUNCTION kaireon.ingest_events(jsonb) TO kaireon_admin, kaireon_app;

SELECT kaireon._revoke_public();

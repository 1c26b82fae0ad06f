-- kaireon 0.11 -> 0.12: scoring models (SPEC 6.2 step 5, docs/models.md):
-- the offer statistics Bayesian models learn from.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.12'" to load this file. \quit

-- Impressions and positive outcomes per offer (segment '': all customers)
-- and per (offer, customer segment), counted by kaireon_respond while the
-- tenant has a bayesian model. A key's count is the sum of its slots: a
-- responding transaction adds to a slot no other open transaction holds
-- (FOR UPDATE SKIP LOCKED) or makes a new one, so responses never queue
-- behind each other on one row per offer, and a rollback takes its counts
-- back with it. Writing a bayesian model counts the statistics again from
-- kaireon.interactions and adds the difference as a correction slot (never
-- rewriting slots, so any isolation level counts exactly). Derived data, so
-- not dumped: restoring the models counts them again (pg_restore loads
-- interactions first).
CREATE TABLE kaireon.offer_stat_slots (
    tenant_id   text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    offer_id    text NOT NULL,
    segment     text NOT NULL DEFAULT '',
    slot        integer NOT NULL,
    impressions bigint NOT NULL DEFAULT 0,  -- a correction slot may be negative; the sums never are
    positives   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, offer_id, segment, slot)
);
COMMENT ON TABLE kaireon.offer_stat_slots IS
    'Offer statistics of Bayesian models in slots (read kaireon.offer_stats): impressions and positives per offer and segment.';
ALTER TABLE kaireon.offer_stat_slots ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.offer_stat_slots USING (tenant_id = kaireon.visible_tenant());
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.offer_stat_slots', 'delete', 5);
GRANT SELECT ON kaireon.offer_stat_slots TO kaireon_admin, kaireon_app, kaireon_reader;

CREATE VIEW kaireon.offer_stats WITH (security_invoker = true) AS
    SELECT tenant_id, offer_id, segment, sum(impressions)::bigint AS impressions, sum(positives)::bigint AS positives
    FROM kaireon.offer_stat_slots
    GROUP BY tenant_id, offer_id, segment;
COMMENT ON VIEW kaireon.offer_stats IS
    'Impressions and positive outcomes per offer (segment '''': all customers) and per customer segment, as Bayesian models read them.';
GRANT SELECT ON kaireon.offer_stats TO kaireon_admin, kaireon_app, kaireon_reader;

-- A/B experiments (SPEC 6.5, docs/experiments.md): a decision records its
-- experiment and variant in kaireon.decisions.experiment ({id, variant});
-- the interactions answering it carry them, for experiment_report.
ALTER TABLE kaireon.interactions ADD COLUMN experiment_id text, ADD COLUMN variant text;
CREATE INDEX interactions_experiment ON kaireon.interactions (tenant_id, experiment_id, variant)
    WHERE experiment_id IS NOT NULL;
CREATE INDEX decisions_experiment ON kaireon.decisions (tenant_id, (experiment ->> 'id'))
    WHERE experiment IS NOT NULL;

CREATE FUNCTION kaireon.experiment_report(experiment text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_experiment_report' LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.experiment_report(text) IS
    'An A/B experiment''s results per variant: impressions, positives, rate, uplift versus control with a 95 % Newcombe-Wilson interval, two-proportion z-test p-value.';
GRANT EXECUTE ON FUNCTION kaireon.experiment_report(text) TO kaireon_admin, kaireon_app, kaireon_reader;

SELECT kaireon._revoke_public();

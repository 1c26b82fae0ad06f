-- kaireon 0.7 -> 0.8: decisions (SPEC 6.2): kaireon_recommend and its SQL
-- twins, decision records and traces.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.8'" to load this file. \quit

-- Every decision made (dry runs excepted): what was offered to whom, by which
-- flow; respond (issue 11) refers to it by id.
CREATE TABLE kaireon.decisions (
    tenant_id   text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    customer_id text NOT NULL,
    flow        text NOT NULL,
    channel     text,
    offers      jsonb NOT NULL,  -- [{rank, offerId, creativeId, placement, category, score, propensity, value}]
    experiment  jsonb,           -- {id, variant} when one applied
    trace_id    uuid,
    decided_at  timestamptz NOT NULL DEFAULT kaireon.clock(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ON kaireon.decisions (tenant_id, customer_id, decided_at);
COMMENT ON TABLE kaireon.decisions IS 'Decision records: every kaireon_recommend answer that was not a dry run.';

-- Traces of the decisions that asked for one, within the tier's daily
-- allowance (decision_traces_per_day).
CREATE TABLE kaireon.decision_traces (
    tenant_id   text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    decision_id uuid NOT NULL,
    customer_id text NOT NULL,
    flow        text NOT NULL,
    stages      jsonb NOT NULL,  -- [{stage, in, out, micros, removed: [{offerId, reason}]}]
    traced_at   timestamptz NOT NULL DEFAULT kaireon.clock(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ON kaireon.decision_traces (tenant_id, traced_at);
COMMENT ON TABLE kaireon.decision_traces IS 'Per-stage traces of decisions made with "trace": true.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['decisions', 'decision_traces'] LOOP
        EXECUTE format('ALTER TABLE kaireon.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON kaireon.%I USING (tenant_id = kaireon.visible_tenant())', t);
        PERFORM pg_catalog.pg_extension_config_dump(format('kaireon.%I', t), '');
        INSERT INTO kaireon.tenant_tables VALUES (format('kaireon.%I', t)::regclass, 'delete', 5);
        EXECUTE format('GRANT SELECT ON kaireon.%I TO kaireon_admin, kaireon_app, kaireon_reader', t);
    END LOOP;
END
$$;

CREATE FUNCTION public.kaireon_recommend(request jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_recommend' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION public.kaireon_recommend(jsonb) IS
    'Next best offers for a customer through a flow (SPEC 6.2): request and response documented in docs/decisioning.md.';

CREATE FUNCTION kaireon.recommend(customer_id text, flow text, n int DEFAULT NULL, context jsonb DEFAULT '{}')
RETURNS TABLE (rank int, offer_id text, creative_id text, placement text, category text, score float8,
               propensity float8, value float8, decision_id uuid)
AS 'MODULE_PATHNAME', 'kaireon_recommend_rows' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.recommend(text, text, int, jsonb) IS
    'kaireon_recommend as rows, one per offer (n NULL: the flow''s ranking.n, else 5).';

CREATE FUNCTION kaireon.recommend_batch(flow text, customer_ids text[], n int DEFAULT NULL, context jsonb DEFAULT '{}')
RETURNS TABLE (customer_id text, rank int, offer_id text, creative_id text, placement text, category text,
               score float8, propensity float8, value float8, decision_id uuid)
AS 'MODULE_PATHNAME', 'kaireon_recommend_batch' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.recommend_batch(text, text[], int, jsonb) IS
    'Decides for many customers in one call (all or nothing).';

GRANT EXECUTE ON FUNCTION public.kaireon_recommend(jsonb), kaireon.recommend(text, text, int, jsonb),
    kaireon.recommend_batch(text, text[], int, jsonb) TO kaireon_admin, kaireon_app;

SELECT kaireon._revoke_public();

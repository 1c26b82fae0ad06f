-- kaireon 0.4 -> 0.5: metering (SPEC section 4): usage events, their
-- rollups per tenant, feature and period, idempotency keys, thresholds.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.5'" to load this file. \quit

-- Usage events, append-only. report_usage writes one; applications may bulk
-- load many (INSERT ... SELECT, COPY) for their current tenant. The
-- statement-level trigger below validates and aggregates every statement.
CREATE TABLE kaireon.usage_events (
    tenant_id       text NOT NULL DEFAULT kaireon.current_tenant(),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    feature         text NOT NULL,
    value           numeric NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT kaireon.clock(),
    recorded_at     timestamptz NOT NULL DEFAULT kaireon.clock(),
    idempotency_key text,
    properties      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX usage_events_feature ON kaireon.usage_events (tenant_id, feature, occurred_at);
COMMENT ON TABLE kaireon.usage_events IS 'Usage reports (report_usage and bulk loads); append-only.';

-- Rollups are derived data, not dumped: restoring usage_events rebuilds them
-- (a superuser loading without a tenant set is a maintenance load: rows are
-- aggregated, not re-validated, and emit no events).
-- Rollups: SUM, COUNT, MAX, MIN, LATEST per tenant, feature and period
-- (period_start = the UTC hour/day/ISO week/month start of occurred_at;
-- -infinity for period "never"). Each backend writes its own slot, so
-- concurrent reporters never queue on one row; readers merge the slots.
CREATE TABLE kaireon.usage_rollups (
    tenant_id       text NOT NULL,
    feature         text NOT NULL,
    period_start    timestamptz NOT NULL,
    slot            int NOT NULL,
    sum             numeric NOT NULL,
    count           bigint NOT NULL,
    max             numeric,
    min             numeric,
    latest_value    numeric,
    latest_at       timestamptz,
    latest_event_id bigint,
    PRIMARY KEY (tenant_id, feature, period_start, slot)
);
COMMENT ON TABLE kaireon.usage_rollups IS 'Usage aggregates per tenant, feature, period and writer slot (merge slots to read).';

CREATE VIEW kaireon.usage_totals WITH (security_invoker = true) AS
SELECT r.tenant_id, r.feature, r.period_start,
       sum(r.sum) AS sum, sum(r.count)::bigint AS count, max(r.max) AS max, min(r.min) AS min,
       sum(r.sum) / nullif(sum(r.count), 0) AS average,
       (array_agg(r.latest_value ORDER BY r.latest_at DESC, r.latest_event_id DESC))[1] AS latest
FROM kaireon.usage_rollups r
GROUP BY r.tenant_id, r.feature, r.period_start;
COMMENT ON VIEW kaireon.usage_totals IS 'Usage per tenant, feature and period: SUM, COUNT, MAX, MIN, AVERAGE, LATEST.';

-- Idempotency keys of usage reports, kept for kaireon.idempotency_ttl: the
-- supplied fields (a replay must match them) and the first answer.
CREATE TABLE kaireon.usage_idempotency (
    tenant_id       text NOT NULL,
    idempotency_key text NOT NULL,
    feature         text NOT NULL,
    value           numeric NOT NULL,
    occurred_at     timestamptz,
    properties      jsonb NOT NULL,
    event_id        bigint NOT NULL,
    answer          jsonb,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX usage_idempotency_created ON kaireon.usage_idempotency (created_at);
COMMENT ON TABLE kaireon.usage_idempotency IS 'Idempotency keys of usage reports (expire after kaireon.idempotency_ttl).';

ALTER TABLE kaireon.usage_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.usage_events USING (tenant_id = kaireon.visible_tenant());
ALTER TABLE kaireon.usage_rollups ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.usage_rollups USING (tenant_id = kaireon.visible_tenant());
ALTER TABLE kaireon.usage_idempotency ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.usage_idempotency USING (tenant_id = kaireon.visible_tenant());
INSERT INTO kaireon.tenant_tables VALUES
    ('kaireon.usage_events', 'delete', 60),
    ('kaireon.usage_rollups', 'delete', 60),
    ('kaireon.usage_idempotency', 'delete', 60);

-- Aggregation and validation of every insert, in C++ (src/pg/usage_ingest.cpp).
CREATE FUNCTION kaireon._usage_events_inserted() RETURNS trigger
AS 'MODULE_PATHNAME', 'kaireon_usage_events_inserted' LANGUAGE C;
CREATE TRIGGER aggregate AFTER INSERT ON kaireon.usage_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION kaireon._usage_events_inserted();

-- Append-only: UPDATE, DELETE and TRUNCATE are refused, also for the owner;
-- only drop_tenant removes a dropped tenant's rows.
CREATE FUNCTION kaireon._refuse_change() RETURNS trigger
AS 'MODULE_PATHNAME', 'kaireon_refuse_change' LANGUAGE C;
CREATE FUNCTION kaireon._allow_tenant_purge(tenant_id text) RETURNS void
AS 'MODULE_PATHNAME', 'kaireon_allow_tenant_purge' LANGUAGE C;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON kaireon.usage_events
    FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON kaireon.usage_events
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change();
ALTER TABLE kaireon.usage_events ENABLE ALWAYS TRIGGER append_only;
ALTER TABLE kaireon.usage_events ENABLE ALWAYS TRIGGER append_only_truncate;

CREATE OR REPLACE FUNCTION kaireon.drop_tenant(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    removed bigint;
    deleted jsonb := '{}';
BEGIN
    PERFORM kaireon._require_tenant(tenant_id);
    PERFORM kaireon._allow_tenant_purge(tenant_id);  -- append-only tables let this transaction remove the tenant
    FOR entry IN
        SELECT tt.table_name FROM kaireon.tenant_tables tt WHERE tt.on_drop = 'delete' ORDER BY tt.drop_order, tt.table_name::text
    LOOP
        EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', entry.table_name) USING tenant_id;
        GET DIAGNOSTICS removed = ROW_COUNT;
        deleted := deleted || jsonb_build_object(entry.table_name::text, removed);
    END LOOP;
    DELETE FROM kaireon.tenants t WHERE t.tenant_id = drop_tenant.tenant_id;
    RETURN jsonb_build_object('tenantId', tenant_id, 'deleted', deleted);
END
$$;

-- Usage so far is read by the library (src/pg/usage_ingest.cpp, read_usage)
-- from usage_rollups; the 0.4 placeholder goes.
DROP FUNCTION kaireon._feature_usage(text, text, timestamptz);

-- _rebuild_usage_rollups recomputes a feature's rollups from its events (its
-- period changed), in SQL: an implementation independent of the trigger's.
CREATE FUNCTION kaireon._rebuild_usage_rollups(feature text, period text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rebuilt bigint;
BEGIN
    LOCK TABLE kaireon.usage_events IN SHARE ROW EXCLUSIVE MODE;  -- no reports while the rollups are rebuilt
    DELETE FROM kaireon.usage_rollups r WHERE r.feature = _rebuild_usage_rollups.feature;
    INSERT INTO kaireon.usage_rollups
    SELECT e.tenant_id, e.feature,
           CASE WHEN period = 'never' THEN '-infinity'::timestamptz
                ELSE date_trunc(period, e.occurred_at, 'UTC') END AS period_start,  -- 'week': ISO, from Monday
           0, sum(e.value), count(*), max(e.value), min(e.value),
           (array_agg(e.value ORDER BY e.occurred_at DESC, e.id DESC))[1],
           max(e.occurred_at), (array_agg(e.id ORDER BY e.occurred_at DESC, e.id DESC))[1]
    FROM kaireon.usage_events e
    WHERE e.feature = _rebuild_usage_rollups.feature
    GROUP BY 1, 2, 3;
    GET DIAGNOSTICS rebuilt = ROW_COUNT;
    RETURN rebuilt;
END
$$;

-- The metering API (src/pg/usage_functions.cpp).
CREATE FUNCTION kaireon.report_usage(feature text, value numeric DEFAULT 1, idempotency_key text DEFAULT NULL,
                                     occurred_at timestamptz DEFAULT NULL, properties jsonb DEFAULT '{}')
RETURNS jsonb AS 'MODULE_PATHNAME', 'kaireon_report_usage'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.purge_idempotency_keys() RETURNS bigint
AS 'MODULE_PATHNAME', 'kaireon_purge_idempotency_keys'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

GRANT EXECUTE ON FUNCTION kaireon.report_usage(text, numeric, text, timestamptz, jsonb) TO kaireon_admin, kaireon_app;
GRANT EXECUTE ON FUNCTION kaireon.purge_idempotency_keys() TO kaireon_admin;
GRANT SELECT ON kaireon.usage_events, kaireon.usage_rollups, kaireon.usage_totals TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT SELECT ON kaireon.usage_idempotency TO kaireon_admin, kaireon_reader;
GRANT INSERT (tenant_id, feature, value, occurred_at, idempotency_key, properties) ON kaireon.usage_events
    TO kaireon_admin, kaireon_app;
SELECT pg_catalog.pg_extension_config_dump('kaireon.usage_events', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.usage_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.usage_idempotency', '');

SELECT kaireon._revoke_public();

-- kaireon 0.1 -> 0.2: the registry of tenant-scoped tables that offboarding
-- walks, and the kaireon.stats view.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.2'" to load this file. \quit

-- tenant_tables lists every tenant-scoped table of the extension: what
-- drop_tenant does with a tenant's rows there ('delete', or 'keep' for what
-- the audit trail must retain). Each script that adds a tenant-scoped table
-- registers it here; the pgTAP suite fails when one is missing.
CREATE TABLE kaireon.tenant_tables (
    table_name regclass PRIMARY KEY,
    on_drop    text NOT NULL CHECK (on_drop IN ('delete', 'keep')),
    drop_order int NOT NULL
);
COMMENT ON TABLE kaireon.tenant_tables IS
    'Tenant-scoped tables and what drop_tenant does with their rows (lowest drop_order first).';
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.tenant_grants', 'delete', 100);
GRANT SELECT ON kaireon.tenant_tables TO kaireon_admin;

-- drop_tenant offboards a tenant: deletes its rows from every registered
-- table, keeps what the audit trail must keep, and returns the row counts.
CREATE OR REPLACE FUNCTION kaireon.drop_tenant(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    removed bigint;
    deleted jsonb := '{}';
BEGIN
    PERFORM kaireon._require_tenant(tenant_id);
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

-- stats: counters kept in shared memory since the server started, one row per
-- tenant the current user may act on (administrators: all; NULL tenant = not
-- tied to a tenant).
CREATE FUNCTION kaireon._stats(
    OUT tenant_id text, OUT decisions bigint, OUT empty_decisions bigint, OUT quota_refusals bigint,
    OUT license_failures bigint, OUT trace_drops bigint, OUT cache_hits bigint, OUT cache_misses bigint)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'kaireon_stats' LANGUAGE C VOLATILE;

CREATE VIEW kaireon.stats AS SELECT * FROM kaireon._stats();
COMMENT ON VIEW kaireon.stats IS 'Per-tenant counters since the server started (from shared memory).';
GRANT SELECT ON kaireon.stats TO kaireon_admin, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon._stats() TO kaireon_admin, kaireon_reader;

SELECT kaireon._revoke_public();

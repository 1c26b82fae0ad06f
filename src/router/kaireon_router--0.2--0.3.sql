-- kaireon_router 0.2 -> 0.3: the rest of the tenant API through the router
-- (docs/scale-out.md "The API through the router"): check_eligibility,
-- set_override and clear_override, audit_trail, fetch_events and
-- ack_events, routed by kaireon.tenant to kaireon_shard 0.2's functions.
\echo Use "ALTER EXTENSION kaireon_router UPDATE TO '0.3'" to load this file. \quit

-- An audit record as kaireon.audit_trail returns it (kaireon.audit_log's
-- columns; the router has no such table).
CREATE TYPE kaireon_router.audit_record AS (
    tenant_id text, id bigint, recorded_at timestamptz, txid xid8, actor text, action text, target text, details jsonb
);

CREATE FUNCTION kaireon_router.remote_check_eligibility(tenant text, caller text, customer_id text, context jsonb,
                                                        flow text)
RETURNS TABLE (offer_id text, eligible boolean, reason text)
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.check_eligibility; $$;
CREATE FUNCTION kaireon_router.remote_set_override(tenant text, caller text, feature text, value jsonb,
                                                   expires_at timestamptz) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.set_override; $$;
CREATE FUNCTION kaireon_router.remote_clear_override(tenant text, caller text, feature text) RETURNS boolean
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.clear_override; $$;
CREATE FUNCTION kaireon_router.remote_audit_trail(tenant text, caller text, since_at timestamptz, until_at timestamptz,
                                                  by_actor text, of_action text, max_rows int, of_tenant text)
RETURNS SETOF kaireon_router.audit_record
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.audit_trail; $$;
CREATE FUNCTION kaireon_router.remote_fetch_events(tenant text, caller text, consumer text, max_events int)
RETURNS TABLE (seq bigint, id bigint, tenant_id text, type text, payload jsonb, created_at timestamptz)
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.fetch_events; $$;
CREATE FUNCTION kaireon_router.remote_ack_events(tenant text, caller text, consumer text, through_seq bigint)
RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.ack_events; $$;

CREATE FUNCTION kaireon.check_eligibility(customer_id text, context jsonb DEFAULT '{}', flow text DEFAULT NULL)
RETURNS TABLE (offer_id text, eligible boolean, reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN QUERY SELECT * FROM kaireon_router.remote_check_eligibility(tenant, kaireon_router._caller(), customer_id,
                                                                       context, flow);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.set_override(feature text, value jsonb, expires_at timestamptz DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_set_override(tenant, kaireon_router._caller(), feature, value, expires_at);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.clear_override(feature text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_clear_override(tenant, kaireon_router._caller(), feature);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

-- audit_trail: the trail on the selected tenant's shard.
CREATE FUNCTION kaireon.audit_trail(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
                                    actor text DEFAULT NULL, action text DEFAULT NULL,
                                    max_rows int DEFAULT 1000, tenant_id text DEFAULT NULL)
RETURNS SETOF kaireon_router.audit_record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN QUERY SELECT * FROM kaireon_router.remote_audit_trail(tenant, kaireon_router._caller(), since, until, actor,
                                                                 action, max_rows, tenant_id);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

-- fetch_events, ack_events: a consumer of the selected tenant's shard.
CREATE FUNCTION kaireon.fetch_events(consumer text, max_events int DEFAULT 100)
RETURNS TABLE (seq bigint, id bigint, tenant_id text, type text, payload jsonb, created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN QUERY SELECT * FROM kaireon_router.remote_fetch_events(tenant, kaireon_router._caller(), consumer,
                                                                  max_events);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.ack_events(consumer text, through_seq bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_ack_events(tenant, kaireon_router._caller(), consumer, through_seq);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

-- Privileges: nothing to PUBLIC; the same roles as kaireon's functions.
REVOKE ALL ON FUNCTION
    kaireon_router.remote_check_eligibility(text, text, text, jsonb, text),
    kaireon_router.remote_set_override(text, text, text, jsonb, timestamptz),
    kaireon_router.remote_clear_override(text, text, text),
    kaireon_router.remote_audit_trail(text, text, timestamptz, timestamptz, text, text, int, text),
    kaireon_router.remote_fetch_events(text, text, text, int),
    kaireon_router.remote_ack_events(text, text, text, bigint),
    kaireon.check_eligibility(text, jsonb, text), kaireon.set_override(text, jsonb, timestamptz),
    kaireon.clear_override(text), kaireon.audit_trail(timestamptz, timestamptz, text, text, int, text),
    kaireon.fetch_events(text, int), kaireon.ack_events(text, bigint)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kaireon.check_eligibility(text, jsonb, text) TO kaireon_admin, kaireon_app;
GRANT EXECUTE ON FUNCTION kaireon.set_override(text, jsonb, timestamptz), kaireon.clear_override(text) TO kaireon_admin;
GRANT EXECUTE ON FUNCTION kaireon.audit_trail(timestamptz, timestamptz, text, text, int, text),
    kaireon.fetch_events(text, int), kaireon.ack_events(text, bigint) TO kaireon_admin, kaireon_reader;

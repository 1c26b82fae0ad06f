-- kaireon_shard 0.1 -> 0.2: the rest of the tenant API through the router
-- (docs/scale-out.md "The API through the router"): eligibility, overrides,
-- the audit trail and event consumers, each as `caller` on `tenant`.
\echo Use "ALTER EXTENSION kaireon_shard UPDATE TO '0.2'" to load this file. \quit

CREATE FUNCTION @extschema@.check_eligibility(tenant text, caller text, customer_id text, context jsonb, flow text)
RETURNS TABLE (offer_id text, eligible boolean, reason text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN QUERY SELECT * FROM kaireon.check_eligibility(customer_id, context, flow);
END
$$;

CREATE FUNCTION @extschema@.set_override(tenant text, caller text, feature text, value jsonb, expires_at timestamptz)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.set_override(feature, value, expires_at);
END
$$;

CREATE FUNCTION @extschema@.clear_override(tenant text, caller text, feature text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.clear_override(feature);
END
$$;

-- audit_trail: the tenant's shard holds its trail (and keeps it when the
-- tenant moves away: ask that shard directly for what came before).
-- (The filters are renamed: a parameter may not share its name with a
-- result column.)
CREATE FUNCTION @extschema@.audit_trail(tenant text, caller text, since_at timestamptz, until_at timestamptz,
                                        by_actor text, of_action text, max_rows int, of_tenant text)
RETURNS TABLE (tenant_id text, id bigint, recorded_at timestamptz, txid xid8, actor text, action text, target text,
               details jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN QUERY SELECT a.tenant_id, a.id, a.recorded_at, a.txid, a.actor, a.action, a.target, a.details
                 FROM kaireon.audit_trail(since_at, until_at, by_actor, of_action, max_rows, of_tenant) a;
END
$$;

-- fetch_events, ack_events: a consumer lives on the shard of the tenant it
-- was made for, and reads that shard's outbox.
CREATE FUNCTION @extschema@.fetch_events(tenant text, caller text, consumer text, max_events int)
RETURNS TABLE (seq bigint, id bigint, tenant_id text, type text, payload jsonb, created_at timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN QUERY SELECT * FROM kaireon.fetch_events(consumer, max_events);
END
$$;

CREATE FUNCTION @extschema@.ack_events(tenant text, caller text, consumer text, through_seq bigint) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.ack_events(consumer, through_seq);
END
$$;

DO $grants$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = '@extschema@'::regnamespace
          AND p.proname IN ('check_eligibility', 'set_override', 'clear_override', 'audit_trail', 'fetch_events',
                            'ack_events')
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO kaireon_router_link', fn);
    END LOOP;
END
$grants$;

-- kaireon_shard 0.1: the functions a kaireon_router calls on a shard
-- (docs/scale-out.md). The router connects as kaireon_router_link and passes
-- the tenant and the calling role explicitly (PL/Proxy carries neither the
-- settings nor the role). Each function checks the caller, takes on that
-- role for the rest of the transaction (SET LOCAL ROLE) and selects the
-- tenant (SET LOCAL kaireon.tenant), then calls kaireon's function: kaireon's
-- own checks (tenant grants, EXECUTE privileges, administrators) and its
-- audit trail then see the real caller, exactly as for a direct call.
\echo Use "CREATE EXTENSION kaireon_shard" to load this file. \quit

-- The router's login on the shards. NOLOGIN and NOINHERIT here: the operator
-- enables the login (ALTER ROLE ... LOGIN PASSWORD ...) and grants it, per
-- shard, each application role the router may act as (GRANT shop_app TO
-- kaireon_router_link). NOINHERIT: it holds none of their privileges itself.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_router_link') THEN
        CREATE ROLE kaireon_router_link NOLOGIN NOINHERIT;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO kaireon_router_link;

-- _raise raises a kaireon error (SQLSTATE of class KR, JSON DETAIL) without
-- kaireon._raise, which the link role may not execute.
CREATE FUNCTION @extschema@._raise(code text, message text, extra jsonb DEFAULT NULL, hint text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    state text := CASE code WHEN 'BAD_REQUEST' THEN 'KR400' WHEN 'TENANT_ACCESS_DENIED' THEN 'KR403' END;
    detail text := (jsonb_build_object('error', message, 'code', code) || coalesce(extra, '{}'))::text;
BEGIN
    IF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail;
    END IF;
    RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail, HINT = hint;
END
$$;

-- _act_as checks that the router may act as `caller` here and takes that
-- role and the tenant for the rest of the transaction (each PL/Proxy call
-- is a transaction of its own). No SET clause: it would undo the role.
-- `tenant` NULL selects none (the cross-tenant views).
CREATE FUNCTION @extschema@._act_as(tenant text, caller text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target pg_catalog.pg_roles;
BEGIN
    IF tenant IS NOT NULL AND tenant OPERATOR(pg_catalog.!~) '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        PERFORM kaireon_shard._raise('BAD_REQUEST', 'the router passed a malformed tenant id',
                                     pg_catalog.jsonb_build_object('tenant', tenant));
    END IF;
    SELECT r.* INTO target FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) caller;
    IF target.rolname IS NULL THEN
        PERFORM kaireon_shard._raise('BAD_REQUEST', pg_catalog.format('role "%s" does not exist on this shard', caller),
                                     pg_catalog.jsonb_build_object('role', caller),
                                     'Create the application''s roles on every shard as on the router.');
    END IF;
    IF target.rolsuper OR NOT pg_catalog.pg_has_role(session_user, target.oid, 'MEMBER') THEN
        PERFORM kaireon_shard._raise('TENANT_ACCESS_DENIED',
                                     pg_catalog.format('the router may not act as role "%s" on this shard', caller),
                                     pg_catalog.jsonb_build_object('role', caller),
                                     CASE WHEN target.rolsuper THEN 'Call the router as a non-superuser role.'
                                          ELSE pg_catalog.format('GRANT %I TO kaireon_router_link;', caller) END);
    END IF;
    PERFORM pg_catalog.set_config('role', caller, true);
    PERFORM pg_catalog.set_config('kaireon.tenant', coalesce(tenant, ''), true);
END
$$;

-- Each function below has the arguments of the router's remote_<name>:
-- (tenant, caller, kaireon's arguments) and returns what kaireon returns.

-- recommend: kaireon_recommend(request) as `caller` on `tenant`.
CREATE FUNCTION @extschema@.recommend(tenant text, caller text, request jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN public.kaireon_recommend(request);
END
$$;

-- respond: kaireon_respond(request) as `caller` on `tenant`.
CREATE FUNCTION @extschema@.respond(tenant text, caller text, request jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN public.kaireon_respond(request);
END
$$;

-- report_usage: kaireon.report_usage(...) as `caller` on `tenant`.
CREATE FUNCTION @extschema@.report_usage(tenant text, caller text, feature text, value numeric,
                                         idempotency_key text, occurred_at timestamptz, properties jsonb)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.report_usage(feature, value, idempotency_key, occurred_at, properties);
END
$$;

-- entitlement: kaireon.entitlement(feature) as `caller` on `tenant`.
CREATE FUNCTION @extschema@.entitlement(tenant text, caller text, feature text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.entitlement(feature);
END
$$;

-- quota_status: kaireon.quota_status() as `caller` on `tenant`.
CREATE FUNCTION @extschema@.quota_status(tenant text, caller text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.quota_status();
END
$$;

-- install_license: kaireon.install_license(token) as `caller` (the router
-- routed by the token's sub; kaireon verifies it).
CREATE FUNCTION @extschema@.install_license(tenant text, caller text, token text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.install_license(token);
END
$$;

-- apply_catalog: kaireon.apply_catalog(doc, mode) as `caller` on `tenant`.
CREATE FUNCTION @extschema@.apply_catalog(tenant text, caller text, doc jsonb, mode text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.apply_catalog(doc, mode);
END
$$;

-- usage_dashboard: kaireon.usage_dashboard() as `caller` on `tenant`.
CREATE FUNCTION @extschema@.usage_dashboard(tenant text, caller text)
RETURNS TABLE (section text, metric text, value text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN QUERY SELECT * FROM kaireon.usage_dashboard();
END
$$;

-- ingest_event, ingest_events, enroll_journey, exit_journey: the automation
-- API (docs/automation.md) as `caller` on `tenant`.
CREATE FUNCTION @extschema@.ingest_event(tenant text, caller text, customer_id text, event_type text, payload jsonb)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.ingest_event(customer_id, event_type, payload);
END
$$;

CREATE FUNCTION @extschema@.ingest_events(tenant text, caller text, events jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.ingest_events(events);
END
$$;

CREATE FUNCTION @extschema@.enroll_journey(tenant text, caller text, customer_id text, journey_id text, context jsonb,
                                           mode text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.enroll_journey(customer_id, journey_id, context, mode);
END
$$;

CREATE FUNCTION @extschema@.exit_journey(tenant text, caller text, customer_id text, journey_id text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.exit_journey(customer_id, journey_id);
END
$$;

-- license_status, has_feature, export_catalog, experiment_report: reads
-- as `caller` on `tenant`.
CREATE FUNCTION @extschema@.license_status(tenant text, caller text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.license_status();
END
$$;

CREATE FUNCTION @extschema@.has_feature(tenant text, caller text, feature text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.has_feature(feature);
END
$$;

CREATE FUNCTION @extschema@.export_catalog(tenant text, caller text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.export_catalog();
END
$$;

CREATE FUNCTION @extschema@.experiment_report(tenant text, caller text, experiment text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(tenant, caller);
    RETURN kaireon.experiment_report(experiment);
END
$$;

-- stats: kaireon.stats as `caller` (no tenant: every tenant it may see).
CREATE FUNCTION @extschema@.stats(caller text,
    OUT tenant_id text, OUT decisions bigint, OUT empty_decisions bigint, OUT quota_refusals bigint,
    OUT license_failures bigint, OUT trace_drops bigint, OUT cache_hits bigint, OUT cache_misses bigint,
    OUT usage_refusals bigint, OUT entitlement_refusals bigint)
RETURNS SETOF record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(NULL, caller);
    RETURN QUERY SELECT * FROM kaireon.stats;
END
$$;

-- tenants: kaireon.tenants as `caller` (administrators see every row).
CREATE FUNCTION @extschema@.tenants(caller text,
    OUT tenant_id text, OUT name text, OUT admin_email text, OUT created_at timestamptz)
RETURNS SETOF record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_shard._act_as(NULL, caller);
    RETURN QUERY SELECT t.tenant_id, t.name, t.admin_email, t.created_at FROM kaireon.tenants t;
END
$$;

-- Only the router's link executes these.
DO $grants$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT d.objid::regprocedure FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'kaireon_shard'
          AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO kaireon_router_link', fn);
    END LOOP;
END
$grants$;

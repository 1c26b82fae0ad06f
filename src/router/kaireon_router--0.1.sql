-- kaireon_router 0.1: the router database of a tenant-sharded deployment
-- (docs/scale-out.md). Every tenant lives wholly on one shard; the router
-- keeps the tenant -> partition directory and the partition -> shard map, and
-- exposes kaireon's API under the same names, each forwarding with PL/Proxy
-- to kaireon_shard's function of the same name on the tenant's shard.
\echo Use "CREATE EXTENSION kaireon_router" to load this file. \quit

-- The router's callers are the same kaireon roles as on the shards (the
-- kaireon extension itself is not installed here: the router holds no
-- tenant data). Cluster-wide, created only when missing, as kaireon does.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_app') THEN
        CREATE ROLE kaireon_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_reader') THEN
        CREATE ROLE kaireon_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_admin') THEN
        CREATE ROLE kaireon_admin NOLOGIN;
        GRANT kaireon_app, kaireon_reader TO kaireon_admin;
    END IF;
END
$roles$;

CREATE SCHEMA kaireon_router;
CREATE SCHEMA kaireon;
-- PL/Proxy reads a cluster's configuration from plproxy.get_cluster_*;
-- the router database's plproxy schema belongs to this extension.
CREATE SCHEMA plproxy;
REVOKE ALL ON SCHEMA kaireon_router, kaireon, plproxy FROM PUBLIC;
GRANT USAGE ON SCHEMA kaireon TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT USAGE ON SCHEMA kaireon_router TO kaireon_admin;

-- _raise raises a kaireon error: SQLSTATE of class KR, the message, a JSON
-- DETAIL {error, code, ...extra} and a hint, as kaireon._raise does.
CREATE FUNCTION kaireon_router._raise(code text, message text, extra jsonb DEFAULT NULL, hint text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    state text := CASE code WHEN 'BAD_REQUEST' THEN 'KR400' WHEN 'LICENSE_INVALID' THEN 'KR401'
                            WHEN 'TENANT_ACCESS_DENIED' THEN 'KR403' WHEN 'SHARD_UNAVAILABLE' THEN 'KR503' END;
    detail text := (jsonb_build_object('error', message, 'code', code) || coalesce(extra, '{}'))::text;
BEGIN
    IF state IS NULL THEN
        RAISE EXCEPTION 'unknown kaireon error code "%"', code;
    END IF;
    IF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail;
    END IF;
    RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail, HINT = hint;
END
$$;

-- ---------------------------------------------------------------------------
-- The map: shards, partitions (a power of two, numbered 0..n-1, each on one
-- shard; several partitions may share a shard) and the tenant directory.
CREATE TABLE kaireon_router.shards (
    shard   text PRIMARY KEY CHECK (shard ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    connstr text NOT NULL CHECK (length(connstr) > 0)
);
COMMENT ON TABLE kaireon_router.shards IS
    'Shard databases and the libpq connection string PL/Proxy uses (user=kaireon_router_link); write with add_shard.';

CREATE TABLE kaireon_router.partitions (
    partition int PRIMARY KEY CHECK (partition BETWEEN 0 AND 1023),
    shard     text NOT NULL REFERENCES kaireon_router.shards
);
COMMENT ON TABLE kaireon_router.partitions IS
    'PL/Proxy partitions of cluster kaireon and the shard holding each; write with create_partitions and map_partition.';

CREATE TABLE kaireon_router.tenant_directory (
    tenant_id text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    partition int NOT NULL REFERENCES kaireon_router.partitions,
    placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON kaireon_router.tenant_directory (partition);
COMMENT ON TABLE kaireon_router.tenant_directory IS
    'The partition each tenant lives on (not a hash, so a tenant can be moved); write with place_tenant.';

-- PL/Proxy reloads the cluster when its version changes: any change to the
-- shards or partitions bumps it.
CREATE TABLE kaireon_router.cluster_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  int NOT NULL
);
INSERT INTO kaireon_router.cluster_version VALUES (true, 1);

CREATE FUNCTION kaireon_router._bump_version() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE kaireon_router.cluster_version SET version = version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER shards_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon_router.shards
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon_router._bump_version();
CREATE TRIGGER partitions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon_router.partitions
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon_router._bump_version();

SELECT pg_catalog.pg_extension_config_dump('kaireon_router.shards', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon_router.partitions', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon_router.tenant_directory', '');

GRANT SELECT ON kaireon_router.shards, kaireon_router.partitions, kaireon_router.tenant_directory TO kaireon_admin;

-- ---------------------------------------------------------------------------
-- PL/Proxy's configuration of cluster 'kaireon', read from the tables above
-- (functions rather than SQL/MED: the map stays in ordinary tables that the
-- admin functions check and change transactionally, with no DDL).

-- get_cluster_version returns the map's version (PL/Proxy calls it on every
-- call and reloads the partitions when it changed).
CREATE FUNCTION plproxy.get_cluster_version(cluster_name text) RETURNS int
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF cluster_name IS DISTINCT FROM 'kaireon' THEN
        RAISE EXCEPTION 'kaireon_router: unknown PL/Proxy cluster "%"', cluster_name;
    END IF;
    RETURN (SELECT v.version FROM kaireon_router.cluster_version v);
END
$$;

-- get_cluster_partitions returns the connection string of each partition in
-- partition order; refuses a map that is not 0..n-1 with n a power of two.
CREATE FUNCTION plproxy.get_cluster_partitions(cluster_name text) RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n int;
BEGIN
    IF cluster_name IS DISTINCT FROM 'kaireon' THEN
        RAISE EXCEPTION 'kaireon_router: unknown PL/Proxy cluster "%"', cluster_name;
    END IF;
    SELECT count(*) INTO n FROM kaireon_router.partitions p;
    IF n = 0 OR (n & (n - 1)) <> 0 OR (SELECT max(p.partition) FROM kaireon_router.partitions p) <> n - 1 THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', 'the router has no complete partition map', NULL,
                                      'SELECT kaireon_router.create_partitions(8, ARRAY[''<shard>'', ...]);');
    END IF;
    RETURN QUERY SELECT s.connstr FROM kaireon_router.partitions p
                 JOIN kaireon_router.shards s ON s.shard = p.shard ORDER BY p.partition;
END
$$;

-- get_cluster_config returns PL/Proxy's settings of the cluster.
CREATE FUNCTION plproxy.get_cluster_config(IN cluster_name text, OUT key text, OUT val text) RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'connection_lifetime'::text, '1800'::text
$$;

-- ---------------------------------------------------------------------------
-- Administration (kaireon_admin). Bad input raises KR400 and changes nothing.

-- _check_name raises KR400 unless `value` is a valid tenant or shard id.
CREATE FUNCTION kaireon_router._check_name(field text, value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL OR value !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        PERFORM kaireon_router._raise('BAD_REQUEST',
            format('%s must be 1 to 63 characters from a-z, 0-9, _ and -, starting with a letter or digit', field),
            jsonb_build_object('field', field));
    END IF;
    RETURN value;
END
$$;

-- add_shard registers a shard database; returns {shard, connstr}.
CREATE FUNCTION kaireon_router.add_shard(shard text, connstr text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon_router._check_name('shard', shard);
    IF connstr IS NULL OR btrim(connstr) = '' THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', 'connstr must be a libpq connection string', '{"field": "connstr"}');
    END IF;
    IF connstr !~ '(^|\s)user\s*=' THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', 'connstr must name the user the router connects as',
                                      '{"field": "connstr"}', 'Add user=kaireon_router_link.');
    END IF;
    IF EXISTS (SELECT 1 FROM kaireon_router.shards s WHERE s.shard = add_shard.shard) THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('shard "%s" already exists', shard),
                                      jsonb_build_object('shard', shard));
    END IF;
    INSERT INTO kaireon_router.shards VALUES (add_shard.shard, add_shard.connstr);
    RETURN jsonb_build_object('shard', shard, 'connstr', connstr);
END
$$;

-- create_partitions makes partitions 0..partition_count-1, dealt round-robin
-- to `shards`; returns {partitions, shards}. Only once: later changes go
-- through map_partition.
CREATE FUNCTION kaireon_router.create_partitions(partition_count int, shards text[]) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    IF partition_count IS NULL OR partition_count NOT BETWEEN 1 AND 1024
       OR (partition_count & (partition_count - 1)) <> 0 THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', 'partition_count must be a power of two from 1 to 1024',
                                      jsonb_build_object('field', 'partition_count', 'value', partition_count));
    END IF;
    IF shards IS NULL OR cardinality(shards) = 0 OR array_position(shards, NULL) IS NOT NULL THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', 'shards must be a non-empty array of shard names', '{"field": "shards"}');
    END IF;
    SELECT x INTO missing FROM unnest(shards) x
    WHERE NOT EXISTS (SELECT 1 FROM kaireon_router.shards s WHERE s.shard = x) LIMIT 1;
    IF missing IS NOT NULL THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('unknown shard "%s"', missing),
                                      jsonb_build_object('shard', missing), 'Register it with kaireon_router.add_shard.');
    END IF;
    IF EXISTS (SELECT 1 FROM kaireon_router.partitions) THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', 'the partitions already exist', NULL,
                                      'Change one partition''s shard with kaireon_router.map_partition.');
    END IF;
    INSERT INTO kaireon_router.partitions (partition, shard)
    SELECT i, shards[1 + i % cardinality(shards)] FROM generate_series(0, partition_count - 1) i;
    RETURN jsonb_build_object('partitions', partition_count, 'shards', to_jsonb(shards));
END
$$;

-- map_partition puts an empty partition on another shard; returns
-- {partition, shard}. A partition holding tenants is refused: their data
-- would stay behind (moving tenants is a separate, scripted operation).
CREATE FUNCTION kaireon_router.map_partition(partition int, shard text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kaireon_router.partitions p WHERE p.partition = map_partition.partition) THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('unknown partition %s', coalesce(partition::text, 'NULL')),
                                      jsonb_build_object('partition', partition));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM kaireon_router.shards s WHERE s.shard = map_partition.shard) THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('unknown shard "%s"', shard), jsonb_build_object('shard', shard));
    END IF;
    IF EXISTS (SELECT 1 FROM kaireon_router.tenant_directory d WHERE d.partition = map_partition.partition) THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('partition %s holds tenants', partition),
                                      jsonb_build_object('partition', partition), 'Move its tenants first.');
    END IF;
    UPDATE kaireon_router.partitions p SET shard = map_partition.shard WHERE p.partition = map_partition.partition;
    RETURN jsonb_build_object('partition', partition, 'shard', shard);
END
$$;

-- place_tenant records the partition a tenant lives on; returns {tenantId,
-- partition, shard}. Placing it again on the same partition is harmless;
-- on another one is refused (that is a move).
CREATE FUNCTION kaireon_router.place_tenant(tenant text, partition int) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    placed int;
BEGIN
    PERFORM kaireon_router._check_name('tenant', tenant);
    IF NOT EXISTS (SELECT 1 FROM kaireon_router.partitions p WHERE p.partition = place_tenant.partition) THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('unknown partition %s', coalesce(partition::text, 'NULL')),
                                      jsonb_build_object('partition', partition),
                                      format('Partitions are 0 to %s.', (SELECT max(p.partition) FROM kaireon_router.partitions p)));
    END IF;
    SELECT d.partition INTO placed FROM kaireon_router.tenant_directory d WHERE d.tenant_id = tenant FOR UPDATE;
    IF placed IS NOT NULL AND placed <> partition THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('tenant "%s" is already on partition %s', tenant, placed),
                                      jsonb_build_object('tenant', tenant, 'partition', placed),
                                      'Moving a tenant copies its data; placing does not.');
    END IF;
    INSERT INTO kaireon_router.tenant_directory (tenant_id, partition) VALUES (tenant, partition)
    ON CONFLICT (tenant_id) DO NOTHING;
    RETURN jsonb_build_object('tenantId', tenant, 'partition', partition,
                              'shard', (SELECT p.shard FROM kaireon_router.partitions p WHERE p.partition = place_tenant.partition));
END
$$;

CREATE VIEW kaireon_router.placements AS
SELECT d.tenant_id, d.partition, p.shard, d.placed_at
FROM kaireon_router.tenant_directory d JOIN kaireon_router.partitions p USING (partition);
GRANT SELECT ON kaireon_router.placements TO kaireon_admin;

-- ---------------------------------------------------------------------------
-- Routing.

-- _caller returns the calling role: the role after SET ROLE, else the session
-- user (what kaireon calls GetOuterUserId); inside a SECURITY DEFINER
-- function current_user is the owner, so it is read from the role setting.
CREATE FUNCTION kaireon_router._caller() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN coalesce(current_setting('role', true), 'none') = 'none' THEN session_user::text
                ELSE current_setting('role') END
$$;

-- _caller_is_admin: whether the calling role is a superuser or a member of
-- kaireon_admin.
CREATE FUNCTION kaireon_router._caller_is_admin() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT r.rolsuper OR pg_has_role(r.oid, 'kaireon_admin', 'MEMBER')
                     FROM pg_roles r WHERE r.rolname = kaireon_router._caller()), false)
$$;

-- _tenant returns the tenant in kaireon.tenant after checking the directory
-- places it: KR400 when none is set; for an unplaced tenant KR400 to an
-- administrator and KR403 to others (as kaireon answers for unknown tenants).
CREATE FUNCTION kaireon_router._tenant() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := coalesce(current_setting('kaireon.tenant', true), '');
BEGIN
    IF tenant = '' THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', 'no tenant selected', NULL,
                                      'SET kaireon.tenant = ''<tenant id>'' (or SET LOCAL inside a transaction).');
    END IF;
    PERFORM kaireon_router._require_placed(tenant);
    RETURN tenant;
END
$$;

-- _require_placed raises unless the directory places `tenant`.
CREATE FUNCTION kaireon_router._require_placed(tenant text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kaireon_router.tenant_directory d WHERE d.tenant_id = tenant) THEN
        IF kaireon_router._caller_is_admin() THEN
            PERFORM kaireon_router._raise('BAD_REQUEST', format('unknown tenant "%s": it is not in the router''s directory', tenant),
                                          jsonb_build_object('tenant', tenant),
                                          'Place it with kaireon_router.place_tenant(tenant, partition).');
        END IF;
        PERFORM kaireon_router._raise('TENANT_ACCESS_DENIED',
                                      format('role "%s" may not act on tenant "%s"', kaireon_router._caller(), tenant),
                                      jsonb_build_object('tenant', tenant, 'role', kaireon_router._caller()));
    END IF;
END
$$;

-- _partition_of returns the partition of a placed tenant (PL/Proxy's RUN ON).
CREATE FUNCTION kaireon_router._partition_of(tenant text) RETURNS int
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.partition FROM kaireon_router.tenant_directory d WHERE d.tenant_id = tenant
$$;

-- _shard_unavailable raises KR503 naming the shard when `message` is PL/Proxy
-- failing to reach it or losing the connection (PL/Proxy reports those as
-- XX000 "PL/Proxy function ...: [db] PQconnectPoll: ..."); otherwise it
-- returns and the caller re-raises the error as it came. `tenant` NULL:
-- a call on every shard.
CREATE FUNCTION kaireon_router._shard_unavailable(tenant text, message text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    shard text := (SELECT p.shard FROM kaireon_router.tenant_directory d
                   JOIN kaireon_router.partitions p USING (partition) WHERE d.tenant_id = tenant);
BEGIN
    IF message NOT LIKE 'PL/Proxy function %' OR message !~* '(PQconnectPoll|connection|server closed|timeout|could not)' THEN
        RETURN;
    END IF;
    IF tenant IS NULL THEN
        PERFORM kaireon_router._raise('SHARD_UNAVAILABLE', 'a shard is unavailable', jsonb_build_object('cause', message));
    END IF;
    PERFORM kaireon_router._raise('SHARD_UNAVAILABLE',
        format('shard "%s" of tenant "%s" is unavailable', coalesce(shard, '?'), tenant),
        jsonb_build_object('tenant', tenant, 'shard', shard, 'cause', message));
END
$$;

-- ---------------------------------------------------------------------------
-- The remote calls: each runs kaireon_shard's function of the same name on
-- the tenant's partition (or on every shard). Only the router's own
-- SECURITY DEFINER functions call them: `caller` is asserted to the shard.
CREATE FUNCTION kaireon_router.remote_recommend(tenant text, caller text, request jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.recommend; $$;
CREATE FUNCTION kaireon_router.remote_respond(tenant text, caller text, request jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.respond; $$;
CREATE FUNCTION kaireon_router.remote_report_usage(tenant text, caller text, feature text, value numeric,
                                                   idempotency_key text, occurred_at timestamptz, properties jsonb)
RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.report_usage; $$;
CREATE FUNCTION kaireon_router.remote_entitlement(tenant text, caller text, feature text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.entitlement; $$;
CREATE FUNCTION kaireon_router.remote_quota_status(tenant text, caller text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.quota_status; $$;
CREATE FUNCTION kaireon_router.remote_install_license(tenant text, caller text, token text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.install_license; $$;
CREATE FUNCTION kaireon_router.remote_apply_catalog(tenant text, caller text, doc jsonb, mode text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.apply_catalog; $$;
CREATE FUNCTION kaireon_router.remote_usage_dashboard(tenant text, caller text)
RETURNS TABLE (section text, metric text, value text)
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.usage_dashboard; $$;
-- Cross-tenant views: every partition (PL/Proxy queries a database shared by
-- several partitions once).
CREATE FUNCTION kaireon_router.remote_ingest_event(tenant text, caller text, customer_id text, event_type text,
                                                   payload jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.ingest_event; $$;
CREATE FUNCTION kaireon_router.remote_ingest_events(tenant text, caller text, events jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.ingest_events; $$;
CREATE FUNCTION kaireon_router.remote_enroll_journey(tenant text, caller text, customer_id text, journey_id text,
                                                     context jsonb, mode text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.enroll_journey; $$;
CREATE FUNCTION kaireon_router.remote_exit_journey(tenant text, caller text, customer_id text, journey_id text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.exit_journey; $$;

CREATE FUNCTION kaireon_router.remote_license_status(tenant text, caller text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.license_status; $$;
CREATE FUNCTION kaireon_router.remote_has_feature(tenant text, caller text, feature text) RETURNS boolean
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.has_feature; $$;
CREATE FUNCTION kaireon_router.remote_export_catalog(tenant text, caller text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.export_catalog; $$;
CREATE FUNCTION kaireon_router.remote_experiment_report(tenant text, caller text, experiment text) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON kaireon_router._partition_of(tenant); TARGET kaireon_shard.experiment_report; $$;

CREATE FUNCTION kaireon_router.remote_stats(caller text,
    OUT tenant_id text, OUT decisions bigint, OUT empty_decisions bigint, OUT quota_refusals bigint,
    OUT license_failures bigint, OUT trace_drops bigint, OUT cache_hits bigint, OUT cache_misses bigint,
    OUT usage_refusals bigint, OUT entitlement_refusals bigint)
RETURNS SETOF record
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON ALL; TARGET kaireon_shard.stats; $$;
CREATE FUNCTION kaireon_router.remote_tenants(caller text,
    OUT tenant_id text, OUT name text, OUT admin_email text, OUT created_at timestamptz)
RETURNS SETOF record
LANGUAGE plproxy AS $$ CLUSTER 'kaireon'; RUN ON ALL; TARGET kaireon_shard.tenants; $$;

-- ---------------------------------------------------------------------------
-- The API, under kaireon's names and arguments. Each is SECURITY DEFINER (so
-- only it can assert the caller to a shard), routes by kaireon.tenant, and
-- answers what the shard answers; a shard that cannot be reached is KR503.

CREATE FUNCTION public.kaireon_recommend(request jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_recommend(tenant, kaireon_router._caller(), request);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION public.kaireon_respond(request jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_respond(tenant, kaireon_router._caller(), request);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.report_usage(feature text, value numeric DEFAULT 1, idempotency_key text DEFAULT NULL,
                                     occurred_at timestamptz DEFAULT NULL, properties jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_report_usage(tenant, kaireon_router._caller(), feature, value, idempotency_key,
                                              occurred_at, properties);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.entitlement(feature text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_entitlement(tenant, kaireon_router._caller(), feature);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.quota_status() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_quota_status(tenant, kaireon_router._caller());
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.ingest_event(customer_id text, event_type text, payload jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_ingest_event(tenant, kaireon_router._caller(), customer_id, event_type, payload);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.ingest_events(events jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_ingest_events(tenant, kaireon_router._caller(), events);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.enroll_journey(customer_id text, journey_id text, context jsonb DEFAULT '{}'::jsonb,
                                       mode text DEFAULT 'skip_if_active') RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_enroll_journey(tenant, kaireon_router._caller(), customer_id, journey_id, context, mode);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.exit_journey(customer_id text, journey_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_exit_journey(tenant, kaireon_router._caller(), customer_id, journey_id);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.license_status() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_license_status(tenant, kaireon_router._caller());
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.has_feature(feature text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_has_feature(tenant, kaireon_router._caller(), feature);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.export_catalog() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_export_catalog(tenant, kaireon_router._caller());
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.experiment_report(experiment text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_experiment_report(tenant, kaireon_router._caller(), experiment);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

-- install_license routes by the licence's `sub` (read here only to route;
-- the shard verifies the signature and every claim).
CREATE FUNCTION kaireon.install_license(token text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text;
    payload text := split_part(coalesce(token, ''), '.', 2);
BEGIN
    BEGIN
        payload := translate(payload, '-_', '+/');
        payload := payload || repeat('=', (4 - length(payload) % 4) % 4);
        tenant := convert_from(decode(payload, 'base64'), 'UTF8')::jsonb ->> 'sub';
    EXCEPTION WHEN OTHERS THEN
        tenant := NULL;
    END;
    IF tenant IS NULL OR tenant !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        PERFORM kaireon_router._raise('LICENSE_INVALID', 'the licence is not a token with a tenant in its sub',
                                      '{"reason": "malformed"}');
    END IF;
    PERFORM kaireon_router._require_placed(tenant);
    RETURN kaireon_router.remote_install_license(tenant, kaireon_router._caller(), token);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.apply_catalog(doc jsonb, mode text DEFAULT 'merge') RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN kaireon_router.remote_apply_catalog(tenant, kaireon_router._caller(), doc, mode);
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

CREATE FUNCTION kaireon.usage_dashboard() RETURNS TABLE (section text, metric text, value text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon_router._tenant();
BEGIN
    RETURN QUERY SELECT * FROM kaireon_router.remote_usage_dashboard(tenant, kaireon_router._caller());
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(tenant, SQLERRM);
    RAISE;
END
$$;

-- Cross-tenant views: every shard answers for its tenants as the caller
-- (kaireon's own rules decide what each role sees), merged here. One shard
-- down fails the whole view (a partial list would look complete).
CREATE FUNCTION kaireon_router._stats(
    OUT tenant_id text, OUT decisions bigint, OUT empty_decisions bigint, OUT quota_refusals bigint,
    OUT license_failures bigint, OUT trace_drops bigint, OUT cache_hits bigint, OUT cache_misses bigint,
    OUT usage_refusals bigint, OUT entitlement_refusals bigint)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM kaireon_router.remote_stats(kaireon_router._caller());
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(NULL, SQLERRM);
    RAISE;
END
$$;
CREATE VIEW kaireon.stats AS SELECT * FROM kaireon_router._stats();
COMMENT ON VIEW kaireon.stats IS 'Per-tenant counters of every shard since each started (merged by the router).';

CREATE FUNCTION kaireon_router._tenants(OUT tenant_id text, OUT name text, OUT admin_email text, OUT created_at timestamptz)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM kaireon_router.remote_tenants(kaireon_router._caller());
EXCEPTION WHEN connection_exception OR internal_error THEN
    PERFORM kaireon_router._shard_unavailable(NULL, SQLERRM);
    RAISE;
END
$$;
CREATE VIEW kaireon.tenants AS SELECT * FROM kaireon_router._tenants();
COMMENT ON VIEW kaireon.tenants IS 'The tenants of every shard the calling role may see (merged by the router).';

-- ---------------------------------------------------------------------------
-- Privileges: nothing to PUBLIC; the same roles as kaireon's functions.
DO $revoke$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT d.objid::regprocedure FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'kaireon_router'
          AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
END
$revoke$;

GRANT EXECUTE ON FUNCTION public.kaireon_recommend(jsonb), public.kaireon_respond(jsonb),
    kaireon.report_usage(text, numeric, text, timestamptz, jsonb), kaireon.ingest_event(text, text, jsonb),
    kaireon.ingest_events(jsonb), kaireon.enroll_journey(text, text, jsonb, text), kaireon.exit_journey(text, text)
    TO kaireon_admin, kaireon_app;
GRANT EXECUTE ON FUNCTION kaireon.entitlement(text), kaireon.quota_status(), kaireon.usage_dashboard(),
    kaireon.license_status(), kaireon.has_feature(text), kaireon.experiment_report(text)
    TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon.export_catalog() TO kaireon_admin, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon.install_license(text), kaireon.apply_catalog(jsonb, text) TO kaireon_admin;
GRANT EXECUTE ON FUNCTION kaireon_router._stats() TO kaireon_admin, kaireon_reader;
GRANT SELECT ON kaireon.stats TO kaireon_admin, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon_router._tenants() TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT SELECT ON kaireon.tenants TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon_router.add_shard(text, text), kaireon_router.create_partitions(int, text[]),
    kaireon_router.map_partition(int, text), kaireon_router.place_tenant(text, int) TO kaireon_admin;

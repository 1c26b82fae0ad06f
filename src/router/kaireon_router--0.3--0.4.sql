-- kaireon_router 0.3 -> 0.4: several routers in step (docs/scale-out.md
-- "Several routers"). map_digest fingerprints what decides where a call
-- goes: partitions -> shards and tenants -> partitions. Routers with equal
-- digests route every tenant alike; scripts/move_tenant.sh refuses to move
-- a tenant while the routers it is given differ, and switches them all.
\echo Use "ALTER EXTENSION kaireon_router UPDATE TO '0.4'" to load this file. \quit

-- map_digest returns {"partitions": n, "tenants": n, "digest": md5}. The
-- connection strings are left out: each router may reach a shard its own
-- way (and they may hold passwords).
CREATE FUNCTION kaireon_router.map_digest() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'partitions', (SELECT count(*) FROM kaireon_router.partitions),
        'tenants', (SELECT count(*) FROM kaireon_router.tenant_directory),
        'digest', md5(coalesce((SELECT string_agg(p.partition || '=' || p.shard, ',' ORDER BY p.partition)
                                FROM kaireon_router.partitions p), '')
                      || ';' ||
                      coalesce((SELECT string_agg(d.tenant_id || '=' || d.partition, ',' ORDER BY d.tenant_id)
                                FROM kaireon_router.tenant_directory d), '')))
$$;
COMMENT ON FUNCTION kaireon_router.map_digest() IS
    'Fingerprint of the partition map and the tenant directory: equal on routers that route alike.';
REVOKE ALL ON FUNCTION kaireon_router.map_digest() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kaireon_router.map_digest() TO kaireon_admin;

-- kaireon_router 0.1 -> 0.2: pointing a tenant at another partition once its
-- rows have moved there (scripts/move_tenant.sh, docs/scale-out.md).
\echo Use "ALTER EXTENSION kaireon_router UPDATE TO '0.2'" to load this file. \quit

-- relocate_tenant changes the partition a placed tenant lives on; returns
-- {tenantId, from: {partition, shard}, to: {partition, shard}}. It moves no
-- data: between shards, call it only after the target adopted the tenant
-- (the move script does), while the source still holds it frozen.
CREATE FUNCTION kaireon_router.relocate_tenant(tenant text, partition int) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    placed int;
BEGIN
    PERFORM kaireon_router._check_name('tenant', tenant);
    IF NOT EXISTS (SELECT 1 FROM kaireon_router.partitions p WHERE p.partition = relocate_tenant.partition) THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('unknown partition %s', coalesce(partition::text, 'NULL')),
                                      jsonb_build_object('partition', partition),
                                      format('Partitions are 0 to %s.', (SELECT max(p.partition) FROM kaireon_router.partitions p)));
    END IF;
    SELECT d.partition INTO placed FROM kaireon_router.tenant_directory d WHERE d.tenant_id = tenant FOR UPDATE;
    IF placed IS NULL THEN
        PERFORM kaireon_router._raise('BAD_REQUEST', format('unknown tenant "%s": it is not in the router''s directory', tenant),
                                      jsonb_build_object('tenant', tenant), 'Place it with kaireon_router.place_tenant.');
    END IF;
    UPDATE kaireon_router.tenant_directory d SET partition = relocate_tenant.partition, placed_at = now()
    WHERE d.tenant_id = tenant;
    RETURN jsonb_build_object(
        'tenantId', tenant,
        'from', (SELECT jsonb_build_object('partition', p.partition, 'shard', p.shard)
                 FROM kaireon_router.partitions p WHERE p.partition = placed),
        'to', (SELECT jsonb_build_object('partition', p.partition, 'shard', p.shard)
               FROM kaireon_router.partitions p WHERE p.partition = relocate_tenant.partition));
END
$$;
COMMENT ON FUNCTION kaireon_router.relocate_tenant(text, int) IS
    'Points a placed tenant at another partition (after its rows moved there); returns {tenantId, from, to}.';
REVOKE ALL ON FUNCTION kaireon_router.relocate_tenant(text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kaireon_router.relocate_tenant(text, int) TO kaireon_admin;

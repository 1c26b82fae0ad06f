-- kaireon.stats: counters from shared memory, shown only for tenants the
-- user may act on.
CREATE FUNCTION pg_temp.bump(tenant text, stat text, delta bigint) RETURNS bigint
    AS 'kaireon', 'kaireon_selftest_bump_stat' LANGUAGE C STRICT;
CREATE ROLE regress_kr_reader IN ROLE kaireon_reader;
SELECT kaireon.create_tenant('stats-a', 'A', 'a@a.test') IS NOT NULL AS created;
SELECT kaireon.create_tenant('stats-b', 'B', 'b@b.test') IS NOT NULL AS created;
SELECT kaireon.grant_tenant('regress_kr_reader', 'stats-a');
SELECT pg_temp.bump('stats-a', 'decisions', 3), pg_temp.bump('stats-a', 'cache_hits', 5),
       pg_temp.bump('stats-b', 'license_failures', 2);
SELECT pg_temp.bump('stats-a', 'no_such_stat', 1);
SELECT * FROM kaireon.stats WHERE tenant_id LIKE 'stats-%' ORDER BY tenant_id;
SET ROLE regress_kr_reader;
SELECT tenant_id, decisions, cache_hits FROM kaireon.stats ORDER BY tenant_id;
RESET ROLE;
SELECT kaireon.drop_tenant('stats-a') IS NOT NULL AS dropped, kaireon.drop_tenant('stats-b') IS NOT NULL AS dropped;
DROP ROLE regress_kr_reader;

-- 03_isolation.sql - tenant isolation (SPEC section 1): with SET ROLE and
-- SET kaireon.tenant, every role sees only its own tenant's rows in every
-- tenant-scoped table and view, current_tenant() checks the *calling* role,
-- grants through group roles count, and revocations apply at once.
--
-- "Every tenant-scoped relation" is found in the catalogs (tables and views
-- of schema kaireon with a tenant_id column), so relations added later are
-- checked too; the helpers below run as the invoker, i.e. as the role set
-- with SET ROLE.
BEGIN;
SELECT plan(73);

-- Fixture ---------------------------------------------------------------------

CREATE ROLE kr03_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr03_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr03_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr03_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr03_stranger NOLOGIN IN ROLE kaireon_app;      -- granted nothing
CREATE ROLE kr03_group NOLOGIN;                             -- granted t1
CREATE ROLE kr03_member NOLOGIN IN ROLE kaireon_app, kr03_group;
CREATE ROLE kr03_late NOLOGIN IN ROLE kaireon_app;          -- granted t2 during the test

CREATE SCHEMA kr03;
GRANT USAGE ON SCHEMA kr03 TO PUBLIC;

-- The counters behind kaireon.stats live in shared memory; the extension
-- script does not create the selftest entry point that bumps them, so bind
-- it here (superuser only, rolled back; the counters themselves stay).
CREATE FUNCTION kr03.bump_stat(tenant text, stat text, delta bigint) RETURNS bigint
AS '$libdir/kaireon', 'kaireon_selftest_bump_stat' LANGUAGE C;
REVOKE ALL ON FUNCTION kr03.bump_stat(text, text, bigint) FROM PUBLIC;

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr03-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr03-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr03_app1', 'kr03-t1');
    PERFORM kaireon.grant_tenant('kr03_app2', 'kr03-t2');
    PERFORM kaireon.grant_tenant('kr03_reader1', 'kr03-t1');
    PERFORM kaireon.grant_tenant('kr03_group', 'kr03-t1');
    PERFORM kr03.bump_stat('kr03-t1', 'decisions', 1);
    PERFORM kr03.bump_stat('kr03-t2', 'decisions', 1);
    PERFORM kr03.bump_stat('', 'decisions', 1);   -- the database-wide row (tenant NULL)
END
$$;

-- The tenant-scoped relations of schema kaireon.
CREATE FUNCTION kr03.scoped(rls_only boolean DEFAULT false) RETURNS SETOF regclass
LANGUAGE sql STABLE AS $$
    SELECT c.oid::regclass
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relnamespace = 'kaireon'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND (NOT rls_only OR c.relrowsecurity)
    ORDER BY 1
$$;

-- readable: the tenant-scoped relations the current role may SELECT.
CREATE FUNCTION kr03.readable() RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(r::text ORDER BY r::text), '{}')
    FROM kr03.scoped() r WHERE pg_catalog.has_table_privilege(r, 'SELECT')
$$;

-- foreign_rows: "relation: n" for every readable tenant-scoped relation that
-- shows the current role rows whose tenant_id is not `own` (NULL included).
CREATE FUNCTION kr03.foreign_rows(own text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    rel regclass;
    n bigint;
    found text[] := '{}';
BEGIN
    FOR rel IN SELECT r FROM kr03.scoped() r WHERE pg_catalog.has_table_privilege(r, 'SELECT') LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id IS DISTINCT FROM $1', rel) INTO n USING own;
        IF n > 0 THEN found := found || format('%s: %s', rel, n); END IF;
    END LOOP;
    RETURN found;
END
$$;

-- rows_of: how many rows of `tenant` the current role sees, over all readable
-- tenant-scoped relations (rls_only: only the tables under RLS).
CREATE FUNCTION kr03.rows_of(tenant text, rls_only boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    rel regclass;
    n bigint;
    total bigint := 0;
BEGIN
    FOR rel IN SELECT r FROM kr03.scoped(rls_only) r WHERE pg_catalog.has_table_privilege(r, 'SELECT') LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE $1 IS NULL OR tenant_id = $1', rel)
            INTO n USING tenant;
        total := total + n;
    END LOOP;
    RETURN total;
END
$$;

-- all_rows: every row the current role sees in the readable tables under RLS.
CREATE FUNCTION kr03.all_rls_rows() RETURNS bigint
LANGUAGE sql AS $$ SELECT kr03.rows_of(NULL, true) $$;

-- tenants_in: the distinct tenant ids the current role sees in `rel`.
CREATE FUNCTION kr03.tenants_in(rel regclass) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    ids text[];
BEGIN
    EXECUTE format('SELECT coalesce(array_agg(DISTINCT coalesce(tenant_id, ''<null>'') ORDER BY coalesce(tenant_id, ''<null>'')), ''{}'') FROM %s', rel)
        INTO ids;
    RETURN ids;
END
$$;

-- ask runs a query that returns one text value and returns it, or
-- "ERROR <sqlstate>: <message>" (so a failure is a failed test, not an
-- aborted file).
CREATE FUNCTION kr03.ask(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    answer text;
BEGIN
    EXECUTE sql INTO answer;
    RETURN answer;
EXCEPTION WHEN OTHERS THEN
    RETURN format('ERROR %s: %s', SQLSTATE, SQLERRM);
END
$$;

-- Keep the probes to our own tenants (the database may hold others).
CREATE FUNCTION kr03.ours(ids text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(i ORDER BY i), '{}') FROM unnest(ids) i WHERE i LIKE 'kr03-%' OR i = '<null>'
$$;

-- A SECURITY DEFINER function owned by app1 that calls current_tenant(), and
-- one owned by the superuser: neither may lend its owner's access.
CREATE FUNCTION kr03.definer_app1() RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ SELECT kaireon.current_tenant() $$;
ALTER FUNCTION kr03.definer_app1() OWNER TO kr03_app1;
CREATE FUNCTION kr03.definer_superuser() RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ SELECT kaireon.current_tenant() $$;

-- The generic probes must have something to probe.
SELECT ok(ARRAY['kaireon.tenant_grants', 'kaireon.tenants', 'kaireon.stats'] <@ ARRAY(SELECT kr03.scoped()::text),
          'the probes cover tenants, tenant_grants, stats and every other tenant-scoped relation');

-- app1: member of t1 ------------------------------------------------------------

SET ROLE kr03_app1;
SET kaireon.tenant = 'kr03-t1';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t1', 'app1 on t1: current_tenant() is t1');
SELECT ok('kaireon.tenants' = ANY (kr03.readable()), 'app1 may read kaireon.tenants');
SELECT is(kr03.foreign_rows('kr03-t1'), '{}', 'app1 on t1: no tenant-scoped relation shows another tenant''s rows');
SELECT is(kr03.tenants_in('kaireon.tenants'), ARRAY['kr03-t1'], 'app1 on t1: kaireon.tenants shows t1 only');
SELECT is(ARRAY(SELECT name FROM kaireon.tenants), ARRAY['Tenant one'], 'app1 on t1: reads its tenant''s row');

SET kaireon.tenant = 'kr03-t2';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_app1" may not act on tenant "kr03-t2"',
                 'app1 on t2: current_tenant() raises KR403');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'app1 on t2: every table under RLS shows zero rows');
SELECT is(kr03.rows_of('kr03-t2'), 0::bigint, 'app1 on t2: no relation shows a row of t2');
SELECT is_empty('SELECT * FROM kaireon.tenants', 'app1 on t2: SELECT from kaireon.tenants is empty (no error)');
-- A tenant that does not exist looks exactly like one that is not yours.
SET kaireon.tenant = 'kr03-nope';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_app1" may not act on tenant "kr03-nope"',
                 'app1 on an unknown tenant: KR403 as for a foreign one (no existence oracle)');

RESET kaireon.tenant;
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'no tenant selected',
                 'app1 without kaireon.tenant: current_tenant() raises KR400');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'app1 without kaireon.tenant: every table under RLS shows zero rows');
SET kaireon.tenant = '';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'no tenant selected',
                 'app1 with kaireon.tenant = '''': current_tenant() raises KR400');

-- SET LOCAL works the same (transaction-pooling PgBouncer).
SET LOCAL kaireon.tenant = 'kr03-t1';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t1', 'app1 with SET LOCAL kaireon.tenant = t1: current_tenant() is t1');
RESET kaireon.tenant;
RESET ROLE;

-- app2: member of t2 ------------------------------------------------------------

SET ROLE kr03_app2;
SET kaireon.tenant = 'kr03-t2';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t2', 'app2 on t2: current_tenant() is t2');
SELECT is(kr03.foreign_rows('kr03-t2'), '{}', 'app2 on t2: no tenant-scoped relation shows another tenant''s rows');
SELECT is(kr03.tenants_in('kaireon.tenants'), ARRAY['kr03-t2'], 'app2 on t2: kaireon.tenants shows t2 only');
SET kaireon.tenant = 'kr03-t1';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_app2" may not act on tenant "kr03-t1"',
                 'app2 on t1: current_tenant() raises KR403');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'app2 on t1: every table under RLS shows zero rows');
SELECT is(kr03.rows_of('kr03-t1'), 0::bigint, 'app2 on t1: no relation shows a row of t1');
RESET kaireon.tenant;
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'no tenant selected',
                 'app2 without kaireon.tenant: current_tenant() raises KR400');
RESET ROLE;

-- reader1: kaireon_reader, member of t1 ------------------------------------------

SET ROLE kr03_reader1;
SET kaireon.tenant = 'kr03-t1';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t1', 'reader1 on t1: current_tenant() is t1');
SELECT ok(ARRAY['kaireon.stats', 'kaireon.tenants'] <@ kr03.readable(), 'reader1 may read kaireon.tenants and kaireon.stats');
SELECT is(kr03.foreign_rows('kr03-t1'), '{}', 'reader1 on t1: no tenant-scoped relation shows another tenant''s rows');
SELECT is(kr03.tenants_in('kaireon.tenants'), ARRAY['kr03-t1'], 'reader1 on t1: kaireon.tenants shows t1 only');
SELECT is(kr03.tenants_in('kaireon.stats'), ARRAY['kr03-t1'],
          'reader1: kaireon.stats shows only t1 (no other tenant, no database-wide row)');
SET kaireon.tenant = 'kr03-t2';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_reader1" may not act on tenant "kr03-t2"',
                 'reader1 on t2: current_tenant() raises KR403');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'reader1 on t2: every table under RLS shows zero rows');
SELECT is(kr03.rows_of('kr03-t2'), 0::bigint, 'reader1 on t2: no relation (stats included) shows a row of t2');
RESET kaireon.tenant;
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'no tenant selected',
                 'reader1 without kaireon.tenant: current_tenant() raises KR400');
SELECT is(kr03.rows_of('kr03-t2'), 0::bigint, 'reader1 without kaireon.tenant: no relation shows a row of t2');
RESET ROLE;

-- admin: kaireon_admin, granted nothing -----------------------------------------

SET ROLE kr03_admin;
SELECT ok(kaireon.is_admin(), 'admin: is_admin() is true');
SELECT is(kr03.ours(kr03.tenants_in('kaireon.tenants')), ARRAY['kr03-t1', 'kr03-t2'],
          'admin without kaireon.tenant: kaireon.tenants shows every tenant');
SELECT is(kr03.ours(kr03.tenants_in('kaireon.tenant_grants')), ARRAY['kr03-t1', 'kr03-t2'],
          'admin: kaireon.tenant_grants shows every tenant''s grants');
SELECT is(kr03.ours(kr03.tenants_in('kaireon.stats')), ARRAY['<null>', 'kr03-t1', 'kr03-t2'],
          'admin: kaireon.stats shows every tenant and the database-wide row');
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'no tenant selected',
                 'admin without kaireon.tenant: current_tenant() raises KR400');
SET kaireon.tenant = 'kr03-t1';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t1', 'admin may act on t1 without a grant');
SELECT is(kr03.ours(kr03.tenants_in('kaireon.tenants')), ARRAY['kr03-t1', 'kr03-t2'],
          'admin on t1: kaireon.tenants still shows every tenant');
SET kaireon.tenant = 'kr03-t2';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t2', 'admin may act on t2 without a grant');
SET kaireon.tenant = 'kr03-nope';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'unknown tenant "kr03-nope"',
                 'admin on a tenant that does not exist: KR400 unknown tenant');
RESET kaireon.tenant;
RESET ROLE;

-- stranger: kaireon_app, granted nothing -----------------------------------------

SET ROLE kr03_stranger;
SELECT ok(NOT kaireon.is_admin(), 'stranger: is_admin() is false');
SET kaireon.tenant = 'kr03-t1';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_stranger" may not act on tenant "kr03-t1"',
                 'stranger on t1: current_tenant() raises KR403');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'stranger on t1: every table under RLS shows zero rows');
SELECT is(kr03.rows_of('kr03-t1'), 0::bigint, 'stranger on t1: no relation shows a row of t1');
SET kaireon.tenant = 'kr03-t2';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_stranger" may not act on tenant "kr03-t2"',
                 'stranger on t2: current_tenant() raises KR403');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'stranger on t2: every table under RLS shows zero rows');
RESET kaireon.tenant;
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'no tenant selected',
                 'stranger without kaireon.tenant: current_tenant() raises KR400');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'stranger without kaireon.tenant: every table under RLS shows zero rows');
RESET ROLE;

-- visible_tenant() (the RLS side) never raises --------------------------------

SET ROLE kr03_app1;
SET kaireon.tenant = 'kr03-t1';
SELECT is(kaireon.visible_tenant(), 'kr03-t1', 'visible_tenant() is the tenant when the role may see it');
SET kaireon.tenant = 'kr03-t2';
SELECT is(kaireon.visible_tenant(), NULL, 'visible_tenant() is NULL (no error) for a foreign tenant');
RESET kaireon.tenant;
SELECT is(kaireon.visible_tenant(), NULL, 'visible_tenant() is NULL without kaireon.tenant');
RESET ROLE;

-- Group roles: a member of a granted role has access ------------------------------

SET ROLE kr03_member;
SET kaireon.tenant = 'kr03-t1';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t1', 'a member of a role granted t1 may act on t1');
SELECT is(kr03.tenants_in('kaireon.tenants'), ARRAY['kr03-t1'], 'a member of a role granted t1 sees t1''s rows');
RESET ROLE;
REVOKE kr03_group FROM kr03_member;
SET ROLE kr03_member;
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_member" may not act on tenant "kr03-t1"',
                 'after REVOKE of the group role, in the same session: KR403');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'after REVOKE of the group role: every table under RLS shows zero rows');
RESET ROLE;

-- SECURITY DEFINER does not lend the owner's access ------------------------------

SET ROLE kr03_app2;
SET kaireon.tenant = 'kr03-t1';
SELECT throws_ok('SELECT kr03.definer_app1()', 'KR403', 'role "kr03_app2" may not act on tenant "kr03-t1"',
                 'app2 calling a SECURITY DEFINER function owned by app1, on t1: KR403 (the caller counts)');
SET kaireon.tenant = 'kr03-t2';
SELECT is(kr03.ask('SELECT kr03.definer_app1()'), 'kr03-t2',
          'app2 calling the app1-owned SECURITY DEFINER function on t2: allowed (the caller counts, not the owner)');
RESET ROLE;
SET ROLE kr03_app1;
SET kaireon.tenant = 'kr03-t1';
SELECT is(kr03.ask('SELECT kr03.definer_app1()'), 'kr03-t1', 'app1 calling its own SECURITY DEFINER function on t1: allowed');
RESET ROLE;
SET ROLE kr03_stranger;
SELECT throws_ok('SELECT kr03.definer_superuser()', 'KR403', 'role "kr03_stranger" may not act on tenant "kr03-t1"',
                 'a superuser-owned SECURITY DEFINER function does not lend superuser access to the caller');
RESET ROLE;
-- Calling it as someone else does not change current_user for RLS either:
-- the caller still sees its own rows only.
SET ROLE kr03_app1;
SET kaireon.tenant = 'kr03-t2';
SELECT is(kr03.all_rls_rows(), 0::bigint, 'after the definer calls, app1 on t2 still sees zero rows');
RESET ROLE;

-- Grants and revocations apply at once, in the same session ----------------------

SET ROLE kr03_late;
SET kaireon.tenant = 'kr03-t2';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_late" may not act on tenant "kr03-t2"',
                 'late: not yet granted t2');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'late on t2 before the grant: zero rows');
RESET ROLE;
DO $$ BEGIN PERFORM kaireon.grant_tenant('kr03_late', 'kr03-t2'); END $$;
SET ROLE kr03_late;
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t2', 'late: granted t2 -> may act on t2 in the same session');
SELECT is(kr03.tenants_in('kaireon.tenants'), ARRAY['kr03-t2'], 'late: granted t2 -> sees t2''s rows');
RESET ROLE;

SET ROLE kr03_app1;
SET kaireon.tenant = 'kr03-t1';
SELECT is(kr03.ask('SELECT kaireon.current_tenant()'), 'kr03-t1', 'app1 on t1 before revoke_tenant');
RESET ROLE;
DO $$ BEGIN PERFORM kaireon.revoke_tenant('kr03_app1', 'kr03-t1'); END $$;
SET ROLE kr03_app1;
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_app1" may not act on tenant "kr03-t1"',
                 'revoke_tenant takes access away at once (same session)');
SELECT is(kr03.all_rls_rows(), 0::bigint, 'after revoke_tenant: every table under RLS shows zero rows');
RESET ROLE;
SET ROLE kr03_reader1;
SELECT is(kr03.ours(kr03.tenants_in('kaireon.stats')), ARRAY['kr03-t1'],
          'revoking app1 leaves reader1''s access to t1 alone');
RESET ROLE;

-- A revocation done by an administrator role (not the superuser).
SET ROLE kr03_admin;
DO $$ BEGIN PERFORM kaireon.revoke_tenant('kr03_reader1', 'kr03-t1'); END $$;
RESET ROLE;
SET ROLE kr03_reader1;
SET kaireon.tenant = 'kr03-t1';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_reader1" may not act on tenant "kr03-t1"',
                 'revoke_tenant by a kaireon_admin member takes access away at once');
SELECT is(kr03.ours(kr03.tenants_in('kaireon.stats')), '{}', 'after revoke_tenant: kaireon.stats shows reader1 nothing');
RESET ROLE;

-- Dropping the tenant takes everyone's access away.
DO $$ BEGIN PERFORM kaireon.drop_tenant('kr03-t2'); END $$;
SET ROLE kr03_app2;
SET kaireon.tenant = 'kr03-t2';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr03_app2" may not act on tenant "kr03-t2"',
                 'after drop_tenant: its former members get KR403');
RESET ROLE;
SET ROLE kr03_admin;
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR400', 'unknown tenant "kr03-t2"',
                 'after drop_tenant: an administrator gets KR400 unknown tenant');
RESET ROLE;
RESET kaireon.tenant;

SELECT * FROM finish();
ROLLBACK;

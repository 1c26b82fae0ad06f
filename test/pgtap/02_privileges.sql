-- 02_privileges.sql - roles and privileges (SPEC section 1: "Nothing is
-- granted to PUBLIC", SECURITY DEFINER functions pin search_path, the three
-- roles, admin-only functions).
--
-- The PUBLIC and search_path checks query the catalogs for every object of
-- schema kaireon and every member of the extension (wherever it lives, e.g.
-- public.kaireon_recommend), so objects added later are covered too.
BEGIN;
SELECT plan(61);

-- Test roles (removed by the ROLLBACK).
CREATE ROLE kr02_app NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr02_reader NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr02_admin NOLOGIN IN ROLE kaireon_admin;

-- Every object of the extension or of schema kaireon.
CREATE TEMP VIEW kr02_ext_members AS
SELECT d.classid, d.objid
FROM pg_catalog.pg_depend d
WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'kaireon');

CREATE TEMP VIEW kr02_functions AS
SELECT p.oid, p.oid::regprocedure AS fn, p.proowner, p.proacl, p.prosecdef, p.proconfig
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'kaireon'::regnamespace
   OR p.oid IN (SELECT objid FROM kr02_ext_members WHERE classid = 'pg_catalog.pg_proc'::regclass);

CREATE TEMP VIEW kr02_relations AS
SELECT c.oid, c.oid::regclass AS rel, c.relkind, c.relowner, c.relacl
FROM pg_catalog.pg_class c
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND (c.relnamespace = 'kaireon'::regnamespace
       OR c.oid IN (SELECT objid FROM kr02_ext_members WHERE classid = 'pg_catalog.pg_class'::regclass));

-- Nothing granted to PUBLIC --------------------------------------------------

SELECT ok((SELECT count(*) FROM kr02_functions) >= 10 AND (SELECT count(*) FROM kr02_relations) >= 4,
          'the generic checks see the functions and relations of the extension');

SELECT is(ARRAY(SELECT a.privilege_type
                FROM pg_catalog.pg_namespace n,
                     LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
                WHERE n.nspname = 'kaireon' AND a.grantee = 0),
          ARRAY[]::text[],
          'nothing on schema kaireon is granted to PUBLIC');

SELECT is(ARRAY(SELECT format('%s: %s', r.rel, a.privilege_type)
                FROM kr02_relations r,
                     LATERAL pg_catalog.aclexplode(coalesce(r.relacl, pg_catalog.acldefault(
                         CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END::"char", r.relowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[],
          'no table, view or sequence of the extension grants anything to PUBLIC');

SELECT is(ARRAY(SELECT format('%s.%s: %s', r.rel, att.attname, a.privilege_type)
                FROM kr02_relations r
                JOIN pg_catalog.pg_attribute att ON att.attrelid = r.oid AND att.attacl IS NOT NULL,
                     LATERAL pg_catalog.aclexplode(att.attacl) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[],
          'no column of the extension grants anything to PUBLIC');

SELECT is(ARRAY(SELECT format('%s: %s', f.fn, a.privilege_type)
                FROM kr02_functions f,
                     LATERAL pg_catalog.aclexplode(coalesce(f.proacl, pg_catalog.acldefault('f', f.proowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[],
          'no function of the extension is executable by PUBLIC');

SELECT is(ARRAY(SELECT format('%s: %s', d.defaclobjtype, a.privilege_type)
                FROM pg_catalog.pg_default_acl d, LATERAL pg_catalog.aclexplode(d.defaclacl) a
                WHERE d.defaclnamespace = 'kaireon'::regnamespace AND a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[],
          'no default privilege in schema kaireon grants anything to PUBLIC');

-- SECURITY DEFINER functions pin search_path ---------------------------------

SELECT ok((SELECT count(*) FROM kr02_functions WHERE prosecdef) >= 4,
          'the generic checks see the SECURITY DEFINER functions');

SELECT is(ARRAY(SELECT f.fn::text FROM kr02_functions f
                WHERE f.prosecdef
                  AND NOT EXISTS (SELECT 1 FROM unnest(f.proconfig) c WHERE c LIKE 'search\_path=%')
                ORDER BY 1),
          ARRAY[]::text[],
          'every SECURITY DEFINER function of the extension has a pinned search_path (SET search_path = ...)');

-- pg_temp is searched first for relations unless it is named, so a pinned
-- search_path must name it, last.
SELECT is(ARRAY(SELECT f.fn::text FROM kr02_functions f
                WHERE f.prosecdef
                  AND NOT EXISTS (SELECT 1 FROM unnest(f.proconfig) c
                                  WHERE c ~ '^search_path=.*\mpg_temp"?\s*$')
                ORDER BY 1),
          ARRAY[]::text[],
          'every SECURITY DEFINER function of the extension names pg_temp last in its search_path');

SELECT is(ARRAY(SELECT f.fn::text FROM kr02_functions f
                WHERE f.prosecdef
                  AND EXISTS (SELECT 1 FROM unnest(f.proconfig) c
                              WHERE c ~ '^search_path=' AND c ~ '(\mpublic\M|\$user)')
                ORDER BY 1),
          ARRAY[]::text[],
          'no SECURITY DEFINER function of the extension searches public or $user');

SELECT is_definer('kaireon', 'create_tenant', ARRAY['text', 'text', 'text'], 'create_tenant is SECURITY DEFINER');
SELECT is_definer('kaireon', 'drop_tenant', ARRAY['text'], 'drop_tenant is SECURITY DEFINER');
SELECT is_definer('kaireon', 'grant_tenant', ARRAY['name', 'text'], 'grant_tenant is SECURITY DEFINER');
SELECT is_definer('kaireon', 'revoke_tenant', ARRAY['name', 'text'], 'revoke_tenant is SECURITY DEFINER');
-- current_tenant must see the caller: a definer would make it see its owner.
SELECT isnt_definer('kaireon', 'current_tenant', ARRAY[]::text[], 'current_tenant is not SECURITY DEFINER');
SELECT isnt_definer('kaireon', 'visible_tenant', ARRAY[]::text[], 'visible_tenant is not SECURITY DEFINER');
SELECT isnt_definer('kaireon', 'is_admin', ARRAY[]::text[], 'is_admin is not SECURITY DEFINER');

-- The roles -------------------------------------------------------------------

SELECT has_role('kaireon_admin');
SELECT has_role('kaireon_app');
SELECT has_role('kaireon_reader');
SELECT is_member_of('kaireon_app', ARRAY['kaireon_admin'], 'kaireon_admin is a member of kaireon_app');
SELECT is_member_of('kaireon_reader', ARRAY['kaireon_admin'], 'kaireon_admin is a member of kaireon_reader');
SELECT isnt_member_of('kaireon_admin', ARRAY['kaireon_app', 'kaireon_reader'],
                      'neither kaireon_app nor kaireon_reader is a member of kaireon_admin');
SELECT is(ARRAY(SELECT rolname::text FROM pg_catalog.pg_roles
                WHERE rolname IN ('kaireon_admin', 'kaireon_app', 'kaireon_reader')
                  AND (rolsuper OR rolbypassrls OR rolcanlogin OR rolcreaterole OR rolcreatedb OR rolreplication)
                ORDER BY 1),
          ARRAY[]::text[],
          'the kaireon roles are NOLOGIN and have no SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION');

-- Admin-only functions ----------------------------------------------------------

SELECT function_privs_are('kaireon', 'create_tenant', ARRAY['text', 'text', 'text'], 'kaireon_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('kaireon', 'drop_tenant', ARRAY['text'], 'kaireon_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('kaireon', 'grant_tenant', ARRAY['name', 'text'], 'kaireon_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('kaireon', 'revoke_tenant', ARRAY['name', 'text'], 'kaireon_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('kaireon', 'create_tenant', ARRAY['text', 'text', 'text'], 'kaireon_app', ARRAY[]::text[]);
SELECT function_privs_are('kaireon', 'drop_tenant', ARRAY['text'], 'kaireon_app', ARRAY[]::text[]);
SELECT function_privs_are('kaireon', 'grant_tenant', ARRAY['name', 'text'], 'kaireon_app', ARRAY[]::text[]);
SELECT function_privs_are('kaireon', 'revoke_tenant', ARRAY['name', 'text'], 'kaireon_app', ARRAY[]::text[]);
SELECT function_privs_are('kaireon', 'create_tenant', ARRAY['text', 'text', 'text'], 'kaireon_reader', ARRAY[]::text[]);
SELECT function_privs_are('kaireon', 'drop_tenant', ARRAY['text'], 'kaireon_reader', ARRAY[]::text[]);
SELECT function_privs_are('kaireon', 'grant_tenant', ARRAY['name', 'text'], 'kaireon_reader', ARRAY[]::text[]);
SELECT function_privs_are('kaireon', 'revoke_tenant', ARRAY['name', 'text'], 'kaireon_reader', ARRAY[]::text[]);

-- The access functions are for all three roles.
SELECT is(ARRAY(SELECT format('%s %s', r, f)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['kaireon.current_tenant()', 'kaireon.visible_tenant()', 'kaireon.is_admin()']) f
                WHERE NOT has_function_privilege(r, f, 'EXECUTE') ORDER BY 1),
          ARRAY[]::text[],
          'kaireon_admin, kaireon_app and kaireon_reader may execute current_tenant, visible_tenant, is_admin');

SELECT schema_privs_are('kaireon', 'kaireon_app', ARRAY['USAGE'], 'kaireon_app has USAGE (only) on schema kaireon');
SELECT schema_privs_are('kaireon', 'kaireon_reader', ARRAY['USAGE'], 'kaireon_reader has USAGE (only) on schema kaireon');

-- Writes to the tenant tables go through the API only; the registry and the
-- grants are for administrators.
SELECT table_privs_are('kaireon', 'tenants', 'kaireon_app', ARRAY['SELECT']);
SELECT table_privs_are('kaireon', 'tenants', 'kaireon_reader', ARRAY['SELECT']);
SELECT table_privs_are('kaireon', 'tenants', 'kaireon_admin', ARRAY['SELECT']);
SELECT table_privs_are('kaireon', 'tenant_grants', 'kaireon_app', ARRAY[]::text[]);
SELECT table_privs_are('kaireon', 'tenant_grants', 'kaireon_reader', ARRAY[]::text[]);
SELECT table_privs_are('kaireon', 'tenant_tables', 'kaireon_app', ARRAY[]::text[]);
SELECT table_privs_are('kaireon', 'tenant_tables', 'kaireon_reader', ARRAY[]::text[]);
SELECT is(ARRAY(SELECT format('%s %s', r, t)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['kaireon.tenants', 'kaireon.tenant_grants', 'kaireon.tenant_tables']) t
                WHERE has_table_privilege(r, t, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                ORDER BY 1),
          ARRAY[]::text[],
          'no kaireon role may write kaireon.tenants, tenant_grants or tenant_tables directly');

-- The same, exercised: a member of kaireon_app / kaireon_reader gets 42501.
SET ROLE kr02_app;
SELECT throws_ok($$SELECT kaireon.create_tenant('kr02-x', 'X', 'x@example.com')$$, '42501',
                 'permission denied for function create_tenant', 'an app role may not call create_tenant');
SELECT throws_ok($$SELECT kaireon.drop_tenant('kr02-x')$$, '42501',
                 'permission denied for function drop_tenant', 'an app role may not call drop_tenant');
SELECT throws_ok($$SELECT kaireon.grant_tenant('kr02_app', 'kr02-x')$$, '42501',
                 'permission denied for function grant_tenant', 'an app role may not call grant_tenant');
SELECT throws_ok($$SELECT kaireon.revoke_tenant('kr02_app', 'kr02-x')$$, '42501',
                 'permission denied for function revoke_tenant', 'an app role may not call revoke_tenant');
SELECT throws_ok($$INSERT INTO kaireon.tenants (tenant_id, name, admin_email) VALUES ('kr02-x', 'X', 'x@example.com')$$,
                 '42501', 'permission denied for table tenants', 'an app role may not insert into kaireon.tenants');
SELECT throws_ok($$INSERT INTO kaireon.tenant_grants (tenant_id, role) VALUES ('kr02-x', 'kr02_app')$$,
                 '42501', 'permission denied for table tenant_grants', 'an app role may not insert into kaireon.tenant_grants');
RESET ROLE;

SET ROLE kr02_reader;
SELECT throws_ok($$SELECT kaireon.create_tenant('kr02-x', 'X', 'x@example.com')$$, '42501',
                 'permission denied for function create_tenant', 'a reader role may not call create_tenant');
SELECT throws_ok($$SELECT kaireon.drop_tenant('kr02-x')$$, '42501',
                 'permission denied for function drop_tenant', 'a reader role may not call drop_tenant');
SELECT throws_ok($$SELECT kaireon.grant_tenant('kr02_reader', 'kr02-x')$$, '42501',
                 'permission denied for function grant_tenant', 'a reader role may not call grant_tenant');
SELECT throws_ok($$SELECT kaireon.revoke_tenant('kr02_reader', 'kr02-x')$$, '42501',
                 'permission denied for function revoke_tenant', 'a reader role may not call revoke_tenant');
RESET ROLE;

SET ROLE kr02_admin;
SELECT lives_ok($$SELECT kaireon.create_tenant('kr02-x', 'X', 'x@example.com')$$,
                'a member of kaireon_admin may call create_tenant');
SELECT lives_ok($$SELECT kaireon.grant_tenant('kr02_app', 'kr02-x')$$, 'a member of kaireon_admin may call grant_tenant');
SELECT lives_ok($$SELECT kaireon.revoke_tenant('kr02_app', 'kr02-x')$$, 'a member of kaireon_admin may call revoke_tenant');
SELECT lives_ok($$SELECT kaireon.drop_tenant('kr02-x')$$, 'a member of kaireon_admin may call drop_tenant');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

-- Tenants, membership and the calling role.
\set SHOW_CONTEXT never
CREATE ROLE regress_kr_app1 IN ROLE kaireon_app;
CREATE ROLE regress_kr_app2 IN ROLE kaireon_app;
CREATE ROLE regress_kr_team IN ROLE kaireon_app;       -- a group role granted a tenant
CREATE ROLE regress_kr_member IN ROLE regress_kr_team; -- inherits the grant
CREATE ROLE regress_kr_admin IN ROLE kaireon_admin;
CREATE ROLE regress_kr_nobody;

SELECT kaireon.create_tenant('acme', 'Acme Bank', 'ops@acme.test') - 'createdAt' AS acme;
SELECT kaireon.create_tenant('globex', 'Globex Telco', 'it@globex.test') - 'createdAt' AS globex;

-- Bad input: clear KR400 errors, nothing created.
SELECT kaireon.create_tenant('acme', 'Again', 'x@y.test');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.create_tenant('', 'Empty', 'x@y.test');
SELECT kaireon.create_tenant('Acme', 'Upper', 'x@y.test');
SELECT kaireon.create_tenant('a b', 'Space', 'x@y.test');
SELECT kaireon.create_tenant('-acme', 'Dash', 'x@y.test');
SELECT kaireon.create_tenant(repeat('a', 64), 'Long', 'x@y.test');
SELECT kaireon.create_tenant(NULL, 'Null', 'x@y.test');
SELECT kaireon.create_tenant('initech', '', 'x@y.test');
SELECT kaireon.create_tenant('initech', 'Initech', 'not-an-email');
SELECT kaireon.create_tenant('initech', 'Initech', NULL);
SELECT count(*) AS tenants FROM kaireon.tenants;

SELECT kaireon.grant_tenant('regress_kr_app1', 'acme');
SELECT kaireon.grant_tenant('regress_kr_app1', 'acme');  -- granting twice is harmless
SELECT kaireon.grant_tenant('regress_kr_app2', 'globex');
SELECT kaireon.grant_tenant('regress_kr_team', 'globex');
SELECT kaireon.grant_tenant('regress_kr_ghost', 'acme');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.grant_tenant('regress_kr_app1', 'nope');
SELECT tenant_id, role FROM kaireon.tenant_grants ORDER BY 1, 2::text;

-- No tenant selected.
SET ROLE regress_kr_app1;
SELECT kaireon.current_tenant();
\echo :LAST_ERROR_SQLSTATE
-- Own tenant, with SET.
SET kaireon.tenant = 'acme';
SELECT kaireon.current_tenant();
SELECT tenant_id, name FROM kaireon.tenants;
-- Another tenant: KR403 from the API, no rows from the tables.
SET kaireon.tenant = 'globex';
SELECT kaireon.current_tenant();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS visible FROM kaireon.tenants;
-- A tenant that does not exist looks the same as a foreign one.
SET kaireon.tenant = 'nope';
SELECT kaireon.current_tenant();
-- A malformed tenant id is refused by the setting itself.
SET kaireon.tenant = 'Not Valid';
-- SET LOCAL lasts for the transaction (transaction-pooling friendly).
RESET kaireon.tenant;
BEGIN;
SET LOCAL kaireon.tenant = 'acme';
SELECT kaireon.current_tenant() AS in_transaction;
COMMIT;
SELECT kaireon.current_tenant() AS after_commit;
RESET ROLE;

-- Membership through a group role.
SET ROLE regress_kr_member;
SET kaireon.tenant = 'globex';
SELECT kaireon.current_tenant() AS through_group;
SET kaireon.tenant = 'acme';
SELECT kaireon.current_tenant();
RESET ROLE;

-- A role that is not a kaireon role at all cannot even read the tables.
SET ROLE regress_kr_nobody;
SET kaireon.tenant = 'acme';
SELECT count(*) FROM kaireon.tenants;
SELECT kaireon.current_tenant();
RESET ROLE;

-- The calling role is the one after SET ROLE, also inside a SECURITY
-- DEFINER function owned by a member: app2 cannot borrow app1's access.
CREATE FUNCTION public.regress_kr_borrow() RETURNS text LANGUAGE sql SECURITY DEFINER
    AS 'SELECT kaireon.current_tenant()';
ALTER FUNCTION public.regress_kr_borrow() OWNER TO regress_kr_app1;
GRANT EXECUTE ON FUNCTION public.regress_kr_borrow() TO regress_kr_app2;
SET ROLE regress_kr_app2;
SET kaireon.tenant = 'acme';
SELECT public.regress_kr_borrow();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP FUNCTION public.regress_kr_borrow();

-- Administrators act on any existing tenant, and see every tenant row.
SET ROLE regress_kr_admin;
SET kaireon.tenant = 'globex';
SELECT kaireon.current_tenant() AS admin_on_globex;
SET kaireon.tenant = 'nope';
SELECT kaireon.current_tenant();
SELECT tenant_id FROM kaireon.tenants ORDER BY 1;
RESET ROLE;

-- Revoking takes effect at once, in this session too (cached grants are
-- invalidated).
SET ROLE regress_kr_app1;
SET kaireon.tenant = 'acme';
SELECT kaireon.current_tenant() AS before_revoke;
RESET ROLE;
SELECT kaireon.revoke_tenant('regress_kr_app1', 'acme');
SET ROLE regress_kr_app1;
SELECT kaireon.current_tenant();
RESET ROLE;
-- Role membership changes are seen at once as well.
SELECT kaireon.grant_tenant('regress_kr_team', 'acme');
GRANT regress_kr_team TO regress_kr_app1;
SET ROLE regress_kr_app1;
SELECT kaireon.current_tenant() AS via_new_membership;
RESET ROLE;
REVOKE regress_kr_team FROM regress_kr_app1;
SET ROLE regress_kr_app1;
SELECT kaireon.current_tenant();
RESET ROLE;
RESET kaireon.tenant;

-- Only administrators manage tenants.
SET ROLE regress_kr_app1;
SELECT kaireon.create_tenant('evil', 'Evil', 'e@evil.test');
SELECT kaireon.grant_tenant('regress_kr_app1', 'globex');
SELECT kaireon.drop_tenant('globex');
RESET ROLE;

-- Offboarding removes the tenant and its grants.
SELECT d ->> 'tenantId' AS dropped, d -> 'deleted' -> 'kaireon.tenant_grants' AS grants_deleted
FROM kaireon.drop_tenant('globex') AS d;
SELECT kaireon.drop_tenant('globex');
SELECT tenant_id, role FROM kaireon.tenant_grants ORDER BY 1, 2::text;

SELECT d ->> 'tenantId' AS dropped, d -> 'deleted' -> 'kaireon.tenant_grants' AS grants_deleted
FROM kaireon.drop_tenant('acme') AS d;
DROP ROLE regress_kr_app1, regress_kr_app2, regress_kr_member, regress_kr_team, regress_kr_admin, regress_kr_nobody;

-- Hostile callers. The extension's own lookups run as its owner with a
-- pinned search_path: an operator planted in the caller's schema never runs
-- with the owner's privileges.
CREATE ROLE regress_kr_evil IN ROLE kaireon_app;
CREATE SCHEMA regress_kr_evil AUTHORIZATION regress_kr_evil;
SELECT kaireon.create_tenant('victim', 'Victim', 'v@victim.test') IS NOT NULL AS created;
SET ROLE regress_kr_evil;
CREATE FUNCTION regress_kr_evil.texteq(a text, b text) RETURNS bool LANGUAGE plpgsql AS
    $$BEGIN RAISE NOTICE 'planted operator ran as %', current_user; RETURN pg_catalog.texteq(a, b); END$$;
CREATE OPERATOR regress_kr_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_kr_evil.texteq);
SET search_path = regress_kr_evil, pg_catalog;
SET kaireon.tenant = 'victim';
SELECT kaireon.current_tenant();
SELECT count(*) AS visible FROM kaireon.tenants;
RESET search_path;
RESET kaireon.tenant;
RESET ROLE;
DROP SCHEMA regress_kr_evil CASCADE;

-- Grants belong to the role, not to its name: a rename keeps them, and a new
-- role that reuses a dropped role's name inherits nothing.
SELECT kaireon.grant_tenant('regress_kr_evil', 'victim');
ALTER ROLE regress_kr_evil RENAME TO regress_kr_renamed;
SET ROLE regress_kr_renamed;
SET kaireon.tenant = 'victim';
SELECT kaireon.current_tenant() AS after_rename;
RESET ROLE;
DROP ROLE regress_kr_renamed;
CREATE ROLE regress_kr_renamed IN ROLE kaireon_app;
SET ROLE regress_kr_renamed;
SELECT kaireon.current_tenant();
RESET ROLE;
RESET kaireon.tenant;
SELECT kaireon.grant_tenant(NULL, 'victim');
SELECT kaireon.grant_tenant('regress_kr_renamed', 'Not A Tenant');
SELECT kaireon.revoke_tenant('regress_kr_ghost', 'victim');
SELECT kaireon.drop_tenant('victim') ->> 'tenantId' AS dropped;
DROP ROLE regress_kr_renamed;

-- 04_api.sql - the tenant API's answers and errors (SPEC section 1):
-- create_tenant, grant_tenant, revoke_tenant, drop_tenant. Client errors are
-- SQLSTATE KR400 / KR403 with a JSON DETAIL {"error", "code", ...}.
BEGIN;
SELECT plan(66);

CREATE ROLE kr04_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr04_app2 NOLOGIN IN ROLE kaireon_app;

CREATE SCHEMA kr04;
GRANT USAGE ON SCHEMA kr04 TO PUBLIC;

-- error_of runs `sql` and returns what it raised: {sqlstate, message, detail
-- (parsed JSON), hint}, or NULL when it did not raise.
CREATE FUNCTION kr04.error_of(sql text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    state text;
    msg text;
    detail text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    BEGIN
        RETURN jsonb_build_object('sqlstate', state, 'message', msg, 'detail', detail::jsonb, 'hint', nullif(hint, ''));
    EXCEPTION WHEN invalid_text_representation THEN   -- a DETAIL that is not JSON
        RETURN jsonb_build_object('sqlstate', state, 'message', msg, 'detail', detail, 'hint', nullif(hint, ''));
    END;
END
$$;

-- result_of runs `sql` (returning one jsonb value) and returns the value, or
-- {"raised": error_of(sql)} when it raises.
CREATE FUNCTION kr04.result_of(sql text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb;
BEGIN
    EXECUTE sql INTO answer;
    RETURN answer;
EXCEPTION WHEN OTHERS THEN
    RETURN jsonb_build_object('raised', jsonb_build_object('sqlstate', SQLSTATE, 'message', SQLERRM));
END
$$;

-- create_tenant: invalid tenant ids -------------------------------------------

SELECT throws_ok($$SELECT kaireon.create_tenant('', 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id is empty', 'create_tenant: empty id -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant(NULL, 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id is null', 'create_tenant: NULL id -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('Acme', 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id must start with a lowercase letter or a digit',
                 'create_tenant: id starting with an uppercase letter -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('acME', 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id may contain only a-z, 0-9, ''_'' and ''-'' (bad character at position 3)',
                 'create_tenant: id with uppercase letters -> KR400 naming the position');
SELECT throws_ok($$SELECT kaireon.create_tenant(repeat('a', 64), 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id is longer than 63 characters', 'create_tenant: 64-character id -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('a b', 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id may contain only a-z, 0-9, ''_'' and ''-'' (bad character at position 2)',
                 'create_tenant: id with a space -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('-abc', 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id must start with a lowercase letter or a digit',
                 'create_tenant: id starting with - -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('abc.def', 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id may contain only a-z, 0-9, ''_'' and ''-'' (bad character at position 4)',
                 'create_tenant: id with a dot -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('caf' || chr(233), 'Name', 'a@example.com')$$,
                 'KR400', 'tenant id may contain only a-z, 0-9, ''_'' and ''-'' (bad character at position 4)',
                 'create_tenant: id with a non-ASCII letter -> KR400');
SELECT is(kr04.error_of($$SELECT kaireon.create_tenant('a b', 'Name', 'a@example.com')$$) -> 'detail',
          '{"error": "tenant id may contain only a-z, 0-9, ''_'' and ''-'' (bad character at position 2)", "code": "BAD_REQUEST", "field": "tenantId"}'::jsonb,
          'create_tenant: the DETAIL of a bad id is JSON with error, code BAD_REQUEST and field tenantId');

-- The valid extremes.
SELECT lives_ok($$SELECT kaireon.create_tenant(repeat('a', 62) || '9', 'Long id', 'a@example.com')$$,
                'create_tenant: a 63-character id is accepted');
SELECT lives_ok($$SELECT kaireon.create_tenant('0kr04_x-y', 'Digits, _ and -', 'a@example.com')$$,
                'create_tenant: an id with a leading digit, _ and - is accepted');

-- create_tenant: name and e-mail ------------------------------------------------

SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', '', 'a@example.com')$$,
                 'KR400', 'tenant name must be 1 to 200 characters', 'create_tenant: empty name -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', NULL, 'a@example.com')$$,
                 'KR400', 'tenant name must be 1 to 200 characters', 'create_tenant: NULL name -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', repeat('n', 201), 'a@example.com')$$,
                 'KR400', 'tenant name must be 1 to 200 characters', 'create_tenant: 201-character name -> KR400');
SELECT is(kr04.error_of($$SELECT kaireon.create_tenant('kr04-x', '', 'a@example.com')$$) -> 'detail' ->> 'field',
          'name', 'create_tenant: the DETAIL of a bad name names the field');
SELECT lives_ok($$SELECT kaireon.create_tenant('kr04-name200', repeat('n', 200), 'a@example.com')$$,
                'create_tenant: a 200-character name is accepted');

SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', 'Name', 'not-an-email')$$,
                 'KR400', 'admin_email is not an e-mail address', 'create_tenant: e-mail without @ -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', 'Name', 'a b@example.com')$$,
                 'KR400', 'admin_email is not an e-mail address', 'create_tenant: e-mail with a space -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', 'Name', 'a@b@example.com')$$,
                 'KR400', 'admin_email is not an e-mail address', 'create_tenant: e-mail with two @ -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', 'Name', '@example.com')$$,
                 'KR400', 'admin_email is not an e-mail address', 'create_tenant: e-mail without a local part -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', 'Name', '')$$,
                 'KR400', 'admin_email is not an e-mail address', 'create_tenant: empty e-mail -> KR400');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-x', 'Name', NULL)$$,
                 'KR400', 'admin_email is not an e-mail address', 'create_tenant: NULL e-mail -> KR400');
SELECT is(kr04.error_of($$SELECT kaireon.create_tenant('kr04-x', 'Name', 'nope')$$) -> 'detail',
          '{"error": "admin_email is not an e-mail address", "code": "BAD_REQUEST", "field": "adminEmail"}'::jsonb,
          'create_tenant: the DETAIL of a bad e-mail names the field adminEmail');
SELECT is((SELECT count(*) FROM kaireon.tenants WHERE tenant_id = 'kr04-x'), 0::bigint,
          'create_tenant: nothing was created by the failed calls');

-- create_tenant: success and duplicates -----------------------------------------

SELECT is(kr04.result_of($$SELECT kaireon.create_tenant('kr04-t1', 'Tenant one', 'one@example.com')$$) - 'createdAt',
          '{"tenantId": "kr04-t1", "name": "Tenant one", "adminEmail": "one@example.com"}'::jsonb,
          'create_tenant returns the tenant as JSON (tenantId, name, adminEmail)');
SELECT ok((SELECT (kaireon._tenant_json(t) ->> 'createdAt')::timestamptz = t.created_at
           FROM kaireon.tenants t WHERE t.tenant_id = 'kr04-t1'),
          'createdAt is the row''s created_at');
SELECT results_eq($$SELECT tenant_id, name, admin_email FROM kaireon.tenants WHERE tenant_id = 'kr04-t1'$$,
                  $$VALUES ('kr04-t1'::text, 'Tenant one'::text, 'one@example.com'::text)$$,
                  'create_tenant stores the row in kaireon.tenants');
SELECT throws_ok($$SELECT kaireon.create_tenant('kr04-t1', 'Again', 'again@example.com')$$,
                 'KR400', 'tenant "kr04-t1" already exists', 'create_tenant: duplicate id -> KR400');
SELECT is(kr04.error_of($$SELECT kaireon.create_tenant('kr04-t1', 'Again', 'again@example.com')$$) -> 'detail',
          '{"error": "tenant \"kr04-t1\" already exists", "code": "BAD_REQUEST", "tenant": "kr04-t1"}'::jsonb,
          'create_tenant: the DETAIL of a duplicate names the tenant');
SELECT is((SELECT name FROM kaireon.tenants WHERE tenant_id = 'kr04-t1'), 'Tenant one',
          'create_tenant: a duplicate leaves the existing tenant unchanged');
SELECT lives_ok($$SELECT kaireon.create_tenant('kr04-t2', 'Tenant two', 'two@example.com')$$, 'create_tenant t2');

-- grant_tenant / revoke_tenant ------------------------------------------------------

SELECT throws_ok($$SELECT kaireon.grant_tenant('kr04_nobody', 'kr04-t1')$$,
                 'KR400', 'role "kr04_nobody" does not exist', 'grant_tenant: unknown role -> KR400');
SELECT is(kr04.error_of($$SELECT kaireon.grant_tenant('kr04_nobody', 'kr04-t1')$$) -> 'detail',
          '{"error": "role \"kr04_nobody\" does not exist", "code": "BAD_REQUEST", "role": "kr04_nobody"}'::jsonb,
          'grant_tenant: the DETAIL of an unknown role names the role');
SELECT is(kr04.error_of($$SELECT kaireon.grant_tenant(NULL, 'kr04-t1')$$) ->> 'sqlstate', 'KR400',
          'grant_tenant: NULL role -> KR400');
SELECT throws_ok($$SELECT kaireon.grant_tenant('kr04_app1', 'kr04-nope')$$,
                 'KR400', 'unknown tenant "kr04-nope"', 'grant_tenant: unknown tenant -> KR400');
SELECT is(kr04.error_of($$SELECT kaireon.grant_tenant('kr04_app1', 'kr04-nope')$$) -> 'detail',
          '{"error": "unknown tenant \"kr04-nope\"", "code": "BAD_REQUEST", "tenant": "kr04-nope"}'::jsonb,
          'grant_tenant: the DETAIL of an unknown tenant names the tenant');
SELECT throws_ok($$SELECT kaireon.grant_tenant('kr04_app1', 'Not A Tenant')$$,
                 'KR400', 'tenant id must start with a lowercase letter or a digit', 'grant_tenant: invalid tenant id -> KR400');
SELECT is((SELECT count(*) FROM kaireon.tenant_grants WHERE tenant_id LIKE 'kr04-%'), 0::bigint,
          'nothing was granted by the failed calls');

SELECT lives_ok($$SELECT kaireon.grant_tenant('kr04_app1', 'kr04-t1')$$, 'grant_tenant app1 t1');
SELECT lives_ok($$SELECT kaireon.grant_tenant('kr04_app1', 'kr04-t1')$$, 'grant_tenant is idempotent');
SELECT lives_ok($$SELECT kaireon.grant_tenant('kr04_app2', 'kr04-t1')$$, 'grant_tenant app2 t1');
SELECT lives_ok($$SELECT kaireon.grant_tenant('kr04_app2', 'kr04-t2')$$, 'grant_tenant app2 t2');
SELECT results_eq($$SELECT tenant_id, role::text FROM kaireon.tenant_grants WHERE tenant_id LIKE 'kr04-%' ORDER BY 1, 2$$,
                  $$VALUES ('kr04-t1'::text, 'kr04_app1'::text), ('kr04-t1', 'kr04_app2'), ('kr04-t2', 'kr04_app2')$$,
                  'kaireon.tenant_grants holds one row per grant');

SELECT throws_ok($$SELECT kaireon.revoke_tenant('kr04_app1', 'kr04-nope')$$,
                 'KR400', 'unknown tenant "kr04-nope"', 'revoke_tenant: unknown tenant -> KR400');
SELECT lives_ok($$SELECT kaireon.revoke_tenant('kr04_app1', 'kr04-t2')$$,
                'revoke_tenant of a grant that does not exist is not an error');
SELECT throws_ok($$SELECT kaireon.revoke_tenant('kr04_nobody', 'kr04-t1')$$, 'KR400',
                 'role "kr04_nobody" does not exist', 'revoke_tenant of a role that does not exist is KR400 (typos show)');
SELECT lives_ok($$SELECT kaireon.revoke_tenant('kr04_app2', 'kr04-t1')$$, 'revoke_tenant app2 t1');
SELECT results_eq($$SELECT tenant_id, role::text FROM kaireon.tenant_grants WHERE tenant_id LIKE 'kr04-%' ORDER BY 1, 2$$,
                  $$VALUES ('kr04-t1'::text, 'kr04_app1'::text), ('kr04-t2', 'kr04_app2')$$,
                  'revoke_tenant removed exactly that grant');

-- KR403: its DETAIL and hint -------------------------------------------------------

SET ROLE kr04_app1;
SET kaireon.tenant = 'kr04-t2';
SELECT is(kr04.error_of('SELECT kaireon.current_tenant()') - 'hint',
          jsonb_build_object('sqlstate', 'KR403', 'message', 'role "kr04_app1" may not act on tenant "kr04-t2"',
                             'detail', '{"error": "role \"kr04_app1\" may not act on tenant \"kr04-t2\"", "code": "TENANT_ACCESS_DENIED", "tenant": "kr04-t2", "role": "kr04_app1"}'::jsonb),
          'KR403: DETAIL is JSON with code TENANT_ACCESS_DENIED, the tenant and the role');
SELECT ok(kr04.error_of('SELECT kaireon.current_tenant()') ->> 'hint' LIKE '%kaireon.grant_tenant%',
          'KR403: the hint says how access is granted');
RESET kaireon.tenant;
SELECT is(kr04.error_of('SELECT kaireon.current_tenant()') - 'hint',
          '{"sqlstate": "KR400", "message": "no tenant selected", "detail": {"error": "no tenant selected", "code": "BAD_REQUEST"}}'::jsonb,
          'KR400 no tenant selected: DETAIL is JSON with code BAD_REQUEST');
SELECT ok(kr04.error_of('SELECT kaireon.current_tenant()') ->> 'hint' LIKE '%SET kaireon.tenant%',
          'KR400 no tenant selected: the hint says how to set it');
RESET ROLE;

-- kaireon.tenant only accepts valid ids.
SELECT throws_ok($$SET kaireon.tenant = 'Not A Tenant'$$, '22023',
                 'invalid value for parameter "kaireon.tenant": "Not A Tenant"',
                 'SET kaireon.tenant to an invalid id is refused');

-- drop_tenant --------------------------------------------------------------------

-- A tenant-scoped table registered for the test, and one the audit trail keeps:
-- drop_tenant walks kaireon.tenant_tables.
CREATE TABLE kr04.scoped (tenant_id text NOT NULL, n int NOT NULL, PRIMARY KEY (tenant_id, n));
CREATE TABLE kr04.audit (tenant_id text NOT NULL, n int NOT NULL, PRIMARY KEY (tenant_id, n));
INSERT INTO kr04.scoped VALUES ('kr04-t1', 1), ('kr04-t1', 2), ('kr04-t1', 3), ('kr04-t2', 1);
INSERT INTO kr04.audit VALUES ('kr04-t1', 1), ('kr04-t2', 1);
INSERT INTO kaireon.tenant_tables VALUES ('kr04.scoped', 'delete', 50), ('kr04.audit', 'keep', 50);
DO $$ BEGIN PERFORM kaireon.grant_tenant('kr04_app2', 'kr04-t1'); END $$;

SELECT throws_ok($$SELECT kaireon.drop_tenant('kr04-nope')$$,
                 'KR400', 'unknown tenant "kr04-nope"', 'drop_tenant: unknown tenant -> KR400');

CREATE TEMP TABLE kr04_dropped AS SELECT kr04.result_of($$SELECT kaireon.drop_tenant('kr04-t1')$$) AS result;
SELECT is((SELECT result FROM kr04_dropped),
          jsonb_build_object('tenantId', 'kr04-t1',
                             'deleted', (SELECT jsonb_object_agg(tt.table_name::text, 0) FROM kaireon.tenant_tables tt
                                         WHERE tt.on_drop = 'delete')
                                        || '{"kaireon.tenant_grants": 2, "kr04.scoped": 3}'::jsonb),
          'drop_tenant returns the tenant and the rows it deleted from every registered table (2 grants, 3 rows)');
SELECT ok(NOT ((SELECT result FROM kr04_dropped) -> 'deleted' ? 'kr04.audit'),
          'drop_tenant does not report tables it keeps');
SELECT is((SELECT count(*) FROM kaireon.tenants WHERE tenant_id = 'kr04-t1'), 0::bigint, 'drop_tenant removed the tenant');
SELECT is((SELECT count(*) FROM kaireon.tenant_grants WHERE tenant_id = 'kr04-t1'), 0::bigint,
          'drop_tenant removed the tenant''s grants');
SELECT is((SELECT count(*) FROM kr04.scoped WHERE tenant_id = 'kr04-t1'), 0::bigint,
          'drop_tenant removed the tenant''s rows from a registered table');
SELECT results_eq('SELECT tenant_id, n FROM kr04.audit ORDER BY 1, 2', $$VALUES ('kr04-t1'::text, 1), ('kr04-t2', 1)$$,
                  'drop_tenant keeps the rows of a table registered as keep');
SELECT results_eq($$SELECT tenant_id, role::text FROM kaireon.tenant_grants WHERE tenant_id LIKE 'kr04-%'$$,
                  $$VALUES ('kr04-t2'::text, 'kr04_app2'::text)$$,
                  'drop_tenant leaves the other tenant''s grants alone');
SELECT results_eq('SELECT tenant_id, n FROM kr04.scoped', $$VALUES ('kr04-t2'::text, 1)$$,
                  'drop_tenant leaves the other tenant''s rows alone');
SELECT throws_ok($$SELECT kaireon.drop_tenant('kr04-t1')$$,
                 'KR400', 'unknown tenant "kr04-t1"', 'drop_tenant twice -> KR400');
SELECT lives_ok($$SELECT kaireon.create_tenant('kr04-t1', 'Reborn', 'new@example.com')$$,
                'a dropped tenant id can be created again');
SET ROLE kr04_app1;
SET kaireon.tenant = 'kr04-t1';
SELECT throws_ok('SELECT kaireon.current_tenant()', 'KR403', 'role "kr04_app1" may not act on tenant "kr04-t1"',
                 'a re-created tenant does not inherit the grants of the dropped one');
RESET kaireon.tenant;
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

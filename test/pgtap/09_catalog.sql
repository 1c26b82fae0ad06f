-- 09_catalog.sql - the shape and the access of the decision catalog (SPEC
-- sections 1 and 6.1): its eighteen tables under row-level security like
-- every other tenant table (tenant_isolation policy, tenant_id text NOT NULL
-- first in the key, registered for drop_tenant and for pg_dump, nothing to
-- PUBLIC); who may read and write which table (administrators everything,
-- applications customers and consents, readers the rest read-only); who may
-- call which catalog function; the trigger functions for nobody; and, with
-- two populated tenants, that no role sees or writes the other tenant's
-- rows and that the API functions refuse a tenant the caller is not a member
-- of (KR403).
--
-- The answers of apply_catalog, export_catalog and check_eligibility are for
-- the regression tests, the tier limits and the compiled cache under
-- concurrency for the isolation specs (catalog_limits, catalog_cache); this
-- file is about the schema and access.
BEGIN;
SELECT plan(177);

CREATE ROLE kr09_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr09_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr09_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr09_reader2 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr09_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr09_stranger NOLOGIN IN ROLE kaireon_app;   -- granted no tenant
-- A member of t1 that may also execute the administrators' catalog functions
-- (granted below): the functions themselves must refuse a tenant it is not a
-- member of.
CREATE ROLE kr09_outsider NOLOGIN IN ROLE kaireon_app;
GRANT EXECUTE ON FUNCTION kaireon.apply_catalog(jsonb, text), kaireon.export_catalog(),
                          kaireon.forget_customer(text) TO kr09_outsider;

CREATE SCHEMA kr09;
GRANT USAGE ON SCHEMA kr09 TO PUBLIC;

-- The catalog tables: their primary keys, and who writes them besides the
-- administrators (applications write customers and consents, and readers
-- cannot read those two).
CREATE TABLE kr09.tables (rel regclass PRIMARY KEY, pk text[] NOT NULL, app_writes boolean NOT NULL);
INSERT INTO kr09.tables
SELECT ('kaireon.' || t)::regclass,
       CASE t WHEN 'consents' THEN ARRAY['tenant_id', 'customer_id', 'channel_id'] ELSE ARRAY['tenant_id', 'id'] END,
       t IN ('customers', 'consents')
FROM unnest(ARRAY['categories', 'channels', 'placements', 'outcome_types', 'offers', 'creatives', 'customers',
                  'consents', 'metrics', 'models', 'flows', 'experiments', 'policies', 'caps', 'journeys', 'triggers',
                  'connectors', 'cms_sources']) t;
GRANT SELECT ON kr09.tables TO PUBLIC;

-- seen: "table tenant=n" for every catalog table the current role may read,
-- for every kr09 tenant it sees rows of (RLS decides; the helper runs as the
-- invoker).
CREATE FUNCTION kr09.seen() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    found text[] := '{}';
    r record;
BEGIN
    FOR t IN SELECT rel FROM kr09.tables WHERE pg_catalog.has_table_privilege(rel, 'SELECT') ORDER BY rel::text LOOP
        FOR r IN EXECUTE format('SELECT tenant_id, count(*) AS n FROM %s WHERE tenant_id LIKE %L GROUP BY 1 ORDER BY 1',
                                t, 'kr09-%')
        LOOP
            found := found || format('%s %s=%s', t, r.tenant_id, r.n);
        END LOOP;
    END LOOP;
    RETURN found;
END
$$;

-- own: what seen() must answer for a role that reads `readable` tables and
-- sees exactly its tenant's one row in each.
CREATE FUNCTION kr09.own(tenant text, all_tables boolean) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(format('%s %s=1', rel, tenant) ORDER BY rel::text)
    FROM kr09.tables WHERE all_tables OR NOT app_writes
$$;

-- rows_of: how many rows `tenant` has over all catalog tables (superuser view).
CREATE FUNCTION kr09.rows_of(tenant text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    n bigint;
    total bigint := 0;
BEGIN
    FOR t IN SELECT rel FROM kr09.tables LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = $1', t) INTO n USING tenant;
        total := total + n;
    END LOOP;
    RETURN total;
END
$$;

-- Two tenants, each with one row in every catalog table.
CREATE TABLE kr09.doc (doc jsonb NOT NULL);
INSERT INTO kr09.doc VALUES ($${
    "categories": [{"id": "cat", "name": "Category"}],
    "channels": [{"id": "web", "type": "web"}],
    "placements": [{"id": "hero", "channelId": "web"}],
    "outcomeTypes": [{"id": "click", "kind": "positive"}],
    "offers": [{"id": "o1", "categoryId": "cat", "eligibility": "customer.age >= 18"}],
    "creatives": [{"id": "cr1", "offerId": "o1", "channelId": "web", "placementId": "hero"}],
    "customers": [{"id": "c1", "attributes": {"age": 30}, "segments": ["gold"]}],
    "consents": [{"customerId": "c1", "channelId": "web", "granted": true}],
    "metrics": [{"id": "m1", "definition": {"outcomeTypes": ["click"], "windowDays": 30}}],
    "models": [{"id": "sc", "type": "scorecard", "definition": {"base": 1}}],
    "flows": [{"id": "f1", "channelId": "web", "placementId": "hero", "modelId": "sc"}],
    "experiments": [{"id": "e1", "flowId": "f1", "type": "ab",
                     "variants": [{"id": "a", "weight": 1, "control": true}, {"id": "b", "weight": 1}]}],
    "policies": [{"id": "p1", "type": "frequency_cap", "config": {"maxPerDay": 3}}],
    "caps": [{"id": "cap1", "scope": "offer", "scopeId": "o1", "maxVolume": 100, "period": "daily"}],
    "journeys": [{"id": "j1", "nodes": [{"id": "n1", "type": "exit"}]}],
    "triggers": [{"id": "t1", "eventType": "purchase", "action": {"type": "run_flow", "flowId": "f1"}}],
    "connectors": [{"id": "k1", "type": "webhook"}],
    "cmsSources": [{"id": "cms1", "type": "contentful"}]
}$$);

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr09-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr09-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr09_app1', 'kr09-t1');
    PERFORM kaireon.grant_tenant('kr09_app2', 'kr09-t2');
    PERFORM kaireon.grant_tenant('kr09_reader1', 'kr09-t1');
    PERFORM kaireon.grant_tenant('kr09_reader2', 'kr09-t2');
    PERFORM kaireon.grant_tenant('kr09_outsider', 'kr09-t1');
    PERFORM set_config('kaireon.tenant', 'kr09-t1', true);
    PERFORM kaireon.apply_catalog((SELECT doc FROM kr09.doc));
    PERFORM set_config('kaireon.tenant', 'kr09-t2', true);
    PERFORM kaireon.apply_catalog((SELECT doc FROM kr09.doc));
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- Schema ----------------------------------------------------------------------

SELECT has_table('kaireon', c.relname, t.rel || ' exists')
FROM kr09.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel ORDER BY t.rel::text;

SELECT col_is_pk('kaireon', c.relname, t.pk, t.rel || ' is keyed by (' || array_to_string(t.pk, ', ') || ')')
FROM kr09.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel ORDER BY t.rel::text;

SELECT is(ARRAY(SELECT t.rel::text FROM kr09.tables t
                JOIN pg_catalog.pg_attribute a ON a.attrelid = t.rel AND a.attname = 'tenant_id'
                WHERE a.atttypid = 'text'::regtype AND a.attnotnull AND a.attnum = 1
                  AND pg_catalog.pg_get_expr((SELECT d.adbin FROM pg_catalog.pg_attrdef d
                                              WHERE d.adrelid = t.rel AND d.adnum = a.attnum), t.rel)
                      = 'kaireon.current_tenant()'
                ORDER BY 1),
          ARRAY(SELECT t.rel::text FROM kr09.tables t ORDER BY 1),
          'every catalog table starts with tenant_id text NOT NULL DEFAULT kaireon.current_tenant()');

SELECT is(ARRAY(SELECT t.rel::text FROM kr09.tables t
                WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                                  WHERE k.conrelid = t.rel AND k.contype = 'f'
                                    AND k.confrelid = 'kaireon.tenants'::regclass AND k.confdeltype = 'c')
                ORDER BY 1),
          ARRAY[]::text[],
          'every catalog table''s tenant_id references kaireon.tenants ON DELETE CASCADE');

-- Row-level security, as on every other tenant table.
SELECT is(ARRAY(SELECT t.rel::text FROM kr09.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel
                WHERE NOT c.relrowsecurity ORDER BY 1),
          ARRAY[]::text[], 'row-level security is enabled on every catalog table');
SELECT is(ARRAY(SELECT DISTINCT c.relforcerowsecurity FROM kr09.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel),
          ARRAY(SELECT DISTINCT c.relforcerowsecurity
                FROM pg_catalog.pg_class c
                JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                WHERE c.relnamespace = 'kaireon'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity
                  AND c.oid NOT IN (SELECT rel FROM kr09.tables)),
          'FORCE ROW LEVEL SECURITY is set on the catalog tables as on the other tenant tables (not at all: the owner is the superuser)');
SELECT policies_are('kaireon', c.relname, ARRAY['tenant_isolation'], t.rel || ' has the tenant_isolation policy (only)')
FROM kr09.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel ORDER BY t.rel::text;
SELECT is(ARRAY(SELECT format('%s %s %s %s %s', p.polrelid::regclass, p.polcmd, p.polpermissive, p.polroles::regrole[],
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid))
                FROM pg_catalog.pg_policy p JOIN kr09.tables t ON t.rel = p.polrelid
                WHERE p.polwithcheck IS NULL ORDER BY 1),
          ARRAY(SELECT format('%s * t {-} (tenant_id = kaireon.visible_tenant())', t.rel) FROM kr09.tables t ORDER BY 1),
          'each policy is permissive, for all commands and roles, USING (and so WITH CHECK) tenant_id = visible_tenant()');

-- drop_tenant and pg_dump.
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                JOIN kr09.tables t ON t.rel = tt.table_name ORDER BY 1),
          ARRAY(SELECT format('%s delete', t.rel) FROM kr09.tables t ORDER BY 1),
          'every catalog table is registered in kaireon.tenant_tables, its rows deleted by drop_tenant');
SELECT is(ARRAY(SELECT c::regclass::text FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                WHERE e.extname = 'kaireon' AND c IN (SELECT rel FROM kr09.tables) ORDER BY 1),
          ARRAY(SELECT t.rel::text FROM kr09.tables t ORDER BY 1),
          'every catalog table is registered with pg_extension_config_dump (pg_dump dumps its rows)');
SELECT is(ARRAY(SELECT format('%s %s', c::regclass, e.extcondition[array_position(e.extconfig, c)])
                FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                WHERE e.extname = 'kaireon' AND c IN (SELECT rel FROM kr09.tables)
                  AND e.extcondition[array_position(e.extconfig, c)] <> '' ORDER BY 1),
          ARRAY[]::text[], 'pg_dump dumps every row of the catalog tables (no filter)');

-- Privileges in the catalogs -----------------------------------------------------

SELECT is(ARRAY(SELECT format('%s: %s', t.rel, a.privilege_type)
                FROM kr09.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'no catalog table grants anything to PUBLIC');
SELECT is(ARRAY(SELECT format('%s.%s', t.rel, att.attname)
                FROM kr09.tables t
                JOIN pg_catalog.pg_attribute att ON att.attrelid = t.rel AND att.attacl IS NOT NULL ORDER BY 1),
          ARRAY[]::text[], 'no column of a catalog table has grants of its own (table privileges are the whole story)');

-- Tables: administrators read and write every one; applications read every
-- one and write customers and consents; readers read all but those two.
SELECT table_privs_are('kaireon', c.relname, r.role,
                       CASE WHEN r.role = 'kaireon_admin' OR (r.role = 'kaireon_app' AND t.app_writes)
                                THEN ARRAY['DELETE', 'INSERT', 'SELECT', 'UPDATE']
                            WHEN r.role = 'kaireon_app' OR NOT t.app_writes THEN ARRAY['SELECT']
                            ELSE ARRAY[]::text[] END,
                       t.rel || ': ' || r.role || ' has ' ||
                       CASE WHEN r.role = 'kaireon_admin' OR (r.role = 'kaireon_app' AND t.app_writes)
                                THEN 'SELECT, INSERT, UPDATE, DELETE'
                            WHEN r.role = 'kaireon_app' OR NOT t.app_writes THEN 'SELECT only'
                            ELSE 'nothing' END)
FROM kr09.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel
CROSS JOIN (VALUES ('kaireon_admin'), ('kaireon_app'), ('kaireon_reader')) AS r (role)
ORDER BY t.rel::text, r.role;

-- Functions: who may execute each API function.
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r
                WHERE has_function_privilege(r, f.fn, 'EXECUTE') ORDER BY 1),
          f.granted_to, f.fn || ': EXECUTE for ' || array_to_string(f.granted_to, ', '))
FROM (VALUES ('kaireon.apply_catalog(jsonb, text)', ARRAY['kaireon_admin']),
             ('kaireon.forget_customer(text)', ARRAY['kaireon_admin']),
             ('kaireon.export_catalog()', ARRAY['kaireon_admin', 'kaireon_reader']),
             ('kaireon.catalog_fields()', ARRAY['kaireon_admin', 'kaireon_reader']),
             ('kaireon.check_eligibility(text, jsonb, text)', ARRAY['kaireon_admin', 'kaireon_app'])) AS f (fn, granted_to)
ORDER BY f.fn;
SELECT is(ARRAY(SELECT format('%s: %s', p.oid::regprocedure, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.pronamespace = 'kaireon'::regnamespace
                  AND (p.proname IN ('apply_catalog', 'forget_customer', 'export_catalog', 'catalog_fields',
                                     'check_eligibility')
                       OR p.proname LIKE '\_catalog%')
                  AND a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'no catalog function is executable by PUBLIC');
SELECT is(ARRAY(SELECT format('%s %s', p.oid::regprocedure, c)
                FROM pg_catalog.pg_proc p LEFT JOIN LATERAL unnest(p.proconfig) c ON c LIKE 'search\_path=%'
                WHERE p.oid IN ('kaireon.apply_catalog(jsonb, text)'::regprocedure, 'kaireon.export_catalog()'::regprocedure,
                                'kaireon.forget_customer(text)'::regprocedure,
                                'kaireon.check_eligibility(text, jsonb, text)'::regprocedure)
                  AND p.prosecdef ORDER BY 1),
          ARRAY['kaireon.apply_catalog(jsonb,text) search_path=pg_catalog, pg_temp',
                'kaireon.check_eligibility(text,jsonb,text) search_path=pg_catalog, pg_temp',
                'kaireon.export_catalog() search_path=pg_catalog, pg_temp',
                'kaireon.forget_customer(text) search_path=pg_catalog, pg_temp'],
          'apply_catalog, export_catalog, forget_customer and check_eligibility are SECURITY DEFINER with search_path = pg_catalog, pg_temp');

-- The internal functions (the catalog tables' trigger functions, whatever
-- their names: kaireon._catalog_*) are for nobody but the owner.
SELECT ok((SELECT count(*) FROM pg_catalog.pg_proc p
           WHERE p.pronamespace = 'kaireon'::regnamespace AND p.proname LIKE '\_catalog%') >= 3,
          'the internal-function check sees the catalog''s internal functions (kaireon._catalog_*)');
SELECT is(ARRAY(SELECT format('%s %s', r, p.oid::regprocedure)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r, pg_catalog.pg_proc p
                WHERE p.pronamespace = 'kaireon'::regnamespace
                  AND (p.proname LIKE '\_catalog%' OR p.proname = '_audit_row_change')
                  AND has_function_privilege(r, p.oid, 'EXECUTE') ORDER BY 1),
          ARRAY[]::text[],
          'no kaireon role may execute kaireon._catalog_* or kaireon._audit_row_change');

-- Exercised: every role sees its own tenant only -------------------------------

SELECT is(ARRAY[kr09.rows_of('kr09-t1'), kr09.rows_of('kr09-t2')], ARRAY[18, 18]::bigint[],
          'the fixture: t1 and t2 each have one row in every catalog table');

-- Applications: every catalog table, their own tenant's rows only.
SET ROLE kr09_app1;
SET kaireon.tenant = 'kr09-t1';
SELECT is(kr09.seen(), kr09.own('kr09-t1', true), 'app1 on t1 reads t1''s row in every catalog table, nothing of t2');
SET kaireon.tenant = 'kr09-t2';
SELECT is(kr09.seen(), '{}', 'app1 setting t2 sees zero rows in every catalog table');
RESET kaireon.tenant;
SELECT is(kr09.seen(), '{}', 'app1 without kaireon.tenant sees zero rows in every catalog table');
RESET ROLE;

SET ROLE kr09_app2;
SET kaireon.tenant = 'kr09-t2';
SELECT is(kr09.seen(), kr09.own('kr09-t2', true), 'app2 on t2 reads t2''s row in every catalog table, nothing of t1');
SET kaireon.tenant = 'kr09-t1';
SELECT is(kr09.seen(), '{}', 'app2 setting t1 sees zero rows in every catalog table');
RESET kaireon.tenant;
RESET ROLE;

-- Readers: every catalog table but customers and consents.
SET ROLE kr09_reader1;
SET kaireon.tenant = 'kr09-t1';
SELECT is(kr09.seen(), kr09.own('kr09-t1', false),
          'reader1 on t1 reads t1''s row in every catalog table but customers and consents');
SELECT throws_ok($$SELECT count(*) FROM kaireon.customers$$, '42501', 'permission denied for table customers',
                 'reader1 may not read customers');
SELECT throws_ok($$SELECT count(*) FROM kaireon.consents$$, '42501', 'permission denied for table consents',
                 'reader1 may not read consents');
SET kaireon.tenant = 'kr09-t2';
SELECT is(kr09.seen(), '{}', 'reader1 setting t2 sees zero rows in every catalog table');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr09_reader2;
SET kaireon.tenant = 'kr09-t2';
SELECT is(kr09.seen(), kr09.own('kr09-t2', false),
          'reader2 on t2 reads t2''s row in every catalog table but customers and consents');
SET kaireon.tenant = 'kr09-t1';
SELECT is(kr09.seen(), '{}', 'reader2 setting t1 sees zero rows in every catalog table');
RESET kaireon.tenant;
RESET ROLE;

-- A role granted no tenant sees nothing, whatever it sets.
SET ROLE kr09_stranger;
SET kaireon.tenant = 'kr09-t1';
SELECT is(kr09.seen(), '{}', 'a stranger (kaireon_app, no grant) setting t1 sees zero rows in every catalog table');
RESET kaireon.tenant;
RESET ROLE;

-- Administrators act on any tenant, one at a time: the tenant they select.
SET ROLE kr09_admin;
SET kaireon.tenant = 'kr09-t1';
SELECT is(kr09.seen(), kr09.own('kr09-t1', true), 'admin on t1 reads t1''s rows only, none of t2');
SET kaireon.tenant = 'kr09-t2';
SELECT is(kr09.seen(), kr09.own('kr09-t2', true), 'admin on t2 reads t2''s rows only, none of t1');
RESET kaireon.tenant;
SELECT is(kr09.seen(), '{}', 'admin without kaireon.tenant sees zero catalog rows');
RESET ROLE;

-- Exercised: writes stay in the tenant (RLS WITH CHECK) ---------------------------

SET ROLE kr09_app1;
SET kaireon.tenant = 'kr09-t1';
SELECT lives_ok($$INSERT INTO kaireon.customers (id, attributes) VALUES ('c2', '{"age": 20}')$$,
                'app1 on t1 may add a customer (tenant_id defaults to t1)');
SELECT lives_ok($$INSERT INTO kaireon.consents (customer_id, channel_id, granted) VALUES ('c2', 'web', false)$$,
                'app1 on t1 may add a consent');
SELECT throws_ok($$INSERT INTO kaireon.customers (tenant_id, id) VALUES ('kr09-t2', 'c9')$$,
                 '42501', 'new row violates row-level security policy for table "customers"',
                 'app1 on t1 may not add a customer to t2 (RLS WITH CHECK)');
SELECT throws_ok($$INSERT INTO kaireon.consents (tenant_id, customer_id, channel_id, granted) VALUES ('kr09-t2', 'c1', 'web', false)$$,
                 '42501', 'new row violates row-level security policy for table "consents"',
                 'app1 on t1 may not add a consent to t2 (RLS WITH CHECK)');
SELECT throws_ok($$UPDATE kaireon.customers SET tenant_id = 'kr09-t2' WHERE id = 'c2'$$,
                 'KR400', 'a catalog row cannot move to another tenant',
                 'app1 on t1 may not move its customer to t2');
UPDATE kaireon.customers SET attributes = '{"age": 99}' WHERE tenant_id = 'kr09-t2';
DELETE FROM kaireon.consents WHERE tenant_id = 'kr09-t2';
SELECT throws_ok($$INSERT INTO kaireon.offers (id) VALUES ('o9')$$, '42501', 'permission denied for table offers',
                 'app1 may not write offers');
SELECT throws_ok($$SELECT kaireon.apply_catalog('{"customers": [{"id": "c9"}]}')$$, '42501',
                 'permission denied for function apply_catalog', 'app1 may not call apply_catalog');
SET kaireon.tenant = 'kr09-t2';
SELECT throws_ok($$INSERT INTO kaireon.customers (id) VALUES ('c9')$$, 'KR403',
                 'role "kr09_app1" may not act on tenant "kr09-t2"',
                 'app1 setting t2 may not add a customer there (the default tenant_id refuses)');
SELECT throws_ok($$INSERT INTO kaireon.customers (tenant_id, id) VALUES ('kr09-t2', 'c9')$$, '42501', NULL,
                 'app1 setting t2 may not add a customer naming t2 (RLS)');
RESET kaireon.tenant;
RESET ROLE;
SELECT is((SELECT attributes FROM kaireon.customers WHERE tenant_id = 'kr09-t2' AND id = 'c1'), '{"age": 30}'::jsonb,
          'app1''s UPDATE of t2''s customers changed nothing');
SELECT is((SELECT count(*)::int FROM kaireon.consents WHERE tenant_id = 'kr09-t2'), 1,
          'app1''s DELETE of t2''s consents deleted nothing');

SET ROLE kr09_admin;
SET kaireon.tenant = 'kr09-t1';
SELECT lives_ok($$INSERT INTO kaireon.offers (id, priority) VALUES ('o2', 10)$$, 'admin on t1 may add an offer');
SELECT throws_ok($$INSERT INTO kaireon.offers (tenant_id, id) VALUES ('kr09-t2', 'o9')$$,
                 '42501', 'new row violates row-level security policy for table "offers"',
                 'admin on t1 may not add an offer to t2 (RLS WITH CHECK)');
SELECT throws_ok($$INSERT INTO kaireon.connectors (tenant_id, id, type) VALUES ('kr09-t2', 'k9', 'webhook')$$,
                 '42501', 'new row violates row-level security policy for table "connectors"',
                 'admin on t1 may not add a connector to t2 (RLS WITH CHECK)');
SELECT throws_ok($$UPDATE kaireon.offers SET tenant_id = 'kr09-t2' WHERE id = 'o2'$$,
                 'KR400', 'a catalog row cannot move to another tenant', 'admin on t1 may not move an offer to t2');
UPDATE kaireon.offers SET priority = 99 WHERE tenant_id = 'kr09-t2';
RESET kaireon.tenant;
RESET ROLE;
SELECT is((SELECT priority FROM kaireon.offers WHERE tenant_id = 'kr09-t2' AND id = 'o1'), 50::double precision,
          'admin''s UPDATE on t1 of t2''s offers changed nothing');

SET ROLE kr09_reader1;
SET kaireon.tenant = 'kr09-t1';
SELECT throws_ok($$INSERT INTO kaireon.offers (id) VALUES ('o9')$$, '42501', 'permission denied for table offers',
                 'reader1 may not write offers');
SELECT throws_ok($$DELETE FROM kaireon.channels$$, '42501', 'permission denied for table channels',
                 'reader1 may not delete channels');
RESET kaireon.tenant;
RESET ROLE;

-- Exercised: the API functions refuse a tenant the caller is not a member of ----

SET ROLE kr09_outsider;
SET kaireon.tenant = 'kr09-t2';
SELECT throws_ok($$SELECT kaireon.apply_catalog('{"offers": [{"id": "o9"}]}')$$, 'KR403',
                 'role "kr09_outsider" may not act on tenant "kr09-t2"',
                 'apply_catalog by a role that is not a member of t2 (but may execute it): KR403');
SELECT throws_ok($$SELECT kaireon.apply_catalog('{}', 'replace')$$, 'KR403',
                 'role "kr09_outsider" may not act on tenant "kr09-t2"',
                 'apply_catalog replace (which would delete t2''s catalog) by a non-member: KR403');
SELECT throws_ok($$SELECT kaireon.export_catalog()$$, 'KR403', 'role "kr09_outsider" may not act on tenant "kr09-t2"',
                 'export_catalog by a non-member of t2: KR403');
SELECT throws_ok($$SELECT kaireon.forget_customer('c1')$$, 'KR403', 'role "kr09_outsider" may not act on tenant "kr09-t2"',
                 'forget_customer by a non-member of t2: KR403');
SET kaireon.tenant = 'kr09-t1';
SELECT lives_ok($$SELECT kaireon.export_catalog()$$, 'the same role on t1 (a member): export_catalog works');
RESET kaireon.tenant;
RESET ROLE;
SELECT is(kr09.rows_of('kr09-t2'), 18::bigint, 't2''s catalog is unchanged (18 rows) after the refused calls');

SET ROLE kr09_app1;
SET kaireon.tenant = 'kr09-t2';
SELECT throws_ok($$SELECT * FROM kaireon.check_eligibility('c1')$$, 'KR403',
                 'role "kr09_app1" may not act on tenant "kr09-t2"', 'check_eligibility by a non-member of t2: KR403');
SET kaireon.tenant = 'kr09-t1';
SELECT is(ARRAY(SELECT format('%s %s', offer_id, eligible) FROM kaireon.check_eligibility('c1') ORDER BY 1),
          ARRAY['o1 t', 'o2 t'], 'check_eligibility by app1 on t1 answers for t1''s offers');
SELECT throws_ok($$SELECT kaireon.export_catalog()$$, '42501', 'permission denied for function export_catalog',
                 'app1 may not call export_catalog');
SELECT throws_ok($$SELECT kaireon.forget_customer('c1')$$, '42501', 'permission denied for function forget_customer',
                 'app1 may not call forget_customer');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr09_reader1;
SET kaireon.tenant = 'kr09-t2';
SELECT throws_ok($$SELECT kaireon.export_catalog()$$, 'KR403', 'role "kr09_reader1" may not act on tenant "kr09-t2"',
                 'export_catalog by reader1 on t2: KR403');
SET kaireon.tenant = 'kr09-t1';
SELECT is(ARRAY(SELECT o ->> 'id' FROM jsonb_array_elements(kaireon.export_catalog() -> 'offers') o),
          ARRAY['o1', 'o2'], 'export_catalog by reader1 on t1 gives t1''s offers');
SELECT ok((SELECT count(*) FROM kaireon.catalog_fields()) > 0, 'reader1 may call catalog_fields');
SELECT throws_ok($$SELECT * FROM kaireon.check_eligibility('c1')$$, '42501',
                 'permission denied for function check_eligibility', 'reader1 may not call check_eligibility');
SELECT throws_ok($$SELECT kaireon.apply_catalog('{}')$$, '42501', 'permission denied for function apply_catalog',
                 'reader1 may not call apply_catalog');
RESET kaireon.tenant;
RESET ROLE;

-- Exercised: writes are audited, also inside COPY ----------------------------------
-- A restore (a superuser's COPY, or row_security off) is not audited again;
-- an administrator writing through COPY (INSERT ... RETURNING) TO STDOUT is
-- not a restore and is audited like a plain INSERT. (psql runs the COPY; its
-- output, the new id, goes to /dev/null so the TAP stream stays clean.)

SET ROLE kr09_admin;
SET kaireon.tenant = 'kr09-t1';
INSERT INTO kaireon.offers (id) VALUES ('o3');
\o /dev/null
COPY (INSERT INTO kaireon.offers (id) VALUES ('o4') RETURNING id) TO STDOUT;
\o
RESET kaireon.tenant;
RESET ROLE;
SELECT is(ARRAY(SELECT format('%s %s %s', a.action, a.target, a.actor) FROM kaireon.audit_log a
                WHERE a.tenant_id = 'kr09-t1' AND a.target IN ('o3', 'o4') ORDER BY a.id),
          ARRAY['catalog.offer.insert o3 kr09_admin', 'catalog.offer.insert o4 kr09_admin'],
          'an administrator''s catalog writes are audited, also inside COPY (INSERT ... RETURNING) TO STDOUT');

SELECT * FROM finish();
ROLLBACK;

-- 11_quota.sql - the shape and the access of the decision quota (SPEC section
-- 5): kaireon.decisions.quota_period (timestamptz, NULL for decisions not
-- counted) with its partial index; quota_status, usage_summary,
-- usage_report_html and usage_dashboard for all three kaireon roles, nothing
-- to PUBLIC, the C ones SECURITY DEFINER and usage_dashboard not, each with a
-- pinned search_path; the views usage_daily, usage_by_flow and
-- usage_features, security_invoker, readable by the three roles only; and,
-- with two tenants deciding, that every role sees only its own tenant's
-- quota and usage (KR403 for another tenant or none granted, 42501 outside
-- the kaireon roles), that readers may not decide, and that the application
-- gets KR429 once its tenant's limit is reached.
--
-- What the quota answers (alerts, Retry-After, rollover, licences, the
-- dashboard's figures) is for the regression tests (sql/quota.sql); this
-- file is about the schema and access.
BEGIN;
SELECT plan(81);

SET LOCAL timezone = 'UTC';
SET LOCAL kaireon.test_clock = '2026-06-10T12:00:00Z';

CREATE ROLE kr11_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr11_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr11_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr11_stranger NOLOGIN IN ROLE kaireon_reader;   -- granted no tenant
CREATE ROLE kr11_outsider NOLOGIN;                          -- in no kaireon role

CREATE SCHEMA kr11;
GRANT USAGE ON SCHEMA kr11 TO PUBLIC;

-- The functions and views of the quota, for the catalog checks.
CREATE TABLE kr11.functions (fn regprocedure PRIMARY KEY);
INSERT INTO kr11.functions VALUES ('kaireon.quota_status()'), ('kaireon.usage_summary()'),
                                  ('kaireon.usage_report_html()'), ('kaireon.usage_dashboard()');
CREATE TABLE kr11.views (rel regclass PRIMARY KEY);
INSERT INTO kr11.views VALUES ('kaireon.usage_daily'), ('kaireon.usage_by_flow'), ('kaireon.usage_features');
GRANT SELECT ON kr11.functions, kr11.views TO PUBLIC;

-- The answers the roles got, for the checks after them.
CREATE TABLE kr11.answers (who text PRIMARY KEY, doc jsonb NOT NULL);
GRANT SELECT, INSERT ON kr11.answers TO PUBLIC;

-- Two tenants with the same small catalog (two flows) but their own offer ids.
CREATE FUNCTION kr11.catalog(prefix text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT replace($${
        "channels": [{"id": "web", "type": "web"}],
        "offers": [{"id": "P-a", "priority": 80}, {"id": "P-b", "priority": 40}],
        "creatives": [{"id": "P-a-web", "offerId": "P-a", "channelId": "web"},
                      {"id": "P-b-web", "offerId": "P-b", "channelId": "web"}],
        "customers": [{"id": "c1"}, {"id": "c2"}],
        "flows": [{"id": "f1", "channelId": "web"}, {"id": "f2", "channelId": "web"}]
    }$$, 'P-', prefix || '-')::jsonb
$fn$;

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr11-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr11-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr11_app1', 'kr11-t1');
    PERFORM kaireon.grant_tenant('kr11_app2', 'kr11-t2');
    PERFORM kaireon.grant_tenant('kr11_reader1', 'kr11-t1');
    PERFORM set_config('kaireon.tenant', 'kr11-t1', true);
    PERFORM kaireon.apply_catalog(kr11.catalog('one'));
    PERFORM set_config('kaireon.tenant', 'kr11-t2', true);
    PERFORM kaireon.apply_catalog(kr11.catalog('two'));
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- Schema ----------------------------------------------------------------------

SELECT has_column('kaireon', 'decisions', 'quota_period', 'kaireon.decisions has quota_period');
SELECT col_type_is('kaireon', 'decisions', 'quota_period', 'timestamp with time zone',
                   'kaireon.decisions.quota_period is timestamptz');
SELECT col_is_null('kaireon', 'decisions', 'quota_period',
                   'kaireon.decisions.quota_period is nullable (NULL: the decision was not counted)');
-- The indexes are on each partition of kaireon.decisions (20_partitioning.sql).
SELECT has_index('kaireon', 'decisions_default', 'decisions_default_quota_period', ARRAY['tenant_id', 'quota_period'],
                 'kaireon.decisions has the index on (tenant_id, quota_period)');
SELECT is((SELECT format('%s %s', i.indisunique, pg_catalog.pg_get_expr(i.indpred, i.indrelid))
           FROM pg_catalog.pg_index i WHERE i.indexrelid = 'kaireon.decisions_default_quota_period'::regclass),
          'f (quota_period IS NOT NULL)',
          'the quota_period index is partial and non-unique, WHERE quota_period IS NOT NULL');

-- Functions.
SELECT has_function('kaireon', 'quota_status', ARRAY[]::text[], 'kaireon.quota_status() exists');
SELECT has_function('kaireon', 'usage_summary', ARRAY[]::text[], 'kaireon.usage_summary() exists');
SELECT has_function('kaireon', 'usage_report_html', ARRAY[]::text[], 'kaireon.usage_report_html() exists');
SELECT has_function('kaireon', 'usage_dashboard', ARRAY[]::text[], 'kaireon.usage_dashboard() exists');
SELECT function_returns('kaireon', 'quota_status', ARRAY[]::text[], 'jsonb', 'quota_status returns jsonb');
SELECT function_returns('kaireon', 'usage_summary', ARRAY[]::text[], 'jsonb', 'usage_summary returns jsonb');
SELECT function_returns('kaireon', 'usage_report_html', ARRAY[]::text[], 'text', 'usage_report_html returns text');
SELECT is(pg_catalog.pg_get_function_result('kaireon.usage_dashboard()'::regprocedure),
          'TABLE(section text, metric text, value text)',
          'usage_dashboard returns TABLE (section text, metric text, value text)');
SELECT is(ARRAY(SELECT format('%s %s', f.fn, l.lanname) FROM kr11.functions f
                JOIN pg_catalog.pg_proc p ON p.oid = f.fn JOIN pg_catalog.pg_language l ON l.oid = p.prolang
                ORDER BY 1),
          ARRAY['kaireon.quota_status() c', 'kaireon.usage_dashboard() sql', 'kaireon.usage_report_html() c',
                'kaireon.usage_summary() c'],
          'quota_status, usage_summary and usage_report_html are in C, usage_dashboard in SQL');

-- Who may execute them: exactly the three kaireon roles (besides the owner).
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid = f.fn AND a.grantee <> p.proowner ORDER BY 1),
          ARRAY['kaireon_admin EXECUTE', 'kaireon_app EXECUTE', 'kaireon_reader EXECUTE'],
          f.fn || ': EXECUTE granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else')
FROM kr11.functions f ORDER BY f.fn::text;
SELECT is(ARRAY(SELECT format('%s: %s', p.oid::regprocedure, a.privilege_type)
                FROM pg_catalog.pg_proc p JOIN kr11.functions f ON f.fn = p.oid,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'no quota function is executable by PUBLIC');
SELECT is(ARRAY(SELECT format('%s %s %s', f.fn, p.prosecdef, p.proconfig) FROM kr11.functions f
                JOIN pg_catalog.pg_proc p ON p.oid = f.fn ORDER BY 1),
          ARRAY['kaireon.quota_status() t {"search_path=pg_catalog, pg_temp"}',
                'kaireon.usage_dashboard() f {"search_path=pg_catalog, pg_temp"}',
                'kaireon.usage_report_html() t {"search_path=pg_catalog, pg_temp"}',
                'kaireon.usage_summary() t {"search_path=pg_catalog, pg_temp"}'],
          'the C functions are SECURITY DEFINER, usage_dashboard is not; each sets search_path = pg_catalog, pg_temp');
SELECT isnt_definer('kaireon', 'usage_dashboard', ARRAY[]::text[],
                    'usage_dashboard is not SECURITY DEFINER (it runs as the caller)');

-- Views.
SELECT has_view('kaireon', 'usage_daily', 'kaireon.usage_daily exists');
SELECT has_view('kaireon', 'usage_by_flow', 'kaireon.usage_by_flow exists');
SELECT has_view('kaireon', 'usage_features', 'kaireon.usage_features exists');
SELECT is(ARRAY(SELECT format('%s %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod))
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = v.rel AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
          v.cols, v.rel || ' has the documented columns and types')
FROM (VALUES ('kaireon.usage_by_flow'::regclass, ARRAY['flow text', 'decisions bigint', 'percent numeric']),
             ('kaireon.usage_daily'::regclass, ARRAY['day date', 'decisions bigint', 'cumulative bigint']),
             ('kaireon.usage_features'::regclass,
              ARRAY['feature text', 'unit text', 'period text', 'enabled boolean', 'usage numeric', 'limit numeric',
                    'percentage_used numeric'])) AS v (rel, cols)
ORDER BY v.rel::text;
SELECT is(ARRAY(SELECT v.rel::text FROM kr11.views v JOIN pg_catalog.pg_class c ON c.oid = v.rel
                WHERE c.relkind = 'v' AND 'security_invoker=true' = ANY (c.reloptions) ORDER BY 1),
          ARRAY['kaireon.usage_by_flow', 'kaireon.usage_daily', 'kaireon.usage_features'],
          'the three usage views are security_invoker=true');
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid = v.rel AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['kaireon_admin SELECT', 'kaireon_app SELECT', 'kaireon_reader SELECT'],
          v.rel || ': SELECT (only) granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else')
FROM kr11.views v ORDER BY v.rel::text;
SELECT is(ARRAY(SELECT format('%s: %s', c.oid::regclass, a.privilege_type)
                FROM pg_catalog.pg_class c JOIN kr11.views v ON v.rel = c.oid,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'nothing on the usage views is granted to PUBLIC');
SELECT is(ARRAY(SELECT format('%s.%s', a.attrelid::regclass, a.attname) FROM pg_catalog.pg_attribute a
                JOIN kr11.views v ON v.rel = a.attrelid WHERE a.attacl IS NOT NULL ORDER BY 1),
          ARRAY[]::text[], 'no column of the usage views has grants of its own');

-- Exercised: decisions count per tenant -------------------------------------------

-- app1 decides three times on t1 (twice in f1, once in f2), app2 once on t2.
SET ROLE kr11_app1;
SET kaireon.tenant = 'kr11-t1';
INSERT INTO kr11.answers VALUES ('app1 1', kaireon_recommend('{"customerId": "c1", "flow": "f1"}'));
INSERT INTO kr11.answers VALUES ('app1 2', kaireon_recommend('{"customerId": "c2", "flow": "f1"}'));
INSERT INTO kr11.answers VALUES ('app1 3', kaireon_recommend('{"customerId": "c1", "flow": "f2"}'));
SELECT is(ARRAY(SELECT doc -> 'quota' -> 'usage' ->> 'current' FROM kr11.answers WHERE who LIKE 'app1 %' ORDER BY who),
          ARRAY['1', '2', '3'], 'app1 on t1: its three decisions count 1, 2, 3');
SELECT is(kaireon.quota_status() -> 'usage' ->> 'current', '3', 'app1 on t1: quota_status counts 3');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr11_app2;
SET kaireon.tenant = 'kr11-t2';
INSERT INTO kr11.answers VALUES ('app2 1', kaireon_recommend('{"customerId": "c1", "flow": "f1"}'));
SELECT is((SELECT doc -> 'quota' -> 'usage' ->> 'current' FROM kr11.answers WHERE who = 'app2 1'), '1',
          'app2 on t2: its decision counts 1 (t1''s do not count for t2)');
SELECT is(kaireon.quota_status() -> 'usage' ->> 'current', '1', 'app2 on t2: quota_status counts 1');
SELECT is(ARRAY(SELECT format('%s %s', flow, decisions) FROM kaireon.usage_by_flow), ARRAY['f1 1'],
          'app2 on t2: usage_by_flow shows t2''s one decision only');
RESET kaireon.tenant;
RESET ROLE;

-- The records, as the superuser sees them: every counted decision carries
-- the start of June as its quota period.
SELECT is(ARRAY(SELECT format('%s %s %s', tenant_id, flow, quota_period = '2026-06-01T00:00:00Z') FROM kaireon.decisions
                WHERE tenant_id LIKE 'kr11-%' ORDER BY 1),
          ARRAY['kr11-t1 f1 t', 'kr11-t1 f1 t', 'kr11-t1 f2 t', 'kr11-t2 f1 t'],
          'the decisions recorded: three in t1, one in t2, each with quota_period = the start of the month');

-- Exercised: the reader of t1 sees t1's quota and usage, nothing of t2 ---------------

SET ROLE kr11_reader1;
SET kaireon.tenant = 'kr11-t1';
SELECT is(kaireon.quota_status() -> 'usage' ->> 'current', '3', 'reader1 on t1: quota_status counts 3');
SELECT is(kaireon.usage_summary() ->> 'monthDecisions', '3', 'reader1 on t1: usage_summary has monthDecisions 3');
SELECT is(ARRAY(SELECT format('%s %s %s', to_char(day, 'YYYY-MM-DD'), decisions, cumulative) FROM kaireon.usage_daily
                WHERE decisions > 0),
          ARRAY['2026-06-10 3 3'], 'reader1 on t1: usage_daily shows t1''s 3 decisions on June 10th');
SELECT is((SELECT format('%s %s', count(*), sum(decisions)) FROM kaireon.usage_daily), '10 3',
          'reader1 on t1: usage_daily has June 1st to 10th, 3 decisions in all');
SELECT is(ARRAY(SELECT format('%s %s', flow, decisions) FROM kaireon.usage_by_flow), ARRAY['f1 2', 'f2 1'],
          'reader1 on t1: usage_by_flow shows t1''s flows only (3 decisions in all)');
SELECT is((SELECT format('%s %s', usage, "limit") FROM kaireon.usage_features WHERE feature = 'decisions_per_month'),
          '3 10000', 'reader1 on t1: usage_features shows decisions_per_month at 3 of 10000');
SELECT is((SELECT value FROM kaireon.usage_dashboard() WHERE section = 'quota' AND metric = 'decisions this month'), '3',
          'reader1 on t1: usage_dashboard shows 3 decisions this month');
SELECT ok((SELECT h LIKE '%id="current">3<%' AND h LIKE '%Tenant one%' AND h NOT LIKE '%Tenant two%'
           FROM kaireon.usage_report_html() AS h),
          'reader1 on t1: the HTML page is t1''s, with id="current">3<');
SELECT throws_ok($$SELECT kaireon_recommend('{"customerId": "c1", "flow": "f1"}')$$, '42501',
                 'permission denied for function kaireon_recommend', 'reader1 may not decide (kaireon_recommend)');

SET kaireon.tenant = 'kr11-t2';
SELECT throws_ok($$SELECT kaireon.quota_status()$$, 'KR403', 'role "kr11_reader1" may not act on tenant "kr11-t2"',
                 'reader1 selecting t2: quota_status is KR403');
SELECT throws_ok($$SELECT kaireon.usage_summary()$$, 'KR403', 'role "kr11_reader1" may not act on tenant "kr11-t2"',
                 'reader1 selecting t2: usage_summary is KR403');
SELECT throws_ok($$SELECT kaireon.usage_report_html()$$, 'KR403', 'role "kr11_reader1" may not act on tenant "kr11-t2"',
                 'reader1 selecting t2: usage_report_html is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_dashboard()$$, 'KR403',
                 'role "kr11_reader1" may not act on tenant "kr11-t2"', 'reader1 selecting t2: usage_dashboard is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_daily$$, 'KR403', 'role "kr11_reader1" may not act on tenant "kr11-t2"',
                 'reader1 selecting t2: usage_daily is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_by_flow$$, 'KR403', 'role "kr11_reader1" may not act on tenant "kr11-t2"',
                 'reader1 selecting t2: usage_by_flow is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_features$$, 'KR403',
                 'role "kr11_reader1" may not act on tenant "kr11-t2"', 'reader1 selecting t2: usage_features is KR403');
RESET kaireon.tenant;
SELECT throws_ok($$SELECT kaireon.quota_status()$$, 'KR400', 'no tenant selected',
                 'reader1 without kaireon.tenant: quota_status is KR400 (no tenant selected)');
RESET ROLE;

-- A kaireon_reader granted no tenant.
SET ROLE kr11_stranger;
SET kaireon.tenant = 'kr11-t1';
SELECT throws_ok($$SELECT kaireon.quota_status()$$, 'KR403', 'role "kr11_stranger" may not act on tenant "kr11-t1"',
                 'a stranger (kaireon_reader, no grant) selecting t1: quota_status is KR403');
SELECT throws_ok($$SELECT kaireon.usage_summary()$$, 'KR403', 'role "kr11_stranger" may not act on tenant "kr11-t1"',
                 'a stranger selecting t1: usage_summary is KR403');
SELECT throws_ok($$SELECT kaireon.usage_report_html()$$, 'KR403',
                 'role "kr11_stranger" may not act on tenant "kr11-t1"', 'a stranger selecting t1: usage_report_html is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_dashboard()$$, 'KR403',
                 'role "kr11_stranger" may not act on tenant "kr11-t1"', 'a stranger selecting t1: usage_dashboard is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_daily$$, 'KR403', 'role "kr11_stranger" may not act on tenant "kr11-t1"',
                 'a stranger selecting t1: usage_daily is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_by_flow$$, 'KR403', 'role "kr11_stranger" may not act on tenant "kr11-t1"',
                 'a stranger selecting t1: usage_by_flow is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_features$$, 'KR403',
                 'role "kr11_stranger" may not act on tenant "kr11-t1"', 'a stranger selecting t1: usage_features is KR403');
RESET kaireon.tenant;
RESET ROLE;

-- A role in no kaireon role does not reach the schema.
SET ROLE kr11_outsider;
SET kaireon.tenant = 'kr11-t1';
SELECT throws_ok($$SELECT kaireon.quota_status()$$, '42501', 'permission denied for schema kaireon',
                 'an outsider (no kaireon role) selecting t1: quota_status is 42501');
SELECT throws_ok($$SELECT kaireon.usage_summary()$$, '42501', 'permission denied for schema kaireon',
                 'an outsider selecting t1: usage_summary is 42501');
SELECT throws_ok($$SELECT kaireon.usage_report_html()$$, '42501', 'permission denied for schema kaireon',
                 'an outsider selecting t1: usage_report_html is 42501');
SELECT throws_ok($$SELECT * FROM kaireon.usage_dashboard()$$, '42501', 'permission denied for schema kaireon',
                 'an outsider selecting t1: usage_dashboard is 42501');
SELECT throws_ok($$SELECT * FROM kaireon.usage_daily$$, '42501', 'permission denied for schema kaireon',
                 'an outsider selecting t1: usage_daily is 42501');
SELECT throws_ok($$SELECT * FROM kaireon.usage_by_flow$$, '42501', 'permission denied for schema kaireon',
                 'an outsider selecting t1: usage_by_flow is 42501');
SELECT throws_ok($$SELECT * FROM kaireon.usage_features$$, '42501', 'permission denied for schema kaireon',
                 'an outsider selecting t1: usage_features is 42501');
RESET kaireon.tenant;
RESET ROLE;

-- An application sees its own tenant's quota only.
SET ROLE kr11_app1;
SET kaireon.tenant = 'kr11-t2';
SELECT throws_ok($$SELECT kaireon.quota_status()$$, 'KR403', 'role "kr11_app1" may not act on tenant "kr11-t2"',
                 'app1 selecting t2: quota_status is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.usage_daily$$, 'KR403', 'role "kr11_app1" may not act on tenant "kr11-t2"',
                 'app1 selecting t2: usage_daily is KR403');
RESET kaireon.tenant;
RESET ROLE;

-- Exercised: KR429 once the tenant's limit is reached -------------------------------

-- An override of 3 for t1, which has made 3 decisions.
SET kaireon.tenant = 'kr11-t1';
SELECT is(kaireon.set_override('decisions_per_month', '{"limit": 3}') -> 'value', '{"limit": 3}'::jsonb,
          'the superuser sets a limit of 3 decisions a month for t1');
RESET kaireon.tenant;

SET ROLE kr11_app1;
SET kaireon.tenant = 'kr11-t1';
SELECT is(format('%s %s', kaireon.quota_status() -> 'usage' ->> 'current', kaireon.quota_status() ->> 'status'),
          '3 exceeded', 'app1 on t1: quota_status shows 3 of 3, exceeded');
SELECT throws_ok($$SELECT kaireon_recommend('{"customerId": "c1", "flow": "f1"}')$$, 'KR429', 'Decision quota exceeded',
                 'app1 on t1 at the limit: kaireon_recommend is KR429');
SELECT throws_ok($$SELECT * FROM kaireon.recommend('c1', 'f1')$$, 'KR429', 'Decision quota exceeded',
                 'app1 on t1 at the limit: kaireon.recommend is KR429');
SELECT throws_ok($$SELECT * FROM kaireon.recommend_batch('f1', ARRAY['c1'])$$, 'KR429', 'Decision quota exceeded',
                 'app1 on t1 at the limit: kaireon.recommend_batch is KR429');
SELECT is(kaireon.quota_status() -> 'usage' ->> 'current', '3', 'app1 on t1: the refused decisions did not count');
RESET kaireon.tenant;
RESET ROLE;

-- t1's limit is not t2's.
SET ROLE kr11_app2;
SET kaireon.tenant = 'kr11-t2';
SELECT is(kaireon_recommend('{"customerId": "c2", "flow": "f2"}') -> 'quota' -> 'usage' ->> 'current', '2',
          'app2 on t2: still decides under its own limit (2 of 10000)');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr11_reader1;
SET kaireon.tenant = 'kr11-t1';
SELECT is(format('%s %s %s', kaireon.quota_status() -> 'usage' ->> 'current',
                 kaireon.quota_status() -> 'usage' ->> 'limit', kaireon.quota_status() ->> 'status'),
          '3 3 exceeded', 'reader1 on t1: quota_status shows 3 of 3, exceeded');
SELECT is((SELECT sum(decisions) FROM kaireon.usage_by_flow), 3::numeric,
          'reader1 on t1: usage_by_flow still sums to 3 (nothing of t2''s second decision)');
RESET kaireon.tenant;
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

-- 13_scheduling.sql - the shape and the access of the scheduled jobs (SPEC
-- section 7): kaireon.quota_periods and kaireon.cap_periods under row-level
-- security like every other tenant table (tenant_isolation policy,
-- tenant_id text NOT NULL first in the key, registered for drop_tenant and
-- for pg_dump), read by every kaireon role and written by none (only the
-- jobs do, as their owner); rollover_periods, reset_expired_caps, tick and
-- schedule_jobs for administrators only (nothing to PUBLIC, kaireon_app or
-- kaireon_reader), the first three SECURITY DEFINER with a pinned
-- search_path (they read every tenant), schedule_jobs not (the jobs it
-- installs belong to its caller); the helpers for no kaireon role (but
-- _cron_jobs, which schedule_jobs calls, for administrators); and, with two
-- tenants after a job ran, that each role sees only its tenant's rows.
--
-- What the jobs record and send (periods, bounds, quota.reset once,
-- concurrency) is for sql/scheduling.sql and
-- test/isolation/specs/scheduling_race.spec; this file is about the schema
-- and access.
BEGIN;
SELECT plan(58);

SET LOCAL timezone = 'UTC';
SET LOCAL kaireon.test_clock = '2026-07-01T00:10:00Z';

CREATE ROLE kr13_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr13_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr13_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr13_stranger NOLOGIN IN ROLE kaireon_app;   -- granted no tenant

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr13-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr13-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr13_app1', 'kr13-t1');
    PERFORM kaireon.grant_tenant('kr13_reader1', 'kr13-t1');
    FOR i IN 1 .. 2 LOOP
        PERFORM set_config('kaireon.tenant', 'kr13-t' || i, true);
        PERFORM kaireon.apply_catalog(jsonb_build_object(
            'channels', jsonb_build_array(jsonb_build_object('id', 'web', 'type', 'web')),
            'offers', jsonb_build_array(jsonb_build_object('id', 'o1')),
            'caps', jsonb_build_array(jsonb_build_object('id', 'cap1', 'scope', 'offer', 'scopeId', 'o1',
                                                         'maxVolume', 5, 'period', 'daily'))));
    END LOOP;
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- Schema: the two tables -----------------------------------------------------------

SELECT has_table('kaireon', 'quota_periods', 'kaireon.quota_periods exists');
SELECT is(ARRAY(SELECT format('%s %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.quota_periods'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text NOT NULL', 'period_start timestamp with time zone NOT NULL',
                'period_end timestamp with time zone NOT NULL', 'ended_by text NOT NULL', 'decisions bigint NOT NULL',
                'tier text', 'quota_limit numeric', 'recorded_at timestamp with time zone NOT NULL'],
          'kaireon.quota_periods has the documented columns, types and NOT NULLs, in order');
SELECT col_is_pk('kaireon', 'quota_periods', ARRAY['tenant_id', 'period_start'],
                 'kaireon.quota_periods is keyed by (tenant_id, period_start): a period is recorded once');
SELECT has_table('kaireon', 'cap_periods', 'kaireon.cap_periods exists');
SELECT is(ARRAY(SELECT format('%s %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.cap_periods'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text NOT NULL', 'cap_id text NOT NULL', 'period_start timestamp with time zone NOT NULL',
                'period_end timestamp with time zone NOT NULL', 'period text NOT NULL', 'scope text NOT NULL',
                'scope_id text NOT NULL', 'impressions bigint NOT NULL', 'max_volume integer NOT NULL',
                'exhausted boolean NOT NULL', 'recorded_at timestamp with time zone NOT NULL'],
          'kaireon.cap_periods has the documented columns, types and NOT NULLs, in order');
SELECT col_is_pk('kaireon', 'cap_periods', ARRAY['tenant_id', 'cap_id', 'period_start'],
                 'kaireon.cap_periods is keyed by (tenant_id, cap_id, period_start): a period is recorded once');

-- Each table: its foreign key, RLS, policy, drop_tenant, pg_dump, privileges.
SELECT is(ARRAY(SELECT pg_catalog.pg_get_constraintdef(k.oid) FROM pg_catalog.pg_constraint k
                WHERE k.conrelid = t.rel AND k.contype = 'f'),
          ARRAY['FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants(tenant_id) ON DELETE CASCADE'],
          t.rel || '.tenant_id references kaireon.tenants ON DELETE CASCADE (its only foreign key)')
FROM (VALUES ('kaireon.quota_periods'::regclass), ('kaireon.cap_periods'::regclass)) AS t (rel) ORDER BY t.rel::text;
SELECT is((SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = t.rel), true,
          'row-level security is enabled on ' || t.rel)
FROM (VALUES ('kaireon.quota_periods'::regclass), ('kaireon.cap_periods'::regclass)) AS t (rel) ORDER BY t.rel::text;
SELECT is(ARRAY(SELECT format('%s %s %s %s %s %s', p.polname, p.polcmd, p.polpermissive, p.polroles::regrole[],
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid), p.polwithcheck IS NULL)
                FROM pg_catalog.pg_policy p WHERE p.polrelid = t.rel),
          ARRAY['tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant()) t'],
          t.rel || ' has one policy, tenant_isolation: permissive, all commands and roles, tenant_id = visible_tenant()')
FROM (VALUES ('kaireon.quota_periods'::regclass), ('kaireon.cap_periods'::regclass)) AS t (rel) ORDER BY t.rel::text;
SELECT is((SELECT tt.on_drop FROM kaireon.tenant_tables tt WHERE tt.table_name = t.rel), 'delete',
          t.rel || ' is registered in kaireon.tenant_tables, its rows deleted by drop_tenant')
FROM (VALUES ('kaireon.quota_periods'::regclass), ('kaireon.cap_periods'::regclass)) AS t (rel) ORDER BY t.rel::text;
SELECT is((SELECT e.extcondition[array_position(e.extconfig, t.rel::oid)] FROM pg_catalog.pg_extension e
           WHERE e.extname = 'kaireon'),
          '', t.rel || ' is registered with pg_extension_config_dump, every row dumped (no filter)')
FROM (VALUES ('kaireon.quota_periods'::regclass), ('kaireon.cap_periods'::regclass)) AS t (rel) ORDER BY t.rel::text;
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid = t.rel AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['kaireon_admin SELECT', 'kaireon_app SELECT', 'kaireon_reader SELECT'],
          t.rel || ': SELECT (only) granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else (not PUBLIC)')
FROM (VALUES ('kaireon.quota_periods'::regclass), ('kaireon.cap_periods'::regclass)) AS t (rel) ORDER BY t.rel::text;
SELECT is(ARRAY(SELECT format('%s %s %s', r, t, p)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['kaireon.quota_periods', 'kaireon.cap_periods']) t,
                     unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, t, p) ORDER BY 1),
          ARRAY[]::text[],
          'no kaireon role may write kaireon.quota_periods or kaireon.cap_periods (not even through membership)');

-- The jobs: signatures, definer, grants ----------------------------------------------

SELECT function_returns('kaireon', 'rollover_periods', ARRAY['integer'], 'integer',
                        'rollover_periods(max_months int) returns integer');
SELECT function_returns('kaireon', 'reset_expired_caps', ARRAY['integer'], 'integer',
                        'reset_expired_caps(max_periods int) returns integer');
SELECT function_returns('kaireon', 'tick', ARRAY[]::text[], 'jsonb', 'tick() returns jsonb');
SELECT is(pg_catalog.pg_get_function_result('kaireon.schedule_jobs()'::regprocedure),
          'TABLE(job_name text, schedule text, command text, database text, job_id bigint, statement text)',
          'schedule_jobs() returns (job_name, schedule, command, database, job_id, statement)');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
                WHERE p.oid IN ('kaireon.rollover_periods(int)'::regprocedure, 'kaireon.reset_expired_caps(int)'::regprocedure)
                  AND p.pronargdefaults = 1 ORDER BY 1),
          ARRAY['kaireon.reset_expired_caps(integer)', 'kaireon.rollover_periods(integer)'],
          'rollover_periods and reset_expired_caps take their bound as an optional argument (pg_cron calls them bare)');

SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid = f.fn AND a.grantee <> p.proowner ORDER BY 1),
          ARRAY['kaireon_admin EXECUTE'],
          f.fn || ': EXECUTE granted to kaireon_admin and nobody else (not PUBLIC, kaireon_app, kaireon_reader)')
FROM (VALUES ('kaireon.rollover_periods(int)'::regprocedure), ('kaireon.reset_expired_caps(int)'::regprocedure),
             ('kaireon.tick()'::regprocedure), ('kaireon.schedule_jobs()'::regprocedure),
             ('kaireon._cron_jobs()'::regprocedure)) AS f (fn)
ORDER BY f.fn::text;
SELECT is(ARRAY(SELECT format('%s %s', r, f)
                FROM unnest(ARRAY['kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['kaireon.rollover_periods(int)', 'kaireon.reset_expired_caps(int)', 'kaireon.tick()',
                                  'kaireon.schedule_jobs()']) f
                WHERE has_function_privilege(r, f, 'EXECUTE') ORDER BY 1),
          ARRAY[]::text[], 'kaireon_app and kaireon_reader may not execute the jobs (not even through membership)');
SELECT is((SELECT format('%s %s', p.prosecdef, p.proconfig) FROM pg_catalog.pg_proc p WHERE p.oid = f.fn),
          f.config, f.fn || ': ' || f.config)
FROM (VALUES ('kaireon.rollover_periods(int)'::regprocedure, 't {"search_path=pg_catalog, pg_temp",TimeZone=UTC}'),
             ('kaireon.reset_expired_caps(int)'::regprocedure, 't {"search_path=pg_catalog, pg_temp",TimeZone=UTC}'),
             ('kaireon.tick()'::regprocedure, 't {"search_path=pg_catalog, pg_temp"}'),
             ('kaireon._cron_jobs()'::regprocedure, 't {"search_path=pg_catalog, pg_temp"}'),
             ('kaireon.schedule_jobs()'::regprocedure, 'f {"search_path=pg_catalog, pg_temp"}')) AS f (fn, config)
ORDER BY f.fn::text;
SELECT is(ARRAY(SELECT format('%s %s', p.oid::regprocedure, a.grantee::regrole)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid IN ('kaireon._iso_utc(timestamptz)'::regprocedure, 'kaireon._job_horizon()'::regprocedure,
                                'kaireon._emit_event_once(text, text, jsonb, text)'::regprocedure,
                                'kaireon._quota_terms(text)'::regprocedure,
                                'kaireon._quota_terms_unchanged(text, timestamptz, timestamptz)'::regprocedure)
                  AND a.grantee <> p.proowner ORDER BY 1),
          ARRAY[]::text[], 'the jobs'' helpers are executable by no role but their owner');

-- Exercised: only administrators run the jobs -------------------------------------------

SET LOCAL ROLE kr13_app1;
SELECT throws_ok($$SELECT kaireon.tick()$$, '42501', 'permission denied for function tick',
                 'an app role may not run tick');
SELECT throws_ok($$SELECT kaireon.rollover_periods()$$, '42501', 'permission denied for function rollover_periods',
                 'an app role may not run rollover_periods');
SELECT throws_ok($$SELECT kaireon.reset_expired_caps()$$, '42501', 'permission denied for function reset_expired_caps',
                 'an app role may not run reset_expired_caps');
SELECT throws_ok($$SELECT kaireon.schedule_jobs()$$, '42501', 'permission denied for function schedule_jobs',
                 'an app role may not run schedule_jobs');
SELECT throws_ok($$SELECT kaireon._emit_event_once('kr13-t1', 'quota.reset', '{}', 'x')$$, '42501',
                 'permission denied for function _emit_event_once', 'an app role may not write events through a helper');
RESET ROLE;
SET LOCAL ROLE kr13_reader1;
SELECT throws_ok($$SELECT kaireon.tick()$$, '42501', 'permission denied for function tick',
                 'a reader role may not run tick');
SELECT throws_ok($$SELECT kaireon.rollover_periods()$$, '42501', 'permission denied for function rollover_periods',
                 'a reader role may not run rollover_periods');
SELECT throws_ok($$SELECT kaireon.reset_expired_caps()$$, '42501', 'permission denied for function reset_expired_caps',
                 'a reader role may not run reset_expired_caps');
SELECT throws_ok($$SELECT kaireon.schedule_jobs()$$, '42501', 'permission denied for function schedule_jobs',
                 'a reader role may not run schedule_jobs');
RESET ROLE;
SET LOCAL ROLE kr13_admin;
SELECT lives_ok($$SELECT kaireon.rollover_periods()$$, 'an administrator may run rollover_periods');
SELECT lives_ok($$SELECT kaireon.reset_expired_caps()$$, 'an administrator may run reset_expired_caps');
SELECT lives_ok($$SELECT kaireon.tick()$$, 'an administrator may run tick');
-- pg_cron lives in another database here: the statements come back (and a
-- NOTICE, not shown), nothing is scheduled.
SET LOCAL client_min_messages = warning;
SELECT is((SELECT count(*) FILTER (WHERE job_id IS NULL AND statement LIKE 'SELECT cron.schedule_in_database(%')
           FROM kaireon.schedule_jobs()), 4::bigint,
          'an administrator may run schedule_jobs: four jobs, the statements to run in pg_cron''s database');
RESET client_min_messages;
RESET ROLE;

-- What the administrator's run recorded: both tenants' June and the caps' June 30.
SELECT is(ARRAY(SELECT format('%s %s %s', tenant_id, period_start, period_end) FROM kaireon.quota_periods
                WHERE tenant_id LIKE 'kr13-%' ORDER BY 1),
          ARRAY['kr13-t1 2026-06-01 00:00:00+00 2026-07-01 00:00:00+00',
                'kr13-t2 2026-06-01 00:00:00+00 2026-07-01 00:00:00+00'],
          'the run recorded each tenant''s closed June');
SELECT is(ARRAY(SELECT format('%s %s %s', tenant_id, cap_id, period_start) FROM kaireon.cap_periods
                WHERE tenant_id LIKE 'kr13-%' ORDER BY 1),
          ARRAY['kr13-t1 cap1 2026-06-30 00:00:00+00', 'kr13-t2 cap1 2026-06-30 00:00:00+00'],
          'the run recorded each cap''s closed June 30');

-- Exercised: each role sees its own tenant's rows only ------------------------------------

SET LOCAL ROLE kr13_app1;
SET LOCAL kaireon.tenant = 'kr13-t1';
SELECT is(ARRAY(SELECT DISTINCT tenant_id FROM kaireon.quota_periods), ARRAY['kr13-t1'],
          'an app sees its tenant''s quota periods only');
SELECT is(ARRAY(SELECT DISTINCT tenant_id FROM kaireon.cap_periods), ARRAY['kr13-t1'],
          'an app sees its tenant''s cap periods only');
SET LOCAL kaireon.tenant = 'kr13-t2';
SELECT is((SELECT count(*) FROM kaireon.quota_periods) + (SELECT count(*) FROM kaireon.cap_periods), 0::bigint,
          'an app sees none of another tenant''s periods');
RESET ROLE;
SET LOCAL ROLE kr13_reader1;
SET LOCAL kaireon.tenant = 'kr13-t1';
SELECT is(ARRAY(SELECT DISTINCT tenant_id FROM kaireon.quota_periods UNION SELECT DISTINCT tenant_id FROM kaireon.cap_periods),
          ARRAY['kr13-t1'], 'a reader sees its tenant''s periods only');
RESET ROLE;
SET LOCAL ROLE kr13_stranger;
SET LOCAL kaireon.tenant = 'kr13-t1';
SELECT is((SELECT count(*) FROM kaireon.quota_periods) + (SELECT count(*) FROM kaireon.cap_periods), 0::bigint,
          'a role without a grant sees no periods');
SELECT throws_ok($$INSERT INTO kaireon.quota_periods VALUES ('kr13-t1', '2026-01-01', '2026-02-01', 'month', 0, NULL, NULL, now())$$,
                 '42501', 'permission denied for table quota_periods', 'nobody but the jobs writes quota_periods');
RESET ROLE;
SET LOCAL ROLE kr13_admin;
SET LOCAL kaireon.tenant = '';
SELECT is((SELECT count(*) FROM kaireon.quota_periods WHERE tenant_id LIKE 'kr13-%'), 0::bigint,
          'an administrator reads the periods of the tenant selected, none without one (RLS, like every tenant table)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

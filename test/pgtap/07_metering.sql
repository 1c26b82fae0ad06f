-- 07_metering.sql - the shape and the privileges of metering (SPEC section
-- 4): usage_events, usage_rollups, usage_idempotency and the view
-- usage_totals; who may report, bulk load, read and administer usage; the
-- append-only triggers; drop_tenant and the usage rows.
--
-- The answers of report_usage (limits, idempotency, periods, thresholds) are
-- in sql/metering.sql and the isolation specs; this file is about access.
BEGIN;
SELECT plan(112);

CREATE ROLE kr07_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr07_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr07_reader NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr07_admin NOLOGIN IN ROLE kaireon_admin;

CREATE SCHEMA kr07;
GRANT USAGE ON SCHEMA kr07 TO PUBLIC;

-- columns_of: "name type [NOT NULL]" for every column of rel, in order.
CREATE FUNCTION kr07.columns_of(rel regclass) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                     || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END ORDER BY a.attnum)
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
$$;

-- usage_of: "tenant feature sum/count" of every usage_totals row the current
-- role sees for our tenants.
CREATE FUNCTION kr07.usage_of() RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(format('%s %s %s/%s', u.tenant_id, u.feature, u.sum, u.count)
                              ORDER BY u.tenant_id, u.feature), '{}')
    FROM kaireon.usage_totals u WHERE u.tenant_id LIKE 'kr07-%'
$$;

-- rows_of: how many rows of `tenant` each usage table holds (superuser view).
CREATE FUNCTION kr07.rows_of(tenant text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('events %s, rollups %s, keys %s',
                  (SELECT count(*) FROM kaireon.usage_events e WHERE e.tenant_id = tenant),
                  (SELECT count(*) FROM kaireon.usage_rollups r WHERE r.tenant_id = tenant),
                  (SELECT count(*) FROM kaireon.usage_idempotency i WHERE i.tenant_id = tenant))
$$;

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr07-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr07-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr07_app1', 'kr07-t1');
    PERFORM kaireon.grant_tenant('kr07_app2', 'kr07-t2');
    PERFORM kaireon.grant_tenant('kr07_reader', 'kr07-t1');
    PERFORM kaireon.define_feature('kr07_calls', 'numeric', '{"aggregation": "sum", "period": "month"}');
    PERFORM kaireon.set_plan_entitlement('community', 'kr07_calls', '{"limit": 100}');
END
$$;

-- Schema ----------------------------------------------------------------------

SELECT has_table('kaireon', 'usage_events', 'kaireon.usage_events exists');
SELECT has_table('kaireon', 'usage_rollups', 'kaireon.usage_rollups exists');
SELECT has_table('kaireon', 'usage_idempotency', 'kaireon.usage_idempotency exists');
SELECT has_view('kaireon', 'usage_totals', 'kaireon.usage_totals exists');

SELECT is(kr07.columns_of('kaireon.usage_events'),
          ARRAY['tenant_id text NOT NULL', 'id bigint NOT NULL', 'feature text NOT NULL', 'value numeric NOT NULL',
                'occurred_at timestamp with time zone NOT NULL', 'recorded_at timestamp with time zone NOT NULL',
                'idempotency_key text', 'properties jsonb NOT NULL'],
          'usage_events has its columns, types and NOT NULLs');
SELECT is(kr07.columns_of('kaireon.usage_rollups'),
          ARRAY['tenant_id text NOT NULL', 'feature text NOT NULL', 'period_start timestamp with time zone NOT NULL',
                'slot integer NOT NULL', 'sum numeric NOT NULL', 'count bigint NOT NULL', 'max numeric', 'min numeric',
                'latest_value numeric', 'latest_at timestamp with time zone', 'latest_event_id bigint'],
          'usage_rollups has its columns, types and NOT NULLs');
SELECT is(kr07.columns_of('kaireon.usage_idempotency'),
          ARRAY['tenant_id text NOT NULL', 'idempotency_key text NOT NULL', 'feature text NOT NULL',
                'value numeric NOT NULL', 'occurred_at timestamp with time zone', 'properties jsonb NOT NULL',
                'event_id bigint NOT NULL', 'answer jsonb', 'created_at timestamp with time zone NOT NULL'],
          'usage_idempotency has its columns, types and NOT NULLs');
SELECT is(kr07.columns_of('kaireon.usage_totals'),
          ARRAY['tenant_id text', 'feature text', 'period_start timestamp with time zone', 'sum numeric',
                'count bigint', 'max numeric', 'min numeric', 'average numeric', 'latest numeric'],
          'usage_totals has its columns and types');

SELECT col_is_pk('kaireon', 'usage_events_default', ARRAY['tenant_id', 'id'],
                 'usage_events is keyed by (tenant_id, id) in each partition (20_partitioning.sql)');
SELECT col_is_pk('kaireon', 'usage_rollups', ARRAY['tenant_id', 'feature', 'period_start', 'slot'],
                 'usage_rollups is keyed by (tenant_id, feature, period_start, slot)');
SELECT col_is_pk('kaireon', 'usage_idempotency', ARRAY['tenant_id', 'idempotency_key'],
                 'usage_idempotency is keyed by (tenant_id, idempotency_key)');
SELECT is((SELECT a.attidentity::text FROM pg_catalog.pg_attribute a
           WHERE a.attrelid = 'kaireon.usage_events'::regclass AND a.attname = 'id'),
          'a', 'usage_events.id is GENERATED ALWAYS AS IDENTITY');
SELECT is(ARRAY(SELECT a.attname || ' = ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid)
                FROM pg_catalog.pg_attrdef d
                JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                WHERE d.adrelid = 'kaireon.usage_events'::regclass ORDER BY a.attnum),
          ARRAY['tenant_id = kaireon.current_tenant()', 'occurred_at = kaireon.clock()',
                'recorded_at = kaireon.clock()', 'properties = ''{}''::jsonb'],
          'usage_events defaults: tenant_id the current tenant, occurred_at and recorded_at the clock, properties {}');

SELECT is(ARRAY(SELECT c.oid::regclass::text FROM pg_catalog.pg_class c
                WHERE c.oid IN ('kaireon.usage_events'::regclass, 'kaireon.usage_rollups'::regclass,
                                'kaireon.usage_idempotency'::regclass)
                  AND c.relrowsecurity ORDER BY 1),
          ARRAY['kaireon.usage_events', 'kaireon.usage_idempotency', 'kaireon.usage_rollups'],
          'row-level security is enabled on usage_events, usage_rollups and usage_idempotency');
SELECT policies_are('kaireon', 'usage_events', ARRAY['tenant_isolation'], 'usage_events has the tenant_isolation policy');
SELECT policies_are('kaireon', 'usage_rollups', ARRAY['tenant_isolation'], 'usage_rollups has the tenant_isolation policy');
SELECT policies_are('kaireon', 'usage_idempotency', ARRAY['tenant_isolation'],
                    'usage_idempotency has the tenant_isolation policy');
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                WHERE tt.table_name::text LIKE 'kaireon.usage%' ORDER BY 1),
          ARRAY['kaireon.usage_events delete', 'kaireon.usage_idempotency delete', 'kaireon.usage_rollups delete'],
          'the usage tables are registered in kaireon.tenant_tables, their rows deleted by drop_tenant');

SELECT ok((SELECT c.reloptions FROM pg_catalog.pg_class c WHERE c.oid = 'kaireon.usage_totals'::regclass)
              @> ARRAY['security_invoker=true'],
          'usage_totals is security_invoker (it reads usage_rollups under the caller''s RLS)');

SELECT function_returns('kaireon', 'report_usage', ARRAY['text', 'numeric', 'text', 'timestamp with time zone', 'jsonb'],
                        'jsonb', 'report_usage(text, numeric, text, timestamptz, jsonb) returns jsonb');
SELECT function_returns('kaireon', 'purge_idempotency_keys', ARRAY[]::text[], 'bigint',
                        'purge_idempotency_keys() returns bigint');

-- The triggers: aggregation on insert, append-only ENABLE ALWAYS (a session in
-- session_replication_role = replica would skip an ordinary trigger).
SELECT trigger_is('kaireon', 'usage_events', 'aggregate', 'kaireon', '_usage_events_inserted',
                  'usage_events has the aggregate trigger');
SELECT trigger_is('kaireon', 'usage_events', 'append_only', 'kaireon', '_refuse_change',
                  'usage_events has the append_only trigger');
SELECT trigger_is('kaireon', 'usage_events', 'append_only_truncate', 'kaireon', '_refuse_change',
                  'usage_events has the append_only_truncate trigger');
SELECT is(ARRAY(SELECT format('%s %s', t.tgname, t.tgenabled) FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid = 'kaireon.usage_events'::regclass AND t.tgname LIKE 'append_only%' ORDER BY 1),
          ARRAY['append_only A', 'append_only_truncate A'],
          'the append-only triggers are ENABLE ALWAYS (tgenabled = A)');
SELECT is(ARRAY(SELECT regexp_replace(pg_catalog.pg_get_triggerdef(t.oid), ' ON kaireon\.usage_events ', ' ')
                FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid = 'kaireon.usage_events'::regclass AND NOT t.tgisinternal ORDER BY t.tgname),
          ARRAY['CREATE TRIGGER aggregate AFTER INSERT REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT '
                    'EXECUTE FUNCTION kaireon._usage_events_inserted()',
                'CREATE TRIGGER append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change()',
                'CREATE TRIGGER append_only_truncate BEFORE TRUNCATE FOR EACH STATEMENT '
                    'EXECUTE FUNCTION kaireon._refuse_change()'],
          'usage_events has exactly the aggregate (after insert, per statement, with the new rows) and append-only triggers');

-- Privileges in the catalogs -----------------------------------------------------

-- Nothing to PUBLIC on any relation, column or function of metering.
SELECT is(ARRAY(SELECT format('%s: %s', c.oid::regclass, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault(
                         CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
                WHERE c.relnamespace = 'kaireon'::regnamespace AND c.relname LIKE 'usage%'
                  AND c.relkind IN ('r', 'v', 'S') AND a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[],
          'no usage table, view or sequence grants anything to PUBLIC');
SELECT is(ARRAY(SELECT format('%s.%s: %s', c.oid::regclass, att.attname, a.privilege_type)
                FROM pg_catalog.pg_class c
                JOIN pg_catalog.pg_attribute att ON att.attrelid = c.oid AND att.attacl IS NOT NULL,
                     LATERAL pg_catalog.aclexplode(att.attacl) a
                WHERE c.relnamespace = 'kaireon'::regnamespace AND c.relname LIKE 'usage%' AND a.grantee = 0
                ORDER BY 1),
          ARRAY[]::text[],
          'no column of a usage table grants anything to PUBLIC');
SELECT is(ARRAY(SELECT format('%s: %s', p.oid::regprocedure, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.pronamespace = 'kaireon'::regnamespace
                  AND p.proname IN ('report_usage', 'purge_idempotency_keys', '_allow_tenant_purge',
                                    '_rebuild_usage_rollups', '_usage_events_inserted', '_refuse_change',
                                    'drop_tenant')
                  AND a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[],
          'no metering function is executable by PUBLIC');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
           WHERE p.pronamespace = 'kaireon'::regnamespace
             AND p.proname IN ('report_usage', 'purge_idempotency_keys', '_allow_tenant_purge',
                               '_rebuild_usage_rollups', '_usage_events_inserted', '_refuse_change')),
          6, 'the PUBLIC check sees the six metering functions');

SELECT is_definer('kaireon', 'report_usage', ARRAY['text', 'numeric', 'text', 'timestamp with time zone', 'jsonb'],
                  'report_usage is SECURITY DEFINER');
SELECT is_definer('kaireon', 'purge_idempotency_keys', ARRAY[]::text[], 'purge_idempotency_keys is SECURITY DEFINER');
SELECT is(ARRAY(SELECT format('%s %s', p.oid::regprocedure, c)
                FROM pg_catalog.pg_proc p, unnest(p.proconfig) c
                WHERE p.oid IN ('kaireon.report_usage(text, numeric, text, timestamptz, jsonb)'::regprocedure,
                                'kaireon.purge_idempotency_keys()'::regprocedure)
                  AND c LIKE 'search\_path=%' ORDER BY 1),
          ARRAY['kaireon.purge_idempotency_keys() search_path=pg_catalog, pg_temp',
                'kaireon.report_usage(text,numeric,text,timestamp with time zone,jsonb) search_path=pg_catalog, pg_temp'],
          'report_usage and purge_idempotency_keys pin search_path = pg_catalog, pg_temp');
SELECT isnt_definer('kaireon', '_allow_tenant_purge', ARRAY['text'], '_allow_tenant_purge is not SECURITY DEFINER');
SELECT isnt_definer('kaireon', '_rebuild_usage_rollups', ARRAY['text', 'text'],
                    '_rebuild_usage_rollups is not SECURITY DEFINER');

-- Who may execute what.
SELECT function_privs_are('kaireon', 'report_usage', ARRAY['text', 'numeric', 'text', 'timestamp with time zone', 'jsonb'],
                          r.role, r.privs, 'report_usage: ' || r.role || ' ' || coalesce(r.privs[1], 'nothing'))
FROM (VALUES ('kaireon_admin', ARRAY['EXECUTE']), ('kaireon_app', ARRAY['EXECUTE']),
             ('kaireon_reader', ARRAY[]::text[])) AS r (role, privs);
SELECT function_privs_are('kaireon', 'purge_idempotency_keys', ARRAY[]::text[],
                          r.role, r.privs, 'purge_idempotency_keys: ' || r.role || ' ' || coalesce(r.privs[1], 'nothing'))
FROM (VALUES ('kaireon_admin', ARRAY['EXECUTE']), ('kaireon_app', ARRAY[]::text[]),
             ('kaireon_reader', ARRAY[]::text[])) AS r (role, privs);
SELECT is(ARRAY(SELECT format('%s %s', r, f)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['kaireon._allow_tenant_purge(text)', 'kaireon._rebuild_usage_rollups(text, text)',
                                  'kaireon._usage_events_inserted()', 'kaireon._refuse_change()']) f
                WHERE has_function_privilege(r, f, 'EXECUTE') ORDER BY 1),
          ARRAY[]::text[],
          'no kaireon role may execute _allow_tenant_purge, _rebuild_usage_rollups or the trigger functions');

-- Tables: reads for every role (usage_idempotency: not the applications),
-- writes only as column INSERT on usage_events for kaireon_app/kaireon_admin.
SELECT table_privs_are('kaireon', t.tab, r.role, CASE WHEN t.tab = 'usage_idempotency' AND r.role = 'kaireon_app'
                                                      THEN ARRAY[]::text[] ELSE ARRAY['SELECT'] END,
                       t.tab || ': ' || r.role || ' has SELECT at most')
FROM (VALUES ('usage_events'), ('usage_rollups'), ('usage_idempotency'), ('usage_totals')) AS t (tab)
CROSS JOIN (VALUES ('kaireon_admin'), ('kaireon_app'), ('kaireon_reader')) AS r (role)
ORDER BY t.tab, r.role;
SELECT is(ARRAY(SELECT format('%s %s', r, a.attname)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.usage_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                  AND has_column_privilege(r, 'kaireon.usage_events', a.attnum, 'INSERT')
                ORDER BY r, a.attnum),
          ARRAY['kaireon_admin tenant_id', 'kaireon_admin feature', 'kaireon_admin value', 'kaireon_admin occurred_at',
                'kaireon_admin idempotency_key', 'kaireon_admin properties',
                'kaireon_app tenant_id', 'kaireon_app feature', 'kaireon_app value', 'kaireon_app occurred_at',
                'kaireon_app idempotency_key', 'kaireon_app properties'],
          'INSERT on usage_events: kaireon_app and kaireon_admin, not on id or recorded_at; kaireon_reader none');
SELECT is(ARRAY(SELECT format('%s %s', r, t)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['kaireon.usage_events', 'kaireon.usage_rollups', 'kaireon.usage_idempotency']) t
                WHERE has_any_column_privilege(r, t, 'UPDATE')
                   OR has_table_privilege(r, t, 'DELETE, TRUNCATE, REFERENCES, TRIGGER')
                   OR (t <> 'kaireon.usage_events' AND has_any_column_privilege(r, t, 'INSERT'))
                ORDER BY 1),
          ARRAY[]::text[],
          'no kaireon role may update, delete or truncate a usage table, nor insert into rollups or keys');

-- Exercised: the application ---------------------------------------------------

SET ROLE kr07_app1;
SET kaireon.tenant = 'kr07-t1';
SELECT lives_ok($$SELECT kaireon.report_usage('kr07_calls', 5)$$, 'app1 on t1 may call report_usage');
SELECT lives_ok($$SELECT kaireon.report_usage('kr07_calls', 2, 'kr07-key-1')$$,
                'app1 on t1 may call report_usage with an idempotency key');
SELECT lives_ok($$INSERT INTO kaireon.usage_events (feature, value, idempotency_key)
                  VALUES ('kr07_calls', 3, 'kr07-bulk-1'), ('kr07_calls', 4, NULL)$$,
                'app1 on t1 may INSERT into usage_events (tenant_id defaults to t1)');
SELECT lives_ok($$INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('kr07-t1', 'kr07_calls', 1)$$,
                'app1 on t1 may INSERT naming its own tenant');
SELECT is(kr07.usage_of(), ARRAY['kr07-t1 kr07_calls 15/5'],
          'app1 on t1: usage_totals shows its reports and bulk rows aggregated');
SELECT throws_ok($$INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('kr07-t2', 'kr07_calls', 1)$$,
                 '42501', 'new row violates row-level security policy for table "usage_events"',
                 'app1 on t1 may not INSERT a row for t2 (RLS)');
SELECT throws_ok($$INSERT INTO kaireon.usage_events (feature, value, recorded_at) VALUES ('kr07_calls', 1, now())$$,
                 '42501', 'permission denied for table usage_events', 'app1 may not set recorded_at');
SELECT throws_ok($$INSERT INTO kaireon.usage_events (id, feature, value) OVERRIDING SYSTEM VALUE VALUES (1, 'kr07_calls', 1)$$,
                 '42501', 'permission denied for table usage_events', 'app1 may not set id');
SELECT throws_ok($$UPDATE kaireon.usage_events SET value = 0$$, '42501', 'permission denied for table usage_events',
                 'app1 may not UPDATE usage_events');
SELECT throws_ok($$DELETE FROM kaireon.usage_events$$, '42501', 'permission denied for table usage_events',
                 'app1 may not DELETE from usage_events');
SELECT throws_ok($$TRUNCATE kaireon.usage_events$$, '42501', 'permission denied for table usage_events',
                 'app1 may not TRUNCATE usage_events');
SELECT throws_ok($$INSERT INTO kaireon.usage_rollups VALUES ('kr07-t1', 'kr07_calls', now(), 0, 1, 1)$$,
                 '42501', 'permission denied for table usage_rollups', 'app1 may not INSERT into usage_rollups');
SELECT throws_ok($$UPDATE kaireon.usage_rollups SET sum = 0$$, '42501', 'permission denied for table usage_rollups',
                 'app1 may not UPDATE usage_rollups');
SELECT throws_ok($$DELETE FROM kaireon.usage_rollups$$, '42501', 'permission denied for table usage_rollups',
                 'app1 may not DELETE from usage_rollups');
SELECT throws_ok($$INSERT INTO kaireon.usage_idempotency VALUES ('kr07-t1', 'k', 'kr07_calls', 1, NULL, '{}', 1, NULL, now())$$,
                 '42501', 'permission denied for table usage_idempotency', 'app1 may not INSERT into usage_idempotency');
SELECT throws_ok($$DELETE FROM kaireon.usage_idempotency$$, '42501', 'permission denied for table usage_idempotency',
                 'app1 may not DELETE from usage_idempotency');
SELECT throws_ok($$SELECT kaireon._allow_tenant_purge('kr07-t1')$$, '42501',
                 'permission denied for function _allow_tenant_purge', 'app1 may not call _allow_tenant_purge');
SELECT throws_ok($$SELECT kaireon._rebuild_usage_rollups('kr07_calls', 'month')$$, '42501',
                 'permission denied for function _rebuild_usage_rollups', 'app1 may not call _rebuild_usage_rollups');
SELECT throws_ok($$SELECT kaireon.purge_idempotency_keys()$$, '42501',
                 'permission denied for function purge_idempotency_keys', 'app1 may not call purge_idempotency_keys');

-- Another tenant: not through report_usage, not through the default tenant_id.
SET kaireon.tenant = 'kr07-t2';
SELECT throws_ok($$SELECT kaireon.report_usage('kr07_calls', 1)$$, 'KR403',
                 'role "kr07_app1" may not act on tenant "kr07-t2"', 'app1 on t2: report_usage raises KR403');
SELECT throws_ok($$INSERT INTO kaireon.usage_events (feature, value) VALUES ('kr07_calls', 1)$$, 'KR403',
                 'role "kr07_app1" may not act on tenant "kr07-t2"', 'app1 on t2: INSERT raises KR403');
SELECT throws_ok($$INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('kr07-t2', 'kr07_calls', 1)$$,
                 '42501', NULL, 'app1 on t2: INSERT naming t2 is refused');
SELECT is(kr07.usage_of(), '{}', 'app1 on t2: usage_totals shows nothing');
RESET kaireon.tenant;
SELECT throws_ok($$SELECT kaireon.report_usage('kr07_calls', 1)$$, 'KR400', 'no tenant selected',
                 'app1 without kaireon.tenant: report_usage raises KR400');
SELECT throws_ok($$INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('kr07-t1', 'kr07_calls', 1)$$,
                 '42501', NULL, 'app1 without kaireon.tenant: INSERT naming t1 is refused (RLS)');
RESET ROLE;

SET ROLE kr07_app2;
SET kaireon.tenant = 'kr07-t2';
SELECT lives_ok($$SELECT kaireon.report_usage('kr07_calls', 7, 'kr07-key-1')$$,
                'app2 on t2 may report (the same key as t1: keys are per tenant)');
SELECT is(kr07.usage_of(), ARRAY['kr07-t2 kr07_calls 7/1'], 'app2 on t2: usage_totals shows only t2');
SELECT is(ARRAY(SELECT DISTINCT tenant_id FROM kaireon.usage_events WHERE tenant_id LIKE 'kr07-%'), ARRAY['kr07-t2'],
          'app2 on t2: usage_events shows only t2');
SELECT is(ARRAY(SELECT DISTINCT tenant_id FROM kaireon.usage_rollups WHERE tenant_id LIKE 'kr07-%'), ARRAY['kr07-t2'],
          'app2 on t2: usage_rollups shows only t2');
RESET kaireon.tenant;
RESET ROLE;

-- usage_totals is security_invoker: the superuser sees both tenants, an
-- application its own.
SELECT is(kr07.usage_of(), ARRAY['kr07-t1 kr07_calls 15/5', 'kr07-t2 kr07_calls 7/1'],
          'the superuser sees both tenants in usage_totals');
SET ROLE kr07_app1;
SET kaireon.tenant = 'kr07-t1';
SELECT is(kr07.usage_of(), ARRAY['kr07-t1 kr07_calls 15/5'], 'app1 on t1: usage_totals shows only t1');
RESET kaireon.tenant;
SELECT is(kr07.usage_of(), '{}', 'app1 without kaireon.tenant: usage_totals shows nothing');
RESET ROLE;

-- Exercised: the reader ----------------------------------------------------------

SET ROLE kr07_reader;
SET kaireon.tenant = 'kr07-t1';
SELECT is(kr07.usage_of(), ARRAY['kr07-t1 kr07_calls 15/5'], 'reader on t1 reads usage_totals of t1');
SELECT is((SELECT count(*) FROM kaireon.usage_events), 5::bigint, 'reader on t1 reads the events of t1');
SELECT is(ARRAY(SELECT idempotency_key FROM kaireon.usage_idempotency ORDER BY 1), ARRAY['kr07-bulk-1', 'kr07-key-1'],
          'reader on t1 reads the idempotency keys of t1 only');
SELECT throws_ok($$SELECT kaireon.report_usage('kr07_calls', 1)$$, '42501',
                 'permission denied for function report_usage', 'reader may not call report_usage');
SELECT throws_ok($$INSERT INTO kaireon.usage_events (feature, value) VALUES ('kr07_calls', 1)$$, '42501',
                 'permission denied for table usage_events', 'reader may not INSERT into usage_events');
SELECT throws_ok($$SELECT kaireon.purge_idempotency_keys()$$, '42501',
                 'permission denied for function purge_idempotency_keys', 'reader may not call purge_idempotency_keys');
RESET kaireon.tenant;
RESET ROLE;

-- Exercised: the administrator ---------------------------------------------------

SET ROLE kr07_admin;
SELECT lives_ok($$SELECT kaireon.purge_idempotency_keys()$$, 'admin may call purge_idempotency_keys');
SELECT throws_ok($$SELECT kaireon._allow_tenant_purge('kr07-t1')$$, '42501',
                 'permission denied for function _allow_tenant_purge', 'admin may not call _allow_tenant_purge');
SELECT throws_ok($$SELECT kaireon._rebuild_usage_rollups('kr07_calls', 'month')$$, '42501',
                 'permission denied for function _rebuild_usage_rollups', 'admin may not call _rebuild_usage_rollups');
SELECT throws_ok($$DELETE FROM kaireon.usage_events$$, '42501', 'permission denied for table usage_events',
                 'admin may not DELETE from usage_events');
SET kaireon.tenant = 'kr07-t1';
SELECT lives_ok($$SELECT kaireon.report_usage('kr07_calls', 1)$$, 'admin may report for t1 without a grant');
RESET kaireon.tenant;
RESET ROLE;

-- Append-only, also for the superuser -------------------------------------------

SELECT throws_ok($$UPDATE kaireon.usage_events SET value = 0 WHERE tenant_id = 'kr07-t1'$$, 'KR400',
                 'kaireon.usage_events is append-only: UPDATE is not allowed', 'the superuser may not UPDATE usage_events');
SELECT throws_ok($$DELETE FROM kaireon.usage_events WHERE tenant_id = 'kr07-t2'$$, 'KR400',
                 'kaireon.usage_events is append-only: DELETE is not allowed', 'the superuser may not DELETE from usage_events');
SELECT throws_ok($$TRUNCATE kaireon.usage_events$$, 'KR400',
                 'kaireon.usage_events is append-only: TRUNCATE is not allowed', 'the superuser may not TRUNCATE usage_events');
SET session_replication_role = replica;
SELECT throws_ok($$DELETE FROM kaireon.usage_events WHERE tenant_id = 'kr07-t2'$$, 'KR400',
                 'kaireon.usage_events is append-only: DELETE is not allowed',
                 'session_replication_role = replica does not switch the append-only trigger off');
RESET session_replication_role;
-- A superuser acting on a tenant is not a maintenance load: rows are judged.
SET kaireon.tenant = 'kr07-t1';
SELECT throws_ok($$INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('kr07-t2', 'kr07_calls', 1)$$,
                 'KR403', 'row 1 is for tenant "kr07-t2", not the current tenant',
                 'the superuser on t1 may not INSERT a row for t2 (the trigger refuses)');
RESET kaireon.tenant;

-- drop_tenant removes the usage rows; a DELETE does not ---------------------------

SELECT is(kr07.rows_of('kr07-t2'), 'events 1, rollups 1, keys 1',
          'the refused UPDATE, DELETE and TRUNCATE left t2''s rows in place');
CREATE TEMP TABLE kr07_dropped AS SELECT kaireon.drop_tenant('kr07-t2') AS answer;
SELECT ok((SELECT answer -> 'deleted' FROM kr07_dropped)
              @> '{"kaireon.usage_events": 1, "kaireon.usage_rollups": 1, "kaireon.usage_idempotency": 1}',
          'drop_tenant reports the usage rows it deleted');
SELECT is(kr07.rows_of('kr07-t2'), 'events 0, rollups 0, keys 0', 'drop_tenant removed t2''s events, rollups and keys');
SELECT is(kr07.rows_of('kr07-t1'), 'events 6, rollups 1, keys 2', 'drop_tenant left t1''s usage alone');
SELECT throws_ok($$DELETE FROM kaireon.usage_events WHERE tenant_id = 'kr07-t1'$$, 'KR400',
                 'kaireon.usage_events is append-only: DELETE is not allowed',
                 'after drop_tenant in the same transaction, another tenant''s events still cannot be deleted');
SELECT is(kr07.rows_of('kr07-t1'), 'events 6, rollups 1, keys 2', 't1 keeps its usage');

-- A superuser without a tenant loads as pg_restore does (maintenance): rows
-- are aggregated as they are, not judged again (lateness, limit).
SELECT lives_ok($$INSERT INTO kaireon.usage_events (tenant_id, feature, value, occurred_at)
                  VALUES ('kr07-t1', 'kr07_calls', 500, '2020-01-15Z')$$,
                'a superuser without kaireon.tenant may load an old event past the limit (maintenance load)');
SELECT is((SELECT format('%s/%s', u.sum, u.count) FROM kaireon.usage_totals u
           WHERE u.tenant_id = 'kr07-t1' AND u.period_start = '2020-01-01Z'),
          '500/1', 'the maintenance load is aggregated into its own period');

SELECT * FROM finish();
ROLLBACK;

-- 10_decisions.sql - the shape and the access of decisions (SPEC sections 1
-- and 6.2): kaireon.decisions and kaireon.decision_traces under row-level
-- security like every other tenant table (tenant_isolation policy, tenant_id
-- text NOT NULL first in the key, registered for drop_tenant and for
-- pg_dump); every kaireon role reads them and none writes them (only the
-- decision functions do, as their owner); kaireon_recommend (in schema
-- public), kaireon.recommend and kaireon.recommend_batch for administrators
-- and applications only, SECURITY DEFINER with a pinned search_path, nothing
-- to PUBLIC; and, with two tenants deciding, that an application decides
-- for its own tenant only (KR403 for the other), that dry runs are for
-- administrators, and that every role sees only its tenant's decisions and
-- traces.
--
-- What a decision answers (stages, scores, ranking, groups, the trace
-- allowance) is for the regression tests and the core's unit tests; this
-- file is about the schema and access.
BEGIN;
SELECT plan(74);

CREATE ROLE kr10_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr10_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr10_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr10_reader2 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr10_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr10_stranger NOLOGIN IN ROLE kaireon_app;   -- granted no tenant

CREATE SCHEMA kr10;
GRANT USAGE ON SCHEMA kr10 TO PUBLIC;

CREATE TABLE kr10.tables (rel regclass PRIMARY KEY);
INSERT INTO kr10.tables VALUES ('kaireon.decisions'), ('kaireon.decision_traces');
GRANT SELECT ON kr10.tables TO PUBLIC;

-- The answers the roles got, for the checks after them.
CREATE TABLE kr10.answers (who text PRIMARY KEY, doc jsonb NOT NULL);
GRANT SELECT, INSERT ON kr10.answers TO PUBLIC;

-- seen: "table tenant=n" for both decision tables, for every kr10 tenant the
-- current role sees rows of (RLS decides; the helper runs as the invoker).
CREATE FUNCTION kr10.seen() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    found text[] := '{}';
    r record;
BEGIN
    FOR t IN SELECT rel FROM kr10.tables ORDER BY rel::text LOOP
        FOR r IN EXECUTE format('SELECT tenant_id, count(*) AS n FROM %s WHERE tenant_id LIKE %L GROUP BY 1 ORDER BY 1',
                                t, 'kr10-%')
        LOOP
            found := found || format('%s %s=%s', t, r.tenant_id, r.n);
        END LOOP;
    END LOOP;
    RETURN found;
END
$$;

-- Two tenants with the same small catalog but their own offer ids (t1:
-- one-a, one-b; t2: two-a), so an answer tells whose catalog it came from.
CREATE FUNCTION kr10.catalog(prefix text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT replace($${
        "channels": [{"id": "web", "type": "web"}],
        "offers": [{"id": "P-a", "priority": 80}, {"id": "P-b", "priority": 40}],
        "creatives": [{"id": "P-a-web", "offerId": "P-a", "channelId": "web"},
                      {"id": "P-b-web", "offerId": "P-b", "channelId": "web"}],
        "customers": [{"id": "c1"}, {"id": "c2"}],
        "flows": [{"id": "f1", "channelId": "web"}]
    }$$, 'P-', prefix || '-')::jsonb
$fn$;

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr10-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr10-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr10_app1', 'kr10-t1');
    PERFORM kaireon.grant_tenant('kr10_app2', 'kr10-t2');
    PERFORM kaireon.grant_tenant('kr10_reader1', 'kr10-t1');
    PERFORM kaireon.grant_tenant('kr10_reader2', 'kr10-t2');
    PERFORM set_config('kaireon.tenant', 'kr10-t1', true);
    PERFORM kaireon.apply_catalog(kr10.catalog('one'));
    PERFORM set_config('kaireon.tenant', 'kr10-t2', true);
    PERFORM kaireon.apply_catalog(kr10.catalog('two'));
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- Schema ----------------------------------------------------------------------

SELECT has_table('kaireon', 'decisions', 'kaireon.decisions exists');
SELECT has_table('kaireon', 'decision_traces', 'kaireon.decision_traces exists');
SELECT columns_are('kaireon', 'decisions',
                   ARRAY['tenant_id', 'id', 'customer_id', 'flow', 'channel', 'offers', 'experiment', 'trace_id',
                         'decided_at', 'quota_period'],
                   'kaireon.decisions has the documented columns');
SELECT columns_are('kaireon', 'decision_traces',
                   ARRAY['tenant_id', 'id', 'decision_id', 'customer_id', 'flow', 'stages', 'traced_at'],
                   'kaireon.decision_traces has the documented columns');
-- Keyed in each partition (20_partitioning.sql).
SELECT col_is_pk('kaireon', 'decisions_default', ARRAY['tenant_id', 'id'],
                 'kaireon.decisions is keyed by (tenant_id, id)');
SELECT col_is_pk('kaireon', 'decision_traces_default', ARRAY['tenant_id', 'id'],
                 'kaireon.decision_traces is keyed by (tenant_id, id)');
SELECT is(ARRAY(SELECT t.rel::text FROM kr10.tables t
                JOIN pg_catalog.pg_attribute a ON a.attrelid = t.rel AND a.attname = 'tenant_id'
                WHERE a.atttypid = 'text'::regtype AND a.attnotnull AND a.attnum = 1 ORDER BY 1),
          ARRAY['kaireon.decision_traces', 'kaireon.decisions'],
          'both tables start with tenant_id text NOT NULL');
-- No foreign key to tenants since 0.17 (a check per row on the hot path):
-- drop_tenant closes the move gate and deletes their rows itself
-- (isolation spec drop_tenant_race).
SELECT is(ARRAY(SELECT t.rel::text FROM kr10.tables t
                WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid = t.rel AND k.contype = 'f')
                ORDER BY 1),
          ARRAY[]::text[], 'neither table has a foreign key (drop_tenant removes their rows under the move gate)');
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                JOIN kr10.tables t ON t.rel = tt.table_name ORDER BY 1),
          ARRAY['kaireon.decision_traces delete', 'kaireon.decisions delete'],
          'drop_tenant deletes both tables'' rows');

-- Row-level security, as on every other tenant table.
SELECT is(ARRAY(SELECT t.rel::text FROM kr10.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel
                WHERE NOT c.relrowsecurity ORDER BY 1),
          ARRAY[]::text[], 'row-level security is enabled on both tables');
SELECT policies_are('kaireon', 'decisions', ARRAY['tenant_isolation'], 'kaireon.decisions has the tenant_isolation policy (only)');
SELECT policies_are('kaireon', 'decision_traces', ARRAY['tenant_isolation'],
                    'kaireon.decision_traces has the tenant_isolation policy (only)');
SELECT is(ARRAY(SELECT format('%s %s %s %s %s', p.polrelid::regclass, p.polcmd, p.polpermissive, p.polroles::regrole[],
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid))
                FROM pg_catalog.pg_policy p JOIN kr10.tables t ON t.rel = p.polrelid
                WHERE p.polwithcheck IS NULL ORDER BY 1),
          ARRAY['kaireon.decision_traces * t {-} (tenant_id = kaireon.visible_tenant())',
                'kaireon.decisions * t {-} (tenant_id = kaireon.visible_tenant())'],
          'each policy is permissive, for all commands and roles, USING (and so WITH CHECK) tenant_id = visible_tenant()');

-- drop_tenant and pg_dump.
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                JOIN kr10.tables t ON t.rel = tt.table_name ORDER BY 1),
          ARRAY['kaireon.decision_traces delete', 'kaireon.decisions delete'],
          'both tables are registered in kaireon.tenant_tables, their rows deleted by drop_tenant');
SELECT is(ARRAY(SELECT format('%s %s', c::regclass, e.extcondition[array_position(e.extconfig, c)])
                FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                WHERE e.extname = 'kaireon'
                  AND c IN (SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN kr10.tables t ON t.rel = i.inhparent)
                ORDER BY 1),
          ARRAY['kaireon.decision_traces_default ', 'kaireon.decisions_default '],
          'both tables'' default partitions are registered with pg_extension_config_dump, every row dumped (no filter)');

-- Privileges ------------------------------------------------------------------------

-- Every kaireon role reads both tables; none writes them (the decision
-- functions write them as their owner).
SELECT table_privs_are('kaireon', c.relname, r.role, ARRAY['SELECT'], t.rel || ': ' || r.role || ' has SELECT only')
FROM kr10.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel
CROSS JOIN (VALUES ('kaireon_admin'), ('kaireon_app'), ('kaireon_reader')) AS r (role)
ORDER BY t.rel::text, r.role;
SELECT is(ARRAY(SELECT format('%s %s %s', t.rel, r, p)
                FROM kr10.tables t,
                     unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, t.rel, p) ORDER BY 1),
          ARRAY[]::text[], 'no kaireon role may INSERT, UPDATE, DELETE or TRUNCATE either table (not even through membership)');
SELECT is(ARRAY(SELECT format('%s: %s', c.oid::regclass, a.privilege_type)
                FROM pg_catalog.pg_class c JOIN kr10.tables t ON t.rel = c.oid,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'nothing on either table is granted to PUBLIC');
SELECT is(ARRAY(SELECT format('%s.%s', c.attrelid::regclass, c.attname) FROM pg_catalog.pg_attribute c
                JOIN kr10.tables t ON t.rel = c.attrelid WHERE c.attacl IS NOT NULL ORDER BY 1),
          ARRAY[]::text[], 'no column of either table has grants of its own');

-- Functions: who may execute each decision function.
SELECT has_function('public', 'kaireon_recommend', ARRAY['jsonb'], 'kaireon_recommend(jsonb) lives in schema public');
SELECT function_returns('public', 'kaireon_recommend', ARRAY['jsonb'], 'jsonb', 'kaireon_recommend returns jsonb');
SELECT hasnt_function('kaireon', 'kaireon_recommend', 'there is no kaireon.kaireon_recommend');
SELECT has_function('kaireon', 'recommend', ARRAY['text', 'text', 'integer', 'jsonb'],
                    'kaireon.recommend(customer_id, flow, n, context) exists');
SELECT has_function('kaireon', 'recommend_batch', ARRAY['text', 'text[]', 'integer', 'jsonb'],
                    'kaireon.recommend_batch(flow, customer_ids, n, context) exists');
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r
                WHERE has_function_privilege(r, f.fn, 'EXECUTE') ORDER BY 1),
          ARRAY['kaireon_admin', 'kaireon_app'], f.fn || ': EXECUTE for kaireon_admin, kaireon_app')
FROM (VALUES ('public.kaireon_recommend(jsonb)'), ('kaireon.recommend(text, text, integer, jsonb)'),
             ('kaireon.recommend_batch(text, text[], integer, jsonb)')) AS f (fn)
ORDER BY f.fn;
SELECT is(ARRAY(SELECT format('%s: %s', p.oid::regprocedure, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid IN ('public.kaireon_recommend(jsonb)'::regprocedure,
                                'kaireon.recommend(text, text, integer, jsonb)'::regprocedure,
                                'kaireon.recommend_batch(text, text[], integer, jsonb)'::regprocedure)
                  AND a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'no decision function is executable by PUBLIC');
SELECT is(ARRAY(SELECT format('%s %s', p.oid::regprocedure, c)
                FROM pg_catalog.pg_proc p LEFT JOIN LATERAL unnest(p.proconfig) c ON c LIKE 'search\_path=%'
                WHERE p.oid IN ('public.kaireon_recommend(jsonb)'::regprocedure,
                                'kaireon.recommend(text, text, integer, jsonb)'::regprocedure,
                                'kaireon.recommend_batch(text, text[], integer, jsonb)'::regprocedure)
                  AND p.prosecdef ORDER BY 1),
          ARRAY['kaireon.recommend(text,text,integer,jsonb) search_path=pg_catalog, pg_temp',
                'kaireon.recommend_batch(text,text[],integer,jsonb) search_path=pg_catalog, pg_temp',
                'kaireon_recommend(jsonb) search_path=pg_catalog, pg_temp'],
          'kaireon_recommend, recommend and recommend_batch are SECURITY DEFINER with search_path = pg_catalog, pg_temp');

-- Exercised: an application decides for its own tenant only ---------------------

SET ROLE kr10_app1;
SET kaireon.tenant = 'kr10-t1';
INSERT INTO kr10.answers VALUES ('app1', kaireon_recommend('{"customerId": "c1", "flow": "f1", "trace": true}'));
SELECT is((SELECT ARRAY(SELECT o ->> 'offerId' FROM jsonb_array_elements(doc -> 'offers') o) FROM kr10.answers
           WHERE who = 'app1'),
          ARRAY['one-a', 'one-b'], 'app1 on t1: kaireon_recommend answers with t1''s offers');
SELECT ok((SELECT doc ->> 'decisionId' IS NOT NULL AND doc ->> 'traceId' IS NOT NULL FROM kr10.answers WHERE who = 'app1'),
          'app1 on t1: the decision is recorded (decisionId) and traced (traceId)');
SELECT is(ARRAY(SELECT format('%s %s %s', rank, offer_id, decision_id IS NOT NULL) FROM kaireon.recommend('c2', 'f1', 1)),
          ARRAY['1 one-a t'], 'app1 on t1: kaireon.recommend answers with t1''s offers');
SELECT is(ARRAY(SELECT format('%s %s %s', customer_id, rank, offer_id) FROM kaireon.recommend_batch('f1', ARRAY['c1', 'c2'], 1)),
          ARRAY['c1 1 one-a', 'c2 1 one-a'], 'app1 on t1: kaireon.recommend_batch answers with t1''s offers');
SELECT throws_ok($$SELECT kaireon_recommend('{"customerId": "c1", "flow": "f1", "dryRun": true}')$$, 'KR403',
                 'dryRun is for administrators (kaireon_admin)', 'app1: a dry run is for administrators (KR403)');
SET kaireon.tenant = 'kr10-t2';
SELECT throws_ok($$SELECT kaireon_recommend('{"customerId": "c1", "flow": "f1"}')$$, 'KR403',
                 'role "kr10_app1" may not act on tenant "kr10-t2"', 'app1 selecting t2: kaireon_recommend is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.recommend('c1', 'f1')$$, 'KR403',
                 'role "kr10_app1" may not act on tenant "kr10-t2"', 'app1 selecting t2: kaireon.recommend is KR403');
SELECT throws_ok($$SELECT * FROM kaireon.recommend_batch('f1', ARRAY['c1'])$$, 'KR403',
                 'role "kr10_app1" may not act on tenant "kr10-t2"', 'app1 selecting t2: kaireon.recommend_batch is KR403');
RESET kaireon.tenant;
SELECT throws_ok($$SELECT kaireon_recommend('{"customerId": "c1", "flow": "f1"}')$$, 'KR400', 'no tenant selected',
                 'app1 without kaireon.tenant: kaireon_recommend is KR400 (no tenant selected)');
RESET ROLE;

SET ROLE kr10_app2;
SET kaireon.tenant = 'kr10-t2';
INSERT INTO kr10.answers VALUES ('app2', kaireon_recommend('{"customerId": "c1", "flow": "f1", "trace": true}'));
SELECT is((SELECT ARRAY(SELECT o ->> 'offerId' FROM jsonb_array_elements(doc -> 'offers') o) FROM kr10.answers
           WHERE who = 'app2'),
          ARRAY['two-a', 'two-b'], 'app2 on t2: kaireon_recommend answers with t2''s offers');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr10_stranger;
SET kaireon.tenant = 'kr10-t1';
SELECT throws_ok($$SELECT kaireon_recommend('{"customerId": "c1", "flow": "f1"}')$$, 'KR403',
                 'role "kr10_stranger" may not act on tenant "kr10-t1"',
                 'a stranger (kaireon_app, no grant) selecting t1: kaireon_recommend is KR403');
RESET kaireon.tenant;
RESET ROLE;

-- Readers may not decide.
SET ROLE kr10_reader1;
SET kaireon.tenant = 'kr10-t1';
SELECT throws_ok($$SELECT kaireon_recommend('{"customerId": "c1", "flow": "f1"}')$$, '42501',
                 'permission denied for function kaireon_recommend', 'reader1 may not call kaireon_recommend');
SELECT throws_ok($$SELECT * FROM kaireon.recommend('c1', 'f1')$$, '42501',
                 'permission denied for function recommend', 'reader1 may not call kaireon.recommend');
SELECT throws_ok($$SELECT * FROM kaireon.recommend_batch('f1', ARRAY['c1'])$$, '42501',
                 'permission denied for function recommend_batch', 'reader1 may not call kaireon.recommend_batch');
RESET kaireon.tenant;
RESET ROLE;

-- Administrators decide for the tenant they select; a dry run records nothing.
SET ROLE kr10_admin;
SET kaireon.tenant = 'kr10-t2';
INSERT INTO kr10.answers VALUES ('admin dry run', kaireon_recommend('{"customerId": "c2", "flow": "f1", "dryRun": true, "trace": true}'));
SELECT is((SELECT format('%s %s %s %s', doc -> 'decisionId', doc -> 'dryRun', doc ? 'traceId', jsonb_array_length(doc -> 'trace'))
           FROM kr10.answers WHERE who = 'admin dry run'),
          'null true f 7', 'admin on t2: a dry run answers with no decisionId, no traceId and the 7-stage trace inline');
SELECT is((SELECT doc -> 'offers' -> 0 ->> 'offerId' FROM kr10.answers WHERE who = 'admin dry run'), 'two-a',
          'admin on t2: the dry run decides with t2''s catalog');
RESET kaireon.tenant;
RESET ROLE;

-- What was recorded, as the superuser sees it: app1's three calls (four
-- decisions) and one trace in t1, app2's decision and trace in t2, nothing
-- of the refused calls or of the dry run.
SELECT is(ARRAY(SELECT format('%s %s %s', tenant_id, customer_id, trace_id IS NOT NULL) FROM kaireon.decisions
                WHERE tenant_id LIKE 'kr10-%' ORDER BY 1),
          ARRAY['kr10-t1 c1 f', 'kr10-t1 c1 t', 'kr10-t1 c2 f', 'kr10-t1 c2 f', 'kr10-t2 c1 t'],
          'the decisions recorded: four in t1 (one traced), one in t2 (traced); none for refused calls or the dry run');
SELECT is((SELECT doc ->> 'decisionId' FROM kr10.answers WHERE who = 'app1'),
          (SELECT d.id::text FROM kaireon.decisions d WHERE d.tenant_id = 'kr10-t1' AND d.trace_id IS NOT NULL),
          'app1''s decisionId is its record in t1');
SELECT is((SELECT format('%s %s %s', t.tenant_id, t.id::text = a.doc ->> 'traceId', t.decision_id::text = a.doc ->> 'decisionId')
           FROM kaireon.decision_traces t, kr10.answers a WHERE t.tenant_id = 'kr10-t1' AND a.who = 'app1'),
          'kr10-t1 t t', 'app1''s traceId is its trace in t1, linked to its decision');

-- Exercised: every role sees only its tenant's decisions and traces -----------------

SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t1=1', 'kaireon.decision_traces kr10-t2=1',
                             'kaireon.decisions kr10-t1=4', 'kaireon.decisions kr10-t2=1'],
          'the fixture: the superuser sees both tenants'' decisions and traces');

SET ROLE kr10_app1;
SET kaireon.tenant = 'kr10-t1';
SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t1=1', 'kaireon.decisions kr10-t1=4'],
          'app1 on t1 reads t1''s decisions and traces, nothing of t2');
SET kaireon.tenant = 'kr10-t2';
SELECT is(kr10.seen(), '{}', 'app1 setting t2 sees zero decisions and traces');
RESET kaireon.tenant;
SELECT is(kr10.seen(), '{}', 'app1 without kaireon.tenant sees zero decisions and traces');
RESET ROLE;

SET ROLE kr10_app2;
SET kaireon.tenant = 'kr10-t2';
SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t2=1', 'kaireon.decisions kr10-t2=1'],
          'app2 on t2 reads t2''s decisions and traces, nothing of t1');
SET kaireon.tenant = 'kr10-t1';
SELECT is(kr10.seen(), '{}', 'app2 setting t1 sees zero decisions and traces');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr10_reader1;
SET kaireon.tenant = 'kr10-t1';
SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t1=1', 'kaireon.decisions kr10-t1=4'],
          'reader1 on t1 reads t1''s decisions and traces, nothing of t2');
SET kaireon.tenant = 'kr10-t2';
SELECT is(kr10.seen(), '{}', 'reader1 setting t2 sees zero decisions and traces');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr10_reader2;
SET kaireon.tenant = 'kr10-t2';
SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t2=1', 'kaireon.decisions kr10-t2=1'],
          'reader2 on t2 reads t2''s decisions and traces, nothing of t1');
SET kaireon.tenant = 'kr10-t1';
SELECT is(kr10.seen(), '{}', 'reader2 setting t1 sees zero decisions and traces');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr10_stranger;
SET kaireon.tenant = 'kr10-t1';
SELECT is(kr10.seen(), '{}', 'a stranger setting t1 sees zero decisions and traces');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr10_admin;
SET kaireon.tenant = 'kr10-t1';
SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t1=1', 'kaireon.decisions kr10-t1=4'],
          'admin on t1 reads t1''s decisions and traces only');
SET kaireon.tenant = 'kr10-t2';
SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t2=1', 'kaireon.decisions kr10-t2=1'],
          'admin on t2 reads t2''s decisions and traces only');
RESET kaireon.tenant;
SELECT is(kr10.seen(), '{}', 'admin without kaireon.tenant sees zero decisions and traces');
RESET ROLE;

-- Exercised: nobody writes the records, whatever the tenant -------------------------

SET ROLE kr10_app1;
SET kaireon.tenant = 'kr10-t1';
SELECT throws_ok($$INSERT INTO kaireon.decisions (tenant_id, customer_id, flow, offers) VALUES ('kr10-t1', 'c1', 'f1', '[]')$$,
                 '42501', 'permission denied for table decisions', 'app1 may not insert a decision record');
SELECT throws_ok($$UPDATE kaireon.decisions SET offers = '[]'$$, '42501', 'permission denied for table decisions',
                 'app1 may not update its decision records');
SELECT throws_ok($$DELETE FROM kaireon.decision_traces$$, '42501', 'permission denied for table decision_traces',
                 'app1 may not delete its traces');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr10_admin;
SET kaireon.tenant = 'kr10-t1';
SELECT throws_ok($$DELETE FROM kaireon.decisions$$, '42501', 'permission denied for table decisions',
                 'admin may not delete decision records');
SELECT throws_ok($$UPDATE kaireon.decision_traces SET stages = '[]'$$, '42501',
                 'permission denied for table decision_traces', 'admin may not update traces');
RESET kaireon.tenant;
RESET ROLE;

-- drop_tenant removes the tenant's decisions and traces (registered 'delete').
SELECT lives_ok($$SELECT kaireon.drop_tenant('kr10-t2')$$, 'drop_tenant(t2)');
SELECT is(kr10.seen(), ARRAY['kaireon.decision_traces kr10-t1=1', 'kaireon.decisions kr10-t1=4'],
          'after drop_tenant(t2): t2''s decisions and traces are gone, t1''s stay');

SELECT * FROM finish();
ROLLBACK;

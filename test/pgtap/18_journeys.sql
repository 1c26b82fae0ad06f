-- 18_journeys.sql - the shape and the access of journeys (SPEC 6.7,
-- docs/automation.md): kaireon.journey_instances, journey_transitions and
-- journey_enrollments under row-level security like every tenant table
-- (tenant_isolation policy, tenant_id first in the key, foreign keys ON
-- DELETE CASCADE, registered for drop_tenant and for pg_dump, the
-- instances' identity sequence too), the view journey_summary
-- (security_invoker); every kaireon role reads them and none writes them;
-- kaireon.enroll_journey and kaireon.exit_journey for administrators and
-- applications, kaireon.advance_journeys (and tick) for administrators,
-- kaireon._advance_journey for no kaireon role; SECURITY DEFINER functions
-- with a pinned search_path, nothing to PUBLIC; and, with two tenants
-- enrolling, that an application enrols for its own tenant only (KR403 for
-- another or without a grant), that readers may not enrol or exit (42501),
-- that applications may not advance the journeys of every tenant (42501),
-- and that every role sees only its tenant's instances, transitions,
-- enrolments and summary.
--
-- What a journey does (nodes, modes, waits, ticks) is for sql/journeys.sql
-- and test/isolation/specs/journey_concurrency.spec; this file is about the
-- schema and access.
BEGIN;
SELECT plan(49);

SET LOCAL timezone = 'UTC';
SET LOCAL kaireon.test_clock = '2026-06-10T12:00:00Z';

CREATE ROLE kr18_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr18_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr18_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr18_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr18_stranger NOLOGIN IN ROLE kaireon_app;   -- granted no tenant

CREATE SCHEMA kr18;
GRANT USAGE ON SCHEMA kr18 TO PUBLIC;

-- seen: what the current role sees of the journeys' rows (RLS decides; the
-- helper runs as the invoker), one line per row: "i tenant journey customer
-- status node", "t tenant journey customer step reason", "e tenant journey
-- customer enrolled", "s tenant journey status at customers".
CREATE FUNCTION kr18.seen() RETURNS text[]
LANGUAGE sql AS $$
    SELECT ARRAY(
        SELECT line FROM (
            SELECT format('i %s %s %s %s %s', i.tenant_id, i.journey_id, i.customer_id, i.status,
                          coalesce(i.node_id, '-')) AS line
            FROM kaireon.journey_instances i
            UNION ALL
            SELECT format('t %s %s %s %s %s', t.tenant_id, t.journey_id, t.customer_id, t.step, t.reason)
            FROM kaireon.journey_transitions t
            UNION ALL
            SELECT format('e %s %s %s %s', e.tenant_id, e.journey_id, e.customer_id, e.enrolled)
            FROM kaireon.journey_enrollments e
            UNION ALL
            SELECT format('s %s %s %s %s %s', s.tenant_id, s.journey_id, s.status, s.at, s.customers)
            FROM kaireon.journey_summary s) x
        ORDER BY line)
$$;

-- Two tenants with the same catalog: customers c1 and c2, the journey j (a
-- wait for a click, 24 h, then done); both have journeys by override.
DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr18-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr18-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr18_app1', 'kr18-t1');
    PERFORM kaireon.grant_tenant('kr18_app2', 'kr18-t2');
    PERFORM kaireon.grant_tenant('kr18_reader1', 'kr18-t1');
    FOR i IN 1 .. 2 LOOP
        PERFORM set_config('kaireon.tenant', 'kr18-t' || i, true);
        PERFORM kaireon.set_override('journeys', '{"enabled": true}');
        PERFORM kaireon.apply_catalog($cat${
            "outcomeTypes": [{"id": "click", "kind": "positive"}],
            "customers": [{"id": "c1"}, {"id": "c2"}],
            "journeys": [{"id": "j", "nodes": [{"id": "wait", "type": "wait", "outcome": "click", "timeoutHours": 24},
                                                {"id": "done", "type": "exit"}],
                          "edges": [{"from": "wait", "to": "done"}]}]
        }$cat$::jsonb);
    END LOOP;
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- Schema ---------------------------------------------------------------------------------

SELECT has_table('kaireon', 'journey_instances', 'kaireon.journey_instances exists');
SELECT has_table('kaireon', 'journey_transitions', 'kaireon.journey_transitions exists');
SELECT has_table('kaireon', 'journey_enrollments', 'kaireon.journey_enrollments exists');
SELECT has_view('kaireon', 'journey_summary', 'kaireon.journey_summary exists');

CREATE FUNCTION kr18.columns(rel regclass) RETURNS text[]
LANGUAGE sql AS $$
    SELECT ARRAY(SELECT format('%s %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                               CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
                 FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
$$;
SELECT is(kr18.columns('kaireon.journey_instances'),
          ARRAY['tenant_id text NOT NULL', 'id bigint NOT NULL', 'journey_id text NOT NULL', 'customer_id text NOT NULL',
                'status text NOT NULL', 'node_id text', 'node_entered_at timestamp with time zone NOT NULL',
                'entered_at timestamp with time zone NOT NULL', 'expires_at timestamp with time zone',
                'wake_at timestamp with time zone', 'context jsonb NOT NULL', 'outcomes jsonb NOT NULL',
                'steps integer NOT NULL', 'last_decision_id uuid', 'last_error text',
                'ended_at timestamp with time zone', 'end_reason text'],
          'kaireon.journey_instances has the documented columns, types and NOT NULLs, in order');
SELECT is(kr18.columns('kaireon.journey_transitions'),
          ARRAY['tenant_id text NOT NULL', 'instance_id bigint NOT NULL', 'step integer NOT NULL',
                'journey_id text NOT NULL', 'customer_id text NOT NULL', 'from_node text', 'to_node text',
                'reason text NOT NULL', 'decision_id uuid', 'at timestamp with time zone NOT NULL'],
          'kaireon.journey_transitions has the documented columns, types and NOT NULLs, in order');
SELECT is(kr18.columns('kaireon.journey_enrollments'),
          ARRAY['tenant_id text NOT NULL', 'journey_id text NOT NULL', 'customer_id text NOT NULL',
                'enrolled bigint NOT NULL', 'last_enrolled_at timestamp with time zone'],
          'kaireon.journey_enrollments has the documented columns, types and NOT NULLs, in order');
SELECT is(kr18.columns('kaireon.journey_summary'),
          ARRAY['tenant_id text', 'journey_id text', 'status text', 'at text', 'customers bigint'],
          'kaireon.journey_summary has the columns tenant_id, journey_id, status, at, customers');
SELECT is((SELECT attidentity FROM pg_catalog.pg_attribute
           WHERE attrelid = 'kaireon.journey_instances'::regclass AND attname = 'id'), 'a',
          'journey_instances.id is GENERATED ALWAYS AS IDENTITY');

SELECT col_is_pk('kaireon', 'journey_instances', ARRAY['tenant_id', 'id'],
                 'kaireon.journey_instances is keyed by (tenant_id, id)');
SELECT col_is_pk('kaireon', 'journey_transitions', ARRAY['tenant_id', 'instance_id', 'step'],
                 'kaireon.journey_transitions is keyed by (tenant_id, instance_id, step)');
SELECT col_is_pk('kaireon', 'journey_enrollments', ARRAY['tenant_id', 'journey_id', 'customer_id'],
                 'kaireon.journey_enrollments is keyed by (tenant_id, journey_id, customer_id)');
SELECT is(ARRAY(SELECT format('%s %s %s', k.conrelid::regclass, k.contype, pg_catalog.pg_get_constraintdef(k.oid))
                FROM pg_catalog.pg_constraint k
                WHERE k.conrelid IN ('kaireon.journey_instances'::regclass, 'kaireon.journey_transitions'::regclass,
                                     'kaireon.journey_enrollments'::regclass)
                  AND k.contype = 'f' ORDER BY 1),
          ARRAY['kaireon.journey_enrollments f FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants(tenant_id) ON DELETE CASCADE',
                'kaireon.journey_instances f FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants(tenant_id) ON DELETE CASCADE',
                'kaireon.journey_transitions f FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants(tenant_id) ON DELETE CASCADE',
                'kaireon.journey_transitions f FOREIGN KEY (tenant_id, instance_id) REFERENCES kaireon.journey_instances(tenant_id, id) ON DELETE CASCADE'],
          'the three tables reference kaireon.tenants, and transitions their instance, ON DELETE CASCADE');

-- Row-level security, drop_tenant, pg_dump --------------------------------------------------

SELECT is(ARRAY(SELECT format('%s %s %s', c.oid::regclass, c.relrowsecurity, c.relforcerowsecurity)
                FROM pg_catalog.pg_class c
                WHERE c.oid IN ('kaireon.journey_instances'::regclass, 'kaireon.journey_transitions'::regclass,
                                'kaireon.journey_enrollments'::regclass) ORDER BY 1),
          ARRAY['kaireon.journey_enrollments t f', 'kaireon.journey_instances t f', 'kaireon.journey_transitions t f'],
          'row-level security is enabled on the three tables');
SELECT is(ARRAY(SELECT format('%s %s %s %s %s %s %s', p.polrelid::regclass, p.polname, p.polcmd, p.polpermissive,
                              p.polroles::regrole[], pg_catalog.pg_get_expr(p.polqual, p.polrelid), p.polwithcheck IS NULL)
                FROM pg_catalog.pg_policy p
                WHERE p.polrelid IN ('kaireon.journey_instances'::regclass, 'kaireon.journey_transitions'::regclass,
                                     'kaireon.journey_enrollments'::regclass) ORDER BY 1),
          ARRAY['kaireon.journey_enrollments tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant()) t',
                'kaireon.journey_instances tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant()) t',
                'kaireon.journey_transitions tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant()) t'],
          'each has one policy, tenant_isolation: permissive, all commands and roles, tenant_id = visible_tenant()');
SELECT is((SELECT c.reloptions FROM pg_catalog.pg_class c WHERE c.oid = 'kaireon.journey_summary'::regclass),
          ARRAY['security_invoker=true'], 'kaireon.journey_summary is security_invoker (RLS applies to its reader)');
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                WHERE tt.table_name IN ('kaireon.journey_instances'::regclass, 'kaireon.journey_transitions'::regclass,
                                        'kaireon.journey_enrollments'::regclass) ORDER BY 1),
          ARRAY['kaireon.journey_enrollments delete', 'kaireon.journey_instances delete', 'kaireon.journey_transitions delete'],
          'the three are registered in kaireon.tenant_tables, their rows deleted by drop_tenant');
SELECT is(ARRAY(SELECT format('%s [%s]', c::regclass, e.extcondition[array_position(e.extconfig, c)])
                FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                WHERE e.extname = 'kaireon' AND c::regclass::text LIKE 'kaireon.journey\_%' ORDER BY 1),
          ARRAY['kaireon.journey_enrollments []', 'kaireon.journey_instances []', 'kaireon.journey_instances_id_seq []',
                'kaireon.journey_transitions []'],
          'the three tables and the instances'' identity sequence are dumped (pg_extension_config_dump, no filter)');

-- Privileges: tables and view ---------------------------------------------------------------

SELECT is(ARRAY(SELECT format('%s %s %s', c.oid::regclass, a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid IN ('kaireon.journey_instances'::regclass, 'kaireon.journey_transitions'::regclass,
                                'kaireon.journey_enrollments'::regclass, 'kaireon.journey_summary'::regclass)
                  AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['kaireon.journey_enrollments kaireon_admin SELECT', 'kaireon.journey_enrollments kaireon_app SELECT',
                'kaireon.journey_enrollments kaireon_reader SELECT',
                'kaireon.journey_instances kaireon_admin SELECT', 'kaireon.journey_instances kaireon_app SELECT',
                'kaireon.journey_instances kaireon_reader SELECT',
                'kaireon.journey_summary kaireon_admin SELECT', 'kaireon.journey_summary kaireon_app SELECT',
                'kaireon.journey_summary kaireon_reader SELECT',
                'kaireon.journey_transitions kaireon_admin SELECT', 'kaireon.journey_transitions kaireon_app SELECT',
                'kaireon.journey_transitions kaireon_reader SELECT'],
          'the tables and the view: SELECT (only) granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else (not PUBLIC)');
SELECT is(ARRAY(SELECT format('%s %s %s', t, r, p)
                FROM unnest(ARRAY['kaireon.journey_instances', 'kaireon.journey_transitions',
                                  'kaireon.journey_enrollments', 'kaireon.journey_summary']) t,
                     unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'public']) r,
                     unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, t, p) ORDER BY 1),
          ARRAY['kaireon.journey_enrollments kaireon_admin SELECT', 'kaireon.journey_enrollments kaireon_app SELECT',
                'kaireon.journey_enrollments kaireon_reader SELECT',
                'kaireon.journey_instances kaireon_admin SELECT', 'kaireon.journey_instances kaireon_app SELECT',
                'kaireon.journey_instances kaireon_reader SELECT',
                'kaireon.journey_summary kaireon_admin SELECT', 'kaireon.journey_summary kaireon_app SELECT',
                'kaireon.journey_summary kaireon_reader SELECT',
                'kaireon.journey_transitions kaireon_admin SELECT', 'kaireon.journey_transitions kaireon_app SELECT',
                'kaireon.journey_transitions kaireon_reader SELECT'],
          'the kaireon roles may only SELECT them (not even through membership), PUBLIC nothing');
SELECT is(ARRAY(SELECT format('%s.%s', a.attrelid::regclass, a.attname) FROM pg_catalog.pg_attribute a
                WHERE a.attrelid IN ('kaireon.journey_instances'::regclass, 'kaireon.journey_transitions'::regclass,
                                     'kaireon.journey_enrollments'::regclass, 'kaireon.journey_summary'::regclass)
                  AND a.attacl IS NOT NULL ORDER BY 1),
          ARRAY[]::text[], 'no column of the tables or the view has grants of its own');
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('S', c.relowner))) a
                WHERE c.oid = 'kaireon.journey_instances_id_seq'::regclass AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY[]::text[], 'the instances'' identity sequence is granted to nobody (not PUBLIC)');

-- Functions -----------------------------------------------------------------------------------

SELECT is(ARRAY(SELECT format('%s(%s) %s', p.proname, pg_catalog.pg_get_function_arguments(p.oid),
                              pg_catalog.pg_get_function_result(p.oid))
                FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = 'kaireon'::regnamespace
                  AND p.proname IN ('enroll_journey', 'exit_journey', '_advance_journey', 'advance_journeys')
                ORDER BY 1),
          ARRAY['_advance_journey(tenant_id text, instance_id bigint) jsonb',
                'advance_journeys(max_instances integer DEFAULT 1000) jsonb',
                'enroll_journey(customer_id text, journey_id text, context jsonb DEFAULT ''{}''::jsonb, mode text DEFAULT ''skip_if_active''::text) jsonb',
                'exit_journey(customer_id text, journey_id text) jsonb'],
          'enroll_journey, exit_journey, _advance_journey, advance_journeys: documented signatures (no other overloads)');
SELECT is(ARRAY(SELECT format('%s %s %s %s', p.proname, p.prosecdef, p.provolatile, p.proconfig)
                FROM pg_catalog.pg_proc p
                WHERE p.oid IN ('kaireon.enroll_journey(text, text, jsonb, text)'::regprocedure,
                                'kaireon.exit_journey(text, text)'::regprocedure,
                                'kaireon._advance_journey(text, bigint)'::regprocedure,
                                'kaireon.advance_journeys(integer)'::regprocedure,
                                'kaireon.tick()'::regprocedure) ORDER BY 1),
          ARRAY['_advance_journey f v {"search_path=pg_catalog, pg_temp"}',
                'advance_journeys t v {"search_path=pg_catalog, pg_temp"}',
                'enroll_journey t v {"search_path=pg_catalog, pg_temp"}',
                'exit_journey t v {"search_path=pg_catalog, pg_temp"}',
                'tick t v {"search_path=pg_catalog, pg_temp"}'],
          'VOLATILE; enroll_journey, exit_journey, advance_journeys and tick SECURITY DEFINER, all with search_path = pg_catalog, pg_temp');
SELECT is(ARRAY(SELECT format('%s %s %s', p.proname, a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid IN ('kaireon.enroll_journey(text, text, jsonb, text)'::regprocedure,
                                'kaireon.exit_journey(text, text)'::regprocedure,
                                'kaireon._advance_journey(text, bigint)'::regprocedure,
                                'kaireon.advance_journeys(integer)'::regprocedure,
                                'kaireon.tick()'::regprocedure)
                  AND a.grantee <> p.proowner ORDER BY 1),
          ARRAY['advance_journeys kaireon_admin EXECUTE',
                'enroll_journey kaireon_admin EXECUTE', 'enroll_journey kaireon_app EXECUTE',
                'exit_journey kaireon_admin EXECUTE', 'exit_journey kaireon_app EXECUTE',
                'tick kaireon_admin EXECUTE'],
          'EXECUTE granted: enroll_journey and exit_journey to admin and app, advance_journeys and tick to admin, _advance_journey to nobody (not PUBLIC)');
SELECT is(ARRAY(SELECT format('%s %s', f, r)
                FROM unnest(ARRAY['kaireon.enroll_journey(text, text, jsonb, text)', 'kaireon.exit_journey(text, text)',
                                  'kaireon._advance_journey(text, bigint)', 'kaireon.advance_journeys(integer)']) f,
                     unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'public',
                                  'kr18_app1', 'kr18_reader1', 'kr18_admin']) r
                WHERE has_function_privilege(r, f, 'EXECUTE') ORDER BY 1),
          ARRAY['kaireon.advance_journeys(integer) kaireon_admin', 'kaireon.advance_journeys(integer) kr18_admin',
                'kaireon.enroll_journey(text, text, jsonb, text) kaireon_admin',
                'kaireon.enroll_journey(text, text, jsonb, text) kaireon_app',
                'kaireon.enroll_journey(text, text, jsonb, text) kr18_admin',
                'kaireon.enroll_journey(text, text, jsonb, text) kr18_app1',
                'kaireon.exit_journey(text, text) kaireon_admin', 'kaireon.exit_journey(text, text) kaireon_app',
                'kaireon.exit_journey(text, text) kr18_admin', 'kaireon.exit_journey(text, text) kr18_app1'],
          'EXECUTE (also through membership): enroll and exit for admins and apps, advance_journeys for admins, _advance_journey for none; readers and PUBLIC nothing');

-- Exercised: an application enrols for its own tenant only -----------------------------------

-- app1 on t1: c1 enters j (and waits there).
SET LOCAL ROLE kr18_app1;
SET LOCAL kaireon.tenant = 'kr18-t1';
SELECT is(kaireon.enroll_journey('c1', 'j') - 'instanceId' - 'transitions',
          '{"journeyId": "j", "customerId": "c1", "enrolled": true, "status": "active", "node": "wait"}'::jsonb,
          'app1 on t1 enrols c1 in j (it waits at wait)');
SELECT is(kr18.seen(),
          ARRAY['e kr18-t1 j c1 1', 'i kr18-t1 j c1 active wait', 's kr18-t1 j active wait 1', 't kr18-t1 j c1 1 entered'],
          'app1 on t1 sees t1''s instance, its transition, the enrolment and the summary');
SELECT throws_ok($$INSERT INTO kaireon.journey_enrollments VALUES ('kr18-t1', 'j', 'c2', 0, NULL)$$,
                 '42501', 'permission denied for table journey_enrollments', 'app1 may not write enrolments by hand');
SELECT throws_ok($$UPDATE kaireon.journey_instances SET wake_at = now()$$,
                 '42501', 'permission denied for table journey_instances', 'app1 may not move its instances by hand');
SELECT throws_ok($$SELECT kaireon.advance_journeys()$$,
                 '42501', 'permission denied for function advance_journeys',
                 'app1 may not advance the journeys (of every tenant): advance_journeys is 42501');
SELECT throws_ok($$SELECT kaireon._advance_journey('kr18-t1', 1)$$,
                 '42501', 'permission denied for function _advance_journey', 'app1 may not call _advance_journey');
SET LOCAL kaireon.tenant = 'kr18-t2';
SELECT throws_ok($$SELECT kaireon.enroll_journey('c1', 'j')$$,
                 'KR403', 'role "kr18_app1" may not act on tenant "kr18-t2"',
                 'app1 selecting t2: enroll_journey is KR403 (it enrols into the selected tenant only)');
SELECT throws_ok($$SELECT kaireon.exit_journey('c1', 'j')$$,
                 'KR403', 'role "kr18_app1" may not act on tenant "kr18-t2"', 'app1 selecting t2: exit_journey is KR403');
RESET ROLE;

-- app2 on t2: c1 and c2 enter j (t1's instance of c1 is not t2's).
SET LOCAL ROLE kr18_app2;
SET LOCAL kaireon.tenant = 'kr18-t2';
SELECT is(ARRAY[kaireon.enroll_journey('c1', 'j') ->> 'enrolled', kaireon.enroll_journey('c2', 'j') ->> 'enrolled'],
          ARRAY['true', 'true'], 'app2 on t2 enrols c1 and c2 (c1''s instance in t1 does not count in t2)');
SELECT is(kr18.seen(),
          ARRAY['e kr18-t2 j c1 1', 'e kr18-t2 j c2 1', 'i kr18-t2 j c1 active wait', 'i kr18-t2 j c2 active wait',
                's kr18-t2 j active wait 2', 't kr18-t2 j c1 1 entered', 't kr18-t2 j c2 1 entered'],
          'app2 on t2 sees t2''s rows only');
SELECT is(kaireon.exit_journey('c2', 'j') ->> 'exited', '1', 'app2 on t2 takes c2 out of j');
SET LOCAL kaireon.tenant = 'kr18-t1';
SELECT is(kr18.seen(), ARRAY[]::text[], 'app2 selecting t1 sees nothing of t1''s journeys');
RESET ROLE;

-- A reader may read its tenant's rows but neither enrol nor exit.
SET LOCAL ROLE kr18_reader1;
SET LOCAL kaireon.tenant = 'kr18-t1';
SELECT throws_ok($$SELECT kaireon.enroll_journey('c2', 'j')$$,
                 '42501', 'permission denied for function enroll_journey', 'reader1 may not enrol (42501)');
SELECT throws_ok($$SELECT kaireon.exit_journey('c1', 'j')$$,
                 '42501', 'permission denied for function exit_journey', 'reader1 may not exit a customer (42501)');
SELECT is(kr18.seen(),
          ARRAY['e kr18-t1 j c1 1', 'i kr18-t1 j c1 active wait', 's kr18-t1 j active wait 1', 't kr18-t1 j c1 1 entered'],
          'reader1 on t1 sees t1''s rows only');
SET LOCAL kaireon.tenant = 'kr18-t2';
SELECT is(kr18.seen(), ARRAY[]::text[], 'reader1 selecting t2 (not granted) sees nothing');
RESET ROLE;

-- An administrator sees the selected tenant's rows only, none without one,
-- and may advance the journeys.
SET LOCAL ROLE kr18_admin;
SET LOCAL kaireon.tenant = 'kr18-t2';
SELECT is(kr18.seen(),
          ARRAY['e kr18-t2 j c1 1', 'e kr18-t2 j c2 1', 'i kr18-t2 j c1 active wait', 'i kr18-t2 j c2 exited -',
                's kr18-t2 j active wait 1', 's kr18-t2 j exited removed 1', 't kr18-t2 j c1 1 entered',
                't kr18-t2 j c2 1 entered', 't kr18-t2 j c2 2 removed'],
          'admin on t2 sees t2''s rows only (c2 exited, reason removed)');
SET LOCAL kaireon.tenant = '';
SELECT is(kr18.seen(), ARRAY[]::text[], 'admin without kaireon.tenant sees nothing');
SELECT is(kaireon.advance_journeys() ->> 'failed', '0', 'admin may run advance_journeys');
RESET ROLE;

-- A kaireon_app granted no tenant.
SET LOCAL ROLE kr18_stranger;
SET LOCAL kaireon.tenant = 'kr18-t1';
SELECT throws_ok($$SELECT kaireon.enroll_journey('c2', 'j')$$,
                 'KR403', 'role "kr18_stranger" may not act on tenant "kr18-t1"',
                 'a stranger (kaireon_app, no grant) selecting t1: enroll_journey is KR403');
SELECT is(kr18.seen(), ARRAY[]::text[], 'a stranger selecting t1 sees nothing');
RESET ROLE;
SET LOCAL kaireon.tenant = '';

-- What was recorded, as the superuser sees it: nothing of the refused calls.
SELECT is(ARRAY(SELECT format('%s %s %s %s', tenant_id, customer_id, status, coalesce(end_reason, '-'))
                FROM kaireon.journey_instances WHERE tenant_id LIKE 'kr18-%' ORDER BY 1),
          ARRAY['kr18-t1 c1 active -', 'kr18-t2 c1 active -', 'kr18-t2 c2 exited removed'],
          'the instances recorded: c1 in t1, c1 and c2 in t2; none for refused calls');

-- drop_tenant removes the tenant's journey rows.
SELECT is((kaireon.drop_tenant('kr18-t2') -> 'deleted')
              @> '{"kaireon.journey_instances": 2, "kaireon.journey_transitions": 3, "kaireon.journey_enrollments": 2}'::jsonb,
          true, 'drop_tenant(t2) deletes t2''s instances, transitions and enrolments');

SELECT * FROM finish();
ROLLBACK;

-- 16_ingest.sql - the shape and the access of streaming ingest and triggers
-- (SPEC 6.7, docs/automation.md): kaireon.trigger_cooldowns under
-- row-level security like every tenant table (tenant_isolation policy,
-- tenant_id first in the key (tenant_id, trigger_id, customer_id), foreign
-- key to kaireon.tenants ON DELETE CASCADE, registered for drop_tenant and
-- for pg_dump); every kaireon role reads it and none writes it (only the
-- ingest functions do, as its owner); kaireon.ingest_event and
-- kaireon.ingest_events for administrators and applications only, SECURITY
-- DEFINER with a pinned search_path, nothing to PUBLIC; and, with two
-- tenants ingesting, that an application ingests for its own tenant only
-- (KR403 for another or without a grant), that readers may not ingest
-- (42501), that every role sees only its tenant's cooldowns, and that
-- drop_tenant removes them.
--
-- What a trigger does (conditions, priorities, actions, the tier gates,
-- KR400s) is for sql/ingest.sql; this file is about the schema and access.
BEGIN;
SELECT plan(47);

SET LOCAL timezone = 'UTC';
SET LOCAL kaireon.test_clock = '2026-06-10T12:00:00Z';

CREATE ROLE kr16_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr16_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr16_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr16_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr16_stranger NOLOGIN IN ROLE kaireon_app;   -- granted no tenant

CREATE SCHEMA kr16;
GRANT USAGE ON SCHEMA kr16 TO PUBLIC;

-- The answers the roles got, for the checks after them.
CREATE TABLE kr16.answers (who text PRIMARY KEY, doc jsonb NOT NULL);
GRANT SELECT, INSERT ON kr16.answers TO PUBLIC;

-- cooldowns: "tenant trigger customer last_fired_at fired" for every row of
-- kaireon.trigger_cooldowns the current role sees (RLS decides; the helper
-- runs as the invoker).
CREATE FUNCTION kr16.cooldowns() RETURNS text[]
LANGUAGE sql AS $$
    SELECT ARRAY(SELECT format('%s %s %s %s %s', c.tenant_id, c.trigger_id, c.customer_id,
                               to_char(c.last_fired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'), c.fired)
                 FROM kaireon.trigger_cooldowns c ORDER BY c.tenant_id, c.trigger_id, c.customer_id)
$$;

-- fired: "triggerId fired" for each trigger in an ingest_event answer.
CREATE FUNCTION kr16.fired(doc jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(format('%s %s', t ->> 'triggerId', t ->> 'fired'), ', ' ORDER BY o)
    FROM jsonb_array_elements(doc -> 'triggers') WITH ORDINALITY AS x (t, o)
$$;

-- Two tenants with the same catalog: customers c1 and c2, and one trigger
-- t-ping on the event "ping" (a webhook to the outbox, cooldown one hour);
-- both have streaming ingest and triggers by override.
DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr16-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr16-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr16_app1', 'kr16-t1');
    PERFORM kaireon.grant_tenant('kr16_app2', 'kr16-t2');
    PERFORM kaireon.grant_tenant('kr16_reader1', 'kr16-t1');
    FOR i IN 1 .. 2 LOOP
        PERFORM set_config('kaireon.tenant', 'kr16-t' || i, true);
        PERFORM kaireon.set_override('pipelines.streaming', '{"enabled": true}');
        PERFORM kaireon.set_override('triggers', '{"enabled": true}');
        PERFORM kaireon.apply_catalog($cat${
            "customers": [{"id": "c1"}, {"id": "c2"}],
            "triggers": [{"id": "t-ping", "eventType": "ping", "cooldownSeconds": 3600,
                          "action": {"type": "webhook", "endpointId": 1, "payload": {"template": "ping"}}}]
        }$cat$::jsonb);
    END LOOP;
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- Schema: kaireon.trigger_cooldowns -----------------------------------------------------

SELECT has_table('kaireon', 'trigger_cooldowns', 'kaireon.trigger_cooldowns exists');
SELECT is(ARRAY(SELECT format('%s %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.trigger_cooldowns'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text NOT NULL', 'trigger_id text NOT NULL', 'customer_id text NOT NULL',
                'last_fired_at timestamp with time zone NOT NULL', 'fired bigint NOT NULL'],
          'kaireon.trigger_cooldowns has the documented columns, types and NOT NULLs, in order');
SELECT col_is_pk('kaireon', 'trigger_cooldowns', ARRAY['tenant_id', 'trigger_id', 'customer_id'],
                 'kaireon.trigger_cooldowns is keyed by (tenant_id, trigger_id, customer_id)');
SELECT is(ARRAY(SELECT format('%s %s', k.contype, pg_catalog.pg_get_constraintdef(k.oid)) FROM pg_catalog.pg_constraint k
                WHERE k.conrelid = 'kaireon.trigger_cooldowns'::regclass AND k.contype <> 'p' ORDER BY 1),
          ARRAY['f FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants(tenant_id) ON DELETE CASCADE'],
          'trigger_cooldowns.tenant_id references kaireon.tenants ON DELETE CASCADE (its only constraint besides the key)');
SELECT is((SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = 'kaireon.trigger_cooldowns'::regclass), true,
          'row-level security is enabled on kaireon.trigger_cooldowns');
SELECT is(ARRAY(SELECT format('%s %s %s %s %s %s', p.polname, p.polcmd, p.polpermissive, p.polroles::regrole[],
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid), p.polwithcheck IS NULL)
                FROM pg_catalog.pg_policy p WHERE p.polrelid = 'kaireon.trigger_cooldowns'::regclass),
          ARRAY['tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant()) t'],
          'kaireon.trigger_cooldowns has one policy, tenant_isolation: permissive, all commands and roles, tenant_id = visible_tenant()');
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                WHERE tt.table_name = 'kaireon.trigger_cooldowns'::regclass),
          ARRAY['kaireon.trigger_cooldowns delete'],
          'kaireon.trigger_cooldowns is registered in kaireon.tenant_tables, its rows deleted by drop_tenant');
SELECT is(ARRAY(SELECT format('%s [%s]', c::regclass, e.extcondition[array_position(e.extconfig, c)])
                FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                WHERE e.extname = 'kaireon' AND c = 'kaireon.trigger_cooldowns'::regclass),
          ARRAY['kaireon.trigger_cooldowns []'],
          'kaireon.trigger_cooldowns is registered with pg_extension_config_dump, every row dumped (no filter)');

-- Privileges: every kaireon role reads it; none writes it (the ingest
-- functions write as its owner).
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid = 'kaireon.trigger_cooldowns'::regclass AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['kaireon_admin SELECT', 'kaireon_app SELECT', 'kaireon_reader SELECT'],
          'kaireon.trigger_cooldowns: SELECT (only) granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else (not PUBLIC)');
SELECT is(ARRAY(SELECT format('%s %s', r, p)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'public']) r,
                     unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, 'kaireon.trigger_cooldowns', p) ORDER BY 1),
          ARRAY['kaireon_admin SELECT', 'kaireon_app SELECT', 'kaireon_reader SELECT'],
          'kaireon.trigger_cooldowns: the kaireon roles may only SELECT (not even through membership), PUBLIC nothing');
SELECT is(ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.trigger_cooldowns'::regclass AND a.attacl IS NOT NULL ORDER BY 1),
          ARRAY[]::text[], 'no column of kaireon.trigger_cooldowns has grants of its own');

-- Schema: kaireon.ingest_event and kaireon.ingest_events ----------------------------------

SELECT has_function('kaireon', 'ingest_event', ARRAY['text', 'text', 'jsonb'], 'kaireon.ingest_event(text, text, jsonb) exists');
SELECT has_function('kaireon', 'ingest_events', ARRAY['jsonb'], 'kaireon.ingest_events(jsonb) exists');
SELECT is(ARRAY(SELECT format('%s(%s) %s', p.proname, pg_catalog.pg_get_function_arguments(p.oid),
                              pg_catalog.pg_get_function_result(p.oid))
                FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = 'kaireon'::regnamespace AND p.proname IN ('ingest_event', 'ingest_events')
                ORDER BY 1),
          ARRAY['ingest_event(customer_id text, event_type text, payload jsonb DEFAULT ''{}''::jsonb) jsonb',
                'ingest_events(events jsonb) jsonb'],
          'ingest_event(customer_id, event_type, payload DEFAULT {}) and ingest_events(events) return jsonb (no other overloads)');
SELECT is(ARRAY(SELECT format('%s %s %s %s', p.proname, p.prosecdef, p.provolatile, p.proconfig)
                FROM pg_catalog.pg_proc p
                WHERE p.oid IN ('kaireon.ingest_event(text, text, jsonb)'::regprocedure,
                                'kaireon.ingest_events(jsonb)'::regprocedure) ORDER BY 1),
          ARRAY['ingest_event t v {"search_path=pg_catalog, pg_temp"}',
                'ingest_events t v {"search_path=pg_catalog, pg_temp"}'],
          'both are VOLATILE, SECURITY DEFINER with search_path = pg_catalog, pg_temp');
SELECT is(ARRAY(SELECT format('%s %s %s', p.proname, a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid IN ('kaireon.ingest_event(text, text, jsonb)'::regprocedure,
                                'kaireon.ingest_events(jsonb)'::regprocedure)
                  AND a.grantee <> p.proowner ORDER BY 1),
          ARRAY['ingest_event kaireon_admin EXECUTE', 'ingest_event kaireon_app EXECUTE',
                'ingest_events kaireon_admin EXECUTE', 'ingest_events kaireon_app EXECUTE'],
          'both: EXECUTE granted to kaireon_admin, kaireon_app and nobody else (not kaireon_reader, not PUBLIC)');
SELECT is(ARRAY(SELECT format('%s %s', f, r)
                FROM unnest(ARRAY['kaireon.ingest_event(text, text, jsonb)', 'kaireon.ingest_events(jsonb)']) f,
                     unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'public',
                                  'kr16_app1', 'kr16_reader1', 'kr16_admin']) r
                WHERE has_function_privilege(r, f, 'EXECUTE') ORDER BY 1),
          ARRAY['kaireon.ingest_event(text, text, jsonb) kaireon_admin',
                'kaireon.ingest_event(text, text, jsonb) kaireon_app',
                'kaireon.ingest_event(text, text, jsonb) kr16_admin',
                'kaireon.ingest_event(text, text, jsonb) kr16_app1',
                'kaireon.ingest_events(jsonb) kaireon_admin',
                'kaireon.ingest_events(jsonb) kaireon_app',
                'kaireon.ingest_events(jsonb) kr16_admin',
                'kaireon.ingest_events(jsonb) kr16_app1'],
          'EXECUTE on both for administrators and applications (and their members), not readers, not PUBLIC');

-- Exercised: an application ingests for its own tenant only -------------------------------

-- app1 on t1: c1 pings (t-ping fires), c1 pings again within the hour (the
-- cooldown holds it), c2 pings in a batch (fires).
SET LOCAL ROLE kr16_app1;
SET LOCAL kaireon.tenant = 'kr16-t1';
INSERT INTO kr16.answers VALUES ('app1 1', kaireon.ingest_event('c1', 'ping', '{}'));
INSERT INTO kr16.answers VALUES ('app1 2', kaireon.ingest_event('c1', 'ping', '{}'));
INSERT INTO kr16.answers VALUES ('app1 3', kaireon.ingest_events('[{"customerId": "c2", "eventType": "ping"}]'));
SELECT is(ARRAY(SELECT format('%s: %s', who, kr16.fired(coalesce(doc -> 'events' -> 0, doc))) FROM kr16.answers
                WHERE who LIKE 'app1 %' ORDER BY who),
          ARRAY['app1 1: t-ping true', 'app1 2: t-ping false', 'app1 3: t-ping true'],
          'app1 on t1: t-ping fires for c1, is held by its cooldown on the second ping, fires for c2 (ingest_events)');
SELECT is((SELECT doc -> 'triggers' -> 0 ->> 'reason' FROM kr16.answers WHERE who = 'app1 2'), 'cooldown: 3600s left',
          'app1 on t1: the second ping of c1 is held by the cooldown (3600 s left)');
SELECT is(kr16.cooldowns(),
          ARRAY['kr16-t1 t-ping c1 2026-06-10T12:00:00 1', 'kr16-t1 t-ping c2 2026-06-10T12:00:00 1'],
          'app1 on t1 sees t1''s two cooldown rows (c1 and c2, fired once each at the test clock)');
SELECT throws_ok($$INSERT INTO kaireon.trigger_cooldowns VALUES ('kr16-t1', 't-ping', 'c9', now(), 1)$$,
                 '42501', 'permission denied for table trigger_cooldowns', 'app1 may not insert cooldowns by hand');
SELECT throws_ok($$UPDATE kaireon.trigger_cooldowns SET last_fired_at = '2000-01-01'$$,
                 '42501', 'permission denied for table trigger_cooldowns', 'app1 may not update its cooldowns (to fire again early)');
SELECT throws_ok($$DELETE FROM kaireon.trigger_cooldowns$$,
                 '42501', 'permission denied for table trigger_cooldowns', 'app1 may not delete its cooldowns');
SET LOCAL kaireon.tenant = 'kr16-t2';
SELECT throws_ok($$SELECT kaireon.ingest_event('c1', 'ping', '{}')$$,
                 'KR403', 'role "kr16_app1" may not act on tenant "kr16-t2"',
                 'app1 selecting t2: ingest_event is KR403 (it ingests for the selected tenant only)');
SELECT throws_ok($$SELECT kaireon.ingest_events('[{"customerId": "c1", "eventType": "ping"}]')$$,
                 'KR403', 'role "kr16_app1" may not act on tenant "kr16-t2"',
                 'app1 selecting t2: ingest_events is KR403');
SELECT is(kr16.cooldowns(), ARRAY[]::text[], 'app1 selecting t2 sees no cooldown rows');
SET LOCAL kaireon.tenant = '';
SELECT throws_ok($$SELECT kaireon.ingest_event('c1', 'ping', '{}')$$, 'KR400', 'no tenant selected',
                 'app1 without kaireon.tenant: ingest_event is KR400 (no tenant selected)');
RESET ROLE;

-- app2 on t2: c1 pings (t1's cooldown for c1 is not t2's: it fires).
SET LOCAL ROLE kr16_app2;
SET LOCAL kaireon.tenant = 'kr16-t2';
INSERT INTO kr16.answers VALUES ('app2 1', kaireon.ingest_event('c1', 'ping', '{"n": 1}'));
SELECT is((SELECT kr16.fired(doc) FROM kr16.answers WHERE who = 'app2 1'), 't-ping true',
          'app2 on t2: t-ping fires for c1 (t1''s cooldown for its c1 does not hold t2''s)');
SELECT is(kr16.cooldowns(), ARRAY['kr16-t2 t-ping c1 2026-06-10T12:00:00 1'],
          'app2 on t2 sees t2''s one cooldown row, none of t1''s');
SET LOCAL kaireon.tenant = 'kr16-t1';
SELECT throws_ok($$SELECT kaireon.ingest_event('c2', 'ping', '{}')$$,
                 'KR403', 'role "kr16_app2" may not act on tenant "kr16-t1"',
                 'app2 selecting t1: ingest_event is KR403');
SELECT is(kr16.cooldowns(), ARRAY[]::text[], 'app2 selecting t1 sees no cooldown rows');
RESET ROLE;

-- A reader may read its tenant's cooldowns but not ingest.
SET LOCAL ROLE kr16_reader1;
SET LOCAL kaireon.tenant = 'kr16-t1';
SELECT throws_ok($$SELECT kaireon.ingest_event('c1', 'ping', '{}')$$,
                 '42501', 'permission denied for function ingest_event', 'reader1 may not call ingest_event (42501)');
SELECT throws_ok($$SELECT kaireon.ingest_events('[{"customerId": "c1", "eventType": "ping"}]')$$,
                 '42501', 'permission denied for function ingest_events', 'reader1 may not call ingest_events (42501)');
SELECT is(kr16.cooldowns(),
          ARRAY['kr16-t1 t-ping c1 2026-06-10T12:00:00 1', 'kr16-t1 t-ping c2 2026-06-10T12:00:00 1'],
          'reader1 on t1 sees t1''s two cooldown rows only');
SELECT throws_ok($$DELETE FROM kaireon.trigger_cooldowns$$,
                 '42501', 'permission denied for table trigger_cooldowns', 'reader1 may not delete cooldowns');
SET LOCAL kaireon.tenant = 'kr16-t2';
SELECT is(kr16.cooldowns(), ARRAY[]::text[], 'reader1 selecting t2 (not granted) sees no cooldown rows');
RESET ROLE;

-- An administrator sees the selected tenant's rows only, none without one.
SET LOCAL ROLE kr16_admin;
SET LOCAL kaireon.tenant = 'kr16-t2';
SELECT is(kr16.cooldowns(), ARRAY['kr16-t2 t-ping c1 2026-06-10T12:00:00 1'], 'admin on t2 sees t2''s cooldown row only');
SET LOCAL kaireon.tenant = '';
SELECT is(kr16.cooldowns(), ARRAY[]::text[], 'admin without kaireon.tenant sees no cooldown rows');
RESET ROLE;

-- A kaireon_app granted no tenant.
SET LOCAL ROLE kr16_stranger;
SET LOCAL kaireon.tenant = 'kr16-t1';
SELECT throws_ok($$SELECT kaireon.ingest_event('c1', 'ping', '{}')$$,
                 'KR403', 'role "kr16_stranger" may not act on tenant "kr16-t1"',
                 'a stranger (kaireon_app, no grant) selecting t1: ingest_event is KR403');
SELECT is(kr16.cooldowns(), ARRAY[]::text[], 'a stranger selecting t1 sees no cooldown rows');
SET LOCAL kaireon.tenant = 'kr16-t2';
SELECT is(kr16.cooldowns(), ARRAY[]::text[], 'a stranger selecting t2 sees no cooldown rows');
RESET ROLE;
SET LOCAL kaireon.tenant = '';

-- An hour later, app1 pings c1 again: the same row fires a second time.
SET LOCAL kaireon.test_clock = '2026-06-10T13:00:00Z';
SET LOCAL ROLE kr16_app1;
SET LOCAL kaireon.tenant = 'kr16-t1';
SELECT is(kr16.fired(kaireon.ingest_event('c1', 'ping', '{}')), 't-ping true',
          'app1 on t1 an hour later: t-ping fires again for c1');
SELECT is(kr16.cooldowns(),
          ARRAY['kr16-t1 t-ping c1 2026-06-10T13:00:00 2', 'kr16-t1 t-ping c2 2026-06-10T12:00:00 1'],
          'app1 on t1: c1''s row moved to 13:00 with fired = 2; c2''s unchanged');
RESET ROLE;
SET LOCAL kaireon.tenant = '';

-- What was recorded, as the superuser sees it: nothing of the refused calls.
SELECT is(ARRAY(SELECT format('%s %s %s %s', tenant_id, trigger_id, customer_id, fired)
                FROM kaireon.trigger_cooldowns WHERE tenant_id LIKE 'kr16-%' ORDER BY 1),
          ARRAY['kr16-t1 t-ping c1 2', 'kr16-t1 t-ping c2 1', 'kr16-t2 t-ping c1 1'],
          'the cooldowns recorded: c1 and c2 in t1, c1 in t2; none for refused calls');
SELECT is(ARRAY(SELECT format('%s %s %s', tenant_id, payload ->> 'triggerId', payload ->> 'customerId')
                FROM kaireon.events WHERE tenant_id LIKE 'kr16-%' AND type = 'trigger.fired' ORDER BY id),
          ARRAY['kr16-t1 t-ping c1', 'kr16-t1 t-ping c2', 'kr16-t2 t-ping c1', 'kr16-t1 t-ping c1'],
          'each firing put trigger.fired in its own tenant''s outbox, in order');

-- drop_tenant removes the tenant's cooldowns (registered 'delete').
SELECT is(kaireon.drop_tenant('kr16-t2') -> 'deleted' -> 'kaireon.trigger_cooldowns', '1'::jsonb,
          'drop_tenant(t2) deletes t2''s one cooldown row');
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, count(*)) FROM kaireon.trigger_cooldowns
                WHERE tenant_id LIKE 'kr16-%' GROUP BY tenant_id ORDER BY 1),
          ARRAY['kr16-t1 2'], 'after drop_tenant(t2): t2''s cooldowns are gone, t1''s stay');

SELECT * FROM finish();
ROLLBACK;

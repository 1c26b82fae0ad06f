-- 17_webhooks.sql - the shape and the access of webhook delivery
-- (docs/webhooks.md): kaireon.webhook_deliveries and kaireon.webhook_attempts
-- under row-level security like every tenant table (tenant_isolation,
-- tenant_id first in the key, registered for drop_tenant and for pg_dump);
-- webhook_plan_position readable by no kaireon role; the dead-letter view
-- with security_invoker; the role kaireon_deliverer (NOLOGIN, member of
-- nothing) may run exactly plan, claim, finish and release, and read no
-- table (the endpoints' secrets least of all); administrators redeliver, no
-- one else; the signature function is the owner's only; nothing to PUBLIC;
-- and with two tenants, every role sees only its tenant's deliveries and
-- attempts, and a deliverer's claim carries a signature but never the secret.
--
-- What delivery does (fan-out, order, retries, dead letters) is for
-- sql/webhooks.sql and test/cluster/webhook_delivery.sh.
BEGIN;
SELECT plan(40);

SET LOCAL timezone = 'UTC';
SET LOCAL kaireon.test_clock = '2026-07-01T00:00:00Z';

CREATE ROLE kr17_deliverer NOLOGIN IN ROLE kaireon_deliverer;
CREATE ROLE kr17_admin1 NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr17_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr17_reader2 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr17_app1 NOLOGIN IN ROLE kaireon_app;

CREATE SCHEMA kr17;
GRANT USAGE ON SCHEMA kr17 TO PUBLIC;
CREATE TABLE kr17.claims (n int, tenant_id text, endpoint_id bigint, event_id bigint, attempt int, headers jsonb, body text);
GRANT SELECT, INSERT ON kr17.claims TO PUBLIC;
CREATE FUNCTION kr17.visible(what text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    found text[];
BEGIN
    EXECUTE format('SELECT ARRAY(SELECT DISTINCT tenant_id FROM kaireon.%I ORDER BY 1)', what) INTO found;
    RETURN found;
END
$$;

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr17-t1', 'One', 'one@example.com');
    PERFORM kaireon.create_tenant('kr17-t2', 'Two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr17_reader1', 'kr17-t1');
    PERFORM kaireon.grant_tenant('kr17_reader2', 'kr17-t2');
    PERFORM kaireon.grant_tenant('kr17_app1', 'kr17-t1');
    FOR i IN 1 .. 2 LOOP
        PERFORM set_config('kaireon.tenant', 'kr17-t' || i, true);
        PERFORM kaireon.add_webhook_endpoint('http://127.0.0.1:9/kr17-' || i);
    END LOOP;
    PERFORM set_config('kaireon.tenant', '', true);
    UPDATE kaireon.webhook_endpoints SET active = false WHERE tenant_id NOT IN ('kr17-t1', 'kr17-t2');
END
$$;
-- Events emitted in this transaction are numbered by the next one: number
-- them as the sequencer would, by hand (the test runs in one transaction).
INSERT INTO kaireon.events (tenant_id, type, payload)
VALUES ('kr17-t1', 'quota.warning', '{"n": 1}'), ('kr17-t2', 'quota.warning', '{"n": 2}');
UPDATE kaireon.events e SET seq = nextval('kaireon.event_seq_counter')
WHERE e.tenant_id IN ('kr17-t1', 'kr17-t2') AND e.seq IS NULL;

-- Schema -------------------------------------------------------------------------------

SELECT has_table('kaireon', 'webhook_deliveries', 'kaireon.webhook_deliveries exists');
SELECT has_table('kaireon', 'webhook_attempts', 'kaireon.webhook_attempts exists');
SELECT has_table('kaireon', 'webhook_plan_position', 'kaireon.webhook_plan_position exists');
SELECT has_view('kaireon', 'webhook_dead_letters', 'kaireon.webhook_dead_letters exists');
SELECT col_is_pk('kaireon', 'webhook_deliveries', ARRAY['tenant_id', 'endpoint_id', 'event_id'],
                 'one delivery per (tenant, endpoint, event)');
SELECT col_is_pk('kaireon', 'webhook_attempts', ARRAY['tenant_id', 'id'], 'attempts are keyed (tenant_id, id)');
SELECT fk_ok('kaireon', 'webhook_deliveries', ARRAY['tenant_id', 'endpoint_id'],
             'kaireon', 'webhook_endpoints', ARRAY['tenant_id', 'id'], 'deliveries belong to an endpoint');
SELECT fk_ok('kaireon', 'webhook_deliveries', ARRAY['tenant_id', 'event_id'],
             'kaireon', 'events', ARRAY['tenant_id', 'id'], 'deliveries belong to an event');
SELECT is(ARRAY(SELECT c.relname::text || ' ' || c.relrowsecurity FROM pg_class c
                WHERE c.oid IN ('kaireon.webhook_deliveries'::regclass, 'kaireon.webhook_attempts'::regclass) ORDER BY 1),
          ARRAY['webhook_attempts true', 'webhook_deliveries true'], 'both tables have row-level security');
SELECT policies_are('kaireon', 'webhook_deliveries', ARRAY['tenant_isolation']);
SELECT policies_are('kaireon', 'webhook_attempts', ARRAY['tenant_isolation']);
SELECT is(ARRAY(SELECT table_name::text || ' ' || on_drop FROM kaireon.tenant_tables
                WHERE table_name IN ('kaireon.webhook_deliveries'::regclass, 'kaireon.webhook_attempts'::regclass) ORDER BY 1),
          ARRAY['kaireon.webhook_attempts delete', 'kaireon.webhook_deliveries delete'], 'drop_tenant deletes both');
SELECT is(ARRAY(SELECT c.relname::text FROM pg_extension x, unnest(x.extconfig) t(oid) JOIN pg_class c ON c.oid = t.oid
                WHERE x.extname = 'kaireon' AND c.relname LIKE 'webhook%' ORDER BY 1),
          ARRAY['webhook_attempts', 'webhook_attempts_id_seq', 'webhook_deliveries', 'webhook_endpoints',
                'webhook_endpoints_id_seq', 'webhook_plan_position'], 'the delivery state is dumped');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'kaireon.webhook_dead_letters'::regclass),
          ARRAY['security_invoker=true'], 'the dead-letter view runs with the caller''s rights');

-- Privileges ---------------------------------------------------------------------------

SELECT has_role('kaireon_deliverer');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'kaireon_deliverer'), false, 'kaireon_deliverer is NOLOGIN');
SELECT is(ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid
                JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'kaireon_deliverer'),
          '{}'::text[], 'kaireon_deliverer is a member of no role');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'kaireon' AND has_function_privilege('kaireon_deliverer', p.oid, 'EXECUTE')
                ORDER BY 1),
          ARRAY['kaireon.claim_webhook_deliveries(text,integer,integer)',
                'kaireon.finish_webhook_delivery(text,bigint,bigint,integer,text,integer,text,integer)',
                'kaireon.plan_webhook_deliveries(integer)',
                'kaireon.release_webhook_delivery(text,bigint,bigint,integer,text)'],
          'kaireon_deliverer may execute exactly plan, claim, finish and release');
SELECT is(ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'kaireon' AND c.relkind IN ('r', 'v', 'm', 'p', 'S')
                  AND (has_table_privilege('kaireon_deliverer', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
                       OR has_any_column_privilege('kaireon_deliverer', c.oid, 'SELECT'))),
          '{}'::text[], 'kaireon_deliverer reads and writes no table');
SELECT ok(NOT has_column_privilege('kaireon_deliverer', 'kaireon.webhook_endpoints', 'secret', 'SELECT')
          AND NOT has_column_privilege('kaireon_admin', 'kaireon.webhook_endpoints', 'secret', 'SELECT'),
          'nobody but the owner reads the secrets');
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'kaireon_deliverer', 'public']) r
                WHERE has_function_privilege(r, 'kaireon._webhook_signature(text,bigint,text)', 'EXECUTE')),
          '{}'::text[], 'the signature function is the owner''s only');
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'public']) r
                WHERE has_function_privilege(r, 'kaireon.claim_webhook_deliveries(text,int,int)', 'EXECUTE')
                   OR has_function_privilege(r, 'kaireon.plan_webhook_deliveries(int)', 'EXECUTE')),
          '{}'::text[], 'no tenant role may plan or claim');
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'kaireon_deliverer', 'public']) r
                WHERE has_function_privilege(r, 'kaireon.redeliver_webhook(bigint,bigint)', 'EXECUTE')),
          ARRAY['kaireon_admin'], 'only administrators redeliver');
SELECT is(ARRAY(SELECT r || ' ' || t FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['webhook_deliveries', 'webhook_attempts', 'webhook_dead_letters', 'webhook_plan_position']) t
                WHERE has_table_privilege(r, 'kaireon.' || t, 'SELECT') ORDER BY 1),
          ARRAY['kaireon_admin webhook_attempts', 'kaireon_admin webhook_dead_letters', 'kaireon_admin webhook_deliveries',
                'kaireon_reader webhook_attempts', 'kaireon_reader webhook_dead_letters', 'kaireon_reader webhook_deliveries'],
          'administrators and readers read deliveries, attempts and dead letters; nobody reads the plan position');
SELECT is(ARRAY(SELECT r || ' ' || t FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'kaireon_deliverer']) r,
                     unnest(ARRAY['webhook_deliveries', 'webhook_attempts', 'webhook_plan_position']) t
                WHERE has_table_privilege(r, 'kaireon.' || t, 'INSERT, UPDATE, DELETE, TRUNCATE')),
          '{}'::text[], 'no role writes them (the functions do, as their owner)');
SELECT is(ARRAY(SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'kaireon' AND p.proname IN ('plan_webhook_deliveries', 'claim_webhook_deliveries',
                      'finish_webhook_delivery', 'release_webhook_delivery', 'redeliver_webhook')
                  AND p.prosecdef AND p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] ORDER BY 1),
          ARRAY['claim_webhook_deliveries', 'finish_webhook_delivery', 'plan_webhook_deliveries', 'redeliver_webhook',
                'release_webhook_delivery'],
          'the delivery functions are SECURITY DEFINER with a pinned search_path');

-- The deliverer at work ----------------------------------------------------------------

SET LOCAL ROLE kr17_deliverer;
SELECT ok(kaireon.plan_webhook_deliveries() >= 2, 'the deliverer plans');
INSERT INTO kr17.claims SELECT (c.body::jsonb -> 'data' ->> 'n')::int, c.tenant_id, c.endpoint_id, c.event_id,
       c.attempt, c.headers, c.body
FROM kaireon.claim_webhook_deliveries('kr17', 10, 60) c;
SELECT is(ARRAY(SELECT tenant_id FROM kr17.claims ORDER BY n), ARRAY['kr17-t1', 'kr17-t2'], 'the deliverer claims both tenants''');
SELECT throws_ok('SELECT count(*) FROM kaireon.webhook_endpoints', '42501', NULL, 'the deliverer cannot read the endpoints');
SELECT throws_ok('SELECT count(*) FROM kaireon.webhook_deliveries', '42501', NULL, 'the deliverer cannot read the deliveries');
SELECT throws_ok($$SELECT kaireon.redeliver_webhook(1)$$, '42501', NULL, 'the deliverer cannot redeliver');
-- Some rows for the readers: tenant 1's delivered, tenant 2's failed once.
SELECT is((SELECT count(kaireon.finish_webhook_delivery(c.tenant_id, c.endpoint_id, c.event_id, c.attempt, 'kr17',
                                                        CASE WHEN c.tenant_id = 'kr17-t1' THEN 200 ELSE 500 END))
           FROM kr17.claims c), 2::bigint, 'the deliverer finishes its claims');
RESET ROLE;
SELECT ok(NOT EXISTS (SELECT 1 FROM kr17.claims c JOIN kaireon.webhook_endpoints w ON w.tenant_id = c.tenant_id
                      WHERE strpos(c.headers::text || c.body, w.secret) > 0),
          'a claim never carries the secret');
SELECT ok((SELECT bool_and(c.headers ->> 'Kaireon-Signature' ~ '^v1=[0-9a-f]{64}$') FROM kr17.claims c),
          'every claim carries a v1 signature');

-- Tenants see their own rows only ------------------------------------------------------

SET LOCAL ROLE kr17_reader1;
SET LOCAL kaireon.tenant = 'kr17-t1';
SELECT is(kr17.visible('webhook_deliveries'), ARRAY['kr17-t1'], 'reader 1 sees tenant 1''s deliveries only');
SELECT is(kr17.visible('webhook_attempts'), ARRAY['kr17-t1'], 'reader 1 sees tenant 1''s attempts only');
SET LOCAL kaireon.tenant = 'kr17-t2';
SELECT throws_ok($$SELECT kaireon.current_tenant()$$, 'KR403', NULL, 'reader 1 may not select tenant 2');
RESET ROLE;
SET LOCAL ROLE kr17_reader2;
SET LOCAL kaireon.tenant = 'kr17-t2';
SELECT is(kr17.visible('webhook_deliveries'), ARRAY['kr17-t2'], 'reader 2 sees tenant 2''s deliveries only');
SELECT is(kr17.visible('webhook_attempts'), ARRAY['kr17-t2'], 'reader 2 sees tenant 2''s attempts only');
RESET ROLE;
SET LOCAL ROLE kr17_app1;
SET LOCAL kaireon.tenant = 'kr17-t1';
SELECT throws_ok($$SELECT count(*) FROM kaireon.webhook_deliveries$$, '42501', NULL, 'applications do not read deliveries');
RESET ROLE;
RESET kaireon.tenant;

SELECT * FROM finish();
ROLLBACK;

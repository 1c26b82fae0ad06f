-- 12_respond.sql - the shape and the access of responses and frequency caps
-- (SPEC 6.4 and 6.6): kaireon.interactions under row-level security like
-- every other tenant table (tenant_isolation policy, tenant_id text NOT NULL
-- first in the key, one row per (tenant_id, idempotency_key), registered for
-- drop_tenant and for pg_dump); every kaireon role reads it and none writes
-- it (only kaireon_respond does, as its owner); kaireon_respond (in schema
-- public) for administrators and applications only, SECURITY DEFINER with a
-- pinned search_path, nothing to PUBLIC; the view kaireon.frequency_caps
-- (security_invoker) and its helper kaireon._cap_state (SECURITY DEFINER)
-- for the three kaireon roles only; and, with two tenants responding, that
-- an application responds for its own tenant only (KR403 for another or
-- without a grant), that readers may not respond, that every role sees only
-- its tenant's interactions and caps, and that _cap_state refuses (KR403) a
-- tenant the caller may not see rather than answering its count.
--
-- What a response answers (idempotency, KR409, decisionId, cap.exhausted,
-- step 4) is for the regression tests and the core's unit tests; this file
-- is about the schema and access.
BEGIN;
SELECT plan(77);

SET LOCAL timezone = 'UTC';
SET LOCAL kaireon.test_clock = '2026-06-10T12:00:00Z';

CREATE ROLE kr12_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr12_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr12_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr12_stranger NOLOGIN IN ROLE kaireon_app;   -- granted no tenant

CREATE SCHEMA kr12;
GRANT USAGE ON SCHEMA kr12 TO PUBLIC;

-- The answers the roles got, for the checks after them.
CREATE TABLE kr12.answers (who text PRIMARY KEY, doc jsonb NOT NULL);
GRANT SELECT, INSERT ON kr12.answers TO PUBLIC;

-- Two tenants with the same small catalog (one offer capped at 5
-- impressions a day) but their own offer ids (t1: one-a; t2: two-a).
CREATE FUNCTION kr12.catalog(prefix text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT replace($${
        "channels": [{"id": "web", "type": "web"}],
        "offers": [{"id": "P-a", "priority": 80}],
        "creatives": [{"id": "P-a-web", "offerId": "P-a", "channelId": "web"}],
        "customers": [{"id": "c1"}, {"id": "c2"}],
        "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}],
        "caps": [{"id": "cap1", "name": "Cap", "scope": "offer", "scopeId": "P-a", "maxVolume": 5, "period": "daily"}],
        "flows": [{"id": "f1", "channelId": "web"}]
    }$$, 'P-', prefix || '-')::jsonb
$fn$;

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr12-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr12-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr12_app1', 'kr12-t1');
    PERFORM kaireon.grant_tenant('kr12_app2', 'kr12-t2');
    PERFORM kaireon.grant_tenant('kr12_reader1', 'kr12-t1');
    PERFORM set_config('kaireon.tenant', 'kr12-t1', true);
    PERFORM kaireon.apply_catalog(kr12.catalog('one'));
    PERFORM set_config('kaireon.tenant', 'kr12-t2', true);
    PERFORM kaireon.apply_catalog(kr12.catalog('two'));
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- Schema: kaireon.interactions -------------------------------------------------

SELECT has_table('kaireon', 'interactions', 'kaireon.interactions exists');
SELECT is(ARRAY(SELECT format('%s %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.interactions'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text NOT NULL', 'id uuid NOT NULL', 'idempotency_key text NOT NULL', 'decision_id uuid',
                'customer_id text NOT NULL', 'offer_id text NOT NULL', 'category_id text', 'creative_id text',
                'channel text', 'placement text', 'outcome text NOT NULL', 'kind kaireon.interaction_kind NOT NULL', 'value numeric',
                'occurred_at timestamp with time zone NOT NULL', 'recorded_at timestamp with time zone NOT NULL',
                'experiment_id text', 'variant text'],
          'kaireon.interactions has the documented columns, types and NOT NULLs, in order');
-- Partitioned by recorded_at: keyed in each partition (20_partitioning.sql),
-- its idempotency keys unique in kaireon.interaction_keys.
SELECT col_is_pk('kaireon', 'interactions_default', ARRAY['tenant_id', 'id'], 'kaireon.interactions is keyed by (tenant_id, id)');
SELECT col_is_pk('kaireon', 'interaction_keys', ARRAY['tenant_id', 'idempotency_key'],
                 'an interaction''s idempotency key is unique per tenant (kaireon.interaction_keys, unpartitioned)');
-- The kind is checked by a domain (a table CHECK is parsed again for every
-- statement); no foreign key since 0.17 (drop_tenant_race.spec).
SELECT is((SELECT pg_catalog.pg_get_constraintdef(k.oid) FROM pg_catalog.pg_constraint k
           WHERE k.contypid = 'kaireon.interaction_kind'::regtype AND k.contype = 'c'),
          'CHECK ((VALUE = ANY (ARRAY[''impression''::text, ''positive''::text, ''negative''::text, ''neutral''::text])))',
          'kaireon.interactions.kind is one of impression, positive, negative, neutral (domain interaction_kind)');
-- One CHECK since 0.18, on two columns (so no domain can hold it): an
-- interaction is recorded at most 5 minutes before it occurred, the most
-- kaireon_respond lets occurredAt run ahead; a decision's history reads
-- only the time partitions its windows reach on that promise.
SELECT is(ARRAY(SELECT k.conname || ': ' || pg_catalog.pg_get_constraintdef(k.oid) FROM pg_catalog.pg_constraint k
                WHERE k.conrelid = 'kaireon.interactions'::regclass AND k.contype IN ('c', 'f')),
          ARRAY['interactions_recorded_after_occurred: CHECK ((recorded_at >= (occurred_at - ''00:05:00''::interval)))'],
          'kaireon.interactions has one CHECK (recorded at most 5 minutes before it occurred) and no foreign key');
SELECT throws_ok($$INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind,
                                                     occurred_at, recorded_at)
                   VALUES ('kr12-t1', 'kr12-early', 'c', 'o', 'impression', 'impression',
                           '2026-04-01T00:05:01Z', '2026-04-01T00:00:00Z')$$,
                 '23514', NULL, 'an interaction recorded more than 5 minutes before it occurred is refused (also for the owner)');
SELECT throws_ok($$INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind)
                   VALUES ('kr12-t1', 'kr12-bogus', 'c', 'o', 'impression', 'bogus')$$,
                 '23514', NULL, 'a kind outside the four is refused (also for the owner)');
SELECT has_index('kaireon', 'interactions_default', 'interactions_default_customer', ARRAY['customer_id', 'tenant_id', 'occurred_at'],
                 'kaireon.interactions has an index on (customer_id, tenant_id, occurred_at)');
SELECT has_index('kaireon', 'interactions_default', 'interactions_default_impressions', ARRAY['tenant_id', 'recorded_at'],
                 'kaireon.interactions has an index on (tenant_id, recorded_at)');
SELECT is(ARRAY(SELECT format('%s %s %s', i.indexrelid::regclass, i.indisunique,
                              coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '-'))
                FROM pg_catalog.pg_index i WHERE i.indrelid = 'kaireon.interactions_default'::regclass ORDER BY 1),
          ARRAY['kaireon.interactions_default_customer f -',
                'kaireon.interactions_default_experiment f (experiment_id IS NOT NULL)',
                'kaireon.interactions_default_impressions f ((kind)::text = ''impression''::text)',
                'kaireon.interactions_default_pkey t -'],
          'a partition of kaireon.interactions has exactly the key and the three indexes (impressions, experiment: partial)');

-- Row-level security, drop_tenant and pg_dump.
SELECT is((SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = 'kaireon.interactions'::regclass), true,
          'row-level security is enabled on kaireon.interactions');
SELECT policies_are('kaireon', 'interactions', ARRAY['tenant_isolation'],
                    'kaireon.interactions has the tenant_isolation policy (only)');
SELECT is(ARRAY(SELECT format('%s %s %s %s %s', p.polname, p.polcmd, p.polpermissive, p.polroles::regrole[],
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid))
                FROM pg_catalog.pg_policy p
                WHERE p.polrelid = 'kaireon.interactions'::regclass AND p.polwithcheck IS NULL),
          ARRAY['tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant())'],
          'the policy is permissive, for all commands and roles, USING (and so WITH CHECK) tenant_id = visible_tenant()');
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                WHERE tt.table_name = 'kaireon.interactions'::regclass),
          ARRAY['kaireon.interactions delete'],
          'kaireon.interactions is registered in kaireon.tenant_tables, its rows deleted by drop_tenant');
SELECT is(ARRAY(SELECT format('%s %s', c::regclass, e.extcondition[array_position(e.extconfig, c)])
                FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                WHERE e.extname = 'kaireon'
                  AND c IN ('kaireon.interactions_default'::regclass, 'kaireon.interaction_keys'::regclass)
                ORDER BY 1),
          ARRAY['kaireon.interaction_keys ', 'kaireon.interactions_default '],
          'the default partition of kaireon.interactions and the keys are dumped, every row (no filter)');

-- Privileges: every kaireon role reads it; none writes it (kaireon_respond
-- writes as its owner).
SELECT table_privs_are('kaireon', 'interactions', r.role, ARRAY['SELECT'], 'kaireon.interactions: ' || r.role || ' has SELECT only')
FROM (VALUES ('kaireon_admin'), ('kaireon_app'), ('kaireon_reader')) AS r (role)
ORDER BY r.role;
SELECT is(ARRAY(SELECT format('%s %s', r, p)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, 'kaireon.interactions', p) ORDER BY 1),
          ARRAY[]::text[],
          'no kaireon role may INSERT, UPDATE, DELETE or TRUNCATE kaireon.interactions (not even through membership)');
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid = 'kaireon.interactions'::regclass AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['kaireon_admin SELECT', 'kaireon_app SELECT', 'kaireon_reader SELECT'],
          'kaireon.interactions: SELECT (only) granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else (not PUBLIC)');
SELECT is(ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.interactions'::regclass AND a.attacl IS NOT NULL ORDER BY 1),
          ARRAY[]::text[], 'no column of kaireon.interactions has grants of its own');

-- Schema: kaireon_respond ---------------------------------------------------------

SELECT has_function('public', 'kaireon_respond', ARRAY['jsonb'], 'kaireon_respond(jsonb) lives in schema public');
SELECT function_returns('public', 'kaireon_respond', ARRAY['jsonb'], 'jsonb', 'kaireon_respond returns jsonb');
SELECT hasnt_function('kaireon', 'kaireon_respond', 'there is no kaireon.kaireon_respond');
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r
                WHERE has_function_privilege(r, 'public.kaireon_respond(jsonb)', 'EXECUTE') ORDER BY 1),
          ARRAY['kaireon_admin', 'kaireon_app'], 'kaireon_respond: EXECUTE for kaireon_admin, kaireon_app (not kaireon_reader)');
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid = 'public.kaireon_respond(jsonb)'::regprocedure AND a.grantee <> p.proowner ORDER BY 1),
          ARRAY['kaireon_admin EXECUTE', 'kaireon_app EXECUTE'],
          'kaireon_respond: EXECUTE granted to kaireon_admin, kaireon_app and nobody else (not PUBLIC)');
SELECT is((SELECT format('%s %s', p.prosecdef, p.proconfig) FROM pg_catalog.pg_proc p
           WHERE p.oid = 'public.kaireon_respond(jsonb)'::regprocedure),
          't {"search_path=pg_catalog, pg_temp"}',
          'kaireon_respond is SECURITY DEFINER with search_path = pg_catalog, pg_temp');

-- Schema: kaireon.frequency_caps and kaireon._cap_state -------------------------------

SELECT has_view('kaireon', 'frequency_caps', 'kaireon.frequency_caps exists');
SELECT is(ARRAY(SELECT format('%s %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod))
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.frequency_caps'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text', 'id text', 'name text', 'scope text', 'scope_id text', 'max_volume integer',
                'period text', 'current_count bigint', 'reset_at timestamp with time zone', 'enabled boolean',
                'exhausted boolean'],
          'kaireon.frequency_caps has the documented columns and types, in order');
SELECT is((SELECT 'security_invoker=true' = ANY (c.reloptions) FROM pg_catalog.pg_class c
           WHERE c.oid = 'kaireon.frequency_caps'::regclass AND c.relkind = 'v'),
          true, 'kaireon.frequency_caps is security_invoker=true (kaireon.caps'' RLS applies to the caller)');
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid = 'kaireon.frequency_caps'::regclass AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['kaireon_admin SELECT', 'kaireon_app SELECT', 'kaireon_reader SELECT'],
          'kaireon.frequency_caps: SELECT (only) granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else (not PUBLIC)');
SELECT is(ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.frequency_caps'::regclass AND a.attacl IS NOT NULL ORDER BY 1),
          ARRAY[]::text[], 'no column of kaireon.frequency_caps has grants of its own');
SELECT has_function('kaireon', '_cap_state', ARRAY['text', 'text'], 'kaireon._cap_state(text, text) exists');
SELECT is(pg_catalog.pg_get_function_arguments('kaireon._cap_state(text, text)'::regprocedure),
          'tenant_id text, cap_id text, OUT current_count bigint, OUT reset_at timestamp with time zone',
          '_cap_state(tenant_id, cap_id) returns (current_count bigint, reset_at timestamptz)');
SELECT is(ARRAY(SELECT format('%s %s', a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_proc p,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE p.oid = 'kaireon._cap_state(text, text)'::regprocedure AND a.grantee <> p.proowner ORDER BY 1),
          ARRAY['kaireon_admin EXECUTE', 'kaireon_app EXECUTE', 'kaireon_reader EXECUTE'],
          '_cap_state: EXECUTE granted to kaireon_admin, kaireon_app, kaireon_reader and nobody else (not PUBLIC)');
SELECT is((SELECT format('%s %s %s', p.prosecdef, p.proisstrict, p.proconfig) FROM pg_catalog.pg_proc p
           WHERE p.oid = 'kaireon._cap_state(text, text)'::regprocedure),
          't t {"search_path=pg_catalog, pg_temp"}',
          '_cap_state is SECURITY DEFINER, STRICT, with search_path = pg_catalog, pg_temp');

-- Exercised: an application responds for its own tenant only ------------------------

-- app1 records two impressions and a click on t1.
SET ROLE kr12_app1;
SET kaireon.tenant = 'kr12-t1';
INSERT INTO kr12.answers VALUES
    ('app1 1', kaireon_respond('{"customerId": "c1", "offerId": "one-a", "outcome": "impression", "idempotencyKey": "k1"}'));
INSERT INTO kr12.answers VALUES
    ('app1 2', kaireon_respond('{"customerId": "c2", "offerId": "one-a", "outcome": "impression", "idempotencyKey": "k2"}'));
INSERT INTO kr12.answers VALUES
    ('app1 3', kaireon_respond('{"customerId": "c1", "offerId": "one-a", "outcome": "click", "idempotencyKey": "k3"}'));
SELECT is(ARRAY(SELECT format('%s %s %s %s %s', doc ->> 'customerId', doc ->> 'offerId', doc ->> 'outcome',
                              doc ->> 'kind', doc ->> 'recorded')
                FROM kr12.answers WHERE who LIKE 'app1 %' ORDER BY who),
          ARRAY['c1 one-a impression impression true', 'c2 one-a impression impression true',
                'c1 one-a click positive true'],
          'app1 on t1: kaireon_respond records two impressions and a click');
SELECT is(ARRAY(SELECT format('%s %s', who, (SELECT string_agg(c ->> 'capId', ',') FROM jsonb_array_elements(doc -> 'caps') c))
                FROM kr12.answers WHERE who LIKE 'app1 %' ORDER BY who),
          ARRAY['app1 1 cap1', 'app1 2 cap1', 'app1 3 '],
          'app1 on t1: the impressions touch t1''s cap1, the click no cap');
SELECT throws_ok($$INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind,
                                                     occurred_at, recorded_at)
                   VALUES ('kr12-t1', 'k9', 'c1', 'one-a', 'impression', 'impression', now(), now())$$,
                 '42501', 'permission denied for table interactions', 'app1 may not insert into kaireon.interactions');
SELECT throws_ok($$UPDATE kaireon.interactions SET outcome = 'click'$$, '42501', 'permission denied for table interactions',
                 'app1 may not update its interactions');
SELECT throws_ok($$DELETE FROM kaireon.interactions$$, '42501', 'permission denied for table interactions',
                 'app1 may not delete its interactions');
SET kaireon.tenant = 'kr12-t2';
SELECT throws_ok($$SELECT kaireon_respond('{"customerId": "c1", "offerId": "two-a", "outcome": "impression", "idempotencyKey": "k9"}')$$,
                 'KR403', 'role "kr12_app1" may not act on tenant "kr12-t2"',
                 'app1 selecting t2: kaireon_respond is KR403 (it responds for the selected tenant only)');
SELECT throws_ok($$INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind,
                                                     occurred_at, recorded_at)
                   VALUES ('kr12-t2', 'k9', 'c1', 'two-a', 'impression', 'impression', now(), now())$$,
                 '42501', 'permission denied for table interactions', 'app1 selecting t2 may not insert t2''s interactions either');
RESET kaireon.tenant;
SELECT throws_ok($$SELECT kaireon_respond('{"customerId": "c1", "offerId": "one-a", "outcome": "impression", "idempotencyKey": "k9"}')$$,
                 'KR400', 'no tenant selected', 'app1 without kaireon.tenant: kaireon_respond is KR400 (no tenant selected)');
RESET ROLE;

-- app2 records one impression on t2.
SET ROLE kr12_app2;
SET kaireon.tenant = 'kr12-t2';
INSERT INTO kr12.answers VALUES
    ('app2 1', kaireon_respond('{"customerId": "c1", "offerId": "two-a", "outcome": "impression", "idempotencyKey": "k1"}'));
SELECT is((SELECT format('%s %s %s %s', doc ->> 'offerId', doc ->> 'kind', doc ->> 'recorded', doc ->> 'duplicate')
           FROM kr12.answers WHERE who = 'app2 1'),
          'two-a impression true false',
          'app2 on t2: kaireon_respond records an impression (t1''s key k1 is not t2''s: no duplicate)');
RESET kaireon.tenant;
RESET ROLE;

-- A kaireon_app granted no tenant.
SET ROLE kr12_stranger;
SET kaireon.tenant = 'kr12-t1';
SELECT throws_ok($$SELECT kaireon_respond('{"customerId": "c1", "offerId": "one-a", "outcome": "impression", "idempotencyKey": "k9"}')$$,
                 'KR403', 'role "kr12_stranger" may not act on tenant "kr12-t1"',
                 'a stranger (kaireon_app, no grant) selecting t1: kaireon_respond is KR403');
SELECT is((SELECT count(*) FROM kaireon.interactions), 0::bigint, 'a stranger selecting t1 sees zero interactions');
SELECT is((SELECT count(*) FROM kaireon.frequency_caps), 0::bigint, 'a stranger selecting t1 sees zero frequency caps');
SELECT throws_ok($$SELECT * FROM kaireon._cap_state('kr12-t1', 'cap1')$$, 'KR403',
                 'the calling role may not see the caps of tenant "kr12-t1"',
                 'a stranger calling _cap_state(t1) directly is refused (KR403)');
RESET kaireon.tenant;
RESET ROLE;

-- What was recorded, as the superuser sees it: app1's three interactions in
-- t1 and app2's one in t2, at the test clock, nothing of the refused calls.
SELECT is(ARRAY(SELECT format('%s %s %s %s %s', tenant_id, idempotency_key, customer_id, outcome,
                              recorded_at = '2026-06-10T12:00:00Z')
                FROM kaireon.interactions WHERE tenant_id LIKE 'kr12-%' ORDER BY 1),
          ARRAY['kr12-t1 k1 c1 impression t', 'kr12-t1 k2 c2 impression t', 'kr12-t1 k3 c1 click t',
                'kr12-t2 k1 c1 impression t'],
          'the interactions recorded: three in t1, one in t2; none for refused calls');
SELECT is((SELECT doc ->> 'interactionId' FROM kr12.answers WHERE who = 'app2 1'),
          (SELECT id::text FROM kaireon.interactions WHERE tenant_id = 'kr12-t2'),
          'app2''s interactionId is its record in t2');
-- Each cap counts its own tenant's impressions: t1's two, t2's one.
SELECT is(ARRAY(SELECT format('%s %s %s', tenant_id, id, current_count) FROM kaireon.frequency_caps
                WHERE tenant_id LIKE 'kr12-%' ORDER BY 1),
          ARRAY['kr12-t1 cap1 2', 'kr12-t2 cap1 1'],
          'the superuser sees both caps, t1''s at 2 impressions and t2''s at 1');

-- Exercised: the reader of t1 sees t1's interactions and caps, nothing of t2 -------------

SET ROLE kr12_reader1;
SET kaireon.tenant = 'kr12-t1';
SELECT is(ARRAY(SELECT format('%s %s %s %s', tenant_id, idempotency_key, customer_id, outcome) FROM kaireon.interactions
                ORDER BY idempotency_key),
          ARRAY['kr12-t1 k1 c1 impression', 'kr12-t1 k2 c2 impression', 'kr12-t1 k3 c1 click'],
          'reader1 on t1 reads exactly t1''s three interactions, nothing of t2');
SELECT is(ARRAY(SELECT format('%s %s %s %s %s %s %s %s %s', tenant_id, id, name, scope, scope_id, max_volume, period,
                              to_char(reset_at, 'YYYY-MM-DD"T"HH24:MI:SS'), enabled)
                FROM kaireon.frequency_caps),
          ARRAY['kr12-t1 cap1 Cap offer one-a 5 daily 2026-06-11T00:00:00 t'],
          'reader1 on t1: frequency_caps shows t1''s cap only, resetting at the next midnight');
SELECT is((SELECT format('%s %s', current_count, exhausted) FROM kaireon.frequency_caps), '2 f',
          'reader1 on t1: frequency_caps counts t1''s 2 impressions (not the click, not t2''s), not exhausted');
SELECT is((SELECT to_char(reset_at, 'YYYY-MM-DD"T"HH24:MI:SS') FROM kaireon._cap_state('kr12-t1', 'cap1')),
          '2026-06-11T00:00:00', 'reader1 on t1 may call _cap_state for t1''s cap directly');
SELECT throws_ok($$SELECT * FROM kaireon._cap_state('kr12-t2', 'cap1')$$, 'KR403',
                 'the calling role may not see the caps of tenant "kr12-t2"',
                 'reader1 on t1 calling _cap_state(t2) directly is refused (KR403), never t2''s count');
SELECT throws_ok($$SELECT kaireon_respond('{"customerId": "c1", "offerId": "one-a", "outcome": "impression", "idempotencyKey": "k9"}')$$,
                 '42501', 'permission denied for function kaireon_respond', 'reader1 may not respond (kaireon_respond)');
SELECT throws_ok($$INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind,
                                                     occurred_at, recorded_at)
                   VALUES ('kr12-t1', 'k9', 'c1', 'one-a', 'impression', 'impression', now(), now())$$,
                 '42501', 'permission denied for table interactions', 'reader1 may not insert into kaireon.interactions');

SET kaireon.tenant = 'kr12-t2';
SELECT is((SELECT count(*) FROM kaireon.interactions), 0::bigint, 'reader1 selecting t2 sees zero interactions (RLS)');
SELECT is((SELECT count(*) FROM kaireon.frequency_caps), 0::bigint, 'reader1 selecting t2 sees zero frequency caps (RLS)');
SELECT throws_ok($$SELECT * FROM kaireon._cap_state('kr12-t2', 'cap1')$$, 'KR403',
                 'the calling role may not see the caps of tenant "kr12-t2"',
                 'reader1 selecting t2 and calling _cap_state(t2) is refused (KR403)');
RESET kaireon.tenant;
SELECT is((SELECT count(*) FROM kaireon.interactions), 0::bigint, 'reader1 without kaireon.tenant sees zero interactions');
SELECT is((SELECT count(*) FROM kaireon.frequency_caps), 0::bigint, 'reader1 without kaireon.tenant sees zero frequency caps');
RESET ROLE;

-- The applications see their own tenant's only.
SET ROLE kr12_app1;
SET kaireon.tenant = 'kr12-t1';
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, count(*)) FROM kaireon.interactions GROUP BY tenant_id ORDER BY 1),
          ARRAY['kr12-t1 3'], 'app1 on t1 reads t1''s three interactions only');
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, id) FROM kaireon.frequency_caps), ARRAY['kr12-t1 cap1'],
          'app1 on t1: frequency_caps shows t1''s cap only');
SELECT throws_ok($$SELECT * FROM kaireon._cap_state('kr12-t2', 'cap1')$$, 'KR403',
                 'the calling role may not see the caps of tenant "kr12-t2"',
                 'app1 on t1 calling _cap_state(t2) directly is refused (KR403)');
SET kaireon.tenant = 'kr12-t2';
SELECT is((SELECT count(*) FROM kaireon.interactions), 0::bigint, 'app1 selecting t2 sees zero interactions');
SELECT is((SELECT count(*) FROM kaireon.frequency_caps), 0::bigint, 'app1 selecting t2 sees zero frequency caps');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr12_app2;
SET kaireon.tenant = 'kr12-t2';
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, count(*)) FROM kaireon.interactions GROUP BY tenant_id ORDER BY 1),
          ARRAY['kr12-t2 1'], 'app2 on t2 reads t2''s one interaction only');
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, id) FROM kaireon.frequency_caps), ARRAY['kr12-t2 cap1'],
          'app2 on t2: frequency_caps shows t2''s cap only');
SELECT throws_ok($$SELECT * FROM kaireon._cap_state('kr12-t1', 'cap1')$$, 'KR403',
                 'the calling role may not see the caps of tenant "kr12-t1"',
                 'app2 on t2 calling _cap_state(t1) directly is refused (KR403)');
SET kaireon.tenant = 'kr12-t1';
SELECT is((SELECT count(*) FROM kaireon.interactions), 0::bigint, 'app2 selecting t1 sees zero interactions');
SELECT is((SELECT count(*) FROM kaireon.frequency_caps), 0::bigint, 'app2 selecting t1 sees zero frequency caps');
RESET kaireon.tenant;
RESET ROLE;

-- drop_tenant removes the tenant's interactions (registered 'delete').
SELECT lives_ok($$SELECT kaireon.drop_tenant('kr12-t2')$$, 'drop_tenant(t2)');
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, count(*)) FROM kaireon.interactions
                WHERE tenant_id LIKE 'kr12-%' GROUP BY tenant_id ORDER BY 1),
          ARRAY['kr12-t1 3'], 'after drop_tenant(t2): t2''s interactions are gone, t1''s stay');

SELECT * FROM finish();
ROLLBACK;

-- 15_bandits.sql - the shape and the access of the bandits' state (SPEC
-- 6.5, docs/experiments.md): kaireon.bandit_arm_slots under row-level
-- security like every tenant table (tenant_isolation, registered for
-- drop_tenant; dumped: pg_restore loads the experiments before the
-- interactions they could be counted from), read by every kaireon role and written by none
-- (kaireon_respond writes it as the extension's owner); the view
-- kaireon.bandit_arms reads as the querying role (security_invoker), so
-- each role sees its tenant's arms only; the setting kaireon.bandit_seed
-- (any role, 0 = unseeded).
--
-- What the bandits choose and learn is for sql/bandits.sql and
-- test/unit/bandits_test.cpp.
BEGIN;
SELECT plan(28);

CREATE ROLE kr15_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr15_app2 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr15_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr15_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr15_stranger NOLOGIN IN ROLE kaireon_app;   -- granted no tenant

CREATE SCHEMA kr15;
GRANT USAGE ON SCHEMA kr15 TO PUBLIC;

-- The arm each tenant's decision was placed in (the bandit chooses it at
-- random), for the checks after it.
CREATE TABLE kr15.answers (tenant text PRIMARY KEY, experiment text, variant text);
GRANT SELECT ON kr15.answers TO PUBLIC;

-- arms: "tenant experiment variant-as-decided impressions positives" for
-- every row of kaireon.bandit_arms the current role sees (RLS decides; the
-- helper runs as the invoker).
CREATE FUNCTION kr15.arms() RETURNS text[]
LANGUAGE sql AS $$
    SELECT ARRAY(SELECT format('%s %s %s %s %s', a.tenant_id, a.experiment_id,
                               a.variant = (SELECT x.variant FROM kr15.answers x WHERE x.tenant = a.tenant_id),
                               a.impressions, a.positives)
                 FROM kaireon.bandit_arms a ORDER BY a.tenant_id, a.experiment_id, a.variant)
$$;

-- Two tenants with the same bandit experiment "strat" over variants a and
-- b; one decision each, answered with an impression (t2's also with a
-- click, so the two tenants' counts differ).
DO $$
DECLARE
    d jsonb;
BEGIN
    PERFORM kaireon.create_tenant('kr15-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr15-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr15_app1', 'kr15-t1');
    PERFORM kaireon.grant_tenant('kr15_app2', 'kr15-t2');
    PERFORM kaireon.grant_tenant('kr15_reader1', 'kr15-t1');
    FOR i IN 1 .. 2 LOOP
        PERFORM set_config('kaireon.tenant', 'kr15-t' || i, true);
        PERFORM kaireon.set_override('experiments.bandit', '{"enabled": true}');
        PERFORM kaireon.apply_catalog($cat${
            "channels": [{"id": "web", "type": "web"}],
            "offers": [{"id": "o1"}],
            "creatives": [{"id": "o1-web", "offerId": "o1", "channelId": "web"}],
            "customers": [{"id": "c1"}],
            "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}],
            "flows": [{"id": "home", "channelId": "web", "experimentId": "strat"}],
            "experiments": [{"id": "strat", "flowId": "home", "type": "bandit", "status": "active",
                             "bandit": {"algorithm": "thompson"},
                             "variants": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}]}]
        }$cat$::jsonb);
        d := kaireon_recommend('{"customerId": "c1", "flow": "home"}');
        INSERT INTO kr15.answers VALUES ('kr15-t' || i, d -> 'experiment' ->> 'id', d -> 'experiment' ->> 'variant');
        PERFORM kaireon_respond(jsonb_build_object('decisionId', d ->> 'decisionId', 'outcome', 'impression',
                                                   'idempotencyKey', 'imp-' || i));
        IF i = 2 THEN
            PERFORM kaireon_respond(jsonb_build_object('decisionId', d ->> 'decisionId', 'outcome', 'click',
                                                       'idempotencyKey', 'click-' || i));
        END IF;
    END LOOP;
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

-- The schema ------------------------------------------------------------------------

SELECT has_table('kaireon', 'bandit_arm_slots', 'kaireon.bandit_arm_slots exists');
SELECT is(ARRAY(SELECT format('%s %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.bandit_arm_slots'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text NOT NULL', 'experiment_id text NOT NULL', 'variant text NOT NULL',
                'slot integer NOT NULL', 'impressions bigint NOT NULL', 'positives bigint NOT NULL'],
          'kaireon.bandit_arm_slots has the documented columns, types and NOT NULLs, in order');
SELECT col_is_pk('kaireon', 'bandit_arm_slots', ARRAY['tenant_id', 'experiment_id', 'variant', 'slot'],
                 'kaireon.bandit_arm_slots is keyed by (tenant_id, experiment_id, variant, slot)');
SELECT is(ARRAY(SELECT pg_catalog.pg_get_constraintdef(k.oid) FROM pg_catalog.pg_constraint k
                WHERE k.conrelid = 'kaireon.bandit_arm_slots'::regclass AND k.contype = 'f'),
          ARRAY['FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants(tenant_id) ON DELETE CASCADE'],
          'bandit_arm_slots.tenant_id references kaireon.tenants ON DELETE CASCADE (its only foreign key)');
SELECT is((SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = 'kaireon.bandit_arm_slots'::regclass), true,
          'row-level security is enabled on kaireon.bandit_arm_slots');
SELECT is(ARRAY(SELECT format('%s %s %s %s %s %s', p.polname, p.polcmd, p.polpermissive, p.polroles::regrole[],
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid), p.polwithcheck IS NULL)
                FROM pg_catalog.pg_policy p WHERE p.polrelid = 'kaireon.bandit_arm_slots'::regclass),
          ARRAY['tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant()) t'],
          'kaireon.bandit_arm_slots has one policy, tenant_isolation, tenant_id = visible_tenant()');
SELECT is((SELECT tt.on_drop FROM kaireon.tenant_tables tt WHERE tt.table_name = 'kaireon.bandit_arm_slots'::regclass),
          'delete', 'kaireon.bandit_arm_slots is registered in kaireon.tenant_tables, its rows deleted by drop_tenant');
SELECT is((SELECT 'kaireon.bandit_arm_slots'::regclass::oid = ANY (e.extconfig) FROM pg_catalog.pg_extension e
           WHERE e.extname = 'kaireon'),
          true, 'kaireon.bandit_arm_slots is dumped (pg_restore loads the experiments before the interactions they would be counted from)');
SELECT has_view('kaireon', 'bandit_arms', 'kaireon.bandit_arms exists');
SELECT is(ARRAY(SELECT format('%s %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod))
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.bandit_arms'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text', 'experiment_id text', 'variant text', 'impressions bigint', 'positives bigint'],
          'kaireon.bandit_arms has the documented columns and types, in order');
SELECT is((SELECT c.reloptions FROM pg_catalog.pg_class c WHERE c.oid = 'kaireon.bandit_arms'::regclass),
          ARRAY['security_invoker=true'], 'kaireon.bandit_arms reads its table as the querying role (security_invoker)');

-- The privileges --------------------------------------------------------------------

SELECT is(ARRAY(SELECT format('%s %s %s', c.relname, a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid IN ('kaireon.bandit_arm_slots'::regclass, 'kaireon.bandit_arms'::regclass)
                  AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['bandit_arm_slots kaireon_admin SELECT', 'bandit_arm_slots kaireon_app SELECT',
                'bandit_arm_slots kaireon_reader SELECT', 'bandit_arms kaireon_admin SELECT',
                'bandit_arms kaireon_app SELECT', 'bandit_arms kaireon_reader SELECT'],
          'the slots and the view: SELECT (only) to kaireon_admin, kaireon_app, kaireon_reader, nothing to PUBLIC');
SELECT is(ARRAY(SELECT format('%s %s %s', t, r, p)
                FROM unnest(ARRAY['kaireon.bandit_arm_slots', 'kaireon.bandit_arms']) t,
                     unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, t, p) ORDER BY 1),
          ARRAY[]::text[], 'no kaireon role may write kaireon.bandit_arm_slots or kaireon.bandit_arms (only respond does)');

-- Isolation: each role sees its tenant's arms only; none without a tenant ----------

SELECT is(ARRAY(SELECT format('%s %s %s', tenant, experiment, variant IN ('a', 'b')) FROM kr15.answers ORDER BY 1),
          ARRAY['kr15-t1 strat t', 'kr15-t2 strat t'],
          'set-up: each tenant''s decision was placed in an arm (a or b) of its bandit experiment strat');
SELECT is((SELECT count(*) FROM kaireon.bandit_arm_slots WHERE tenant_id IN ('kr15-t1', 'kr15-t2')), 2::bigint,
          'set-up: each tenant''s answers were counted in one slot of its arm');

SET LOCAL ROLE kr15_app1;
SET LOCAL kaireon.tenant = 'kr15-t1';
SELECT is(kr15.arms(), ARRAY['kr15-t1 strat t 1 0'],
          'app1 on t1 sees t1''s arm (1 impression, no positive), not t2''s');
SELECT throws_ok($$INSERT INTO kaireon.bandit_arm_slots VALUES ('kr15-t1', 'strat', 'a', 7, 100, 100)$$, '42501', NULL,
                 'an application role cannot add to the arms'' counts by hand');
SET LOCAL kaireon.tenant = 'kr15-t2';
SELECT is((SELECT count(*) FROM kaireon.bandit_arm_slots), 0::bigint,
          'app1 selecting t2 (not granted) sees no slots');
RESET ROLE;

SET LOCAL ROLE kr15_app2;
SET LOCAL kaireon.tenant = 'kr15-t2';
SELECT is(kr15.arms(), ARRAY['kr15-t2 strat t 1 1'],
          'app2 on t2 sees t2''s arm (1 impression, 1 positive), not t1''s');
RESET ROLE;

SET LOCAL ROLE kr15_reader1;
SET LOCAL kaireon.tenant = 'kr15-t1';
SELECT is(kr15.arms(), ARRAY['kr15-t1 strat t 1 0'], 'reader1 on t1 sees t1''s arm only');
SET LOCAL kaireon.tenant = 'kr15-t2';
SELECT is(kr15.arms(), ARRAY[]::text[], 'reader1 selecting t2 (not granted) sees no arms');
RESET ROLE;

SET LOCAL ROLE kr15_admin;
SET LOCAL kaireon.tenant = 'kr15-t2';
SELECT is(kr15.arms(), ARRAY['kr15-t2 strat t 1 1'], 'admin on t2 sees t2''s arm only');
SET LOCAL kaireon.tenant = '';
SELECT is(kr15.arms(), ARRAY[]::text[], 'admin without kaireon.tenant sees no arms');
RESET ROLE;

SET LOCAL ROLE kr15_stranger;
SET LOCAL kaireon.tenant = 'kr15-t1';
SELECT is(kr15.arms(), ARRAY[]::text[], 'a stranger (kaireon_app, no grant) setting t1 sees no arms');
RESET ROLE;
SET LOCAL kaireon.tenant = '';

-- drop_tenant removes the tenant's arms (registered 'delete').
SELECT lives_ok($$SELECT kaireon.drop_tenant('kr15-t2')$$, 'drop_tenant(t2)');
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, count(*)) FROM kaireon.bandit_arm_slots
                WHERE tenant_id IN ('kr15-t1', 'kr15-t2') GROUP BY tenant_id ORDER BY tenant_id),
          ARRAY['kr15-t1 1'], 'after drop_tenant(t2): t2''s arm slots are gone, t1''s stay');

-- The setting -------------------------------------------------------------------------

SELECT is((SELECT format('%s %s %s %s %s %s', vartype, setting, boot_val, min_val, max_val, context)
           FROM pg_catalog.pg_settings WHERE name = 'kaireon.bandit_seed'),
          'integer 0 0 0 2147483647 user',
          'kaireon.bandit_seed: an integer 0 .. INT_MAX, 0 (unseeded) by default, any role may set it');
SET LOCAL ROLE kr15_app1;
SELECT throws_ok($$SET LOCAL kaireon.bandit_seed = -1$$, '22023', NULL, 'a negative kaireon.bandit_seed is refused');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

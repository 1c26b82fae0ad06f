-- 14_models.sql - the shape and the access of the models' state (SPEC 6.2
-- step 5, docs/models.md): kaireon.offer_stat_slots under row-level
-- security like every tenant table (tenant_isolation, registered for
-- drop_tenant; dumped: pg_restore loads the models before the interactions
-- they could be counted from), read by every kaireon role and written by none (respond writes
-- it as the extension's owner); the view kaireon.offer_stats reads as the
-- querying role (security_invoker), so each role sees its tenant only; the
-- settings kaireon.model_stats_max_age (any role) and
-- kaireon.custom_model_timeout (superusers only: a tenant cannot lift its
-- own bound).
--
-- What the models compute is for sql/models.sql and the statistics under
-- concurrency for test/isolation/specs/offer_stats_slots.spec.
BEGIN;
SELECT plan(17);

CREATE ROLE kr14_app1 NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr14_reader1 NOLOGIN IN ROLE kaireon_reader;

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr14-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr14-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr14_app1', 'kr14-t1');
    PERFORM kaireon.grant_tenant('kr14_reader1', 'kr14-t1');
    FOR i IN 1 .. 2 LOOP
        PERFORM set_config('kaireon.tenant', 'kr14-t' || i, true);
        PERFORM kaireon.apply_catalog(jsonb_build_object(
            'channels', jsonb_build_array(jsonb_build_object('id', 'web', 'type', 'web')),
            'offers', jsonb_build_array(jsonb_build_object('id', 'o1')),
            'outcomeTypes', jsonb_build_array(jsonb_build_object('id', 'impression', 'kind', 'impression')),
            'models', jsonb_build_array(jsonb_build_object('id', 'bay', 'type', 'bayesian', 'definition', '{}'::jsonb))));
        PERFORM kaireon_respond(jsonb_build_object('customerId', 'c1', 'offerId', 'o1', 'outcome', 'impression',
                                                   'idempotencyKey', 'k' || i));
    END LOOP;
    PERFORM set_config('kaireon.tenant', '', true);
END
$$;

SELECT has_table('kaireon', 'offer_stat_slots', 'kaireon.offer_stat_slots exists');
SELECT is(ARRAY(SELECT format('%s %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.offer_stat_slots'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
          ARRAY['tenant_id text NOT NULL', 'offer_id text NOT NULL', 'segment text NOT NULL', 'slot integer NOT NULL',
                'impressions bigint NOT NULL', 'positives bigint NOT NULL'],
          'kaireon.offer_stat_slots has the documented columns, types and NOT NULLs, in order');
SELECT col_is_pk('kaireon', 'offer_stat_slots', ARRAY['tenant_id', 'offer_id', 'segment', 'slot'],
                 'kaireon.offer_stat_slots is keyed by (tenant_id, offer_id, segment, slot)');
SELECT is(ARRAY(SELECT pg_catalog.pg_get_constraintdef(k.oid) FROM pg_catalog.pg_constraint k
                WHERE k.conrelid = 'kaireon.offer_stat_slots'::regclass AND k.contype = 'f'),
          ARRAY['FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants(tenant_id) ON DELETE CASCADE'],
          'offer_stat_slots.tenant_id references kaireon.tenants ON DELETE CASCADE (its only foreign key)');
SELECT is((SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = 'kaireon.offer_stat_slots'::regclass), true,
          'row-level security is enabled on kaireon.offer_stat_slots');
SELECT is(ARRAY(SELECT format('%s %s %s %s %s %s', p.polname, p.polcmd, p.polpermissive, p.polroles::regrole[],
                              pg_catalog.pg_get_expr(p.polqual, p.polrelid), p.polwithcheck IS NULL)
                FROM pg_catalog.pg_policy p WHERE p.polrelid = 'kaireon.offer_stat_slots'::regclass),
          ARRAY['tenant_isolation * t {-} (tenant_id = kaireon.visible_tenant()) t'],
          'kaireon.offer_stat_slots has one policy, tenant_isolation, tenant_id = visible_tenant()');
SELECT is((SELECT tt.on_drop FROM kaireon.tenant_tables tt WHERE tt.table_name = 'kaireon.offer_stat_slots'::regclass),
          'delete', 'kaireon.offer_stat_slots is registered in kaireon.tenant_tables, its rows deleted by drop_tenant');
SELECT is((SELECT 'kaireon.offer_stat_slots'::regclass::oid = ANY (e.extconfig) FROM pg_catalog.pg_extension e
           WHERE e.extname = 'kaireon'),
          true, 'kaireon.offer_stat_slots is dumped (pg_restore loads the models before the interactions they would be counted from)');
SELECT is(ARRAY(SELECT format('%s %s %s', c.relname, a.grantee::regrole, a.privilege_type)
                FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid IN ('kaireon.offer_stat_slots'::regclass, 'kaireon.offer_stats'::regclass)
                  AND a.grantee <> c.relowner ORDER BY 1),
          ARRAY['offer_stat_slots kaireon_admin SELECT', 'offer_stat_slots kaireon_app SELECT',
                'offer_stat_slots kaireon_reader SELECT', 'offer_stats kaireon_admin SELECT',
                'offer_stats kaireon_app SELECT', 'offer_stats kaireon_reader SELECT'],
          'the slots and the view: SELECT (only) to kaireon_admin, kaireon_app, kaireon_reader, nothing to PUBLIC');
SELECT is(ARRAY(SELECT format('%s %s', r, p)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, 'kaireon.offer_stat_slots', p) ORDER BY 1),
          ARRAY[]::text[], 'no kaireon role may write kaireon.offer_stat_slots (only respond does, as the owner)');
SELECT is((SELECT c.reloptions FROM pg_catalog.pg_class c WHERE c.oid = 'kaireon.offer_stats'::regclass),
          ARRAY['security_invoker=true'], 'kaireon.offer_stats reads its table as the querying role (security_invoker)');

-- Each role sees its tenant's statistics only; none without a tenant.
SET LOCAL ROLE kr14_app1;
SET LOCAL kaireon.tenant = 'kr14-t1';
SELECT is(ARRAY(SELECT format('%s %s %s', tenant_id, offer_id, impressions) FROM kaireon.offer_stats ORDER BY 1),
          ARRAY['kr14-t1 o1 1'], 'an application role sees its tenant''s offer statistics, not the other''s');
SELECT throws_ok($$INSERT INTO kaireon.offer_stat_slots VALUES ('kr14-t1', 'o1', '', 7, 100, 100)$$, '42501', NULL,
                 'an application role cannot add to the statistics by hand');
RESET ROLE;
SET LOCAL ROLE kr14_reader1;
SET LOCAL kaireon.tenant = 'kr14-t2';
SELECT is((SELECT count(*) FROM kaireon.offer_stats), 0::bigint,
          'a reader selecting a tenant it was not granted sees no statistics');
RESET ROLE;

-- The settings.
SELECT is((SELECT format('%s %s %s', setting, unit, context) FROM pg_catalog.pg_settings
           WHERE name = 'kaireon.model_stats_max_age'),
          '1000 ms user', 'kaireon.model_stats_max_age: 1000 ms by default, any role may set it');
SELECT is((SELECT format('%s %s %s', setting, unit, context) FROM pg_catalog.pg_settings
           WHERE name = 'kaireon.custom_model_timeout'),
          '250 ms superuser', 'kaireon.custom_model_timeout: 250 ms by default, superusers only');
SET LOCAL ROLE kr14_app1;
SELECT throws_ok($$SET kaireon.custom_model_timeout = '1h'$$, '42501', NULL,
                 'an application role cannot lift the custom models'' timeout');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

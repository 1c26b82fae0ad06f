-- 19_tenant_moves.sql - the shape and the access of moving a tenant between
-- shards (docs/scale-out.md "Moving a tenant"): kaireon.tenant_moves under
-- row-level security like every tenant table, kept by drop_tenant and
-- dumped; administrators freeze, unfreeze and release, no one else;
-- adopting is for superusers only (no kaireon role may run it); the gate
-- functions are the owner's; nothing to PUBLIC; and a role sees only its
-- tenant's move record.
--
-- What a move does is for sql/tenant_moves.sql, the isolation spec
-- tenant_freeze and test/cluster/scale_out.sh.
BEGIN;
SELECT plan(27);

CREATE ROLE kr19_admin NOLOGIN IN ROLE kaireon_admin;
CREATE ROLE kr19_app NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr19_reader NOLOGIN IN ROLE kaireon_reader;

SELECT has_table('kaireon', 'tenant_moves', 'kaireon.tenant_moves exists');
SELECT col_is_pk('kaireon', 'tenant_moves', ARRAY['tenant_id'], 'one move record per tenant');
SELECT col_type_is('kaireon', 'tenant_moves', 'state', 'text', 'tenant_moves.state is text');
SELECT col_not_null('kaireon', 'tenant_moves', 'frozen_at', 'tenant_moves.frozen_at is not null');
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'kaireon.tenant_moves'::regclass), true,
          'tenant_moves has row-level security');
SELECT policies_are('kaireon', 'tenant_moves', ARRAY['tenant_isolation'], 'tenant_moves has the tenant_isolation policy');
SELECT is((SELECT on_drop FROM kaireon.tenant_tables WHERE table_name = 'kaireon.tenant_moves'::regclass), 'keep',
          'drop_tenant keeps the move record (a released tenant answers "has moved")');
SELECT ok(EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'kaireon'
                  AND 'kaireon.tenant_moves'::regclass = ANY (e.extconfig)), 'tenant_moves is dumped');
SELECT ok(EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = 'kaireon.tenant_moves'::regclass
                  AND t.tgfoid = 'kaireon._invalidate_caches'::regproc), 'a change to tenant_moves invalidates the tenant caches');

SELECT table_privs_are('kaireon', 'tenant_moves', 'kaireon_admin', ARRAY['SELECT'], 'administrators read tenant_moves');
SELECT table_privs_are('kaireon', 'tenant_moves', 'kaireon_app', ARRAY[]::text[], 'applications do not read tenant_moves');
SELECT table_privs_are('kaireon', 'tenant_moves', 'kaireon_reader', ARRAY[]::text[], 'readers do not read tenant_moves');

SELECT function_privs_are('kaireon', 'freeze_tenant', ARRAY['text'], 'kaireon_admin', ARRAY['EXECUTE'], 'administrators freeze');
SELECT function_privs_are('kaireon', 'unfreeze_tenant', ARRAY['text'], 'kaireon_admin', ARRAY['EXECUTE'], 'administrators unfreeze');
SELECT function_privs_are('kaireon', 'release_moved_tenant', ARRAY['text'], 'kaireon_admin', ARRAY['EXECUTE'], 'administrators release');
SELECT function_privs_are('kaireon', 'freeze_tenant', ARRAY['text'], 'kaireon_app', ARRAY[]::text[], 'applications do not freeze');
SELECT function_privs_are('kaireon', 'release_moved_tenant', ARRAY['text'], 'kaireon_app', ARRAY[]::text[], 'applications do not release');
SELECT function_privs_are('kaireon', 'freeze_tenant', ARRAY['text'], 'kaireon_reader', ARRAY[]::text[], 'readers do not freeze');
SELECT function_privs_are('kaireon', 'adopt_moved_tenant', ARRAY['text', 'bigint'], 'kaireon_admin', ARRAY[]::text[],
                          'administrators do not adopt (superusers only)');
SELECT function_privs_are('kaireon', '_close_move_gate', ARRAY['text'], 'kaireon_admin', ARRAY[]::text[],
                          'administrators do not close a gate directly');
SELECT function_privs_are('kaireon', '_enter_tenant', ARRAY['text'], 'kaireon_app', ARRAY[]::text[],
                          'applications do not take a gate directly');
SELECT function_privs_are('kaireon', '_invalidate_all_caches', ARRAY[]::text[], 'kaireon_admin', ARRAY[]::text[],
                          'administrators do not invalidate every cache');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace = 'kaireon'::regnamespace
                  AND p.proname IN ('freeze_tenant', 'unfreeze_tenant', 'release_moved_tenant', 'adopt_moved_tenant',
                                    '_close_move_gate', '_enter_tenant', '_invalidate_all_caches')
                  AND has_function_privilege('public', p.oid, 'EXECUTE')),
          ARRAY[]::text[], 'nothing of a move is executable by PUBLIC');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'kaireon.adopt_moved_tenant(text, bigint)'::regprocedure), false,
          'adopt_moved_tenant runs as its caller (a superuser), not as a definer');
SELECT ok((SELECT proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] FROM pg_proc
           WHERE oid = 'kaireon.freeze_tenant(text)'::regprocedure), 'freeze_tenant pins search_path');

-- Each role sees only its tenant's record.
SELECT kaireon.create_tenant('kr19-a', 'A', 'a@kr19.test') IS NOT NULL;
SELECT kaireon.create_tenant('kr19-b', 'B', 'b@kr19.test') IS NOT NULL;
SELECT kaireon.grant_tenant('kr19_app', 'kr19-a');
SET LOCAL ROLE kr19_admin;
SELECT kaireon.freeze_tenant('kr19-a') IS NOT NULL;
SELECT kaireon.freeze_tenant('kr19-b') IS NOT NULL;
SET LOCAL kaireon.tenant = 'kr19-b';
SELECT is(ARRAY(SELECT tenant_id FROM kaireon.tenant_moves), ARRAY['kr19-b'],
          'an administrator acting on kr19-b sees only its move record');
RESET ROLE;
SET LOCAL ROLE kr19_app;
SELECT throws_ok($$SELECT count(*) FROM kaireon.tenant_moves$$, '42501', NULL, 'an application may not read tenant_moves');
RESET ROLE;
RESET kaireon.tenant;

SELECT * FROM finish();
ROLLBACK;

-- 01_schema.sql - the shape of schema kaireon (SPEC section 1).
--
-- Besides the fixed tables and view of 0.1/0.2, the generic checks here look
-- at every table of schema kaireon that has a tenant_id column (a
-- "tenant-scoped" table), so a table added by a later upgrade script is
-- checked without editing this file: RLS on, a policy that depends on tenant
-- membership, registered in kaireon.tenant_tables, tenant_id the first
-- primary key column.
BEGIN;
SELECT plan(54);

-- Tables, view and their columns --------------------------------------------

SELECT has_schema('kaireon');
SELECT has_table('kaireon', 'tenants', 'kaireon.tenants exists');
SELECT has_table('kaireon', 'tenant_grants', 'kaireon.tenant_grants exists');
SELECT has_table('kaireon', 'tenant_tables', 'kaireon.tenant_tables exists');
SELECT has_view('kaireon', 'stats', 'kaireon.stats exists');

SELECT col_type_is('kaireon', 'tenants', 'tenant_id', 'text', 'tenants.tenant_id is text');
SELECT col_type_is('kaireon', 'tenants', 'name', 'text', 'tenants.name is text');
SELECT col_type_is('kaireon', 'tenants', 'admin_email', 'text', 'tenants.admin_email is text');
SELECT col_type_is('kaireon', 'tenants', 'created_at', 'timestamp with time zone', 'tenants.created_at is timestamptz');
SELECT col_not_null('kaireon', 'tenants', 'name', 'tenants.name is NOT NULL');
SELECT col_not_null('kaireon', 'tenants', 'admin_email', 'tenants.admin_email is NOT NULL');
SELECT col_not_null('kaireon', 'tenants', 'created_at', 'tenants.created_at is NOT NULL');
SELECT col_is_pk('kaireon', 'tenants', ARRAY['tenant_id'], 'tenants is keyed by tenant_id');

SELECT col_type_is('kaireon', 'tenant_grants', 'tenant_id', 'text', 'tenant_grants.tenant_id is text');
SELECT col_type_is('kaireon', 'tenant_grants', 'role', 'regrole', 'tenant_grants.role is regrole');
SELECT col_type_is('kaireon', 'tenant_grants', 'granted_at', 'timestamp with time zone', 'tenant_grants.granted_at is timestamptz');
SELECT col_is_pk('kaireon', 'tenant_grants', ARRAY['tenant_id', 'role'], 'tenant_grants is keyed by (tenant_id, role)');
SELECT fk_ok('kaireon', 'tenant_grants', 'tenant_id', 'kaireon', 'tenants', 'tenant_id',
             'tenant_grants.tenant_id references tenants');

SELECT col_type_is('kaireon', 'tenant_tables', 'table_name', 'regclass', 'tenant_tables.table_name is regclass');
SELECT col_type_is('kaireon', 'tenant_tables', 'on_drop', 'text', 'tenant_tables.on_drop is text');
SELECT col_type_is('kaireon', 'tenant_tables', 'drop_order', 'integer', 'tenant_tables.drop_order is integer');
SELECT col_is_pk('kaireon', 'tenant_tables', ARRAY['table_name'], 'tenant_tables is keyed by table_name');
SELECT hasnt_column('kaireon', 'tenant_tables', 'tenant_id', 'tenant_tables is global (no tenant_id)');

SELECT col_type_is('kaireon', 'stats', 'tenant_id', 'text', 'stats.tenant_id is text');
SELECT col_type_is('kaireon', 'stats', 'decisions', 'bigint', 'stats.decisions is bigint');
SELECT col_type_is('kaireon', 'stats', 'empty_decisions', 'bigint', 'stats.empty_decisions is bigint');
SELECT col_type_is('kaireon', 'stats', 'quota_refusals', 'bigint', 'stats.quota_refusals is bigint');
SELECT col_type_is('kaireon', 'stats', 'license_failures', 'bigint', 'stats.license_failures is bigint');
SELECT col_type_is('kaireon', 'stats', 'trace_drops', 'bigint', 'stats.trace_drops is bigint');
SELECT col_type_is('kaireon', 'stats', 'cache_hits', 'bigint', 'stats.cache_hits is bigint');
SELECT col_type_is('kaireon', 'stats', 'cache_misses', 'bigint', 'stats.cache_misses is bigint');

-- The API functions and what they return -----------------------------------

SELECT function_returns('kaireon', 'create_tenant', ARRAY['text', 'text', 'text'], 'jsonb');
SELECT function_returns('kaireon', 'drop_tenant', ARRAY['text'], 'jsonb');
SELECT function_returns('kaireon', 'grant_tenant', ARRAY['name', 'text'], 'void');
SELECT function_returns('kaireon', 'revoke_tenant', ARRAY['name', 'text'], 'void');
SELECT function_returns('kaireon', 'current_tenant', ARRAY[]::text[], 'text');
SELECT function_returns('kaireon', 'visible_tenant', ARRAY[]::text[], 'text');
SELECT function_returns('kaireon', 'is_admin', ARRAY[]::text[], 'boolean');

-- Generic checks on every tenant-scoped table ------------------------------
-- (a table of schema kaireon with a tenant_id column; a partition is part
-- of its table, checked in 20_partitioning.sql)

CREATE TEMP VIEW kr01_scoped AS
SELECT c.oid::regclass AS rel, c.relkind, c.relrowsecurity
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relnamespace = 'kaireon'::regnamespace AND NOT c.relispartition;

SELECT ok((SELECT count(*) FROM kr01_scoped WHERE relkind IN ('r', 'p')) >= 2,
          'the generic checks see the tenant-scoped tables (at least tenants and tenant_grants)');

SELECT is(ARRAY(SELECT rel::text FROM kr01_scoped WHERE relkind IN ('r', 'p') AND NOT relrowsecurity ORDER BY 1),
          ARRAY[]::text[],
          'row-level security is enabled on every table of schema kaireon with a tenant_id column');

SELECT is(ARRAY(SELECT s.rel::text FROM kr01_scoped s
                WHERE s.relkind IN ('r', 'p') AND s.rel <> 'kaireon.tenants'::regclass
                  AND NOT EXISTS (SELECT 1 FROM kaireon.tenant_tables tt WHERE tt.table_name = s.rel)
                ORDER BY 1),
          ARRAY[]::text[],
          'every tenant-scoped table except kaireon.tenants is registered in kaireon.tenant_tables');

SELECT is(ARRAY(SELECT tt.table_name::text FROM kaireon.tenant_tables tt
                WHERE NOT EXISTS (SELECT 1 FROM kr01_scoped s WHERE s.rel = tt.table_name AND s.relkind IN ('r', 'p'))
                ORDER BY 1),
          ARRAY[]::text[],
          'every table registered in kaireon.tenant_tables is a tenant-scoped table of schema kaireon');

SELECT is(ARRAY(SELECT tt.table_name::text FROM kaireon.tenant_tables tt WHERE tt.table_name = 'kaireon.tenants'::regclass),
          ARRAY[]::text[],
          'kaireon.tenants itself is not in the registry (drop_tenant deletes it last)');

SELECT is((SELECT tt.on_drop FROM kaireon.tenant_tables tt WHERE tt.table_name = 'kaireon.tenant_grants'::regclass),
          'delete', 'tenant_grants is registered and its rows are deleted by drop_tenant');

-- A partitioned table's key is on each partition: its default one stands
-- for it here.
SELECT is(ARRAY(SELECT s.rel::text FROM kr01_scoped s
                WHERE s.relkind IN ('r', 'p')
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_catalog.pg_index i
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                      WHERE i.indisprimary AND a.attname = 'tenant_id'
                        AND (i.indrelid = s.rel
                             OR i.indrelid IN (SELECT h.inhrelid FROM pg_catalog.pg_inherits h
                                               JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid
                                               WHERE h.inhparent = s.rel
                                                 AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT')))
                ORDER BY 1),
          ARRAY[]::text[],
          'tenant_id is the first primary key column of every tenant-scoped table (of its partitions)');

SELECT is(ARRAY(SELECT s.rel::text FROM kr01_scoped s
                JOIN pg_catalog.pg_attribute a ON a.attrelid = s.rel AND a.attname = 'tenant_id'
                WHERE s.relkind IN ('r', 'p') AND (a.atttypid <> 'text'::regtype OR NOT a.attnotnull)
                ORDER BY 1),
          ARRAY[]::text[],
          'tenant_id is text NOT NULL in every tenant-scoped table');

SELECT is(ARRAY(SELECT s.rel::text FROM kr01_scoped s
                WHERE s.relkind IN ('r', 'p')
                  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = s.rel)
                ORDER BY 1),
          ARRAY[]::text[],
          'every tenant-scoped table has row-level security policies');

-- Permissive policies are OR-ed: one that does not depend on tenant
-- membership (e.g. USING (true)) opens the table to every tenant.
SELECT is(ARRAY(SELECT format('%s policy %s', p.polrelid::regclass, p.polname)
                FROM pg_catalog.pg_policy p JOIN kr01_scoped s ON s.rel = p.polrelid
                WHERE p.polpermissive
                  AND NOT (coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')
                           ~ 'kaireon\.(visible_tenant|current_tenant|is_admin)\(\)')
                ORDER BY 1),
          ARRAY[]::text[],
          'every permissive policy of a tenant-scoped table depends on visible_tenant(), current_tenant() or is_admin()');

SELECT is(ARRAY(SELECT format('%s policy %s', p.polrelid::regclass, p.polname)
                FROM pg_catalog.pg_policy p JOIN kr01_scoped s ON s.rel = p.polrelid
                WHERE p.polpermissive AND p.polwithcheck IS NOT NULL
                  AND NOT (pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
                           ~ 'kaireon\.(visible_tenant|current_tenant|is_admin)\(\)')
                ORDER BY 1),
          ARRAY[]::text[],
          'every WITH CHECK of a permissive policy of a tenant-scoped table depends on the tenant too');

-- A view that reads an RLS table runs the policies as the view's owner (the
-- superuser who created the extension, who bypasses RLS) unless it is
-- security_invoker: such a view would show every tenant's rows.
SELECT is(ARRAY(SELECT DISTINCT v.oid::regclass::text
                FROM pg_catalog.pg_class v
                JOIN pg_catalog.pg_rewrite r ON r.ev_class = v.oid
                JOIN pg_catalog.pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                           AND d.refclassid = 'pg_class'::regclass
                JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid AND t.relrowsecurity
                WHERE v.relkind IN ('v', 'm')
                  AND (v.relnamespace = 'kaireon'::regnamespace
                       OR v.oid IN (SELECT objid FROM pg_catalog.pg_depend
                                    WHERE classid = 'pg_class'::regclass AND deptype = 'e'
                                      AND refclassid = 'pg_extension'::regclass
                                      AND refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'kaireon')))
                  AND NOT (v.relkind = 'v' AND coalesce(array_to_string(v.reloptions, ','), '')
                                               ~* 'security_invoker=(true|on|yes|1)')
                ORDER BY 1),
          ARRAY[]::text[],
          'every view of the extension that reads a table under RLS is security_invoker (no materialized views over RLS tables)');

-- Row-level security on the fixed tables and their policies.
SELECT policies_are('kaireon', 'tenants', ARRAY['tenant_isolation', 'administrators'],
                    'kaireon.tenants has the tenant_isolation and administrators policies');
SELECT policies_are('kaireon', 'tenant_grants', ARRAY['tenant_isolation', 'administrators'],
                    'kaireon.tenant_grants has the tenant_isolation and administrators policies');

-- The registry's own constraints.
SELECT throws_ok($$INSERT INTO kaireon.tenant_tables VALUES ('kaireon.tenants', 'shred', 1)$$, '23514', NULL,
                 'tenant_tables.on_drop accepts only delete or keep');
SELECT throws_ok($$INSERT INTO kaireon.tenant_tables VALUES ('kaireon.tenant_grants', 'keep', 1)$$, '23505', NULL,
                 'a table is registered once');

SELECT * FROM finish();
ROLLBACK;

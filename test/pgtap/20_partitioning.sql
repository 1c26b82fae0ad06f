-- 20_partitioning.sql - the shape and the access of the time-partitioned
-- append tables (docs/operations.md "Time partitioning"): usage_events,
-- decisions, decision_traces and interactions are partitioned by their
-- recording time
-- with a default partition that is guarded like its table (row-level
-- security, its policy, nothing granted, dumped; append-only with its own
-- TRUNCATE trigger on usage_events); kaireon.time_partitioning is for
-- administrators; enable_time_partitioning and partition_maintenance are
-- theirs, the helpers no one's; nothing to PUBLIC; a role reads only its
-- tenant's rows through the partitioned table.
--
-- What enabling and retention do is for sql/partitioning.sql (with
-- pg_partman) and test/cluster/partitioning.sh (a dump of time partitions).
BEGIN;
SELECT plan(30);

CREATE ROLE kr20_app NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr20_admin NOLOGIN IN ROLE kaireon_admin;

CREATE TEMP VIEW kr20_tables (rel, control) AS
VALUES ('kaireon.usage_events'::regclass, 'recorded_at'), ('kaireon.decisions'::regclass, 'decided_at'),
       ('kaireon.decision_traces'::regclass, 'traced_at'), ('kaireon.interactions'::regclass, 'recorded_at');

SELECT is(ARRAY(SELECT format('%s %s', t.rel, pg_get_partkeydef(t.rel)) FROM kr20_tables t ORDER BY 1),
          ARRAY['kaireon.decision_traces RANGE (traced_at)', 'kaireon.decisions RANGE (decided_at)',
                'kaireon.interactions RANGE (recorded_at)', 'kaireon.usage_events RANGE (recorded_at)'],
          'the append tables are range-partitioned by their recording time');
SELECT is(ARRAY(SELECT format('%s %s', i.inhrelid::regclass, pg_get_expr(c.relpartbound, c.oid))
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent IN (SELECT rel FROM kr20_tables) ORDER BY 1),
          ARRAY['kaireon.decision_traces_default DEFAULT', 'kaireon.decisions_default DEFAULT',
                'kaireon.interactions_default DEFAULT', 'kaireon.usage_events_default DEFAULT'],
          'each has one default partition, which holds every row until pg_partman cuts time partitions');
SELECT is(ARRAY(SELECT c.relname::text FROM kr20_tables t JOIN pg_class c ON c.oid = t.rel
                WHERE NOT c.relrowsecurity ORDER BY 1), ARRAY[]::text[], 'the tables have row-level security');
SELECT is(ARRAY(SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent IN (SELECT rel FROM kr20_tables) AND NOT c.relrowsecurity ORDER BY 1),
          ARRAY[]::text[], 'the default partitions have row-level security (a partition named directly skips its table''s policy)');
SELECT policies_are('kaireon', 'usage_events_default', ARRAY['tenant_isolation'], 'usage_events_default has the tenant policy');
SELECT policies_are('kaireon', 'decisions_default', ARRAY['tenant_isolation'], 'decisions_default has the tenant policy');
SELECT policies_are('kaireon', 'decision_traces_default', ARRAY['tenant_isolation'], 'decision_traces_default has the tenant policy');
SELECT policies_are('kaireon', 'interactions_default', ARRAY['tenant_isolation'], 'interactions_default has the tenant policy');
SELECT table_privs_are('kaireon', 'decisions_default', 'kaireon_app', ARRAY[]::text[], 'applications have nothing on a partition');
SELECT table_privs_are('kaireon', 'usage_events_default', 'kaireon_admin', ARRAY[]::text[], 'administrators have nothing on a partition');
SELECT table_privs_are('kaireon', 'decisions', 'kaireon_app', ARRAY['SELECT'], 'applications read decisions through the table');
SELECT is((SELECT count(*)::int FROM pg_extension e, unnest(e.extconfig) c
           WHERE e.extname = 'kaireon' AND c::regclass::text IN ('kaireon.usage_events_default', 'kaireon.decisions_default',
                                                                 'kaireon.decision_traces_default',
                                                                 'kaireon.interactions_default')), 4,
          'the default partitions are dumped (a partitioned table has no rows of its own)');
SELECT ok(EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = 'kaireon.usage_events_default'::regclass
                  AND t.tgname = 'append_only_truncate' AND t.tgenabled = 'A'),
          'usage_events_default refuses TRUNCATE (always, also in replica mode)');
SELECT ok(EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = 'kaireon.usage_events_default'::regclass
                  AND t.tgname = 'append_only' AND t.tgenabled = 'A'),
          'usage_events_default refuses UPDATE and DELETE (the row trigger cloned from its table, always)');
SELECT is(ARRAY(SELECT format('%s %s', x.indexrelid::regclass, x.indisprimary) FROM pg_index x
                WHERE x.indrelid IN (SELECT rel FROM kr20_tables) ORDER BY 1), ARRAY[]::text[],
          'the partitioned tables have no index of their own: a restored partition keeps just its dumped ones');

SELECT col_is_pk('kaireon', 'usage_events_default', ARRAY['tenant_id', 'id'], 'a partition is keyed by (tenant_id, id)');
SELECT is(ARRAY(SELECT x.indexrelid::regclass::text FROM pg_index x
                WHERE x.indrelid = 'kaireon.decisions_default'::regclass ORDER BY 1),
          ARRAY['kaireon.decisions_default_customer', 'kaireon.decisions_default_experiment',
                'kaireon.decisions_default_pkey', 'kaireon.decisions_default_quota_period'],
          'a partition of decisions has the key and the lookups');
SELECT function_privs_are('kaireon', 'rebuild_usage_rollups', ARRAY[]::text[], 'kaireon_admin', ARRAY['EXECUTE'],
                          'administrators rebuild the usage rollups');
SELECT has_table('kaireon', 'time_partitioning', 'kaireon.time_partitioning exists');
SELECT hasnt_column('kaireon', 'time_partitioning', 'tenant_id', 'time_partitioning is global (no tenant_id)');
SELECT ok(EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'kaireon'
                  AND 'kaireon.time_partitioning'::regclass = ANY (e.extconfig)), 'time_partitioning is dumped');
SELECT table_privs_are('kaireon', 'time_partitioning', 'kaireon_admin', ARRAY['SELECT'], 'administrators read time_partitioning');
SELECT table_privs_are('kaireon', 'time_partitioning', 'kaireon_app', ARRAY[]::text[], 'applications do not');

SELECT function_privs_are('kaireon', 'enable_time_partitioning', ARRAY['interval', 'integer', 'interval'], 'kaireon_admin',
                          ARRAY['EXECUTE'], 'administrators enable time partitioning');
SELECT function_privs_are('kaireon', 'partition_maintenance', ARRAY[]::text[], 'kaireon_admin', ARRAY['EXECUTE'],
                          'administrators run the maintenance');
SELECT function_privs_are('kaireon', 'enable_time_partitioning', ARRAY['interval', 'integer', 'interval'], 'kaireon_app',
                          ARRAY[]::text[], 'applications do not');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace = 'kaireon'::regnamespace
                  AND p.proname IN ('_partitionable_tables', '_partman_schema', '_partition_bounds', '_secure_partitions',
                                    '_retention_floor', '_index_partition', '_interactions_floor',
                                    '_secure_partition')
                  AND (has_function_privilege('kaireon_admin', p.oid, 'EXECUTE')
                       OR has_function_privilege('kaireon_app', p.oid, 'EXECUTE')
                       OR has_function_privilege('kaireon_reader', p.oid, 'EXECUTE'))
                ORDER BY 1), ARRAY[]::text[], 'no kaireon role may run the helpers');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p, aclexplode(p.proacl) a
                WHERE p.pronamespace = 'kaireon'::regnamespace AND a.grantee = 0
                  AND p.proname IN ('enable_time_partitioning', 'partition_maintenance', 'rebuild_usage_rollups',
                                    '_enable_time_partitioning', '_partition_maintenance',
                                    '_partitionable_tables', '_partman_schema', '_partition_bounds', '_secure_partitions',
                                    '_retention_floor', '_index_partition', '_interactions_floor',
                                    '_secure_partition')
                ORDER BY 1), ARRAY[]::text[], 'nothing of time partitioning is granted to PUBLIC');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_proc p
                      WHERE p.pronamespace = 'kaireon'::regnamespace AND p.proacl IS NULL
                        AND p.proname IN ('enable_time_partitioning', 'partition_maintenance', '_secure_partitions',
                                          '_enable_time_partitioning', '_partition_maintenance')),
          'no function of time partitioning keeps the default EXECUTE for PUBLIC');

-- Through the partitioned table, a role reads its tenant's rows only.
DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr20-a', 'A', 'ops@a.test');
    PERFORM kaireon.create_tenant('kr20-b', 'B', 'ops@b.test');
    PERFORM kaireon.grant_tenant('kr20_app', 'kr20-a');
END
$$;
INSERT INTO kaireon.decisions (tenant_id, customer_id, flow, offers)
VALUES ('kr20-a', 'c1', 'main', '[]'), ('kr20-b', 'c1', 'main', '[]'), ('kr20-b', 'c2', 'main', '[]');
SET LOCAL ROLE kr20_app;
SET LOCAL kaireon.tenant = 'kr20-a';
SELECT is((SELECT array_agg(DISTINCT tenant_id) FROM kaireon.decisions), ARRAY['kr20-a'],
          'a role reads only its tenant''s decisions, wherever the partition');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

-- Time partitioning of the append tables (docs/operations.md "Time
-- partitioning"): the tables are partitioned with a default partition from
-- the start; enable_time_partitioning hands them to pg_partman, moving the
-- rows into time partitions; append-only holds on every partition; the
-- partitions are guarded like their parent; partition_maintenance drops
-- only what no current quota, usage period or trace allowance counts. In a
-- database of its own: the partitions must not change the other tests'.
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_kr_partitioning;
\c regress_kr_partitioning
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION kaireon;
RESET client_min_messages;

-- The shape: partitioned by their recording time, one default partition.
SELECT c.relname, c.relkind, pg_get_partkeydef(c.oid) AS key,
       (SELECT string_agg(p.relname || ' ' || pg_get_expr(p.relpartbound, p.oid), ', ')
        FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid) AS partitions
FROM pg_class c WHERE c.oid IN ('kaireon.usage_events'::regclass, 'kaireon.decisions'::regclass,
                                'kaireon.decision_traces'::regclass, 'kaireon.interactions'::regclass)
ORDER BY 1;

-- Rows of three months, before any time partition exists.
SELECT kaireon.create_tenant('pt-a', 'Partitioned', 'ops@pt.test') ->> 'tenantId' AS created;
SELECT kaireon.create_tenant('pt-b', 'Dropped later', 'ops@pt.test') ->> 'tenantId' AS created;
SELECT kaireon.define_feature('pt_calls', 'numeric', '{"period": "month"}') ->> 'key' AS feature;
INSERT INTO kaireon.decisions (tenant_id, customer_id, flow, offers, decided_at, quota_period)
SELECT t, 'c' || m, 'main', '[]', make_timestamptz(2026, m, 10, 12, 0, 0, 'UTC'), make_timestamptz(2026, m, 1, 0, 0, 0, 'UTC')
FROM unnest(ARRAY['pt-a', 'pt-b']) t, generate_series(1, 4) m;
INSERT INTO kaireon.decision_traces (tenant_id, decision_id, customer_id, flow, stages, traced_at)
SELECT 'pt-a', gen_random_uuid(), 'c' || m, 'main', '[]', make_timestamptz(2026, m, 10, 12, 0, 0, 'UTC')
FROM generate_series(1, 4) m;
INSERT INTO kaireon.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
SELECT t, 'pt_calls', m, make_timestamptz(2026, m, 10, 12, 0, 0, 'UTC'), make_timestamptz(2026, m, 10, 12, 0, 0, 'UTC')
FROM unnest(ARRAY['pt-a', 'pt-b']) t, generate_series(1, 4) m;
SET kaireon.tenant = 'pt-a';
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{
  "channels": [{"id": "web", "name": "Web", "type": "web"}],
  "offers": [{"id": "gold", "name": "Gold card", "priority": 90}],
  "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web"}],
  "customers": [{"id": "ana"}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}],
  "flows": [{"id": "home", "name": "Home", "channelId": "web"}]
}') -> 'applied');
RESET kaireon.tenant;
-- Interactions and their keys as kaireon_respond records them.
WITH recorded AS (
    INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind, occurred_at,
                                      recorded_at)
    SELECT 'pt-a', 'k' || m, 'ana', 'gold', 'impression', 'impression', make_timestamptz(2026, m, 10, 12, 0, 0, 'UTC'),
           make_timestamptz(2026, m, 10, 12, 0, 0, 'UTC')
    FROM generate_series(1, 4) m
    RETURNING tenant_id, idempotency_key, id, recorded_at, customer_id, offer_id, outcome, value, decision_id)
INSERT INTO kaireon.interaction_keys SELECT * FROM recorded;
SELECT tableoid::regclass AS partition, count(*) FROM kaireon.decisions GROUP BY 1;

-- Append-only on the partitions, named by their table (the partition in
-- the detail), also for a superuser.
UPDATE kaireon.usage_events SET value = 0;
DELETE FROM kaireon.usage_events_default;
TRUNCATE kaireon.usage_events_default;
TRUNCATE kaireon.usage_events;

-- Without pg_partman: nothing to maintain, and enabling says what is missing.
SELECT kaireon.partition_maintenance();
SELECT kaireon.enable_time_partitioning();
\echo :LAST_ERROR_SQLSTATE

CREATE SCHEMA partman;
SET client_min_messages = warning;
CREATE EXTENSION pg_partman SCHEMA partman;
RESET client_min_messages;

-- Bad input changes nothing.
SELECT kaireon.enable_time_partitioning(interval '10 minutes');
SELECT kaireon.enable_time_partitioning(NULL);
SELECT kaireon.enable_time_partitioning(interval '1 month', 0);
SELECT kaireon.enable_time_partitioning(interval '1 month', 4, interval '-1 day');
SELECT count(*) AS handed_over FROM kaireon.time_partitioning;
SELECT count(*) AS partman_parents FROM partman.part_config;
-- Administrators only (and no one else may run the job).
CREATE ROLE regress_kr_pt_app IN ROLE kaireon_app;
CREATE ROLE regress_kr_pt_admin IN ROLE kaireon_admin;
SET ROLE regress_kr_pt_app;
SELECT kaireon.enable_time_partitioning();
SELECT kaireon.partition_maintenance();
RESET ROLE;

-- Enabled in April 2026 (the test clock; pg_partman premakes from the real
-- date on, so only the partitions up to April are shown): the rows moved
-- into monthly partitions, none left in the default.
SET kaireon.test_clock = '2026-04-15T12:00:00Z';
SET ROLE regress_kr_pt_admin;
SELECT key, value ->> 'enabled' AS enabled, value ->> 'moved' AS moved
FROM jsonb_each(kaireon.enable_time_partitioning(interval '1 month', 2)) ORDER BY key;
RESET ROLE;
SELECT table_name, partition_interval, retention FROM kaireon.time_partitioning ORDER BY table_name::text;
SELECT partition, range_from, range_to FROM kaireon._partition_bounds('kaireon.decisions')
WHERE range_to <= '2026-05-01' ORDER BY range_from;
SELECT tableoid::regclass AS partition, count(*) FROM kaireon.decisions GROUP BY 1 ORDER BY tableoid::regclass::text;
SELECT tableoid::regclass AS partition, count(*) FROM kaireon.usage_events GROUP BY 1 ORDER BY tableoid::regclass::text;
SELECT tableoid::regclass AS partition, count(*) FROM kaireon.interactions GROUP BY 1 ORDER BY tableoid::regclass::text;
SELECT count(*) AS in_defaults FROM (SELECT 1 FROM kaireon.usage_events_default UNION ALL
                                     SELECT 1 FROM kaireon.decisions_default UNION ALL
                                     SELECT 1 FROM kaireon.decision_traces_default UNION ALL
                                     SELECT 1 FROM kaireon.interactions_default) d;
-- New rows go to their month; ids go on from the moved ones.
INSERT INTO kaireon.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
VALUES ('pt-a', 'pt_calls', 10, '2026-04-15T12:00:00Z', '2026-04-15T12:00:00Z') RETURNING tableoid::regclass, id;
SELECT sum FROM kaireon.usage_totals WHERE tenant_id = 'pt-a' AND feature = 'pt_calls' AND period_start = '2026-04-01T00:00:00Z';

-- A decision reads its customer's history only from the partitions its
-- windows reach (src/pg/policy_state.cpp): from the oldest window's start
-- less 5 minutes (the CHECK below) to a day after its time, not those
-- before (January to March hold ana's interactions) nor those made ahead:
-- counted in the transaction's own statistics (index scans: the history
-- reads the customer's lookup). Within the window's partition, ana's
-- impression of April 10th is older than the daily cap's window: the lookup
-- leaves it out (no row fetched). A count over all time (maxTotal) reads
-- every partition and row.
\set partitions_read 'SELECT CASE WHEN b.range_from > timestamptz ''2026-04-16T12:00:00Z'' THEN ''made ahead'' WHEN b.range_to <= timestamptz ''2026-04-01T00:00:00Z'' THEN ''before the window'' ELSE ''the window'' END AS partitions, count(*) > 0 AS some, bool_and(coalesce(s.idx_scan, 0) > 0) AS all_read, bool_and(coalesce(s.idx_scan, 0) = 0) AS none_read, sum(coalesce(s.idx_tup_fetch, 0)) AS rows_fetched FROM kaireon._partition_bounds(''kaireon.interactions'') b LEFT JOIN pg_stat_xact_user_tables s ON s.relid = b.partition WHERE b.range_from IS NOT NULL GROUP BY 1 ORDER BY min(b.range_from)'
SET kaireon.tenant = 'pt-a';
SELECT kaireon.apply_catalog('{"policies": [{"id": "two-a-day", "type": "frequency_cap", "config": {"maxPerDay": 2}}]}')
       IS NOT NULL AS policy_applied;
BEGIN;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "dryRun": true}') -> 'offers' -> 0 ->> 'offerId' AS offer;
:partitions_read;
COMMIT;
SELECT kaireon.apply_catalog('{"policies": [{"id": "two-a-day", "type": "frequency_cap", "config": {"maxTotal": 20}}]}',
                             'merge') -> 'applied' -> 'policies' AS lifetime_policy;
BEGIN;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "dryRun": true}') -> 'offers' -> 0 ->> 'offerId' AS offer;
:partitions_read;
COMMIT;
DELETE FROM kaireon.policies WHERE tenant_id = 'pt-a' AND id = 'two-a-day';
RESET kaireon.tenant;

-- Every partition is guarded like its parent: row-level security with the
-- tenant policy, nothing granted to anyone, append-only with TRUNCATE too.
SELECT count(*) >= 15 AS partitions,
       count(*) FILTER (WHERE NOT c.relrowsecurity) AS without_rls,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)) AS without_policy,
       count(*) FILTER (WHERE c.relacl IS NOT NULL AND array_length(c.relacl, 1) > 1) AS granted_to_others
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent IN ('kaireon.usage_events'::regclass, 'kaireon.decisions'::regclass,
                      'kaireon.decision_traces'::regclass, 'kaireon.interactions'::regclass);
SELECT has_table_privilege('kaireon_app', 'kaireon.decisions_p2026_01', 'SELECT') AS app_reads_partition;
SET ROLE regress_kr_pt_app;
SELECT count(*) FROM kaireon.decisions_p2026_01;
RESET ROLE;
TRUNCATE kaireon.usage_events_p2026_01;
TRUNCATE kaireon.usage_events_default;
DELETE FROM kaireon.usage_events_p2026_02;
UPDATE kaireon.usage_events SET value = 0 WHERE recorded_at < '2026-02-01';
-- drop_tenant still removes a tenant's rows from every partition.
SELECT kaireon.drop_tenant('pt-b') -> 'deleted' -> 'kaireon.usage_events' AS usage_rows_deleted;
SELECT count(*) AS left_of_pt_b FROM kaireon.usage_events WHERE tenant_id = 'pt-b';

-- Each partition has its own primary key and lookups; the partitioned
-- tables have none (a restored partition keeps just its dumped indexes).
SELECT x.indexrelid::regclass AS index, x.indisprimary AS primary_key FROM pg_index x
WHERE x.indrelid IN ('kaireon.decisions'::regclass, 'kaireon.decisions_p2026_03'::regclass) ORDER BY x.indexrelid::regclass::text;
SELECT count(*) AS partitions_without_key FROM pg_inherits i
WHERE i.inhparent IN ('kaireon.usage_events'::regclass, 'kaireon.decisions'::regclass, 'kaireon.decision_traces'::regclass,
                      'kaireon.interactions'::regclass)
  AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = i.inhrelid AND x.indisprimary);

-- Called again: the retention only.
SELECT kaireon.enable_time_partitioning(interval '1 week', 9, interval '30 days') ->> 'kaireon.decisions' AS again;
SELECT table_name, partition_interval, retention FROM kaireon.time_partitioning ORDER BY table_name::text;

-- Retention 30 days on April 15th: the partitions that end before March
-- 16th go (January, February); March stays.
SELECT key, value -> 'dropped' AS dropped, value ->> 'keptFrom' AS kept_from
FROM jsonb_each(kaireon.partition_maintenance()) ORDER BY key;
SELECT partition FROM kaireon._partition_bounds('kaireon.decisions') WHERE range_to <= '2026-05-01';
-- pg_partman sets search_path for the session; the caller's is given back.
SELECT current_setting('search_path') AS search_path_kept;
-- A replay of a key whose interaction retention dropped is still a replay:
-- nothing is recorded again.
SET kaireon.tenant = 'pt-a';
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "impression", "idempotencyKey": "k1"}')
       ->> 'duplicate' AS replayed_after_retention;
RESET kaireon.tenant;
SELECT count(*) AS interactions, (SELECT count(*) FROM kaireon.interaction_keys) AS keys FROM kaireon.interactions;

-- An interaction is recorded at most 5 minutes before it occurred (the
-- most kaireon_respond lets occurredAt run ahead of its clock): the table
-- refuses more, also for a superuser (0.18), since a decision's history
-- would not find it.
\set VERBOSITY terse
INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind, occurred_at, recorded_at)
VALUES ('pt-a', 'ahead', 'ana', 'gold', 'impression', 'impression', '2026-04-01T00:01:01Z', '2026-03-31T23:56:00Z');
\set VERBOSITY default
WITH recorded AS (
    INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind, occurred_at,
                                      recorded_at)
    VALUES ('pt-a', 'ahead', 'ana', 'gold', 'impression', 'impression', '2026-04-01T00:01:00Z', '2026-03-31T23:56:00Z')
    RETURNING tenant_id, idempotency_key, id, recorded_at, customer_id, offer_id, outcome, value, decision_id)
INSERT INTO kaireon.interaction_keys SELECT * FROM recorded;

-- Retention 1 day: the floors hold. Decisions keep the current quota period
-- (April), traces today, usage the current month of pt_calls (less an hour).
SELECT kaireon.enable_time_partitioning(retention => interval '1 day') IS NOT NULL AS shortened;
SELECT key, value -> 'dropped' AS dropped, value ->> 'keptFrom' AS kept_from
FROM jsonb_each(kaireon.partition_maintenance()) ORDER BY key;
SELECT count(*) AS april_decisions FROM kaireon.decisions WHERE decided_at >= '2026-04-01';
SELECT count(*) AS april_traces FROM kaireon.decision_traces;
SELECT sum FROM kaireon.usage_totals WHERE tenant_id = 'pt-a' AND feature = 'pt_calls' AND period_start = '2026-04-01T00:00:00Z';
-- What the catalogs count sets the interactions' floor: a 48-hour cooldown
-- counts from 48 hours ago, a day earlier for the customers' time zones; a
-- frequency cap with maxTotal counts every interaction, and keeps them all.
SET kaireon.tenant = 'pt-a';
SELECT kaireon.apply_catalog('{"policies": [{"id": "cool", "type": "cooldown", "config": {"cooldownHours": 48}}]}',
                             'merge') -> 'applied' -> 'policies' AS policies;
SELECT kaireon._interactions_floor() AS interactions_floor;
SELECT kaireon.apply_catalog('{"policies": [{"id": "total", "type": "frequency_cap", "config": {"maxTotal": 5}}]}',
                             'merge') -> 'applied' -> 'policies' AS policies;
SELECT kaireon._interactions_floor() AS interactions_floor;
RESET kaireon.tenant;
SELECT (kaireon.partition_maintenance() -> 'kaireon.interactions') - 'partitions'::text AS interactions;

-- Usage counted over a feature's whole life (period "never") keeps every
-- usage event.
SELECT kaireon.define_feature('pt_lifetime', 'numeric', '{"period": "never"}') ->> 'key' AS feature;
INSERT INTO kaireon.usage_events (tenant_id, feature, value, recorded_at)
VALUES ('pt-a', 'pt_lifetime', 1, '2026-04-15T12:00:00Z');
SET kaireon.test_clock = '2026-07-15T12:00:00Z';
SELECT (kaireon.partition_maintenance() -> 'kaireon.usage_events') - 'partitions'::text AS usage_events;
-- What retention dropped is in the audit trail.
SELECT action, target, details -> 'partitions' AS partitions FROM kaireon.audit_log
WHERE action IN ('partitioning.enabled', 'partitions.dropped') ORDER BY id;

-- The job is scheduled with the others.
SELECT job_name, schedule, command FROM kaireon._cron_jobs() WHERE job_name LIKE '%-partition-maintenance';

\c :regress_db
DROP DATABASE regress_kr_partitioning;
DROP ROLE regress_kr_pt_app, regress_kr_pt_admin;

-- Retention of the audit trail (docs/audit.md "Retention"): audit_log and
-- audit_seals are cut into time partitions with the other append tables; a
-- seal lives in the partition of its record; retention is off until an
-- administrator sets it, and then drops only pairs of partitions whose
-- records are all sealed, whose seals are the oldest part of each chain,
-- and whose chain verifies; each tenant's chain goes on from an anchor. In
-- a database of its own, on the test clock from the start (the trail is
-- cut by its recording time).
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_kr_audit_retention;
\c regress_kr_audit_retention
SET TimeZone = 'UTC';
SET kaireon.test_clock = '2026-01-10T12:00:00Z';
SET client_min_messages = warning;
CREATE EXTENSION kaireon;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
RESET client_min_messages;
CREATE ROLE regress_kr_ar_admin IN ROLE kaireon_admin;
CREATE ROLE regress_kr_ar_app IN ROLE kaireon_app;

-- The shape: partitioned by recorded_at with a default partition; a seal
-- carries its record's recorded_at.
SELECT c.relname, pg_get_partkeydef(c.oid) AS key,
       (SELECT string_agg(p.relname || ' ' || pg_get_expr(p.relpartbound, p.oid), ', ')
        FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid) AS partitions
FROM pg_class c WHERE c.oid IN ('kaireon.audit_log'::regclass, 'kaireon.audit_seals'::regclass) ORDER BY 1;

-- Four months of records for two tenants and the system trail, sealed
-- every month.
SELECT kaireon.create_tenant('ar-a', 'Audited A', 'ops@ar.test') ->> 'tenantId' AS created;
SELECT kaireon.create_tenant('ar-b', 'Audited B', 'ops@ar.test') ->> 'tenantId' AS created;
SELECT kaireon.enable_time_partitioning(interval '1 month', 2) -> 'kaireon.audit_log' ->> 'enabled' AS audit_cut;
SELECT partition, range_from, range_to FROM kaireon._partition_bounds('kaireon.audit_seals')
WHERE range_to <= '2026-06-01' ORDER BY range_from;
CREATE FUNCTION pg_temp.records_of(at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('kaireon.test_clock', at::text, true);
    PERFORM kaireon._audit(t, 'test.step', to_char(at, 'Mon'), '{}') FROM unnest(ARRAY['ar-a', 'ar-b', '']) t;
END
$$;
SELECT pg_temp.records_of('2026-01-10T12:00:00Z');
SELECT kaireon.seal_audit() - 'refusalRecords' AS january;
SELECT pg_temp.records_of('2026-02-10T12:00:00Z');
SELECT kaireon.seal_audit() - 'refusalRecords' AS february;
SELECT pg_temp.records_of('2026-03-10T12:00:00Z');
SELECT kaireon.seal_audit() - 'refusalRecords' AS march;
SELECT pg_temp.records_of('2026-04-10T12:00:00Z');
SELECT kaireon.seal_audit() - 'refusalRecords' AS april;
-- Each seal is in the partition of its record.
SELECT a.tableoid::regclass AS records, s.tableoid::regclass AS seals, count(*)
FROM kaireon.audit_log a JOIN kaireon.audit_seals s ON s.tenant_id = a.tenant_id AND s.audit_id = a.id
GROUP BY 1, 2 ORDER BY a.tableoid::regclass::text;
SELECT t AS tenant, kaireon.verify_audit(t) AS verdict FROM unnest(ARRAY['ar-a', 'ar-b', '']) t;

-- Retention of the trail is off until set: enable_time_partitioning's
-- retention is the operational tables'.
SET kaireon.test_clock = '2026-04-20T12:00:00Z';
SELECT kaireon.enable_time_partitioning(retention => interval '1 day') IS NOT NULL AS others_shortened;
SELECT table_name, retention FROM kaireon.time_partitioning ORDER BY table_name::text;
SELECT (kaireon.partition_maintenance() -> 'kaireon.audit_log') - 'partitions'::text AS audit_log;

-- set_partition_retention: bad input changes nothing; administrators only.
SELECT kaireon.set_partition_retention('kaireon.audit_seals', interval '30 days');
SELECT kaireon.set_partition_retention('kaireon.tenants', interval '30 days');
SELECT kaireon.set_partition_retention(NULL, interval '30 days');
SELECT kaireon.set_partition_retention('kaireon.audit_log', interval '-1 day');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_kr_ar_app;
SELECT kaireon.set_partition_retention('kaireon.audit_log', interval '30 days');
RESET ROLE;
SELECT table_name, retention FROM kaireon.time_partitioning WHERE table_name::text LIKE 'kaireon.audit%';
SET ROLE regress_kr_ar_admin;
SELECT kaireon.set_partition_retention('kaireon.audit_log', interval '30 days');
RESET ROLE;
SELECT table_name, retention FROM kaireon.time_partitioning WHERE table_name::text LIKE 'kaireon.audit%';

-- A record that is not sealed yet holds its partition: on April 20th with
-- 30 days, January and February could go (both end before March 21st);
-- a late record in February keeps it, January goes.
INSERT INTO kaireon.audit_log (tenant_id, recorded_at, actor, action, target)
VALUES ('ar-b', '2026-02-15T12:00:00Z', 'late', 'test.late', 'Feb') RETURNING id AS late_id \gset
SELECT (kaireon.partition_maintenance() -> 'kaireon.audit_log') - 'partitions'::text AS audit_log;
SELECT tenant_id, position, audit_id, pruned_through FROM kaireon.audit_anchors ORDER BY tenant_id;
SELECT tenant_id, target AS pruned_target, details - 'hash' AS details FROM kaireon.audit_log
WHERE action = 'audit.pruned' ORDER BY tenant_id;
SELECT t AS tenant, kaireon.verify_audit(t) AS verdict FROM unnest(ARRAY['ar-a', 'ar-b', '']) t;
SELECT min(recorded_at) AS oldest_record FROM kaireon.audit_log;

-- Sealed now, the late record comes after April's seals of ar-b: February
-- is not the oldest part of ar-b's chain and waits for the months after it.
SELECT kaireon.seal_audit() -> 'sealed' AS sealed;
SELECT (SELECT position FROM kaireon.audit_seals WHERE tenant_id = 'ar-b' AND audit_id = :late_id)
       > (SELECT s.position FROM kaireon.audit_seals s JOIN kaireon.audit_log a ON a.tenant_id = s.tenant_id
          AND a.id = s.audit_id WHERE a.tenant_id = 'ar-b' AND a.target = 'Apr') AS sealed_after_april;
SELECT (kaireon.partition_maintenance() -> 'kaireon.audit_log') - 'partitions'::text AS audit_log;

-- On June 20th (30 days back: May 21st) February, March and April go
-- together.
SELECT pg_temp.records_of('2026-05-10T12:00:00Z');
SET kaireon.test_clock = '2026-06-20T12:00:00Z';
SELECT kaireon.seal_audit() -> 'sealed' AS sealed;
SELECT (kaireon.partition_maintenance() -> 'kaireon.audit_log') - 'partitions'::text AS audit_log;
SELECT tenant_id, position, pruned_through FROM kaireon.audit_anchors ORDER BY tenant_id, position;
SELECT t AS tenant, kaireon.verify_audit(t) AS verdict FROM unnest(ARRAY['ar-a', 'ar-b', '']) t;
-- Each chain goes on from its anchor: its first seal kept follows it.
SELECT kaireon._audit('ar-b', 'test.after', 'Jun', '{}');
SELECT kaireon.seal_audit() -> 'sealed' AS sealed;
SELECT DISTINCT ON (s.tenant_id) s.tenant_id, s.position = n.position + 1 AS next_position,
       s.prev_hash = n.hash AS follows_anchor
FROM kaireon.audit_seals s
JOIN LATERAL (SELECT * FROM kaireon.audit_anchors n WHERE n.tenant_id = s.tenant_id ORDER BY n.position DESC LIMIT 1) n
    ON true
ORDER BY s.tenant_id, s.position;
SELECT kaireon.verify_audit('ar-b') AS verdict;

-- A broken chain is never dropped: May's record of ar-a modified, July
-- 20th keeps May (and says why); verify_audit reports it as before.
ALTER TABLE kaireon.audit_log DISABLE TRIGGER append_only;
UPDATE kaireon.audit_log SET details = '{"forged": true}' WHERE tenant_id = 'ar-a' AND target = 'May';
ALTER TABLE kaireon.audit_log ENABLE ALWAYS TRIGGER append_only;
SET kaireon.test_clock = '2026-07-20T12:00:00Z';
SELECT kaireon.seal_audit() -> 'sealed' AS sealed;
SELECT regexp_replace((kaireon.partition_maintenance() -> 'kaireon.audit_log' ->> 'heldBy'), 'row \d+', 'row N')
    AS held_by;
SELECT count(*) AS may_records FROM kaireon.audit_log WHERE target = 'May';
SELECT kaireon.verify_audit('ar-a') ->> 'reason' LIKE '% was modified' AS broken_reported;

-- The anchors are append-only like the trail, and as guarded.
UPDATE kaireon.audit_anchors SET position = 0;
DELETE FROM kaireon.audit_anchors;
TRUNCATE kaireon.audit_anchors;
SET ROLE regress_kr_ar_app;
SELECT count(*) FROM kaireon.audit_anchors;
RESET ROLE;

\c :regress_db
DROP DATABASE regress_kr_audit_retention;

-- An upgrade from 0.16 with time partitioning on: the trail is converted
-- (records and seals as they were: the chain still verifies), and the next
-- maintenance run hands it to pg_partman too.
CREATE DATABASE regress_kr_audit_upgrade;
\c regress_kr_audit_upgrade
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION kaireon VERSION '0.16';
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
RESET client_min_messages;
SET kaireon.test_clock = '2026-03-10T12:00:00Z';
SELECT kaireon.create_tenant('up-a', 'Upgraded', 'ops@up.test') ->> 'tenantId' AS created;
SELECT kaireon._audit('up-a', 'test.step', 'Mar', '{}');
SELECT count(*) AS handed_over FROM jsonb_each(kaireon.enable_time_partitioning(interval '1 month', 2));
-- Sealed as 0.16 sealed (the library is already 0.17's, whose seal_audit
-- needs the new tables): the chain built here in SQL, from audit.h's
-- formula, is also an oracle of the hash.
WITH RECURSIVE records AS (
    SELECT row_number() OVER (ORDER BY a.txid, a.id) AS n, a.id,
           ARRAY[a.id::text, a.txid::text, (extract(epoch FROM a.recorded_at) * 1000000)::bigint::text, a.actor,
                 a.action, CASE WHEN a.target IS NULL THEN 'N' ELSE 'T' || a.target END, a.details::text] AS fields
    FROM kaireon.audit_log a WHERE a.tenant_id = 'up-a'
), chain AS (
    SELECT 0::bigint AS n, NULL::bigint AS id, NULL::bytea AS prev, decode(repeat('00', 32), 'hex') AS hash
    UNION ALL
    SELECT r.n, r.id, c.hash,
           sha256(c.hash || (SELECT string_agg(int8send(octet_length(convert_to(f, 'UTF8'))) || convert_to(f, 'UTF8'),
                                               ''::bytea ORDER BY i)
                             FROM unnest(r.fields) WITH ORDINALITY AS u (f, i)))
    FROM chain c JOIN records r ON r.n = c.n + 1
)
INSERT INTO kaireon.audit_seals (tenant_id, position, audit_id, prev_hash, hash)
SELECT 'up-a', n, id, prev, hash FROM chain WHERE n > 0;
ALTER EXTENSION kaireon UPDATE;
SELECT relname, relkind FROM pg_class WHERE oid IN ('kaireon.audit_log'::regclass, 'kaireon.audit_seals'::regclass)
ORDER BY 1;
SELECT kaireon.verify_audit('up-a') AS after_upgrade;
SELECT key, value -> 'dropped' AS dropped FROM jsonb_each(kaireon.partition_maintenance())
WHERE key LIKE 'kaireon.audit%' ORDER BY key;
SELECT table_name, partition_interval, retention FROM kaireon.time_partitioning ORDER BY table_name::text;
SELECT a.tableoid::regclass AS records, s.tableoid::regclass AS seals, count(*)
FROM kaireon.audit_log a JOIN kaireon.audit_seals s ON s.tenant_id = a.tenant_id AND s.audit_id = a.id
WHERE a.tenant_id = 'up-a' GROUP BY 1, 2 ORDER BY a.tableoid::regclass::text;
SELECT kaireon.seal_audit() -> 'sealed' AS sealed_on;
SELECT kaireon.verify_audit('up-a') AS after_hand_over;
\c :regress_db
DROP DATABASE regress_kr_audit_upgrade;
DROP ROLE regress_kr_ar_app, regress_kr_ar_admin;

-- (anatomy) plain_sql_usage.sql's usage event and its audit record, without
-- the rollup (test/perf/anatomy.sh).
WITH event AS (
    INSERT INTO plain_sql.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
    VALUES ('perf', 'perf_unlimited', 1, now(), now())
    RETURNING value),
audit AS (
    INSERT INTO plain_sql.audit_log (tenant_id, actor, action, target, details)
    SELECT 'perf', current_user, 'usage.reported', 'perf_unlimited', plain_sql.usage_audit_details(value)
    FROM event)
SELECT plain_sql.usage_answer(value)
FROM event;

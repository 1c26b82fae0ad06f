-- (plain SQL) report_usage's writes as an application would make them
-- without kaireon, in one statement: the usage event, its audit record and
-- the backend's slot of the period's rollup into copies of kaireon's tables
-- (schema plain_sql: the same columns, partitioning and indexes, no
-- triggers), the period's total read back for an answer of the same shape.
-- No licence, entitlement, threshold or validation: the cost of metering's
-- data model itself, beside report_usage's (docs/performance.md, "The same
-- rows in plain SQL").
WITH event AS (
    INSERT INTO plain_sql.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
    VALUES ('perf', 'perf_unlimited', 1, now(), now())
    RETURNING id, value, occurred_at),
audit AS (
    INSERT INTO plain_sql.audit_log (tenant_id, actor, action, target, details)
    SELECT 'perf', current_user, 'usage.reported', 'perf_unlimited', plain_sql.usage_audit_details(value)
    FROM event),
slot AS (
    INSERT INTO plain_sql.usage_rollups AS r (tenant_id, feature, period_start, slot, sum, count, max, min,
                                              latest_value, latest_at, latest_event_id)
    SELECT 'perf', 'perf_unlimited', date_trunc('month', occurred_at, 'UTC'), pg_backend_pid(), value, 1, value, value,
           value, occurred_at, id
    FROM event
    ON CONFLICT (tenant_id, feature, period_start, slot) DO UPDATE SET
        sum = r.sum + EXCLUDED.sum, count = r.count + EXCLUDED.count, max = greatest(r.max, EXCLUDED.max),
        min = least(r.min, EXCLUDED.min), latest_value = EXCLUDED.latest_value, latest_at = EXCLUDED.latest_at,
        latest_event_id = EXCLUDED.latest_event_id
    RETURNING period_start)
SELECT plain_sql.usage_answer(e.value + period.total)
FROM event e, slot s,
     LATERAL (SELECT coalesce(sum(r.sum), 0) AS total FROM plain_sql.usage_rollups r
              WHERE r.tenant_id = 'perf' AND r.feature = 'perf_unlimited' AND r.period_start = s.period_start) period;

-- (anatomy) plain_sql_usage.sql's usage event alone, with its answer
-- (test/perf/anatomy.sh).
WITH event AS (
    INSERT INTO plain_sql.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
    VALUES ('perf', 'perf_unlimited', 1, now(), now())
    RETURNING value)
SELECT jsonb_build_object('entitlement', 'perf_unlimited', 'type', 'numeric', 'enabled', true, 'limit', null,
                          'currentUsage', value, 'percentageUsed', null, 'status', 'ACCEPTED')
FROM event;

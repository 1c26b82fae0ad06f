-- (anatomy) plain_sql_usage.sql's usage event alone, with its answer
-- (test/perf/anatomy.sh).
WITH event AS (
    INSERT INTO plain_sql.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
    VALUES ('perf', 'perf_unlimited', 1, now(), now())
    RETURNING value)
SELECT plain_sql.usage_answer(value)
FROM event;

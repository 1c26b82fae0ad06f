-- (anatomy) anatomy_customer.sql with the dry run's request built as jsonb
-- and an answer of a dry run's size (plain_sql_dry_run.sql without the
-- consents and the history) (test/perf/anatomy.sh).
\set n random(1, 1000)
WITH request AS (
    SELECT jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                              'context', '{"channel": "web"}'::jsonb, 'dryRun', true) AS q)
SELECT plain_sql.dry_run_answer() || jsonb_build_object('customerId', c.id)
FROM request, kaireon.customers c
WHERE c.tenant_id = 'perf' AND c.id = q ->> 'customerId';

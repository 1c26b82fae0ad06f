-- (plain SQL) what a dry run reads, as an application would read it without
-- kaireon, in one statement: the customer, their consents and their
-- interactions of the last 30 days by the indexes kaireon_recommend reads
-- them by, and an answer of the same size (a dry run's answer captured at
-- setup, plain_sql.dry_run_answer()). No catalog, pipeline or validation:
-- the cost of the decision's reads itself, beside the dry run's
-- (docs/performance.md, "The same rows in plain SQL").
\set n random(1, 1000)
WITH request AS (
    SELECT jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                              'context', '{"channel": "web"}'::jsonb, 'dryRun', true) AS q)
SELECT plain_sql.dry_run_answer() || jsonb_build_object(
           'customerId', c.id,
           'consents', (SELECT jsonb_object_agg(s.channel_id, s.granted) FROM kaireon.consents s
                        WHERE s.tenant_id = c.tenant_id AND s.customer_id = c.id),
           'seen', (SELECT count(*) FROM kaireon.interactions i
                    WHERE i.customer_id = c.id AND i.tenant_id = c.tenant_id
                      AND i.occurred_at >= now() - interval '30 days' AND i.recorded_at <= now()))
FROM request, kaireon.customers c
WHERE c.tenant_id = 'perf' AND c.id = q ->> 'customerId';

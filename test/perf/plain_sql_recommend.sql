-- (plain SQL) what a recorded decision reads and writes, as an application
-- would without kaireon, in one statement: plain_sql_dry_run.sql's reads
-- and the decision record (its offers) into a copy of kaireon.decisions
-- (schema plain_sql: the same columns, partitioning and indexes, no
-- triggers). No catalog, pipeline, quota or validation: the cost of the
-- decision's data model itself, beside kaireon_recommend's
-- (docs/performance.md, "The same rows in plain SQL").
\set n random(1, 1000)
WITH request AS (
    SELECT jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                              'context', '{"channel": "web"}'::jsonb) AS q),
customer AS (
    SELECT c.tenant_id, c.id,
           (SELECT jsonb_object_agg(s.channel_id, s.granted) FROM kaireon.consents s
            WHERE s.tenant_id = c.tenant_id AND s.customer_id = c.id) AS consents,
           (SELECT count(*) FROM kaireon.interactions i
            WHERE i.customer_id = c.id AND i.tenant_id = c.tenant_id
              AND i.occurred_at >= now() - interval '30 days' AND i.recorded_at <= now()) AS seen
    FROM request, kaireon.customers c
    WHERE c.tenant_id = 'perf' AND c.id = q ->> 'customerId'),
decision AS (
    INSERT INTO plain_sql.decisions (tenant_id, id, customer_id, flow, channel, offers, decided_at, quota_period)
    SELECT tenant_id, gen_random_uuid(), id, 'homepage', 'web', plain_sql.dry_run_answer() -> 'offers', now(),
           date_trunc('month', now(), 'UTC')
    FROM customer
    RETURNING id)
SELECT plain_sql.dry_run_answer() || jsonb_build_object('decisionId', d.id, 'customerId', c.id, 'consents', c.consents,
                                                    'seen', c.seen)
FROM customer c, decision d;

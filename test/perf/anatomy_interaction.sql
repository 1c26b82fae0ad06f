-- (anatomy) plain_sql_respond.sql without the idempotency key's row: the
-- interaction alone (partitioned, its 4 indexes), jsonb in and out
-- (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
WITH request AS (
    SELECT plain_sql.respond_request(:r::bigint, :client_id) AS q),
interaction AS (
    INSERT INTO plain_sql.interactions (tenant_id, id, idempotency_key, customer_id, offer_id, channel, outcome, kind,
                                        occurred_at, recorded_at)
    SELECT 'perfresp', gen_random_uuid(), q ->> 'idempotencyKey', q ->> 'customerId', q ->> 'offerId', q ->> 'channel',
           q ->> 'outcome', 'impression', now(), now()
    FROM request
    RETURNING id, customer_id, offer_id, outcome)
SELECT plain_sql.respond_answer(id, customer_id, offer_id, outcome)
FROM interaction;

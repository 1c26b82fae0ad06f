-- (anatomy) plain_sql_respond.sql with the idempotency key unique in the
-- interactions themselves (an unpartitioned copy, the key's unique index in
-- place of the key table): one row, 4 indexes (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
WITH request AS (
    SELECT plain_sql.respond_request(:r::bigint, :client_id) AS q),
interaction AS (
    INSERT INTO plain_sql.interactions_keyed (tenant_id, id, idempotency_key, customer_id, offer_id, channel, outcome,
                                              kind, occurred_at, recorded_at)
    SELECT 'perfresp', gen_random_uuid(), q ->> 'idempotencyKey', q ->> 'customerId', q ->> 'offerId', q ->> 'channel',
           q ->> 'outcome', 'impression', now(), now()
    FROM request
    ON CONFLICT DO NOTHING
    RETURNING id, customer_id, offer_id, outcome)
SELECT plain_sql.respond_answer(id, customer_id, offer_id, outcome)
FROM interaction;

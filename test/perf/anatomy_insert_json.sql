-- (anatomy) the single-row INSERT taking respond's request as jsonb and
-- answering respond's jsonb: what the API's JSON costs (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
WITH request AS (
    SELECT plain_sql.respond_request(:r::bigint, :client_id) AS q),
stored AS (
    INSERT INTO perf_responses (idempotency_key, customer_id, offer_id, outcome)
    SELECT q ->> 'idempotencyKey', q ->> 'customerId', q ->> 'offerId', q ->> 'outcome' FROM request
    RETURNING *)
SELECT plain_sql.respond_answer(gen_random_uuid(), customer_id, offer_id, outcome)
FROM stored;

-- (plain SQL) kaireon_respond's writes as an application would make them
-- without kaireon, in one statement: the same request built, the
-- interaction and its idempotency key (a repeated key writes nothing) into
-- copies of kaireon's tables (schema plain_sql: the same columns,
-- partitioning and indexes, no triggers), an answer of the same shape. No
-- catalog, cap, validation or check of a replay: the cost of the data model
-- itself, beside kaireon_respond's (docs/performance.md, "The same rows in
-- plain SQL").
\set r random(1, 1000000000000000)
WITH request AS (
    SELECT plain_sql.respond_request(:r::bigint, :client_id) AS q),
stored_key AS (
    INSERT INTO plain_sql.interaction_keys (tenant_id, idempotency_key, interaction_id, recorded_at, customer_id,
                                            offer_id, outcome)
    SELECT 'perfresp', q ->> 'idempotencyKey', gen_random_uuid(), now(), q ->> 'customerId', q ->> 'offerId',
           q ->> 'outcome'
    FROM request
    ON CONFLICT DO NOTHING
    RETURNING *),
interaction AS (
    INSERT INTO plain_sql.interactions (tenant_id, id, idempotency_key, customer_id, offer_id, channel, outcome, kind,
                                        occurred_at, recorded_at)
    SELECT k.tenant_id, k.interaction_id, k.idempotency_key, k.customer_id, k.offer_id, q ->> 'channel', k.outcome,
           'impression', k.recorded_at, k.recorded_at
    FROM stored_key k, request
    RETURNING id, customer_id, offer_id, outcome)
SELECT plain_sql.respond_answer(id, customer_id, offer_id, outcome)
FROM interaction;

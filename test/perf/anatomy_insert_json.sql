-- (anatomy) the single-row INSERT taking respond's request as jsonb and
-- answering respond's jsonb: what the API's JSON costs (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
WITH request AS (
    SELECT jsonb_build_object('customerId', 'c' || :r::bigint % 1000, 'offerId', 'o' || :r::bigint % 5 + 1,
                              'channel', 'web', 'outcome', 'impression',
                              'idempotencyKey', :client_id::text || '-' || :r::bigint) AS q),
stored AS (
    INSERT INTO perf_responses (idempotency_key, customer_id, offer_id, outcome)
    SELECT q ->> 'idempotencyKey', q ->> 'customerId', q ->> 'offerId', q ->> 'outcome' FROM request
    RETURNING *)
SELECT jsonb_build_object('recorded', true, 'duplicate', false, 'interactionId', gen_random_uuid(), 'decisionId', null,
                          'customerId', customer_id, 'offerId', offer_id, 'outcome', outcome, 'kind', 'impression',
                          'caps', jsonb_build_array(jsonb_build_object('capId', 'web-hot', 'name', 'Web',
                                                                       'maxVolume', 1000000000, 'currentCount', 1,
                                                                       'exhausted', false,
                                                                       'resetAt', '2026-12-08T00:00:00Z')))
FROM stored;

-- (anatomy) plain_sql_respond.sql with the idempotency key unique in the
-- interactions themselves (an unpartitioned copy, the key's unique index in
-- place of the key table): one row, 4 indexes (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
WITH request AS (
    SELECT jsonb_build_object('customerId', 'c' || :r::bigint % 1000, 'offerId', 'o' || :r::bigint % 5 + 1,
                              'channel', 'web', 'outcome', 'impression',
                              'idempotencyKey', :client_id::text || '-' || :r::bigint) AS q),
interaction AS (
    INSERT INTO plain_sql.interactions_keyed (tenant_id, id, idempotency_key, customer_id, offer_id, channel, outcome,
                                              kind, occurred_at, recorded_at)
    SELECT 'perfresp', gen_random_uuid(), q ->> 'idempotencyKey', q ->> 'customerId', q ->> 'offerId', q ->> 'channel',
           q ->> 'outcome', 'impression', now(), now()
    FROM request
    ON CONFLICT DO NOTHING
    RETURNING id, customer_id, offer_id, outcome)
SELECT jsonb_build_object('recorded', true, 'duplicate', false, 'interactionId', id, 'decisionId', null,
                          'customerId', customer_id, 'offerId', offer_id, 'outcome', outcome, 'kind', 'impression',
                          'caps', jsonb_build_array(jsonb_build_object('capId', 'web-hot', 'name', 'Web',
                                                                       'maxVolume', 1000000000, 'currentCount', 1,
                                                                       'exhausted', false,
                                                                       'resetAt', '2026-12-08T00:00:00Z')))
FROM interaction;

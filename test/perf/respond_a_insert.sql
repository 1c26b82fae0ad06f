-- (a) baseline without kaireon: one INSERT per response into an ordinary
-- table keyed by the client's idempotency key. test/perf/respond.sh runs it.
\set r random(1, 1000000000000000)
INSERT INTO perf_responses (idempotency_key, customer_id, offer_id, outcome)
VALUES (:client_id::text || '-' || :r::bigint, 'c' || :r::bigint % 1000, 'o' || :r::bigint % 5 + 1, 'impression');

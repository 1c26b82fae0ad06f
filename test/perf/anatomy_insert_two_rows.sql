-- (anatomy) two single-row INSERTs (two tables) in one statement: what a
-- second row costs (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
WITH first_row AS (
    INSERT INTO perf_responses (idempotency_key, customer_id, offer_id, outcome)
    VALUES (:client_id::text || '-' || :r::bigint, 'c' || :r::bigint % 1000, 'o' || :r::bigint % 5 + 1, 'impression'))
INSERT INTO perf_anatomy_second (idempotency_key, customer_id, offer_id, outcome)
VALUES (:client_id::text || '-' || :r::bigint, 'c' || :r::bigint % 1000, 'o' || :r::bigint % 5 + 1, 'impression');

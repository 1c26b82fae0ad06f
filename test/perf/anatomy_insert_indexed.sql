-- (anatomy) the single-row INSERT into a table with 3 more indexes: what
-- index entries cost (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
INSERT INTO perf_anatomy_indexed (idempotency_key, customer_id, offer_id, outcome)
VALUES (:client_id::text || '-' || :r::bigint, 'c' || :r::bigint % 1000, 'o' || :r::bigint % 5 + 1, 'impression');

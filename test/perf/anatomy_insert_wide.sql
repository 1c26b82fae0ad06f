-- (anatomy) the single-row INSERT with a 576-byte column more: what more WAL
-- per transaction costs (test/perf/anatomy.sh).
\set r random(1, 1000000000000000)
INSERT INTO perf_anatomy_wide (idempotency_key, customer_id, offer_id, outcome, pad)
VALUES (:client_id::text || '-' || :r::bigint, 'c' || :r::bigint % 1000, 'o' || :r::bigint % 5 + 1, 'impression',
        repeat(md5(:r::text), 18));

-- (e) kaireon.report_usage with an idempotency key unique per call:
-- "perf-<client>-<n>", n counting per client from 1 (pgbench -D n=0).
\set n :n + 1
SELECT kaireon.report_usage('perf_idempotent', 1, 'perf-' || (:client_id)::text || '-' || (:n)::text);

-- (anatomy) a demo customer read by key: select-only's lookup on kaireon's
-- customers (test/perf/anatomy.sh).
\set n random(1, 1000)
SELECT c.id FROM kaireon.customers c WHERE c.tenant_id = 'perf' AND c.id = 'cust-' || lpad(:n::text, 4, '0');

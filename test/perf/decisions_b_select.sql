-- (b) baseline without kaireon: a primary-key SELECT of one customer row,
-- as pgbench's select-only test does.
\set n random(1, 1000)
SELECT attributes, segments FROM perf_customers WHERE id = 'cust-' || lpad(:n::text, 4, '0');

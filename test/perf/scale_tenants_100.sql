-- Scale, 100 tenants with the same catalog: a random tenant per
-- transaction, then the same decision as scale_tenants_1.sql.
\set t random(0, 99)
\set n random(1, 1000)
SELECT set_config('kaireon.tenant', CASE WHEN :t = 0 THEN 'perf' ELSE 'perf' || lpad(:t::text, 3, '0') END, false);
SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                                            'context', '{"channel": "web"}'::jsonb));

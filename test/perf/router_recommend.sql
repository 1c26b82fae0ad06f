-- The router run (test/perf/router.sh), the same script on a shard directly
-- and through the router: a random one of the 30 tenants per transaction,
-- then kaireon_recommend as in decisions_c_recommend.sql (demo catalog,
-- homepage flow, a random demo customer, recorded).
\set t random(1, 30)
\set n random(1, 1000)
SELECT set_config('kaireon.tenant', 't' || lpad(:t::text, 2, '0'), false);
SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                                            'context', '{"channel": "web"}'::jsonb));

-- Scale, 1 tenant: the tenant chosen per transaction (as the 100-tenant
-- run does, so both pay the same statement), then kaireon_recommend as in
-- decisions_c_recommend.sql. test/perf/harness.py runs it.
\set n random(1, 1000)
SELECT set_config('kaireon.tenant', 'perf', false);
SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                                            'context', '{"channel": "web"}'::jsonb));

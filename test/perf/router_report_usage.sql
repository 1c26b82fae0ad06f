-- The router run (test/perf/router.sh), the same script on a shard directly
-- and through the router: a random one of the 30 tenants per transaction,
-- then kaireon.report_usage as in usage_c_report.sql (an unlimited sum
-- feature, value 1).
\set t random(1, 30)
SELECT set_config('kaireon.tenant', 't' || lpad(:t::text, 2, '0'), false);
SELECT kaireon.report_usage('perf_unlimited');

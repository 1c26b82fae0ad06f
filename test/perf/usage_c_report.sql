-- (c) kaireon.report_usage on an unlimited sum feature.
SELECT kaireon.report_usage('perf_unlimited');

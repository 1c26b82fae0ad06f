-- (d) kaireon.report_usage on a hard-limited sum feature, far below its limit:
-- every report reserves its value against the cap in shared memory.
SELECT kaireon.report_usage('perf_hard', 1);

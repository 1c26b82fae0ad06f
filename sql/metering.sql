-- Metering (SPEC section 4): report_usage for every aggregation and period,
-- period rollover on the test clock, late and future events, idempotency
-- (replays, conflicts, expiry, purge), hard, soft and grace limits,
-- nonNegative, thresholds, bulk loads into usage_events, the append-only
-- events, and tenant isolation. usage_totals is checked against an
-- independent computation over usage_events.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
CREATE ROLE regress_met_app IN ROLE kaireon_app;
CREATE ROLE regress_met_app_b IN ROLE kaireon_app;
CREATE ROLE regress_met_reader IN ROLE kaireon_reader;
SELECT kaireon.create_tenant('met-a', 'Metered A', 'a@met.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('met-b', 'Metered B', 'b@met.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_met_app', 'met-a');
SELECT kaireon.grant_tenant('regress_met_app_b', 'met-b');

-- Features for every aggregation and period; both tenants are Community.
SELECT f.key, kaireon.define_feature(f.key, 'numeric', f.options::jsonb) -> 'options' ->> 'aggregation' AS aggregation
FROM (VALUES
    ('m_sum',       '{"aggregation": "sum", "period": "month"}'),
    ('m_count',     '{"aggregation": "count", "period": "day"}'),
    ('m_max',       '{"aggregation": "max", "period": "week"}'),
    ('m_min',       '{"aggregation": "min", "period": "hour"}'),
    ('m_avg',       '{"aggregation": "average", "period": "never"}'),
    ('m_latest',    '{"aggregation": "latest", "period": "month"}'),
    ('m_soft',      '{"aggregation": "sum", "period": "month", "limitType": "soft", "thresholds": [100, 150]}'),
    ('m_grace',     '{"aggregation": "sum", "period": "month", "gracePercent": 10}'),
    ('m_nonneg',    '{"aggregation": "sum", "period": "month", "nonNegative": true}'),
    ('m_thr',       '{"aggregation": "sum", "period": "month", "thresholds": [30, 60]}'),
    ('m_idem',      '{"aggregation": "sum", "period": "month"}'),
    ('m_p_hour',    '{"aggregation": "sum", "period": "hour"}'),
    ('m_p_day',     '{"aggregation": "sum", "period": "day"}'),
    ('m_p_week',    '{"aggregation": "sum", "period": "week"}'),
    ('m_p_month',   '{"aggregation": "sum", "period": "month"}'),
    ('m_p_never',   '{"aggregation": "sum", "period": "never"}'),
    ('m_b_sum',     '{"aggregation": "sum", "period": "hour"}'),
    ('m_b_count',   '{"aggregation": "count", "period": "day"}'),
    ('m_b_max',     '{"aggregation": "max", "period": "week"}'),
    ('m_b_min',     '{"aggregation": "min", "period": "month"}'),
    ('m_b_avg',     '{"aggregation": "average", "period": "never"}'),
    ('m_b_latest',  '{"aggregation": "latest", "period": "day"}'),
    ('m_b_cap',     '{"aggregation": "sum", "period": "month"}'),
    ('m_b_hourcap', '{"aggregation": "sum", "period": "hour"}'),
    ('m_off',       '{"aggregation": "sum", "period": "month"}'),
    ('m_disabled',  '{"aggregation": "sum", "period": "month"}')
) AS f (key, options) ORDER BY f.key;
SELECT kaireon.define_feature('m_bool', 'boolean') ->> 'type' AS type;
SELECT count(kaireon.set_plan_entitlement('community', p.key, p.value::jsonb)) AS plan_values
FROM (VALUES
    ('m_sum', '{"limit": 100}'), ('m_count', '{"limit": 5}'), ('m_max', '{"limit": 50}'),
    ('m_min', '{"limit": null}'), ('m_avg', '{"limit": 10}'), ('m_latest', '{"limit": 20}'),
    ('m_soft', '{"limit": 10}'), ('m_grace', '{"limit": 100}'), ('m_nonneg', '{"limit": null}'),
    ('m_thr', '{"limit": 10}'), ('m_idem', '{"limit": null}'),
    ('m_p_hour', '{"limit": null}'), ('m_p_day', '{"limit": null}'), ('m_p_week', '{"limit": null}'),
    ('m_p_month', '{"limit": null}'), ('m_p_never', '{"limit": null}'),
    ('m_b_sum', '{"limit": null}'), ('m_b_count', '{"limit": null}'), ('m_b_max', '{"limit": null}'),
    ('m_b_min', '{"limit": null}'), ('m_b_avg', '{"limit": null}'), ('m_b_latest', '{"limit": null}'),
    ('m_b_cap', '{"limit": 100}'), ('m_b_hourcap', '{"limit": 10}'),
    ('m_disabled', '{"enabled": false}'), ('m_bool', '{"enabled": true}')
) AS p (key, value);

-- usage_totals recomputed from the events alone: the period of each event
-- from its feature's period option, latest by (occurred_at, id).
CREATE TEMP VIEW expected_totals AS
SELECT e.tenant_id, e.feature,
       CASE f.options ->> 'period' WHEN 'never' THEN '-infinity'::timestamptz
            ELSE date_trunc(f.options ->> 'period', e.occurred_at, 'UTC') END AS period_start,
       sum(e.value) AS sum, count(*) AS count, max(e.value) AS max, min(e.value) AS min,
       sum(e.value) / count(*) AS average,
       (array_agg(e.value ORDER BY e.occurred_at DESC, e.id DESC))[1] AS latest
FROM kaireon.usage_events e JOIN kaireon.features f ON f.key = e.feature
GROUP BY 1, 2, 3;
-- Rows of one side missing from the other, both ways: none expected.
CREATE TEMP VIEW totals_mismatches AS
(SELECT 'missing from usage_totals' AS problem, * FROM
    (SELECT * FROM expected_totals
     EXCEPT SELECT tenant_id, feature, period_start, sum, count, max, min, average, latest FROM kaireon.usage_totals) m)
UNION ALL
(SELECT 'not in usage_events' AS problem, * FROM
    (SELECT tenant_id, feature, period_start, sum, count, max, min, average, latest FROM kaireon.usage_totals
     EXCEPT SELECT * FROM expected_totals) u);
CREATE TEMP VIEW threshold_events AS
SELECT tenant_id, payload ->> 'feature' AS feature, (payload ->> 'threshold')::int AS threshold,
       payload ->> 'limit' AS limit, payload ->> 'currentUsage' AS usage, payload ->> 'percentageUsed' AS pct,
       payload ->> 'periodStart' AS period_start, payload ->> 'periodEnd' AS period_end, dedupe_key
FROM kaireon.events WHERE type = 'usage.threshold_reached';

-- The answer is entitlement()'s shape after the report; value defaults to 1.
SET kaireon.tenant = 'met-a';
SELECT kaireon.report_usage('m_sum', 10);
SELECT kaireon.report_usage('m_sum');
SELECT kaireon.entitlement('m_sum') ->> 'currentUsage' AS usage;

-- count: every event counts one, whatever its value; the hard limit refuses
-- the report past it and says why, and records nothing (not even the key).
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_count', 7) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_count', -3) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_count', 0) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_count') AS r;
SELECT kaireon.report_usage('m_count');
SELECT kaireon.report_usage('m_count', 1, 'count-refused');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS m_count_events FROM kaireon.usage_events WHERE feature = 'm_count';
-- With a higher limit, the refused key is free to record.
SELECT kaireon.set_plan_entitlement('community', 'm_count', '{"limit": 10}') ->> 'source' AS source;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_count', 1, 'count-refused') AS r;

-- max over the ISO week (from Monday 2026-06-08): refused when the value
-- itself is past the cap; lower values and negatives leave the max.
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_max', 20) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_max', 50) AS r;
SELECT kaireon.report_usage('m_max', 51);
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_max', 30) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_max', -5) AS r;

-- min over the hour, unlimited.
SELECT kaireon.report_usage('m_min', 5) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_min', 3) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_min', 7);
SELECT kaireon.report_usage('m_min', -2) ->> 'currentUsage' AS usage;

-- average over all time (period never): refused when (sum + value) /
-- (count + 1) would pass the cap; periodStart and periodEnd are null.
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_avg', 8) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_avg', 12) AS r;
SELECT kaireon.report_usage('m_avg', 12);
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_avg', 10) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct FROM kaireon.report_usage('m_avg', 4) AS r;

-- latest: the value of the event with the greatest (occurred_at, id); an
-- earlier event does not replace it, an equal occurred_at does (later id).
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_latest', 5) AS r;
SELECT kaireon.report_usage('m_latest', 25);
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_latest', 20) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_latest', 3) AS r;
SELECT kaireon.report_usage('m_latest', 15, NULL, kaireon.clock() - interval '1 hour') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_latest', 7, NULL, kaireon.clock()) ->> 'currentUsage' AS usage;

-- A soft limit never refuses; the percentage shows the overage.
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct, r ->> 'status' AS status FROM kaireon.report_usage('m_soft', 9) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct, r ->> 'status' AS status FROM kaireon.report_usage('m_soft', 7) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct, r ->> 'status' AS status FROM kaireon.report_usage('m_soft', 100) AS r;

-- Grace: the cap is the limit plus 10 %.
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct, r ->> 'status' AS status FROM kaireon.report_usage('m_grace', 110) AS r;
SELECT kaireon.report_usage('m_grace', 0.01);
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct, r ->> 'status' AS status FROM kaireon.report_usage('m_grace', -0.5) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct, r ->> 'status' AS status FROM kaireon.report_usage('m_grace', 0.5) AS r;

-- Thresholds (default 75, 90, 95, 100) on a sum with a hard limit of 100;
-- corrections bring usage down, and reaching a threshold again in the same
-- period emits nothing.
SELECT kaireon.report_usage('m_sum', 64) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_sum', 14) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_sum', 1) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_sum', 6) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_sum', 5);
\echo :LAST_ERROR_SQLSTATE
SELECT r ->> 'currentUsage' AS usage, r ->> 'percentageUsed' AS pct, r ->> 'status' AS status FROM kaireon.report_usage('m_sum', 4) AS r;
SELECT kaireon.report_usage('m_sum', 0.5);
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_sum', -10) AS r;
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.report_usage('m_sum', 10) AS r;
SELECT feature, threshold, "limit", usage, pct, period_start, period_end, dedupe_key
FROM threshold_events WHERE tenant_id = 'met-a' AND feature = 'm_sum' ORDER BY threshold;
-- The tenant's own thresholds win over the feature's.
SELECT kaireon.set_thresholds('m_thr', '{50, 100}');
SELECT kaireon.report_usage('m_thr', 4) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_thr', 1) ->> 'currentUsage' AS usage;
SELECT feature, threshold, usage, period_start FROM threshold_events WHERE tenant_id = 'met-a' AND feature = 'm_thr';

-- nonNegative features refuse negative values.
SELECT kaireon.report_usage('m_nonneg', -1);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 0) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_nonneg', 2.5) ->> 'currentUsage' AS usage;

-- Bad input is refused and records nothing.
SELECT kaireon.report_usage(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nope');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_bool');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_off');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_disabled');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 'Infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_min', '-Infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, '');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, repeat('k', 256));
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, repeat('k', 300));
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, NULL, NULL, '[]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, NULL, NULL, '"x"');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, NULL, NULL, 'null');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, NULL, NULL, jsonb_build_object('x', repeat('a', 65536)));
\echo :LAST_ERROR_SQLSTATE
-- Events at most max_event_lateness (7 days) old, at most 5 minutes ahead.
SELECT kaireon.report_usage('m_nonneg', 1, NULL, kaireon.clock() - interval '7 days 1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_nonneg', 1, NULL, kaireon.clock() + interval '5 minutes 1 second');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.max_event_lateness = '1h';
SELECT kaireon.report_usage('m_nonneg', 1, NULL, kaireon.clock() - interval '61 minutes');
\echo :LAST_ERROR_SQLSTATE
RESET kaireon.max_event_lateness;
SELECT count(*) AS m_nonneg_events, sum(value) AS m_nonneg_total FROM kaireon.usage_events WHERE feature = 'm_nonneg';
-- The limits themselves are accepted: 255 characters (also multibyte ones),
-- properties of almost 64 KiB, exactly 7 days late, exactly 5 minutes ahead.
SELECT kaireon.report_usage('m_nonneg', 1, repeat('k', 255)) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_nonneg', 1, repeat('é', 255)) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_nonneg', 1, NULL, NULL, jsonb_build_object('x', repeat('a', 65000))) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_nonneg', 1, NULL, kaireon.clock() - interval '7 days') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_nonneg', 1, NULL, kaireon.clock() + interval '5 minutes') ->> 'currentUsage' AS usage;
-- A refused key is not consumed.
SELECT kaireon.report_usage('m_nonneg', -1, 'neg-key');
SELECT kaireon.report_usage('m_nonneg', 1, 'neg-key') ->> 'currentUsage' AS usage;

-- No tenant, a tenant the role is not a member of, a role without the grant.
RESET kaireon.tenant;
SELECT kaireon.report_usage('m_sum');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_met_app;
SELECT kaireon.report_usage('m_sum');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'met-b';
SELECT kaireon.report_usage('m_sum');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_met_reader;
SET kaireon.tenant = 'met-a';
SELECT kaireon.report_usage('m_sum');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Idempotency: the same key with the same fields answers the first answer
-- again and records nothing; other fields are a conflict naming them.
SET kaireon.tenant = 'met-a';
SELECT kaireon.report_usage('m_idem', 5, 'order-1') AS first_answer \gset
SELECT :'first_answer'::jsonb ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_idem', 3) ->> 'currentUsage' AS usage;
SELECT r = :'first_answer'::jsonb AS same_answer, r ->> 'currentUsage' AS usage
FROM kaireon.report_usage('m_idem', 5, 'order-1') AS r;
SELECT kaireon.report_usage('m_idem', 2, 'order-2', NULL, '{"a": 1, "b": [1, 2]}') AS second_answer \gset
SELECT r = :'second_answer'::jsonb AS same_answer FROM kaireon.report_usage('m_idem', 2, 'order-2', NULL, '{"b": [1, 2], "a": 1}') AS r;
SELECT kaireon.report_usage('m_idem', idempotency_key => 'order-3') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_idem', 1, 'order-3', NULL, '{}') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_idem', 1, 'order-4', '2026-06-10T11:00:00Z') AS fourth_answer \gset
SELECT r = :'fourth_answer'::jsonb AS same_answer FROM kaireon.report_usage('m_idem', 1, 'order-4', '2026-06-10T11:00:00Z') AS r;
SELECT kaireon.report_usage('m_idem', 6, 'order-1');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_min', 5, 'order-1');
SELECT kaireon.report_usage('m_idem', 5, 'order-1', kaireon.clock());
SELECT kaireon.report_usage('m_idem', 5, 'order-1', NULL, '{"x": 1}');
SELECT kaireon.report_usage('m_min', 6, 'order-1', kaireon.clock() - interval '1 minute', '{"x": 1}');
SELECT kaireon.report_usage('m_idem', 1, 'order-4');
SELECT count(*) AS m_idem_events, sum(value) AS m_idem_total FROM kaireon.usage_events WHERE feature = 'm_idem';
SELECT idempotency_key, feature, value, occurred_at, properties, answer ->> 'currentUsage' AS answered_usage
FROM kaireon.usage_idempotency WHERE tenant_id = 'met-a' AND idempotency_key LIKE 'order-%' ORDER BY idempotency_key;

-- Periods roll over on the clock: hour, day, ISO week, month, never.
SET kaireon.test_clock = '2026-06-14T23:30:00Z';
SELECT f AS feature, kaireon.report_usage(f) ->> 'currentUsage' AS usage
FROM unnest(ARRAY['m_p_hour', 'm_p_day', 'm_p_week', 'm_p_month', 'm_p_never']) AS f;
SET kaireon.test_clock = '2026-06-14T23:59:59Z';
SELECT f AS feature, kaireon.report_usage(f) ->> 'currentUsage' AS usage
FROM unnest(ARRAY['m_p_hour', 'm_p_day', 'm_p_week', 'm_p_month', 'm_p_never']) AS f;
SET kaireon.test_clock = '2026-06-15T00:00:00Z';
SELECT f AS feature, kaireon.entitlement(f) ->> 'currentUsage' AS before_report, kaireon.report_usage(f) ->> 'currentUsage' AS usage
FROM unnest(ARRAY['m_p_hour', 'm_p_day', 'm_p_week', 'm_p_month', 'm_p_never']) AS f;
SET kaireon.test_clock = '2026-07-01T00:00:00Z';
SELECT f AS feature, kaireon.entitlement(f) ->> 'currentUsage' AS before_report, kaireon.report_usage(f) ->> 'currentUsage' AS usage
FROM unnest(ARRAY['m_p_hour', 'm_p_day', 'm_p_week', 'm_p_month', 'm_p_never']) AS f;
-- Late events land in their own period; the answer is the current period's.
SELECT kaireon.report_usage('m_p_day', 5, NULL, '2026-06-30T12:00:00Z') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_p_week', 2, NULL, '2026-06-28T23:00:00Z') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_p_hour', 3, NULL, '2026-06-30T23:59:59Z') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_p_month', 5, NULL, '2026-06-24T00:00:00Z') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_p_month', 5, NULL, '2026-06-23T23:59:59Z');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_p_hour', 4, NULL, '2026-07-01T00:05:00Z') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_p_hour', 4, NULL, '2026-07-01T00:05:01Z');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.max_event_lateness = '1h';
SELECT kaireon.report_usage('m_p_never', 1, NULL, '2026-06-30T22:59:59Z');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_p_never', 1, NULL, '2026-06-30T23:00:00Z') ->> 'currentUsage' AS usage;
RESET kaireon.max_event_lateness;
-- Thresholds again in the new period.
SELECT kaireon.report_usage('m_sum', 96) ->> 'currentUsage' AS usage;
SELECT feature, threshold, usage, period_start, period_end, dedupe_key
FROM threshold_events WHERE tenant_id = 'met-a' AND feature = 'm_sum' ORDER BY period_start, threshold;
-- The hard limit of a late event's own period: June is full, July is not;
-- a correction to June is accepted.
SET kaireon.test_clock = '2026-07-02T00:00:00Z';
SELECT kaireon.report_usage('m_sum', 1, NULL, '2026-06-30T12:00:00Z');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.report_usage('m_sum', -5, NULL, '2026-06-30T12:00:00Z') ->> 'currentUsage' AS usage;
-- A late event that brings its own period past a threshold emits it for
-- that period.
SELECT kaireon.report_usage('m_thr', 2) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('m_thr', 5, NULL, '2026-06-30T12:00:00Z') ->> 'currentUsage' AS usage;
SELECT feature, threshold, usage, period_start, dedupe_key FROM threshold_events
WHERE tenant_id = 'met-a' AND feature = 'm_thr' ORDER BY period_start, threshold;
-- A future event in the next period counts there.
SET kaireon.test_clock = '2026-07-31T23:57:00Z';
SELECT kaireon.report_usage('m_p_month', 1, NULL, '2026-08-01T00:01:00Z') ->> 'currentUsage' AS usage;
SET kaireon.test_clock = '2026-08-01T00:02:00Z';
SELECT kaireon.entitlement('m_p_month') ->> 'currentUsage' AS usage;
SELECT feature, period_start, sum, count FROM kaireon.usage_totals
WHERE tenant_id = 'met-a' AND feature LIKE 'm\_p\_%' ORDER BY feature, period_start;

-- Keys are kept for kaireon.idempotency_ttl (default 30 days) on the clock.
SET kaireon.test_clock = '2026-07-09T12:00:00Z';
SELECT r = :'second_answer'::jsonb AS same_answer FROM kaireon.report_usage('m_idem', 2, 'order-2', NULL, '{"a": 1, "b": [1, 2]}') AS r;
SELECT kaireon.report_usage('m_idem', 6, 'order-1');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.test_clock = '2026-07-10T12:00:01Z';
SELECT r = :'second_answer'::jsonb AS same_answer, r ->> 'currentUsage' AS usage
FROM kaireon.report_usage('m_idem', 2, 'order-2', NULL, '{"a": 1, "b": [1, 2]}') AS r;
SELECT kaireon.report_usage('m_idem', 6, 'order-1') ->> 'currentUsage' AS usage;
SET kaireon.idempotency_ttl = '1h';
SET kaireon.test_clock = '2026-07-10T13:00:00Z';
SELECT kaireon.report_usage('m_idem', 1, 'ttl-1') ->> 'currentUsage' AS usage;
SET kaireon.test_clock = '2026-07-10T13:59:00Z';
SELECT kaireon.report_usage('m_idem', 2, 'ttl-1');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.test_clock = '2026-07-10T14:00:01Z';
SELECT kaireon.report_usage('m_idem', 2, 'ttl-1') ->> 'currentUsage' AS usage;
SELECT count(*) AS m_idem_events, sum(value) AS m_idem_total FROM kaireon.usage_events WHERE feature = 'm_idem';
SELECT kaireon.purge_idempotency_keys() AS purged;
SELECT kaireon.purge_idempotency_keys() AS purged_again;
SELECT tenant_id, idempotency_key, value FROM kaireon.usage_idempotency ORDER BY 1, 2;
RESET kaireon.idempotency_ttl;

-- Bulk loads: the application inserts into usage_events directly, several
-- features and periods in one statement; usage_totals follows exactly.
SET kaireon.test_clock = '2026-08-10T12:00:00Z';
SET ROLE regress_met_app;
SET kaireon.tenant = 'met-a';
INSERT INTO kaireon.usage_events (feature, value, occurred_at)
SELECT (ARRAY['m_b_sum', 'm_b_count', 'm_b_max', 'm_b_min', 'm_b_avg', 'm_b_latest'])[1 + i % 6],
       ((i * 37) % 101 - 20)::numeric / 4,
       timestamptz '2026-08-10T12:00:00Z' - ((i * 53) % 8640) * interval '1 minute'
FROM generate_series(1, 600) AS i;
INSERT INTO kaireon.usage_events (feature, value, occurred_at) VALUES
    ('m_b_latest', 1, '2026-08-10T12:00:00Z'), ('m_b_latest', 2, '2026-08-10T12:00:00Z'),
    ('m_b_max', -100, '2026-08-10T11:59:00Z');
-- COPY FROM is refused under row-level security (applications load through a
-- temporary table); a superuser with the tenant set may COPY, same checks.
RESET ROLE;
COPY kaireon.usage_events (feature, value, occurred_at, idempotency_key, properties) FROM stdin;
m_b_sum	1.5	2026-08-10 11:00:00+00	copy-1	{"source": "copy"}
m_b_sum	2.5	2026-08-10 11:30:00+00	copy-2	{}
m_b_min	-7	2026-08-09 00:00:00+00	\N	{}
\.
SET ROLE regress_met_app;
SELECT f AS feature, kaireon.entitlement(f) ->> 'currentUsage' AS usage
FROM unnest(ARRAY['m_b_sum', 'm_b_count', 'm_b_max', 'm_b_min', 'm_b_avg', 'm_b_latest']) AS f;
SELECT count(*) AS visible_events FROM kaireon.usage_events WHERE feature LIKE 'm\_b\_%';
RESET ROLE;
SELECT feature, count(*) AS periods, sum(count) AS events, min(period_start) AS first_period, max(period_start) AS last_period
FROM kaireon.usage_totals WHERE tenant_id = 'met-a' AND feature LIKE 'm\_b\_%' GROUP BY feature ORDER BY feature;
SELECT * FROM totals_mismatches;

-- A bulk statement past a hard limit is refused entirely; limits apply to
-- the statement's total per feature and period, not row by row.
SET ROLE regress_met_app;
INSERT INTO kaireon.usage_events (feature, value) SELECT 'm_b_cap', 10 FROM generate_series(1, 11);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS m_b_cap_events FROM kaireon.usage_events WHERE feature = 'm_b_cap';
INSERT INTO kaireon.usage_events (feature, value) SELECT 'm_b_cap', 10 FROM generate_series(1, 10);
SELECT r ->> 'currentUsage' AS usage, r ->> 'status' AS status FROM kaireon.entitlement('m_b_cap') AS r;
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_cap', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_cap', 25), ('m_b_cap', -30);
SELECT kaireon.entitlement('m_b_cap') ->> 'currentUsage' AS usage;
INSERT INTO kaireon.usage_events (feature, value, occurred_at) VALUES
    ('m_b_hourcap', 10, '2026-08-10T10:15:00Z'), ('m_b_hourcap', 10, '2026-08-10T11:15:00Z');
INSERT INTO kaireon.usage_events (feature, value, occurred_at) VALUES ('m_b_hourcap', 1, '2026-08-10T11:45:00Z');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, occurred_at) VALUES
    ('m_b_hourcap', 5, '2026-08-10T08:00:00Z'), ('m_b_hourcap', 6, '2026-08-10T09:00:00Z'),
    ('m_b_hourcap', 6, '2026-08-10T09:30:00Z');
\echo :LAST_ERROR_SQLSTATE
SELECT occurred_at, value FROM kaireon.usage_events WHERE feature = 'm_b_hourcap' ORDER BY occurred_at;

-- Bulk idempotency keys: a key already used, or twice in the statement,
-- refuses the whole statement.
SELECT kaireon.report_usage('m_b_sum', 1, 'bulk-used') ->> 'currentUsage' AS usage;
INSERT INTO kaireon.usage_events (feature, value, idempotency_key) VALUES ('m_b_sum', 1, 'bulk-1'), ('m_b_sum', 1, 'bulk-1');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, idempotency_key) VALUES ('m_b_sum', 1, 'bulk-2'), ('m_b_sum', 1, 'bulk-used');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, idempotency_key) VALUES ('m_b_sum', 1, 'bulk-2'), ('m_b_sum', 1, 'bulk-3');
INSERT INTO kaireon.usage_events (feature, value, idempotency_key) VALUES ('m_b_sum', 1, 'bulk-3');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, idempotency_key) VALUES ('m_b_sum', 1, 'copy-1');
\echo :LAST_ERROR_SQLSTATE
SELECT idempotency_key, count(*) FROM kaireon.usage_events
WHERE idempotency_key LIKE 'bulk-%' OR idempotency_key LIKE 'copy-%' GROUP BY 1 ORDER BY 1;

-- Every bulk row is validated like a report; one bad row refuses all.
SELECT count(*) AS events_before FROM kaireon.usage_events WHERE tenant_id = 'met-a' \gset
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_sum', 1), ('m_bool', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_sum', 1), ('m_nope', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_sum', 1), ('m_off', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_sum', 1), ('m_nonneg', -1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_sum', 1), ('m_b_sum', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value) VALUES ('m_b_sum', 1), ('m_b_sum', 'NaN'::numeric);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, occurred_at) VALUES ('m_b_sum', 1, '2026-08-10T12:00:00Z'), ('m_b_sum', 1, '2026-08-03T11:59:59Z');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, occurred_at) VALUES ('m_b_sum', 1, '2026-08-10T12:00:00Z'), ('m_b_sum', 1, '2026-08-10T12:05:01Z');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, properties) VALUES ('m_b_sum', 1, '{}'), ('m_b_sum', 1, '[1]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, idempotency_key) VALUES ('m_b_sum', 1, '');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('met-a', 'm_b_sum', 1), ('met-b', 'm_b_sum', 1);
\echo :LAST_ERROR_SQLSTATE
RESET kaireon.tenant;
INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('met-a', 'm_b_sum', 1);
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'met-a';
SELECT count(*) - :events_before AS events_added FROM kaireon.usage_events WHERE tenant_id = 'met-a';

-- usage_events is append-only, also for a superuser.
UPDATE kaireon.usage_events SET value = 0 WHERE feature = 'm_b_sum';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM kaireon.usage_events WHERE feature = 'm_b_sum';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
UPDATE kaireon.usage_events SET value = 0 WHERE feature = 'm_b_sum';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM kaireon.usage_events WHERE feature = 'm_b_sum';
\echo :LAST_ERROR_SQLSTATE
TRUNCATE kaireon.usage_events;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) - :events_before AS events_added FROM kaireon.usage_events WHERE tenant_id = 'met-a';

-- Tenant isolation: B has its own usage, keys and thresholds (the feature's
-- 30 and 60), and sees none of A's rows.
SET ROLE regress_met_app;
SELECT kaireon.report_usage('m_idem', 1, 'shared-key') ->> 'currentUsage' AS a_usage;
SET ROLE regress_met_app_b;
SET kaireon.tenant = 'met-b';
SELECT kaireon.report_usage('m_idem', 9, 'shared-key') ->> 'currentUsage' AS b_usage;
SELECT kaireon.report_usage('m_sum', 80) ->> 'currentUsage' AS b_usage;
SELECT kaireon.report_usage('m_thr', 3) ->> 'currentUsage' AS b_usage;
SELECT kaireon.report_usage('m_thr', 3) ->> 'currentUsage' AS b_usage;
SELECT kaireon.report_usage('m_thr', 4) ->> 'currentUsage' AS b_usage;
SELECT tenant_id, count(*) FROM kaireon.usage_events GROUP BY 1;
SELECT tenant_id, feature, sum, count FROM kaireon.usage_totals ORDER BY feature;
INSERT INTO kaireon.usage_events (tenant_id, feature, value) VALUES ('met-a', 'm_sum', 1);
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'met-a';
SELECT kaireon.report_usage('m_sum', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS a_rows_visible_to_b FROM kaireon.usage_events;
RESET ROLE;
SET kaireon.tenant = 'met-a';
SELECT kaireon.entitlement('m_idem') ->> 'currentUsage' AS a_usage, kaireon.entitlement('m_sum') ->> 'currentUsage' AS a_sum;

-- Every threshold event, once per threshold and period.
SELECT tenant_id, feature, threshold, "limit", usage, pct, coalesce(period_start, 'never') AS period_start, period_end
FROM threshold_events ORDER BY tenant_id, feature, period_start NULLS FIRST, threshold;
SELECT count(*) AS threshold_events, count(DISTINCT (tenant_id, dedupe_key)) AS distinct_keys FROM threshold_events;

-- In the end, every rollup equals the independent computation.
SELECT count(*) AS totals_rows FROM kaireon.usage_totals WHERE tenant_id IN ('met-a', 'met-b');
SELECT * FROM totals_mismatches;

-- Many backends' slot rows: a report folds them into the period's usage in
-- C++ (exact numeric sums, NULLs skipped, the latest row by (latest_at,
-- latest_event_id) descending with NULLs first); it must agree with
-- usage_totals, whose SQL aggregates do the same. Rows as other backends
-- (and versions before the latest columns) leave them, written directly.
SELECT count(kaireon.define_feature(f, 'numeric', jsonb_build_object('aggregation', a, 'period', 'month'))) AS slot_features,
       count(kaireon.set_plan_entitlement('community', f, '{"limit": null}')) AS slot_plan_values
FROM (VALUES ('m_s_sum', 'sum'), ('m_s_count', 'count'), ('m_s_max', 'max'), ('m_s_min', 'min'),
             ('m_s_avg', 'average'), ('m_s_latest', 'latest'), ('m_s_tie', 'latest')) AS t(f, a);
SET kaireon.test_clock = '2026-09-15T12:00:00Z';
INSERT INTO kaireon.usage_rollups (tenant_id, feature, period_start, slot, sum, count, max, min, latest_value, latest_at, latest_event_id)
SELECT 'met-a', f, '2026-09-01T00:00:00Z', s, v.sum, v.count, v.max, v.min, v.latest_value, v.latest_at, v.latest_event_id
FROM unnest(ARRAY['m_s_sum', 'm_s_count', 'm_s_max', 'm_s_min', 'm_s_avg', 'm_s_latest']) AS f,
     (VALUES (100001, 0.1, 1, 0.1, 0.1, 0.1, timestamptz '2026-09-12T00:00:00Z', 5),
             (100002, 0.2, 2, NULL, NULL, 7.25, '2026-09-13T00:00:00Z', 9),
             (100003, 0.3, 3, 2.5, -3.75, 8, '2026-09-13T00:00:00Z', 11),
             (100004, 0.1, 4, 2.5, -3.75, 9, '2026-09-11T00:00:00Z', 99)) AS v(s, sum, count, max, min, latest_value, latest_at, latest_event_id);
INSERT INTO kaireon.usage_rollups (tenant_id, feature, period_start, slot, sum, count, max, min, latest_value, latest_at, latest_event_id) VALUES
    ('met-a', 'm_s_tie', '2026-09-01T00:00:00Z', 100001, 1, 1, 1, 1, 1, '2026-09-13T00:00:00Z', 11),
    ('met-a', 'm_s_tie', '2026-09-01T00:00:00Z', 100002, 2, 1, 2, 2, 2, NULL, NULL),
    ('met-a', 'm_s_tie', '2026-09-01T00:00:00Z', 100003, 3, 1, 3, 3, 3, '2026-09-14T00:00:00Z', 1);
SELECT t.feature, e.usage AS entitlement_usage,
       CASE f.options ->> 'aggregation' WHEN 'sum' THEN t.sum WHEN 'count' THEN t.count WHEN 'max' THEN t.max
            WHEN 'min' THEN t.min WHEN 'average' THEN round(t.average, 15) ELSE t.latest END AS usage_totals,
       e.usage = (CASE f.options ->> 'aggregation' WHEN 'sum' THEN t.sum WHEN 'count' THEN t.count WHEN 'max' THEN t.max
                       WHEN 'min' THEN t.min WHEN 'average' THEN t.average ELSE t.latest END)::float8 AS same
FROM kaireon.usage_totals t JOIN kaireon.features f ON f.key = t.feature,
     LATERAL (SELECT (kaireon.entitlement(t.feature) ->> 'currentUsage')::float8 AS usage) e
WHERE t.tenant_id = 'met-a' AND t.feature LIKE 'm\_s\_%' ORDER BY t.feature;
-- A report adds to the same fold, in this backend's own slot (0.1 + 0.2 +
-- 0.3 + 0.1 + 0.1 summed as doubles would be 0.7999999999999999).
SELECT kaireon.report_usage('m_s_sum', 0.1) ->> 'currentUsage' AS sum_after_report,
       kaireon.report_usage('m_s_latest', 4, NULL, '2026-09-12T00:00:00Z') ->> 'currentUsage' AS latest_after_older_report,
       kaireon.report_usage('m_s_max', 2.4) ->> 'currentUsage' AS max_after_smaller_report,
       kaireon.report_usage('m_s_min', -3.5) ->> 'currentUsage' AS min_after_larger_report;
SELECT kaireon.report_usage('m_s_latest', 6) ->> 'currentUsage' AS latest_after_report_now;
SELECT feature, sum, count, max, latest FROM kaireon.usage_totals
WHERE tenant_id = 'met-a' AND feature IN ('m_s_sum', 'm_s_latest', 'm_s_max') ORDER BY feature;
SELECT count(*) AS slot_rows_of_this_backend FROM kaireon.usage_rollups
WHERE tenant_id = 'met-a' AND feature LIKE 'm\_s\_%' AND slot < 100001;

-- A report inserts its event without the executor and does the trigger's
-- work itself, and adds to its slot row in place (src/pg/direct_insert.h).
-- With an INSERT trigger of the operator's own on usage_events it goes
-- through the INSERT statement and the aggregating trigger, and with an
-- UPDATE trigger on usage_rollups through the upsert statement: counted
-- once and audited once every way.
SELECT count(*) AS audited_before FROM kaireon.audit_log WHERE tenant_id = 'met-a' AND action = 'usage.reported' \gset
CREATE FUNCTION public.regress_met_seen() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN RAISE NOTICE 'trigger % saw %', TG_NAME, NEW.feature; RETURN NEW; END$$;
CREATE TRIGGER regress_seen BEFORE INSERT ON kaireon.usage_events FOR EACH ROW EXECUTE FUNCTION public.regress_met_seen();
SELECT kaireon.report_usage('m_s_sum', 0.5) ->> 'currentUsage' AS sum_through_the_statement;
DROP TRIGGER regress_seen ON kaireon.usage_events;
CREATE TRIGGER regress_seen_slot BEFORE UPDATE ON kaireon.usage_rollups FOR EACH ROW
    EXECUTE FUNCTION public.regress_met_seen();
SELECT kaireon.report_usage('m_s_sum', 0.125) ->> 'currentUsage' AS sum_through_the_upsert_statement;
DROP TRIGGER regress_seen_slot ON kaireon.usage_rollups;
DROP FUNCTION public.regress_met_seen();
SELECT kaireon.report_usage('m_s_sum', 0.25) ->> 'currentUsage' AS sum_direct_again;
SELECT count(*) - :audited_before AS reports_audited FROM kaireon.audit_log
WHERE tenant_id = 'met-a' AND action = 'usage.reported';
SELECT count(*) AS events FROM kaireon.usage_events
WHERE tenant_id = 'met-a' AND feature = 'm_s_sum' AND value IN (0.5, 0.125, 0.25);

RESET kaireon.tenant;
RESET kaireon.test_clock;
SELECT kaireon.drop_tenant('met-a') ->> 'tenantId' AS dropped, kaireon.drop_tenant('met-b') ->> 'tenantId' AS dropped;
SELECT (SELECT count(*) FROM kaireon.usage_events WHERE tenant_id LIKE 'met-%') AS events_left,
       (SELECT count(*) FROM kaireon.usage_rollups WHERE tenant_id LIKE 'met-%') AS rollups_left,
       (SELECT count(*) FROM kaireon.usage_idempotency WHERE tenant_id LIKE 'met-%') AS keys_left,
       (SELECT count(*) FROM kaireon.events WHERE tenant_id LIKE 'met-%') AS outbox_left;
DELETE FROM kaireon.features WHERE key LIKE 'm\_%';
DROP ROLE regress_met_app, regress_met_app_b, regress_met_reader;

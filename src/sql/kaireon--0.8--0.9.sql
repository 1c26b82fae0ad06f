-- kaireon 0.8 -> 0.9: the decision quota (SPEC section 5): counted
-- decisions, quota_status(), the usage dashboard and its HTML report.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.9'" to load this file. \quit

-- A counted (non-empty) decision records the start of the quota period it
-- counted in: the month's first instant, or the instant of an upgrade made
-- within the month. These rows are the quota's durable count
-- (docs/quota.md); the running total lives in shared memory.
ALTER TABLE kaireon.decisions ADD COLUMN quota_period timestamptz;
COMMENT ON COLUMN kaireon.decisions.quota_period IS
    'The start of the decision-quota period this decision counted in; NULL when it was not counted (empty).';
-- Decisions made before the quota existed count in the period they fall in.
UPDATE kaireon.decisions d SET quota_period = greatest(
        date_trunc('month', d.decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        (SELECT to_timestamp(floor(extract(epoch FROM l.quota_reset_at))) FROM kaireon.licenses l
          WHERE l.tenant_id = d.tenant_id AND l.quota_reset_at <= d.decided_at
            AND date_trunc('month', l.quota_reset_at AT TIME ZONE 'UTC')
                = date_trunc('month', d.decided_at AT TIME ZONE 'UTC')))
 WHERE d.offers <> '[]'::jsonb;
CREATE INDEX decisions_quota_period ON kaireon.decisions (tenant_id, quota_period) WHERE quota_period IS NOT NULL;

CREATE FUNCTION kaireon.quota_status() RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_quota_status' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.quota_status() IS
    'The current tenant''s decision quota: {tier, status, usage {current, limit, periodStart, periodEnd}, percentageUsed, banner, retryAfter}.';

CREATE FUNCTION kaireon.usage_summary() RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_usage_summary' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.usage_summary() IS
    'The usage dashboard''s data as jsonb: quota, month decisions, projection, daily trend, flows, features (docs/quota.md).';

CREATE FUNCTION kaireon.usage_report_html() RETURNS text
AS 'MODULE_PATHNAME', 'kaireon_usage_report_html' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.usage_report_html() IS
    'The usage dashboard as one self-contained HTML page with an SVG chart of the daily trend.';

-- The dashboard's views read the summary of the current tenant; they run
-- with the caller's rights (security_invoker), so a role without the
-- summary function gets nothing through them.
CREATE VIEW kaireon.usage_daily WITH (security_invoker = true) AS
SELECT (d->>'day')::date AS day, (d->>'decisions')::bigint AS decisions, (d->>'cumulative')::bigint AS cumulative
  FROM jsonb_array_elements(kaireon.usage_summary()->'daily') AS d;
COMMENT ON VIEW kaireon.usage_daily IS 'Counted decisions per day (UTC) of the current month, with the running total.';

CREATE VIEW kaireon.usage_by_flow WITH (security_invoker = true) AS
SELECT f->>'flow' AS flow, (f->>'decisions')::bigint AS decisions, (f->>'percent')::numeric AS percent
  FROM jsonb_array_elements(kaireon.usage_summary()->'flows') AS f;
COMMENT ON VIEW kaireon.usage_by_flow IS 'Counted decisions of the current month per flow, most first.';

CREATE VIEW kaireon.usage_features WITH (security_invoker = true) AS
SELECT f->>'feature' AS feature, f->>'unit' AS unit, f->>'period' AS period, (f->>'enabled')::boolean AS enabled,
       (f->>'usage')::numeric AS usage, (f->>'limit')::numeric AS "limit",
       (f->>'percentageUsed')::numeric AS percentage_used
  FROM jsonb_array_elements(kaireon.usage_summary()->'features') AS f;
COMMENT ON VIEW kaireon.usage_features IS 'Every numeric feature of the tenant''s tier: usage this period against its limit.';

-- usage_dashboard: the summary as rows a person reads in psql.
CREATE FUNCTION kaireon.usage_dashboard() RETURNS TABLE (section text, metric text, value text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
WITH s AS (SELECT kaireon.usage_summary() AS j),
q AS (SELECT j->'quota' AS q, j FROM s),
rows AS (
    SELECT 1 AS o, 0 AS n, 'quota' AS section, 'tier' AS metric, q->>'tier' AS value FROM q
    UNION ALL SELECT 1, 1, 'quota', 'status', q->>'status' FROM q
    UNION ALL SELECT 1, 2, 'quota', 'period', (q->'usage'->>'periodStart') || ' .. ' || (q->'usage'->>'periodEnd') FROM q
    UNION ALL SELECT 1, 3, 'quota', 'decisions counted',
        (q->'usage'->>'current') || ' of ' || coalesce(q->'usage'->>'limit', 'unlimited')
        || coalesce(' (' || (q->>'percentageUsed') || ' %)', '') FROM q
    UNION ALL SELECT 1, 4, 'quota', 'decisions this month', j->>'monthDecisions' FROM q
    UNION ALL SELECT 1, 5, 'quota', 'projected at month end',
        (j->>'projectedMonthEnd') || coalesce(' (' || (j->>'projectedPercent') || ' % of the limit)', '') FROM q
    UNION ALL SELECT 1, 6, 'quota', 'banner', q->>'banner' FROM q WHERE q->>'banner' IS NOT NULL
    UNION ALL SELECT 2, ordinality::int, 'daily', d->>'day',
        (d->>'decisions') || ' (total ' || (d->>'cumulative') || ')'
      FROM s, jsonb_array_elements(j->'daily') WITH ORDINALITY AS t(d, ordinality)
    UNION ALL SELECT 3, ordinality::int, 'flow', f->>'flow', (f->>'decisions') || ' (' || (f->>'percent') || ' %)'
      FROM s, jsonb_array_elements(j->'flows') WITH ORDINALITY AS t(f, ordinality)
    UNION ALL SELECT 4, ordinality::int, 'feature', f->>'feature',
        CASE WHEN NOT (f->>'enabled')::boolean THEN 'not in plan'
             ELSE (f->>'usage') || ' of ' || coalesce(f->>'limit', 'unlimited') || ' ' || (f->>'unit')
                  || CASE WHEN f->>'period' <> 'never' THEN ' per ' || (f->>'period') ELSE '' END
                  || coalesce(' (' || (f->>'percentageUsed') || ' %)', '') END
      FROM s, jsonb_array_elements(j->'features') WITH ORDINALITY AS t(f, ordinality)
)
SELECT section, metric, value FROM rows ORDER BY o, n
$$;
COMMENT ON FUNCTION kaireon.usage_dashboard() IS
    'The usage dashboard in rows: quota, projection, daily trend, flows, feature usage across the tier.';

GRANT EXECUTE ON FUNCTION kaireon.quota_status(), kaireon.usage_summary(), kaireon.usage_report_html(),
    kaireon.usage_dashboard() TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT SELECT ON kaireon.usage_daily, kaireon.usage_by_flow, kaireon.usage_features
    TO kaireon_admin, kaireon_app, kaireon_reader;

SELECT kaireon._revoke_public();

-- The decision quota (SPEC section 5): what counts (non-empty decisions,
-- never dry runs), the response's quota object and quota_status() in one
-- shape, the 90/95/100 % alerts once per period, KR429 with the seed's body
-- and Retry-After, recommend_batch all or nothing, month rollover, the
-- licence upgrade that restarts the count (and the downgrade that does not),
-- custom thresholds, the usage dashboard, its views and HTML page, and who
-- may read them. Concurrency: test/isolation/specs/quota_*.spec and
-- test/cluster/quota_stress.sh.
\set SHOW_CONTEXT never
\set ECHO none
\i test/license/fixtures.sql
\set ECHO all
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
CREATE ROLE regress_quota_app IN ROLE kaireon_app;
CREATE ROLE regress_quota_reader IN ROLE kaireon_reader;
CREATE ROLE regress_quota_other;
SELECT kaireon.create_tenant('lic-a', 'Quota <A> & Co', 'ops@quota.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('lic-b', 'Quota B', 'ops@b.quota.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_quota_app', 'lic-a');
SELECT kaireon.grant_tenant('regress_quota_reader', 'lic-a');
DELETE FROM kaireon.license_keys;  -- keys an earlier test left
SELECT kaireon.add_license_key('rsa-1', 'RS256', :'pem_rsa') ->> 'kid' AS key;

SET kaireon.tenant = 'lic-a';
-- Two flows; "nobody" has no consent for the web channel, so its decisions
-- are empty.
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{
  "channels": [{"id": "web", "name": "Web", "type": "web"}],
  "offers": [{"id": "card", "name": "Card", "priority": 60}, {"id": "loan", "name": "Loan", "priority": 40}],
  "creatives": [{"id": "card-web", "offerId": "card", "channelId": "web", "name": "Card on the web"},
                {"id": "loan-web", "offerId": "loan", "channelId": "web", "name": "Loan on the web"}],
  "customers": [{"id": "ana"}, {"id": "ben"}, {"id": "nobody"}],
  "consents": [{"customerId": "nobody", "channelId": "web", "granted": false}],
  "flows": [{"id": "home", "name": "Home", "channelId": "web"}, {"id": "banner", "name": "Banner", "channelId": "web"}]
}') -> 'applied');

-- ===========================================================================
-- 1. The shape: Community, 10,000 a month, nothing used.
-- ===========================================================================
SELECT jsonb_pretty(kaireon.quota_status());
-- The response carries the same object, counted: this decision is the first.
SELECT jsonb_pretty(kaireon_recommend('{"customerId": "ana", "flow": "home"}') -> 'quota');
-- An empty decision is recorded but not counted.
SELECT jsonb_array_length(r -> 'offers') AS offers, r -> 'quota' -> 'usage' -> 'current' AS current
FROM kaireon_recommend('{"customerId": "nobody", "flow": "home"}') AS r;
-- A dry run (administrators only) counts nothing and records nothing.
SELECT r -> 'quota' -> 'usage' -> 'current' AS current, r -> 'dryRun' AS dry_run
FROM kaireon_recommend('{"customerId": "ana", "flow": "home", "dryRun": true}') AS r;
SELECT count(*) AS decisions, count(quota_period) AS counted,
       min(quota_period) = '2026-06-01T00:00:00Z' AS counted_in_june
FROM kaireon.decisions WHERE tenant_id = 'lic-a';
-- decisions_per_month counts itself: entitlement() shows the count, and
-- report_usage refuses it.
SELECT kaireon.entitlement('decisions_per_month') - 'entitlement' AS entitlement;
SELECT kaireon.report_usage('decisions_per_month', 5);
\echo :LAST_ERROR_SQLSTATE

-- ===========================================================================
-- 2. Alerts and the refusal: a limit of 20 (an override), thresholds of the
--    tenant's own at 50 and 75 %.
-- ===========================================================================
SELECT kaireon.set_override('decisions_per_month', '{"limit": 20}') -> 'value' AS override;
SELECT kaireon.set_thresholds('decisions_per_month', ARRAY[50, 75]) -> 'thresholds' AS thresholds;
-- decide(n) makes n decisions for ana and shows the last one's quota.
CREATE FUNCTION pg_temp.decide(n int, flow text DEFAULT 'home')
RETURNS TABLE (current int, status text, percentage numeric, banner text, retry_after text)
LANGUAGE plpgsql AS $$
DECLARE
    q jsonb;
BEGIN
    FOR i IN 1 .. n LOOP
        q := kaireon_recommend(jsonb_build_object('customerId', 'ana', 'flow', flow)) -> 'quota';
    END LOOP;
    RETURN QUERY SELECT (q -> 'usage' ->> 'current')::int, q ->> 'status', (q ->> 'percentageUsed')::numeric,
                        q ->> 'banner', q ->> 'retryAfter';
END
$$;
SELECT * FROM pg_temp.decide(8);            -- 9 of 20: 45 %
SELECT * FROM pg_temp.decide(1, 'banner');  -- 10: the tenant's 50 % threshold
SELECT * FROM pg_temp.decide(7);            -- 17: 75 % passed
SELECT * FROM pg_temp.decide(1);            -- 18: 90 %, the warning
-- The transaction that reaches 95 % rolls back: its alert goes with it, and
-- the next decision past 95 % sends it.
BEGIN;
SELECT * FROM pg_temp.decide(1);
SELECT type FROM kaireon.events WHERE type = 'quota.admin_notified';
ROLLBACK;
SELECT type FROM kaireon.events WHERE type = 'quota.admin_notified';
SELECT * FROM pg_temp.decide(1);            -- 19: 95 %, the administrator's e-mail
SELECT * FROM pg_temp.decide(1);            -- 20: the limit, exceeded
-- Past the limit: KR429, the seed's body, Retry-After until July 1st.
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend('ana', 'home');
-- Empty decisions are still answered (and not counted) at the limit; so are
-- dry runs.
SELECT jsonb_array_length(r -> 'offers') AS offers, r -> 'quota' ->> 'status' AS status
FROM kaireon_recommend('{"customerId": "nobody", "flow": "home"}') AS r;
SELECT jsonb_array_length(r -> 'offers') AS offers, r -> 'quota' ->> 'status' AS status
FROM kaireon_recommend('{"customerId": "ana", "flow": "home", "dryRun": true}') AS r;
-- Each alert once, in order, with its payload; the tenant's own thresholds
-- as usage.threshold_reached.
SELECT type, payload - 'email' AS payload FROM kaireon.events
WHERE type LIKE 'quota.%' OR (type = 'usage.threshold_reached' AND payload ->> 'feature' = 'decisions_per_month')
ORDER BY id;
SELECT payload -> 'email' ->> 'to' AS "to", payload -> 'email' ->> 'subject' AS subject
FROM kaireon.events WHERE type = 'quota.admin_notified';
SELECT payload -> 'email' ->> 'body' AS body FROM kaireon.events WHERE type = 'quota.admin_notified';
-- Refusals are counted although their transactions rolled back.
SELECT decisions, empty_decisions, quota_refusals FROM kaireon.stats WHERE tenant_id = 'lic-a';

-- ===========================================================================
-- 3. recommend_batch is all or nothing: 2 left cannot cover 3 non-empty
--    decisions; the empty one does not need room.
-- ===========================================================================
SELECT kaireon.set_override('decisions_per_month', '{"limit": 22}') -> 'value' AS override;
SELECT count(*) FROM kaireon.recommend_batch('home', ARRAY['ana', 'ben', 'nobody', 'ana']);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.quota_status() -> 'usage' -> 'current' AS current;
SELECT customer_id, count(*) AS offers FROM kaireon.recommend_batch('home', ARRAY['ana', 'nobody', 'ben'])
GROUP BY customer_id ORDER BY customer_id;
SELECT kaireon.quota_status() -> 'usage' -> 'current' AS current, kaireon.quota_status() ->> 'status' AS status;

-- ===========================================================================
-- 4. Readers see the quota and the dashboard; applications decide; other
--    roles get nothing; another tenant has its own count.
-- ===========================================================================
SET ROLE regress_quota_reader;
SELECT kaireon.quota_status() ->> 'status' AS reader_status;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home"}');
RESET ROLE;
SET ROLE regress_quota_app;
SELECT kaireon.quota_status() ->> 'status' AS app_status;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_quota_other;
SELECT kaireon.quota_status();
SELECT * FROM kaireon.usage_daily;
SELECT kaireon.usage_report_html();
RESET ROLE;
SET kaireon.tenant = 'lic-b';
SELECT kaireon.quota_status() -> 'usage' -> 'current' AS lic_b_current;
SET kaireon.tenant = 'lic-a';

-- ===========================================================================
-- 5. The dashboard: rows for psql, views, the summary and the HTML page.
-- ===========================================================================
SET kaireon.test_clock = '2026-06-12T18:00:00Z';
SELECT * FROM kaireon.usage_dashboard() WHERE section <> 'daily' OR value <> '0 (total 0)';
SELECT * FROM kaireon.usage_daily WHERE decisions > 0;
SELECT count(*) AS days FROM kaireon.usage_daily;
SELECT * FROM kaireon.usage_by_flow;
SELECT * FROM kaireon.usage_features WHERE feature IN ('decisions_per_month', 'content_items', 'connectors');
SELECT s ->> 'monthDecisions' AS month, s ->> 'projectedMonthEnd' AS projected, s ->> 'projectedPercent' AS percent
FROM kaireon.usage_summary() AS s;
-- The page: self-contained, escaped, with the figures the summary gives
-- (test/cluster/usage_report.sh renders it in Chromium).
SELECT h LIKE '<!DOCTYPE html>%' AS html, h LIKE '%<svg%' AS svg, h NOT LIKE '%<script%' AS no_script,
       h LIKE '%Quota &lt;A&gt; &amp; Co%' AS escaped_name, h NOT LIKE '%Quota <A>%' AS never_raw,
       h LIKE '%id="current">22<%' AS current, h LIKE '%id="limit">22<%' AS "limit"
FROM kaireon.usage_report_html() AS h;

-- ===========================================================================
-- 6. A new month counts from zero; June's decisions stay June's.
-- ===========================================================================
SET kaireon.test_clock = '2026-07-01T00:00:00Z';
SELECT kaireon.quota_status() -> 'usage' AS usage, kaireon.quota_status() ->> 'status' AS status;
SELECT * FROM pg_temp.decide(1);
SELECT quota_period, count(*) FROM kaireon.decisions WHERE tenant_id = 'lic-a' AND quota_period IS NOT NULL
GROUP BY 1 ORDER BY 1;

-- ===========================================================================
-- 7. Licences: an upgrade restarts the count at once under the new limit
--    (quota.reset; earlier decisions stay in history); a downgrade applies
--    the lower limit to the count so far.
-- ===========================================================================
SELECT kaireon.clear_override('decisions_per_month') AS cleared;
SELECT kaireon.install_license(:'tok_community') ->> 'tier' AS installed;
SELECT * FROM pg_temp.decide(2);
SET kaireon.test_clock = '2026-07-15T08:30:00Z';
SELECT kaireon.install_license(:'tok_pro') ->> 'tier' AS installed;
SELECT jsonb_pretty(kaireon.quota_status());
SELECT type, payload FROM kaireon.events WHERE type = 'quota.reset';
SELECT * FROM pg_temp.decide(4);
SELECT kaireon.install_license(:'tok_community') ->> 'tier' AS downgraded;
SELECT kaireon.quota_status() -> 'usage' AS usage;
SELECT quota_period, count(*) FROM kaireon.decisions WHERE tenant_id = 'lic-a' AND quota_period IS NOT NULL
GROUP BY 1 ORDER BY 1;
-- The month's decisions (dashboard) include those before the upgrade.
SELECT s ->> 'monthDecisions' AS month_decisions, s -> 'quota' -> 'usage' ->> 'current' AS counted
FROM kaireon.usage_summary() AS s;
-- Enterprise: unlimited (no percentage), and another restart.
SET kaireon.test_clock = '2026-07-15T08:45:00Z';
SELECT kaireon.install_license(:'tok_enterprise') ->> 'tier' AS installed;
SELECT kaireon.quota_status() -> 'usage' AS usage, kaireon.quota_status() -> 'percentageUsed' AS percentage;

-- ===========================================================================
-- 8. A dropped tenant's count goes with it: the same id starts from zero
--    (without a licence its period is July again, which had 3).
-- ===========================================================================
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('lic-b') ->> 'tenantId' AS dropped;
SELECT kaireon.drop_tenant('lic-a') ->> 'tenantId' AS dropped;
SELECT kaireon.create_tenant('lic-a', 'Quota A again', 'ops@quota.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'lic-a';
SELECT kaireon.quota_status() -> 'usage' -> 'current' AS current;
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('lic-a') ->> 'tenantId' AS dropped;
RESET kaireon.test_clock;
DELETE FROM kaireon.license_keys;
DROP ROLE regress_quota_app, regress_quota_reader, regress_quota_other;

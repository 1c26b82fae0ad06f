-- Contact policies (SPEC 6.3) in pipeline step 4: each of the 12 types
-- blocking with its trace reason, scopes, priority order, allow_override,
-- mandatory offers and bypassable = false, time zones (the customer's, the
-- policy's), budgets over all customers, behavioral metrics from the
-- customer's interactions (metric() in eligibility), mutual exclusion in
-- one decision. The core rules are unit-tested in
-- test/unit/contact_policies_test.cpp.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';  -- a Wednesday; 14:00 in Paris
SELECT kaireon.create_tenant('pol-a', 'Policies A', 'ops@pol.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'pol-a';
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{
  "categories": [{"id": "cards", "name": "Cards"}, {"id": "premium", "name": "Premium cards", "parentId": "cards"},
                 {"id": "loans", "name": "Loans"}],
  "channels": [{"id": "web", "name": "Web", "type": "web"}, {"id": "email", "name": "E-mail", "type": "email"},
               {"id": "sms", "name": "SMS", "type": "sms"}],
  "offers": [{"id": "gold", "name": "Gold", "categoryId": "premium", "priority": 90,
              "budget": {"metric": "impressions", "limit": 3, "period": "monthly"}},
             {"id": "plat", "name": "Platinum", "categoryId": "premium", "priority": 85},
             {"id": "silver", "name": "Silver", "categoryId": "cards", "priority": 70},
             {"id": "loan", "name": "Loan", "categoryId": "loans", "priority": 60},
             {"id": "notice", "name": "Terms notice", "priority": 50, "mandatory": true},
             {"id": "cashback", "name": "Cashback", "categoryId": "cards", "priority": 40,
              "budget": {"metric": "value", "limit": 100, "period": "monthly"}}],
  "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web"},
                {"id": "gold-mail", "offerId": "gold", "channelId": "email"},
                {"id": "plat-web", "offerId": "plat", "channelId": "web"},
                {"id": "silver-web", "offerId": "silver", "channelId": "web"},
                {"id": "silver-mail", "offerId": "silver", "channelId": "email"},
                {"id": "loan-web", "offerId": "loan", "channelId": "web"},
                {"id": "notice-web", "offerId": "notice", "channelId": "web"},
                {"id": "cashback-web", "offerId": "cashback", "channelId": "web"}],
  "customers": [{"id": "ana", "timezone": "Europe/Paris", "segments": ["premier"]},
                {"id": "ben", "segments": ["minor"]},
                {"id": "cy", "timezone": "America/New_York", "attributes": {"has_loan": true}}],
  "consents": [{"customerId": "ana", "channelId": "email", "granted": true},
               {"customerId": "cy", "channelId": "email", "granted": true},
               {"customerId": "cy", "channelId": "sms", "granted": true}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"},
                   {"id": "dismiss", "kind": "negative"}],
  "metrics": [{"id": "clicks_30d", "definition": {"outcomeTypes": ["click"], "windowDays": 30}},
              {"id": "spend_7d", "definition": {"outcomeTypes": ["click"], "windowDays": 7, "aggregation": "sum"}}],
  "flows": [{"id": "home", "name": "Home", "channelId": "web"}, {"id": "mail", "name": "Mail", "channelId": "email"}]
}') -> 'applied');

-- shown(customer, flow) lists the offers a (dry run) decision shows;
-- why(...) the policies' removals and lifts and the mutual exclusions.
CREATE FUNCTION pg_temp.decide(customer text, flow text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT kaireon_recommend(jsonb_build_object('customerId', customer, 'flow', flow, 'dryRun', true, 'trace', true))
$$;
CREATE FUNCTION pg_temp.shown(customer text, flow text DEFAULT 'home') RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(o ->> 'offerId', ', ' ORDER BY (o ->> 'rank')::int), '(none)')
    FROM jsonb_array_elements(pg_temp.decide(customer, flow) -> 'offers') o
$$;
CREATE FUNCTION pg_temp.why(customer text, flow text DEFAULT 'home')
RETURNS TABLE (stage text, what text, offer_id text, reason text) LANGUAGE sql AS $$
    SELECT s ->> 'stage', x.what, x.r ->> 'offerId', x.r ->> 'reason'
    FROM jsonb_array_elements(pg_temp.decide(customer, flow) -> 'trace') s,
         LATERAL (SELECT 'removed' AS what, r FROM jsonb_array_elements(s -> 'removed') r
                  UNION ALL SELECT 'lifted', r FROM jsonb_array_elements(coalesce(s -> 'lifted', '[]')) r) x
    WHERE s ->> 'stage' IN ('policies', 'ranking')
    ORDER BY 1 DESC, 2 DESC, 3
$$;
-- only(policies) makes these the tenant's only policies.
CREATE FUNCTION pg_temp.only(policies jsonb) RETURNS void LANGUAGE sql AS $$
    DELETE FROM kaireon.policies;
    SELECT kaireon.apply_catalog(jsonb_build_object('policies', policies));
$$;
-- seen(customer, offer, outcome, occurred_at[, channel, value]) records an interaction.
CREATE SEQUENCE pg_temp.keys;
CREATE FUNCTION pg_temp.seen(customer text, offer text, outcome text, occurred text, channel text DEFAULT 'web',
                             value numeric DEFAULT NULL) RETURNS void LANGUAGE sql AS $$
    SELECT kaireon_respond(jsonb_strip_nulls(jsonb_build_object(
        'customerId', customer, 'offerId', offer, 'outcome', outcome, 'occurredAt', occurred,
        'channel', channel, 'value', value, 'idempotencyKey', 'k' || nextval('pg_temp.keys'))));
$$;

-- No policy: everything is shown.
SELECT pg_temp.shown('ana') AS ana, pg_temp.shown('ben') AS ben, pg_temp.shown('cy') AS cy;

-- ===========================================================================
-- 1. frequency_cap: impressions at the scope per day, week, month (in the
-- customer's time zone) or in total.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "two-a-day", "type": "frequency_cap", "config": {"maxPerDay": 2}}]');
-- 22:30 UTC on June 9 is already June 10 in Paris (ana), still June 9 for ben (UTC).
SELECT pg_temp.seen('ana', 'silver', 'impression', '2026-06-09T22:30:00Z'),
       pg_temp.seen('ana', 'loan', 'impression', '2026-06-10T08:00:00Z'),
       pg_temp.seen('ben', 'silver', 'impression', '2026-06-09T22:30:00Z'),
       pg_temp.seen('ben', 'loan', 'impression', '2026-06-10T08:00:00Z');
SELECT pg_temp.shown('ana') AS ana, pg_temp.shown('ben') AS ben;
SELECT * FROM pg_temp.why('ana') LIMIT 2;
-- A click is not an impression.
SELECT pg_temp.seen('ben', 'loan', 'click', '2026-06-10T08:01:00Z');
SELECT pg_temp.shown('ben') AS ben;
-- Scopes: category covers its subcategories, subcategory only itself.
SELECT pg_temp.only('[{"id": "cards-1", "type": "frequency_cap", "scope": "category", "scopeId": "cards", "config": {"maxPerWeek": 1}}]');
SELECT * FROM pg_temp.why('ana');
SELECT pg_temp.only('[{"id": "cards-only", "type": "frequency_cap", "scope": "subcategory", "scopeId": "cards", "config": {"maxPerWeek": 1}}]');
SELECT * FROM pg_temp.why('ana');
SELECT pg_temp.only('[{"id": "gold-ever", "type": "frequency_cap", "scope": "offer", "scopeId": "gold", "config": {"maxTotal": 1}}]');
SELECT pg_temp.seen('cy', 'gold', 'impression', '2026-01-05T10:00:00Z');
SELECT * FROM pg_temp.why('cy');
-- Segment scope: the policy applies to the segment's customers only.
SELECT pg_temp.only('[{"id": "premier-1", "type": "frequency_cap", "scope": "segment", "scopeId": "premier", "config": {"maxPerMonth": 1}}]');
SELECT pg_temp.shown('ana') AS ana, pg_temp.shown('ben') AS ben;

-- A window counts from its first instant: an impression at midnight (UTC for
-- dee) is today's, one a millisecond before is yesterday's.
SELECT kaireon.apply_catalog('{"customers": [{"id": "dee"}]}', 'merge') -> 'applied' -> 'customers' AS customers;
SELECT pg_temp.only('[{"id": "one-a-day", "type": "frequency_cap", "config": {"maxPerDay": 1}}]');
SELECT pg_temp.seen('dee', 'loan', 'impression', '2026-06-09T23:59:59.999Z');
SELECT pg_temp.shown('dee') AS dee_after_yesterdays;
SELECT pg_temp.seen('dee', 'loan', 'impression', '2026-06-10T00:00:00Z');
SELECT pg_temp.shown('dee') AS dee_after_midnights;

-- ===========================================================================
-- 2. cooldown: the last impression at the scope is too recent.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "gold-cool", "type": "cooldown", "scope": "offer", "scopeId": "gold", "config": {"cooldownHours": 24}}]');
SELECT pg_temp.seen('ana', 'gold', 'impression', '2026-06-10T07:00:00Z');
SELECT * FROM pg_temp.why('ana');
SELECT pg_temp.only('[{"id": "gold-cool", "type": "cooldown", "scope": "offer", "scopeId": "gold", "config": {"cooldownHours": 4.5}}]');
SELECT * FROM pg_temp.why('ana');

-- ===========================================================================
-- 3. budget_exhausted: the offer's budget over all customers.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "budgets", "type": "budget_exhausted"}]');
SELECT pg_temp.shown('ben') AS ben;  -- gold: 2 of 3 impressions this month (ana's, cy's in January does not count)
SELECT pg_temp.seen('ben', 'gold', 'impression', '2026-06-10T11:00:00Z');
SELECT * FROM pg_temp.why('ben');
-- A value budget adds up the values of the offer's interactions (a refund gives nothing back).
SELECT pg_temp.seen('ana', 'cashback', 'click', '2026-06-10T11:00:00Z', 'web', 60),
       pg_temp.seen('ben', 'cashback', 'click', '2026-06-10T11:01:00Z', 'web', -30);
SELECT pg_temp.shown('cy') AS cy;
SELECT pg_temp.seen('cy', 'cashback', 'click', '2026-06-10T11:02:00Z', 'web', 45.5);
SELECT * FROM pg_temp.why('cy');
-- A rolled-back response leaves the budget as it was.
SELECT pg_temp.only('[{"id": "budgets", "type": "budget_exhausted"}]');
UPDATE kaireon.offers SET budget = '{"metric": "impressions", "limit": 4, "period": "monthly"}' WHERE id = 'gold';
BEGIN;
SELECT pg_temp.seen('cy', 'gold', 'impression', '2026-06-10T11:03:00Z');
SELECT pg_temp.shown('ben') AS "ben, in the transaction";
ROLLBACK;
SELECT pg_temp.shown('ben') AS "ben, after the rollback";

-- ===========================================================================
-- 4. outcome_based: the customer had that many of those outcomes.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "no-dismissed", "type": "outcome_based", "scope": "offer", "scopeId": "plat",
                       "config": {"outcomeTypes": ["dismiss"], "lookbackDays": 30}}]');
SELECT pg_temp.seen('ana', 'plat', 'dismiss', '2026-05-20T09:00:00Z');
SELECT * FROM pg_temp.why('ana');
SELECT pg_temp.only('[{"id": "no-dismissed", "type": "outcome_based", "scope": "offer", "scopeId": "plat",
                       "config": {"outcomeTypes": ["dismiss"], "lookbackDays": 14}}]');
SELECT * FROM pg_temp.why('ana');

-- ===========================================================================
-- 5. segment_exclusion.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "minors", "type": "segment_exclusion", "config": {"segments": ["minor", "staff"]}}]');
SELECT pg_temp.shown('ana') AS ana, pg_temp.shown('ben') AS ben;
SELECT * FROM pg_temp.why('ben') WHERE offer_id IN ('gold', 'notice');

-- ===========================================================================
-- 6. time_window: in the customer's time zone unless the policy names one.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "mail-hours", "type": "time_window", "scope": "channel", "scopeId": "email",
                       "config": {"allowedDays": ["mon", "tue", "wed", "thu", "fri"], "startHour": 8, "endHour": 20}}]');
SET kaireon.test_clock = '2026-06-13T21:10:00Z';  -- Saturday, 23:10 in Paris, 17:10 in New York
SELECT * FROM pg_temp.why('ana', 'mail');
SELECT * FROM pg_temp.why('cy', 'mail');
SELECT pg_temp.shown('ana') AS "ana on the web";
SET kaireon.test_clock = '2026-06-12T18:30:00Z';  -- Friday, 20:30 in Paris, 14:30 in New York
SELECT pg_temp.shown('ana', 'mail') AS ana, pg_temp.shown('cy', 'mail') AS cy;
SELECT pg_temp.only('[{"id": "paris-hours", "type": "time_window", "config": {"startHour": 9, "endHour": 17, "timezone": "Asia/Tokyo"}}]');
SELECT * FROM pg_temp.why('cy') LIMIT 1;
SET kaireon.test_clock = '2026-06-10T12:00:00Z';

-- ===========================================================================
-- 7. mutual_exclusion: within the window, or in this decision.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "one-premium", "type": "mutual_exclusion", "config": {"offerIds": ["gold", "plat"]}}]');
SELECT pg_temp.shown('ben') AS ben;
SELECT * FROM pg_temp.why('ben');
SELECT pg_temp.only('[{"id": "one-premium", "type": "mutual_exclusion", "config": {"categoryIds": ["premium"], "withinDays": 7}}]');
SELECT pg_temp.seen('cy', 'plat', 'impression', '2026-06-08T10:00:00Z');
SELECT * FROM pg_temp.why('cy');

-- ===========================================================================
-- 8. cross_channel_cap: impressions across the channels, for offers shown on them.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "push-limit", "type": "cross_channel_cap", "config": {"channels": ["email", "sms"], "maxPerWeek": 2}}]');
SELECT pg_temp.seen('cy', 'silver', 'impression', '2026-06-08T10:00:00Z', 'email'),
       pg_temp.seen('cy', 'loan', 'impression', '2026-06-09T10:00:00Z', 'sms');
SELECT * FROM pg_temp.why('cy', 'mail');
SELECT pg_temp.shown('cy') AS "cy on the web";

-- ===========================================================================
-- 9. allow_override, mandatory offers, bypassable = false, priority order.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "quiet", "type": "segment_exclusion", "priority": 20, "config": {"segments": ["minor"]}},
                      {"id": "cool-all", "type": "cooldown", "priority": 10, "config": {"cooldownHours": 12}},
                      {"id": "let-gold", "type": "allow_override", "config": {"offerIds": ["gold"]}}]');
SELECT * FROM pg_temp.why('ben');
-- Not bypassable: nothing lifts it.
SELECT pg_temp.only('[{"id": "cool-all", "type": "cooldown", "bypassable": false, "config": {"cooldownHours": 12}},
                      {"id": "let-gold", "type": "allow_override", "config": {"offerIds": ["gold"]}}]');
SELECT pg_temp.shown('ben') AS ben;
-- A mandatory offer skips bypassable policies except frequency_cap and cross_channel_cap.
SELECT pg_temp.only('[{"id": "cool-all", "type": "cooldown", "config": {"cooldownHours": 12}}]');
SELECT pg_temp.shown('ben') AS ben;
SELECT pg_temp.only('[{"id": "two-a-day", "type": "frequency_cap", "config": {"maxPerDay": 2}}]');
SELECT pg_temp.shown('ben') AS ben;
-- A disabled policy changes nothing.
SELECT pg_temp.only('[{"id": "two-a-day", "type": "frequency_cap", "enabled": false, "config": {"maxPerDay": 2}}]');
SELECT pg_temp.shown('ben') AS ben;

-- ===========================================================================
-- 10. category_suppression: a condition about the customer, for categories.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "has-loan", "type": "category_suppression",
                       "config": {"categoryIds": ["loans"], "condition": "customer.has_loan = true"}}]');
SELECT * FROM pg_temp.why('cy');
SELECT pg_temp.shown('ana') AS ana;

-- ===========================================================================
-- 11. metric_condition, and metric() in expressions.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "clicky", "type": "metric_condition", "scope": "offer", "scopeId": "silver",
                       "config": {"metric": "clicks_30d", "op": ">=", "value": 2}}]');
SELECT pg_temp.shown('ana') AS ana;  -- one click (cashback)
SELECT pg_temp.seen('ana', 'loan', 'click', '2026-06-01T10:00:00Z', 'web', 7);
SELECT * FROM pg_temp.why('ana');
UPDATE kaireon.offers SET eligibility = 'metric(''spend_7d'') > 50' WHERE id = 'plat';
SELECT offer_id, eligible, reason FROM kaireon.check_eligibility('ana') WHERE offer_id = 'plat';
SELECT offer_id, eligible, reason FROM kaireon.check_eligibility('ben') WHERE offer_id = 'plat';
-- The values of a group of interactions add up exactly, as numeric: 1e16
-- then 1 and 1 make 10000000000000002 (added one by one as doubles, each 1
-- would be lost). With cy's click of 45.5 on cashback that week, the metric
-- is 10000000000000047.5 to the nearest double: ...048 (...046 without the 1s).
SELECT pg_temp.seen('cy', 'loan', 'click', '2026-06-08T10:00:0' || n || 'Z', 'web',
                    CASE n WHEN 1 THEN 10000000000000000 ELSE 1 END) FROM generate_series(1, 3) n;
UPDATE kaireon.offers SET eligibility = 'metric(''spend_7d'') = 10000000000000048' WHERE id = 'plat';
SELECT offer_id, eligible, reason FROM kaireon.check_eligibility('cy') WHERE offer_id = 'plat';
UPDATE kaireon.offers SET eligibility = NULL WHERE id = 'plat';

-- ===========================================================================
-- 12. customer_total_cap: every impression of the customer.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "total", "type": "customer_total_cap", "scope": "channel", "scopeId": "web", "config": {"maxPerWeek": 3}}]');
SELECT * FROM pg_temp.why('cy') LIMIT 1;
SELECT pg_temp.shown('cy', 'mail') AS "cy by e-mail (out of the policy's scope)";

-- ===========================================================================
-- Recorded decisions keep the reasons; policies and caps together.
-- ===========================================================================
SELECT pg_temp.only('[{"id": "has-loan", "type": "category_suppression",
                       "config": {"categoryIds": ["loans"], "condition": "customer.has_loan = true"}}]');
SELECT kaireon.apply_catalog('{"caps": [{"id": "silver-cap", "scope": "offer", "scopeId": "silver", "maxVolume": 1, "period": "daily"}]}') -> 'applied' -> 'caps';
SELECT jsonb_array_length(kaireon_recommend('{"customerId": "cy", "flow": "home", "trace": true}') -> 'offers') AS offers;
SELECT r ->> 'offerId' AS offer, r ->> 'reason' AS reason
FROM kaireon.decision_traces t, jsonb_array_elements(t.stages) s, jsonb_array_elements(s -> 'removed') r
WHERE s ->> 'stage' = 'policies' ORDER BY 1;

RESET kaireon.test_clock;
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('pol-a') ->> 'tenantId' AS dropped;

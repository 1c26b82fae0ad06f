-- The kaireon demo: what a client of the extension sees. Run by
-- scripts/demo.sh as the superuser of a throw-away cluster.
\pset footer off
\set SHOW_CONTEXT never
\echo '-- 1. Install: the extension, and pg_cron for scheduled jobs'
CREATE EXTENSION kaireon;
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT extname, extversion FROM pg_extension WHERE extname IN ('kaireon', 'pg_cron') ORDER BY 1;

\echo '-- 2. An administrator creates a tenant and lets an application role act on it'
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_app') THEN
        CREATE ROLE demo_app LOGIN IN ROLE kaireon_app;
    END IF;
END $$;
SELECT jsonb_pretty(kaireon.create_tenant('demo-bank', 'Demo Retail Bank', 'ops@demo-bank.example'));
SELECT kaireon.create_tenant('demo-telco', 'Demo Telco', 'it@demo-telco.example') ->> 'tenantId' AS second_tenant;
SELECT kaireon.grant_tenant('demo_app', 'demo-bank');

\echo '-- 3. Licensing: register the signing key, install the enterprise licence (RS256 JWT)'
SELECT kaireon.add_license_key('demo-key', 'RS256', :'demo_public_key') - 'createdAt' AS signing_key;
SELECT jsonb_pretty(kaireon.install_license(:'demo_license'));

\echo '-- 4. The application selects its tenant (SET or SET LOCAL) and works inside it'
SET ROLE demo_app;
SET kaireon.tenant = 'demo-bank';
SELECT kaireon.current_tenant();
SELECT tenant_id, name, admin_email FROM kaireon.tenants;
SELECT kaireon.license_status() ->> 'effectiveTier' AS effective_tier, kaireon.license_status() ->> 'state' AS state;
SELECT kaireon.entitlement('decisions_per_month');
SELECT kaireon.has_feature('journeys') AS journeys, kaireon.has_feature('experiments.bandit') AS bandits,
       kaireon.entitlement('support') -> 'config' AS support;

\echo '-- 5. Metering: a metered feature, usage reports (a replay counts once), a bulk load, thresholds'
RESET ROLE;
SELECT kaireon.define_feature('api_calls', 'numeric', '{"aggregation": "sum", "period": "month", "unit": "calls"}') ->> 'key' AS feature;
SELECT kaireon.set_plan_entitlement('enterprise', 'api_calls', '{"limit": 10000}') ->> 'value' AS enterprise_value;
SET ROLE demo_app;
SET kaireon.tenant = 'demo-bank';
SELECT kaireon.report_usage('api_calls', 1200, 'batch-0001');
SELECT kaireon.report_usage('api_calls', 1200, 'batch-0001') ->> 'currentUsage' AS after_replay;
INSERT INTO kaireon.usage_events (feature, value, properties)
SELECT 'api_calls', 100, jsonb_build_object('endpoint', '/v1/offers', 'n', n) FROM generate_series(1, 70) AS n;
SELECT feature, period_start::date, sum, count, max, latest FROM kaireon.usage_totals;
RESET ROLE;
SELECT tenant_id, type, payload ->> 'threshold' AS threshold, payload ->> 'currentUsage' AS usage FROM kaireon.events
WHERE type = 'usage.threshold_reached' ORDER BY id;
SET ROLE demo_app;

\echo '-- 6. The decision catalog: a retail bank (100 offers, 1,000 customers, ...) in one apply_catalog call'
RESET ROLE;
SET kaireon.tenant = 'demo-bank';
\ir catalog.sql
SELECT kaireon.entitlement('content_items') ->> 'currentUsage' AS content_items,
       kaireon.entitlement('behavioral_metrics') ->> 'currentUsage' AS behavioral_metrics;
SELECT eligible, count(*) AS offers FROM kaireon.check_eligibility('cust-0001', '{"channel": "web"}', 'homepage')
GROUP BY eligible ORDER BY eligible DESC;
SELECT offer_id, reason FROM kaireon.check_eligibility('cust-0001', '{"channel": "web"}', 'homepage')
WHERE NOT eligible ORDER BY offer_id LIMIT 5;
SET ROLE demo_app;

\echo '-- 7. Decisions: next best offers for the homepage, a traced contact-centre decision, a weekly e-mail batch'
SET kaireon.tenant = 'demo-bank';
SELECT jsonb_pretty(kaireon_recommend('{"customerId": "cust-0004", "flow": "homepage", "context": {"channel": "web"}}'));
-- cust-0012 refused the web channel: the decision is made, and it is empty.
SELECT r.customer_id, o.rank, o."offerId" AS offer_id, o.category, round(o.score::numeric, 4) AS score
FROM (VALUES ('cust-0001'), ('cust-0012')) AS r (customer_id)
LEFT JOIN LATERAL jsonb_to_recordset(kaireon_recommend(jsonb_build_object(
              'customerId', r.customer_id, 'flow', 'homepage', 'context', jsonb_build_object('channel', 'web'))) -> 'offers')
          AS o (rank int, "offerId" text, category text, score float8) ON true
ORDER BY r.customer_id, o.rank;
SELECT o.rank, o."offerId" AS offer_id, o.category, round(o.score::numeric, 4) AS score,
       round(o.propensity::numeric, 4) AS propensity, o.value, d ? 'traceId' AS traced
FROM kaireon_recommend('{"customerId": "cust-0004", "flow": "call_center_next_best", "trace": true}') AS d,
     jsonb_to_recordset(d -> 'offers') AS o (rank int, "offerId" text, category text, score float8, propensity float8, value float8);
SELECT s.n AS step, s.stage ->> 'stage' AS stage, (s.stage ->> 'in')::int AS "in", (s.stage ->> 'out')::int AS "out",
       (SELECT string_agg((r ->> 'offerId') || ': ' || (r ->> 'reason'), E'\n' ORDER BY i)
        FROM jsonb_array_elements(s.stage -> 'removed') WITH ORDINALITY AS x (r, i) WHERE i <= 3) AS first_removed
FROM kaireon.decision_traces t, jsonb_array_elements(t.stages) WITH ORDINALITY AS s (stage, n)
WHERE t.customer_id = 'cust-0004' AND t.flow = 'call_center_next_best'
ORDER BY s.n;
SELECT customer_id, rank, offer_id, placement, category, score
FROM kaireon.recommend_batch('email_weekly', ARRAY['cust-0001', 'cust-0003', 'cust-0009']);
SELECT flow, count(*) AS decisions, count(*) FILTER (WHERE offers = '[]') AS empty, count(trace_id) AS traced
FROM kaireon.decisions GROUP BY flow ORDER BY flow;
RESET ROLE;
SELECT tenant_id, decisions, empty_decisions, trace_drops FROM kaireon.stats WHERE tenant_id = 'demo-bank';

\echo '-- 8. Responses: what was shown and clicked, once per idempotency key; frequency caps and contact policies'
SET ROLE demo_app;
SET kaireon.tenant = 'demo-bank';
SELECT kaireon_recommend('{"customerId": "cust-0004", "flow": "homepage", "limit": 1}') AS d \gset
SELECT (:'d'::jsonb) -> 'offers' -> 0 ->> 'offerId' AS shown_offer \gset
SELECT r ->> 'recorded' AS recorded, r ->> 'duplicate' AS duplicate, r ->> 'kind' AS kind
FROM kaireon_respond(jsonb_build_object('decisionId', (:'d'::jsonb) ->> 'decisionId', 'outcome', 'impression',
                                        'idempotencyKey', 'demo-imp-1')) AS r;
-- The application retries (a timeout): the same key is recorded once.
SELECT r ->> 'recorded' AS recorded, r ->> 'duplicate' AS duplicate
FROM kaireon_respond(jsonb_build_object('decisionId', (:'d'::jsonb) ->> 'decisionId', 'outcome', 'impression',
                                        'idempotencyKey', 'demo-imp-1')) AS r;
SELECT r ->> 'recorded' AS recorded, r ->> 'kind' AS kind
FROM kaireon_respond(jsonb_build_object('decisionId', (:'d'::jsonb) ->> 'decisionId', 'outcome', 'click',
                                        'value', 12.5, 'idempotencyKey', 'demo-click-1')) AS r;
RESET ROLE;
-- An administrator caps the shown offer at 2 impressions a day; the next
-- impression uses it up, and decisions leave the offer out.
INSERT INTO kaireon.caps (tenant_id, id, name, scope, scope_id, max_volume, period)
VALUES ('demo-bank', 'cap-demo', 'Demo: 2 a day', 'offer', :'shown_offer', 2, 'daily');
SELECT c ->> 'capId' AS cap, c ->> 'currentCount' AS current_count, c ->> 'exhausted' AS exhausted
FROM jsonb_array_elements(kaireon_respond(jsonb_build_object('customerId', 'cust-0005', 'offerId', :'shown_offer',
          'channel', 'web', 'outcome', 'impression', 'idempotencyKey', 'demo-imp-2')) -> 'caps') AS c;
SELECT id, scope, scope_id, max_volume, period, current_count, reset_at, exhausted
FROM kaireon.frequency_caps WHERE tenant_id = 'demo-bank' ORDER BY id;
SELECT (kaireon_recommend('{"customerId": "cust-0004", "flow": "homepage", "limit": 1}') -> 'offers' -> 0 ->> 'offerId')
       <> :'shown_offer' AS capped_offer_left_out;
SELECT type, payload ->> 'capId' AS cap, payload ->> 'currentCount' AS current_count FROM kaireon.events
WHERE tenant_id = 'demo-bank' AND type = 'cap.exhausted';
DELETE FROM kaireon.caps WHERE tenant_id = 'demo-bank' AND id = 'cap-demo';
-- Contact policies protect each customer: pol-frequency allows 3 offers a
-- day. Two more impressions for cust-0004 make 3 today, so the homepage
-- leaves out every offer but the service offers pol-service-override lifts.
SET ROLE demo_app;
SELECT count(*) FILTER (WHERE (r ->> 'recorded')::boolean) AS impressions_recorded
FROM unnest(ARRAY['loan-personal', 'card-cashback']) WITH ORDINALITY AS o (offer, n),
     kaireon_respond(jsonb_build_object('customerId', 'cust-0004', 'offerId', o.offer, 'channel', 'web',
                                        'outcome', 'impression', 'idempotencyKey', 'demo-policy-' || o.n)) AS r;
RESET ROLE;
SELECT x.what, count(*) AS offers, min(x.r ->> 'reason') AS reason
FROM jsonb_array_elements(kaireon_recommend('{"customerId": "cust-0004", "flow": "homepage", "context": {"channel": "web"},
                                              "dryRun": true, "trace": true}') -> 'trace') AS s,
     LATERAL (SELECT 'removed' AS what, r FROM jsonb_array_elements(s -> 'removed') r
              UNION ALL SELECT 'lifted', r FROM jsonb_array_elements(coalesce(s -> 'lifted', '[]')) r) AS x
WHERE s ->> 'stage' = 'policies'
GROUP BY x.what ORDER BY x.what DESC;

\echo '-- 8b. Scoring models: a Bayesian model learns from the responses (XGBoost and SQL models: docs/models.md)'
SET kaireon.tenant = 'demo-bank';
SELECT kaireon.apply_catalog('{"models": [{"id": "learned", "type": "bayesian",
    "definition": {"prior": {"alpha": 1, "beta": 19}, "minImpressions": 50}}],
  "flows": [{"id": "homepage_learned", "name": "Homepage hero, learned", "channelId": "web", "placementId": "web-hero",
             "eligibility": "customer.age >= 18", "modelId": "learned"}]}') -> 'applied' -> 'models' AS models;
-- 300 impressions each of two card offers; travel miles is clicked 45
-- times, low APR 6 times (respond counts them per offer, never queueing).
SET ROLE demo_app;
SELECT count(*) FILTER (WHERE (r ->> 'recorded')::boolean) AS responses_recorded
FROM generate_series(1, 300) AS i,
     unnest(ARRAY['card-travel-miles', 'card-low-apr']) AS o (offer),
     LATERAL (SELECT 'impression' AS outcome UNION ALL
              SELECT 'click' WHERE (o.offer = 'card-travel-miles' AND i <= 45) OR (o.offer = 'card-low-apr' AND i <= 6)) AS x,
     kaireon_respond(jsonb_build_object('customerId', format('cust-%s', lpad((100 + i)::text, 4, '0')), 'offerId', o.offer,
                                        'channel', 'web', 'outcome', x.outcome,
                                        'idempotencyKey', format('demo-learn-%s-%s-%s', o.offer, i, x.outcome))) AS r;
RESET ROLE;
SELECT offer_id, impressions, positives FROM kaireon.offer_stats
WHERE tenant_id = 'demo-bank' AND segment = '' ORDER BY offer_id;
-- Offers without data score the prior's 1 in 20 blended with their
-- category's and the bank's rates; travel miles' own rate (45/300) lifts
-- it to the top, low APR's (6/300) keeps it out of the top 3.
SELECT o ->> 'rank' AS rank, o ->> 'offerId' AS offer, round((o ->> 'propensity')::numeric, 4) AS propensity
FROM jsonb_array_elements(kaireon_recommend('{"customerId": "cust-0016", "flow": "homepage_learned", "dryRun": true}') -> 'offers') AS o;

\echo '-- 8c. Experiments: a bandit over the hero offers learns from the same responses (A/B tests: docs/experiments.md)'
SELECT kaireon.apply_catalog('{"flows": [{"id": "homepage_bandit", "name": "Homepage hero, bandit", "channelId": "web",
             "placementId": "web-hero", "eligibility": "customer.age >= 18", "experimentId": "hero-bandit"}],
  "experiments": [{"id": "hero-bandit", "flowId": "homepage_bandit", "type": "bandit", "status": "active",
                   "bandit": {"algorithm": "thompson", "prior": {"alpha": 1, "beta": 49}}}]}') -> 'applied' -> 'experiments'
       AS experiments;
-- Thompson sampling draws each offer's rate from its posterior: travel
-- miles (45/300) leads most decisions, offers without data still get a
-- share (exploration). The seed makes this demo repeatable.
SET kaireon.bandit_seed = 2026;
SELECT d -> 'offers' -> 0 ->> 'offerId' AS first_offer, count(*) AS decisions
FROM generate_series(1, 200) AS i,
     LATERAL kaireon_recommend(jsonb_build_object('customerId', 'cust-0016', 'flow', 'homepage_bandit', 'dryRun', true,
                                                  'context', jsonb_build_object('i', i))) AS d
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;
RESET kaireon.bandit_seed;

\echo '-- 8d. Automation: an ingested event enrols a customer in a journey; a click and the next tick() move it on (docs/automation.md)'
SELECT kaireon.apply_catalog('{"journeys": [{"id": "card-onboarding", "name": "New card holders", "entryCondition": "customer.age >= 18",
    "maxDurationDays": 30,
    "nodes": [{"id": "hero", "type": "recommend", "flowId": "homepage"},
              {"id": "wait-click", "type": "wait", "outcome": "click", "timeoutHours": 72},
              {"id": "follow-up", "type": "recommend", "flowId": "homepage"},
              {"id": "done", "type": "exit"}],
    "edges": [{"from": "hero", "to": "wait-click"}, {"from": "wait-click", "to": "follow-up", "when": "outcome"},
              {"from": "wait-click", "to": "done", "when": "timeout"}, {"from": "follow-up", "to": "done"}]}],
  "triggers": [{"id": "t-card-activated", "eventType": "card_activated", "action": {"type": "enroll_journey", "journeyId": "card-onboarding"}}]}')
  -> 'applied' AS applied;
SELECT t ->> 'triggerId' AS trigger, t -> 'result' ->> 'node' AS now_at, t -> 'result' -> 'transitions' AS transitions
FROM jsonb_array_elements(kaireon.ingest_event('cust-0020', 'card_activated', '{"cardType": "travel"}') -> 'triggers') AS t;
-- The customer clicks the journey's first offer: the wait ends at once, and
-- the follow-up decision is the next tick's (pg_cron runs it every minute).
SELECT kaireon_respond(jsonb_build_object('decisionId', i.last_decision_id, 'offerId', d.offers -> 0 ->> 'offerId',
                                          'outcome', 'click', 'idempotencyKey', 'demo-journey-click')) ->> 'recorded' AS clicked
FROM kaireon.journey_instances i JOIN kaireon.decisions d ON d.tenant_id = i.tenant_id AND d.id = i.last_decision_id
WHERE i.customer_id = 'cust-0020' AND i.status = 'active';
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT step, from_node, to_node, reason, decision_id IS NOT NULL AS decided FROM kaireon.journey_transitions
WHERE customer_id = 'cust-0020' ORDER BY step;
SELECT journey_id, status, at, customers FROM kaireon.journey_summary;

\echo '-- 9. The decision quota: every non-empty decision counts; the usage dashboard; KR429 past the limit'
SET kaireon.tenant = 'demo-bank';
SELECT jsonb_pretty(kaireon.quota_status());
SELECT * FROM kaireon.usage_dashboard() WHERE section <> 'daily' OR value NOT LIKE '0 %';
-- For the demo, an override puts the (enterprise, unlimited) tenant two
-- decisions from a limit: 90 %, then 100 %, then KR429 with the 429 body.
SELECT (kaireon.quota_status() -> 'usage' ->> 'current')::int + 2 AS demo_limit \gset
SELECT kaireon.set_override('decisions_per_month', jsonb_build_object('limit', :demo_limit)) -> 'value' AS override;
SELECT q ->> 'status' AS status, q -> 'usage' ->> 'current' AS current, q ->> 'banner' AS banner
FROM (SELECT kaireon_recommend('{"customerId": "cust-0007", "flow": "homepage"}') -> 'quota' AS q) AS d;
SELECT q ->> 'status' AS status, q -> 'usage' ->> 'current' AS current, q ->> 'banner' AS banner
FROM (SELECT kaireon_recommend('{"customerId": "cust-0007", "flow": "homepage"}') -> 'quota' AS q) AS d;
\set ON_ERROR_STOP 0
SELECT kaireon_recommend('{"customerId": "cust-0007", "flow": "homepage"}');
\set ON_ERROR_STOP 1
SELECT type, payload -> 'usage' ->> 'current' AS current, payload -> 'email' ->> 'to' AS email_to
FROM kaireon.events WHERE type LIKE 'quota.%' ORDER BY id;
SELECT kaireon.clear_override('decisions_per_month') AS override_cleared;
SELECT length(kaireon.usage_report_html()) AS html_report_bytes;  -- one self-contained page with an SVG chart
SET ROLE demo_app;

\echo '-- 10. Another tenant stays invisible: no rows, and the API refuses with KR403'
SET kaireon.tenant = 'demo-telco';
SELECT count(*) AS rows_visible_of_demo_telco FROM kaireon.tenants;
\set ON_ERROR_STOP 0
SELECT kaireon.current_tenant();
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '-- 11. Operations: tenants, licences, events, per-tenant counters'
SELECT t.tenant_id, t.name, coalesce(l.tier, 'community') AS tier, l.expires_at::date AS licence_expires
FROM kaireon.tenants t LEFT JOIN kaireon.licenses l USING (tenant_id) ORDER BY 1;
SELECT tenant_id, type, payload ->> 'tier' AS tier, created_at::date FROM kaireon.events ORDER BY id;
SELECT * FROM kaireon.stats ORDER BY tenant_id NULLS FIRST;

\echo '-- 12. Audit: every change and evaluation is recorded, sealed into a hash chain, verifiable'
SELECT kaireon.seal_audit() AS sealed;
SELECT action, count(*) FROM kaireon.audit_log WHERE tenant_id = 'demo-bank' GROUP BY action ORDER BY action;
SELECT kaireon.verify_audit('demo-bank') AS verification;

-- A/B experiments (SPEC 6.5, docs/experiments.md): the tier gate,
-- deterministic assignment (recomputed here from its definition: SHA-256 of
-- tenant, experiment and customer), the holdout, a variant's own flow, the
-- variant in the response, the decision record and the interactions, and
-- kaireon.experiment_report. The statistics are checked against
-- python3-scipy in test/experiments/experiments_oracle.py.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
CREATE ROLE regress_exp_reader IN ROLE kaireon_reader;
SELECT kaireon.create_tenant('exp-a', 'Experiments A', 'ops@exp.test') ->> 'tenantId' AS tenant;
SELECT kaireon.create_tenant('exp-b', 'Experiments B', 'ops@exp.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_exp_reader', 'exp-a') IS NOT NULL AS granted;
SET kaireon.tenant = 'exp-a';
-- home: gold first (priority); home-b, variant b's flow: silver first (a
-- scorecard).
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog(jsonb_build_object(
  'channels', '[{"id": "web", "name": "Web", "type": "web"}]'::jsonb,
  'offers', '[{"id": "gold", "name": "Gold", "priority": 90}, {"id": "silver", "name": "Silver", "priority": 80}]'::jsonb,
  'creatives', '[{"id": "gold-web", "offerId": "gold", "channelId": "web"},
                 {"id": "silver-web", "offerId": "silver", "channelId": "web"}]'::jsonb,
  'customers', (SELECT jsonb_agg(jsonb_build_object('id', 'c' || i)) FROM generate_series(1, 60) i),
  'outcomeTypes', '[{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}]'::jsonb,
  'flows', '[{"id": "home", "name": "Home", "channelId": "web", "experimentId": "exp", "ranking": {"method": "top_n", "n": 1}},
             {"id": "home-b", "name": "Home B", "channelId": "web", "modelId": "silver_first",
              "ranking": {"method": "top_n", "n": 1}}]'::jsonb,
  'models', '[{"id": "silver_first", "type": "scorecard", "definition": {"rules": [{"when": "offer.id = ''silver''", "points": 1}]}}]'::jsonb,
  'experiments', '[{"id": "exp", "name": "Silver first", "flowId": "home", "type": "ab", "holdoutPercent": 20,
                    "status": "active",
                    "variants": [{"id": "a", "weight": 50, "control": true}, {"id": "b", "weight": 50, "flowId": "home-b"}]}]'::jsonb
)) -> 'applied');

-- expected(customer) is the assignment as docs/experiments.md defines it:
-- u = the top 53 bits of SHA-256(tenant NUL experiment NUL customer) / 2^53;
-- u < 0.20 holdout; else (u - 0.2) / 0.8 x 100 below 50 is a, else b.
CREATE FUNCTION pg_temp.expected(customer text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN u < 0.2 THEN 'holdout' WHEN (u - 0.2) / 0.8 * 100 < 50 THEN 'a' ELSE 'b' END
    FROM (SELECT (('x' || substr(encode(sha256(convert_to('exp-a', 'UTF8') || '\x00'::bytea || convert_to('exp', 'UTF8')
                                               || '\x00'::bytea || convert_to(customer, 'UTF8')), 'hex'), 1, 16))::bit(64)
                  >> 11)::bigint::numeric / 9007199254740992 AS u) h
$$;
CREATE FUNCTION pg_temp.decide(customer text, dry boolean DEFAULT false) RETURNS jsonb LANGUAGE sql AS $$
    SELECT kaireon_recommend(jsonb_build_object('customerId', customer, 'flow', 'home', 'dryRun', dry))
$$;

-- 1. The tier gate: A/B tests are professional+ (KR403 naming the tier).
SELECT pg_temp.decide('c1');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('experiments.ab', '{"enabled": true}') ->> 'inForce' AS ab_in_force;

-- 2. Sixty customers decide: each is placed as the definition says, a
-- holdout customer is shown nothing, variant a is the flow home as it is
-- (gold), variant b decides with home-b (silver).
CREATE TEMP TABLE decided AS
SELECT 'c' || i AS customer, pg_temp.decide('c' || i) AS d FROM generate_series(1, 60) i;
SELECT d -> 'experiment' ->> 'variant' AS variant, count(*) AS customers,
       count(*) FILTER (WHERE d -> 'experiment' ->> 'variant' = pg_temp.expected(customer)) AS as_defined,
       string_agg(DISTINCT coalesce(d -> 'offers' -> 0 ->> 'offerId', '(none)'), ', ') AS shown,
       bool_and(d -> 'experiment' ->> 'id' = 'exp') AS experiment_named,
       bool_and(d ->> 'flow' = 'home') AS flow_as_requested
FROM decided GROUP BY 1 ORDER BY 1;
-- The decisions record the variant; the holdout's decisions are empty and
-- count no quota.
SELECT experiment ->> 'variant' AS variant, count(*) AS decisions, bool_and(offers = '[]') AS empty
FROM kaireon.decisions WHERE tenant_id = 'exp-a' GROUP BY 1 ORDER BY 1;
SELECT kaireon.quota_status() -> 'usage' ->> 'current' = (SELECT count(*) FROM decided WHERE d -> 'offers' <> '[]')::text
       AS quota_counts_shown_decisions;
-- Stable: again, as a dry run (recorded nowhere), after a re-apply of the
-- same catalog, the same variants.
SELECT kaireon.apply_catalog(kaireon.export_catalog()) -> 'applied' -> 'experiments' AS reapplied;
SELECT count(*) FILTER (WHERE pg_temp.decide(customer, true) -> 'experiment' ->> 'variant' = d -> 'experiment' ->> 'variant')
       AS same_variant_again
FROM decided;

-- 3. Responses to a decision carry its experiment and variant; one
-- without a decision id carries none.
CREATE TEMP TABLE shown AS
SELECT customer, d ->> 'decisionId' AS decision_id, d -> 'experiment' ->> 'variant' AS variant
FROM decided WHERE d -> 'offers' <> '[]';
SELECT count(*) FILTER (WHERE kaireon_respond(jsonb_build_object('decisionId', decision_id, 'outcome', 'impression',
                                                                 'idempotencyKey', 'imp-' || customer)) ->> 'recorded' = 'true')
       AS impressions
FROM shown;
-- Every customer of b clicks; every second customer of a (by id).
SELECT count(*) FILTER (WHERE kaireon_respond(jsonb_build_object('decisionId', decision_id, 'outcome', 'click',
                                                                 'idempotencyKey', 'click-' || customer)) ->> 'recorded' = 'true')
       AS clicks
FROM shown WHERE variant = 'b' OR substr(customer, 2)::int % 2 = 0;
SELECT kaireon_respond('{"customerId": "c1", "offerId": "gold", "channel": "web", "outcome": "impression",
                         "idempotencyKey": "no-decision"}') ->> 'recorded' AS without_decision;
SELECT coalesce(variant, '(none)') AS variant, kind, count(*) FROM kaireon.interactions
WHERE tenant_id = 'exp-a' GROUP BY 1, 2 ORDER BY 1, 2;

-- 4. The report: per variant in the catalog's order, checked here against
-- the counts and the formulas (rate, uplift = rate - control's rate, the
-- z-test); the holdout's decisions.
SELECT jsonb_pretty(kaireon.experiment_report('exp') - 'variants') AS report;
SELECT v ->> 'id' AS id, v ->> 'control' AS control, v ->> 'decisions' AS decisions, v ->> 'impressions' AS impressions,
       v ->> 'positives' AS positives, round((v ->> 'rate')::numeric, 6) AS rate, round((v ->> 'uplift')::numeric, 6) AS uplift,
       round((v -> 'interval' ->> 'low')::numeric, 6) AS low, round((v -> 'interval' ->> 'high')::numeric, 6) AS high,
       round((v ->> 'pValue')::numeric, 6) AS p_value
FROM jsonb_array_elements(kaireon.experiment_report('exp') -> 'variants') v;
WITH c AS (SELECT variant, count(*) FILTER (WHERE kind = 'impression')::float8 AS n,
                  count(*) FILTER (WHERE kind = 'positive')::float8 AS s
           FROM kaireon.interactions WHERE tenant_id = 'exp-a' AND experiment_id = 'exp' GROUP BY variant),
     r AS (SELECT v ->> 'id' AS id, v FROM jsonb_array_elements(kaireon.experiment_report('exp') -> 'variants') v),
     a AS (SELECT n, s, s / n AS p FROM c WHERE variant = 'a'), b AS (SELECT n, s, s / n AS p FROM c WHERE variant = 'b'),
     z AS (SELECT (b.p - a.p) / sqrt(((a.s + b.s) / (a.n + b.n)) * (1 - (a.s + b.s) / (a.n + b.n)) * (1 / a.n + 1 / b.n)) AS z FROM a, b)
SELECT abs((r.v ->> 'rate')::float8 - b.p) < 1e-12 AS rate_ok,
       abs((r.v ->> 'uplift')::float8 - (b.p - a.p)) < 1e-12 AS uplift_ok,
       (r.v -> 'interval' ->> 'low')::float8 < b.p - a.p AND b.p - a.p < (r.v -> 'interval' ->> 'high')::float8 AS interval_around_uplift
FROM r, a, b WHERE r.id = 'b';
-- No data: rates and the rest are null; unknown and null experiments are
-- refused; another tenant's experiment is unknown here.
SET kaireon.tenant = 'exp-b';
SELECT kaireon.apply_catalog('{"channels": [{"id": "web", "name": "Web", "type": "web"}],
  "flows": [{"id": "f", "name": "F", "channelId": "web", "experimentId": "e2"}],
  "experiments": [{"id": "e2", "flowId": "f", "type": "ab", "status": "paused",
                   "variants": [{"id": "x", "weight": 1, "control": true}, {"id": "y", "weight": 1}]}]}') -> 'applied' -> 'experiments' AS applied;
SELECT kaireon.experiment_report('e2');
SELECT kaireon.experiment_report('exp');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.experiment_report(NULL);
\echo :LAST_ERROR_SQLSTATE
-- A reader may read its tenant's report.
SET kaireon.tenant = 'exp-a';
SET ROLE regress_exp_reader;
SELECT jsonb_array_length(kaireon.experiment_report('exp') -> 'variants') AS variants_read;
RESET ROLE;

-- 5. Only active experiments place customers: paused, the decision is the
-- flow's own and records no experiment; a variant named "holdout" is
-- refused.
UPDATE kaireon.experiments SET status = 'paused' WHERE tenant_id = 'exp-a' AND id = 'exp';
SELECT pg_temp.decide('c1', true) ? 'experiment' AS experiment_while_paused;
-- The outbox says when an experiment starts and stops placing customers
-- (the re-apply of section 2 was no start); deleting an active one stops
-- it, deleting a paused one says nothing (exp-b's e2).
UPDATE kaireon.experiments SET status = 'active' WHERE tenant_id = 'exp-a' AND id = 'exp';
DELETE FROM kaireon.experiments WHERE tenant_id = 'exp-a' AND id = 'exp';
DELETE FROM kaireon.experiments WHERE tenant_id = 'exp-b' AND id = 'e2';
SELECT tenant_id, type, payload FROM kaireon.events
WHERE tenant_id IN ('exp-a', 'exp-b') AND type LIKE 'experiment.%' ORDER BY id;
SELECT kaireon.apply_catalog('{"experiments": [{"id": "bad", "flowId": "home", "type": "ab",
  "variants": [{"id": "holdout", "weight": 1, "control": true}, {"id": "y", "weight": 1}]}]}');
\echo :LAST_ERROR_SQLSTATE

-- Clean up.
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('exp-a') ->> 'tenantId' AS dropped, kaireon.drop_tenant('exp-b') ->> 'tenantId' AS dropped;
DROP ROLE regress_exp_reader;

-- Multi-armed bandits (SPEC 6.5, docs/experiments.md): the tier gate, the
-- seed (kaireon.bandit_seed replays a session's choices), the holdout, a
-- bandit over variants and one over offers learning from kaireon_respond,
-- the counts in kaireon.bandit_arms and kaireon.offer_stats against the
-- interactions, the recount when an experiment becomes a bandit, the
-- report. The algorithms' statistics are checked in
-- test/unit/bandits_test.cpp (the issue's simulation).
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
SET kaireon.model_stats_max_age = 0;
SELECT kaireon.create_tenant('ban-a', 'Bandits A', 'ops@ban.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'ban-a';
-- home: a bandit between two strategies (variants), each its own flow:
-- home-gold shows gold first, home-silver silver first. shop: a bandit
-- over the offers themselves (no variants), epsilon-greedy.
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog(jsonb_build_object(
  'channels', '[{"id": "web", "name": "Web", "type": "web"}]'::jsonb,
  'offers', '[{"id": "gold", "name": "Gold", "priority": 90}, {"id": "silver", "name": "Silver", "priority": 80},
              {"id": "bronze", "name": "Bronze", "priority": 70}]'::jsonb,
  'creatives', '[{"id": "gold-web", "offerId": "gold", "channelId": "web"},
                 {"id": "silver-web", "offerId": "silver", "channelId": "web"},
                 {"id": "bronze-web", "offerId": "bronze", "channelId": "web"}]'::jsonb,
  'customers', (SELECT jsonb_agg(jsonb_build_object('id', 'c' || i)) FROM generate_series(1, 50) i),
  'outcomeTypes', '[{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}]'::jsonb,
  'models', '[{"id": "silver_first", "type": "scorecard", "definition": {"rules": [{"when": "offer.id = ''silver''", "points": 1}]}}]'::jsonb,
  'flows', '[{"id": "home", "name": "Home", "channelId": "web", "experimentId": "strategy", "ranking": {"method": "top_n", "n": 1}},
             {"id": "home-silver", "name": "Home, silver first", "channelId": "web", "modelId": "silver_first",
              "ranking": {"method": "top_n", "n": 1}},
             {"id": "shop", "name": "Shop", "channelId": "web", "experimentId": "offers", "modelId": "silver_first",
              "ranking": {"method": "top_n", "n": 1}}]'::jsonb,
  'experiments', '[{"id": "strategy", "flowId": "home", "type": "bandit", "status": "active", "holdoutPercent": 10,
                    "bandit": {"algorithm": "thompson"},
                    "variants": [{"id": "gold-first", "weight": 1}, {"id": "silver-first", "weight": 1, "flowId": "home-silver"}]},
                   {"id": "offers", "flowId": "shop", "type": "bandit", "status": "active",
                    "bandit": {"algorithm": "epsilon_greedy", "epsilon": 0.2, "decay": 1, "prior": {"alpha": 1, "beta": 1}}}]'::jsonb
)) -> 'applied');

CREATE FUNCTION pg_temp.decide(flow text, customer text, dry boolean DEFAULT false) RETURNS jsonb LANGUAGE sql AS $$
    SELECT kaireon_recommend(jsonb_build_object('customerId', customer, 'flow', flow, 'dryRun', dry))
$$;
-- held_out(customer) is the holdout as for A/B tests: u < 0.10, u from
-- SHA-256(tenant NUL experiment NUL customer).
CREATE FUNCTION pg_temp.held_out(customer text) RETURNS boolean LANGUAGE sql AS $$
    SELECT (('x' || substr(encode(sha256(convert_to('ban-a', 'UTF8') || '\x00'::bytea || convert_to('strategy', 'UTF8')
                                         || '\x00'::bytea || convert_to(customer, 'UTF8')), 'hex'), 1, 16))::bit(64)
            >> 11)::bigint::numeric / 9007199254740992 < 0.1
$$;

-- 1. The tier gate: bandits are enterprise (KR403), A/B's feature is not
-- enough.
SELECT kaireon.set_override('experiments.ab', '{"enabled": true}') ->> 'inForce' AS ab_in_force;
SELECT pg_temp.decide('home', 'c1');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('experiments.bandit', '{"enabled": true}') ->> 'inForce' AS bandit_in_force;

-- 2. The seed replays a session's choices: the same seed, the same
-- variants in the same order; without a seed the choice is random (both
-- variants come up). The holdout is the hash's, whatever the seed.
SET kaireon.bandit_seed = 42;
CREATE TEMP TABLE first_run AS
SELECT i, pg_temp.decide('home', 'c' || i, true) -> 'experiment' ->> 'variant' AS variant FROM generate_series(1, 50) i;
SET kaireon.bandit_seed = 42;
SELECT count(*) FILTER (WHERE pg_temp.decide('home', 'c' || i, true) -> 'experiment' ->> 'variant' = variant)
       AS same_with_the_same_seed
FROM first_run;
SET kaireon.bandit_seed = 43;
SELECT count(*) FILTER (WHERE pg_temp.decide('home', 'c' || i, true) -> 'experiment' ->> 'variant' = variant) < 50
       AS another_seed_differs
FROM first_run;
RESET kaireon.bandit_seed;
SELECT count(DISTINCT pg_temp.decide('home', 'c' || (i % 50 + 1), true) -> 'experiment' ->> 'variant') AS variants_unseeded
FROM generate_series(1, 60) i WHERE NOT pg_temp.held_out('c' || (i % 50 + 1));
SELECT variant, count(*) AS customers, bool_and((variant = 'holdout') = pg_temp.held_out('c' || i)) AS holdout_as_hashed
FROM first_run GROUP BY 1 ORDER BY 1;
SET kaireon.bandit_seed = 7;

-- 3. The bandit over variants learns: silver-first is clicked on every
-- second impression, gold-first never. Each round decides for the
-- customers not held out, records an impression and the clicks.
CREATE TEMP TABLE rounds (round int, customer text, variant text, offer text);
CREATE FUNCTION pg_temp.play(first_round int, last_round int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
    c text;
BEGIN
    FOR r IN first_round .. last_round LOOP
        c := 'c' || (r % 50 + 1);
        d := pg_temp.decide('home', c);
        INSERT INTO rounds VALUES (r, c, d -> 'experiment' ->> 'variant', d -> 'offers' -> 0 ->> 'offerId');
        CONTINUE WHEN d -> 'offers' = '[]';
        PERFORM kaireon_respond(jsonb_build_object('decisionId', d ->> 'decisionId', 'outcome', 'impression',
                                                   'idempotencyKey', 'imp-' || r));
        IF d -> 'experiment' ->> 'variant' = 'silver-first' AND r % 2 = 0 THEN
            PERFORM kaireon_respond(jsonb_build_object('decisionId', d ->> 'decisionId', 'outcome', 'click',
                                                       'idempotencyKey', 'click-' || r));
        END IF;
    END LOOP;
END $$;
SELECT pg_temp.play(1, 300);
-- The variants show their own flows; held-out customers get nothing.
SELECT variant, string_agg(DISTINCT coalesce(offer, '(none)'), ', ') AS shown FROM rounds GROUP BY 1 ORDER BY 1;
-- silver-first takes most of the last 100 rounds.
SELECT count(*) FILTER (WHERE variant = 'silver-first') * 1.0 / count(*) FILTER (WHERE variant <> 'holdout') >= 0.8
       AS silver_first_wins
FROM rounds WHERE round > 200;
-- The arms' counts (kaireon.bandit_arms) are the interactions answering
-- the bandit's decisions, which carry the experiment and the variant.
SELECT a.variant, a.impressions = i.impressions AND a.positives = i.positives AS counts_match_interactions,
       a.positives > 0 AS clicked
FROM kaireon.bandit_arms a
JOIN (SELECT variant, count(*) FILTER (WHERE kind = 'impression') AS impressions,
             count(*) FILTER (WHERE kind = 'positive') AS positives
      FROM kaireon.interactions WHERE tenant_id = 'ban-a' AND experiment_id = 'strategy' GROUP BY 1) i USING (variant)
WHERE a.tenant_id = 'ban-a' AND a.experiment_id = 'strategy' ORDER BY 1;
SELECT DISTINCT experiment ->> 'id' AS experiment, jsonb_typeof(experiment -> 'variant') AS variant_type
FROM kaireon.decisions WHERE tenant_id = 'ban-a' AND flow = 'home' ORDER BY 1;

-- 4. The report: the arms in the catalog's order, no control (so no
-- uplift), the holdout's decisions.
SELECT r ->> 'type' AS type, r -> 'holdout' ->> 'decisions' = (SELECT count(*)::text FROM rounds WHERE variant = 'holdout')
       AS holdout_decisions
FROM kaireon.experiment_report('strategy') r;
SELECT v ->> 'id' AS id, v ->> 'control' AS control,
       (v ->> 'decisions')::int = (SELECT count(*) FROM rounds WHERE variant = v ->> 'id') AS decisions_ok,
       (v ->> 'rate')::float8 > 0.4 AS rate_above_40_percent, v -> 'uplift' AS uplift, v -> 'pValue' AS p_value
FROM jsonb_array_elements(kaireon.experiment_report('strategy') -> 'variants') v;

-- 5. The bandit over offers scores in place of the flow's model (which
-- puts silver first): epsilon-greedy exploits the best posterior mean.
-- bronze is clicked on every second impression, the others never.
SELECT kaireon_respond(jsonb_build_object('customerId', 'c1', 'offerId', 'gold', 'channel', 'web', 'outcome', 'impression',
                                          'idempotencyKey', 'warm-gold')) ->> 'recorded' AS warm;
CREATE TEMP TABLE shop_rounds (round int, offer text, score float8, propensity float8, experiment jsonb);
CREATE FUNCTION pg_temp.shop(first_round int, last_round int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
BEGIN
    FOR r IN first_round .. last_round LOOP
        d := pg_temp.decide('shop', 'c' || (r % 50 + 1));
        INSERT INTO shop_rounds VALUES (r, d -> 'offers' -> 0 ->> 'offerId', (d -> 'offers' -> 0 ->> 'score')::float8,
                                        (d -> 'offers' -> 0 ->> 'propensity')::float8, d -> 'experiment');
        PERFORM kaireon_respond(jsonb_build_object('decisionId', d ->> 'decisionId', 'outcome', 'impression',
                                                   'idempotencyKey', 'shop-imp-' || r));
        IF d -> 'offers' -> 0 ->> 'offerId' = 'bronze' AND r % 2 = 0 THEN
            PERFORM kaireon_respond(jsonb_build_object('decisionId', d ->> 'decisionId', 'outcome', 'click',
                                                       'idempotencyKey', 'shop-click-' || r));
        END IF;
    END LOOP;
END $$;
SELECT pg_temp.shop(1, 200);
SELECT DISTINCT experiment FROM shop_rounds;
SELECT bool_and(score = propensity AND score BETWEEN 0 AND 1) AS score_is_the_arms_value FROM shop_rounds;
SELECT count(*) FILTER (WHERE offer = 'bronze') >= 70 AS bronze_mostly_in_the_last_100,
       count(DISTINCT offer) > 1 AS still_exploring
FROM shop_rounds WHERE round > 100;
-- Its counts are the offer statistics, one per offer, as the interactions say.
SELECT s.offer_id, s.impressions = i.impressions AND s.positives = i.positives AS counts_match_interactions
FROM kaireon.offer_stats s
JOIN (SELECT offer_id, count(*) FILTER (WHERE kind = 'impression') AS impressions,
             count(*) FILTER (WHERE kind = 'positive') AS positives
      FROM kaireon.interactions WHERE tenant_id = 'ban-a' GROUP BY 1) i USING (offer_id)
WHERE s.tenant_id = 'ban-a' AND s.segment = '' ORDER BY 1;
SELECT count(*) AS shop_interactions_with_experiment FROM kaireon.interactions
WHERE tenant_id = 'ban-a' AND experiment_id = 'offers' AND variant IS NULL;

-- 6. An experiment that becomes a bandit counts its arms again from the
-- interactions: as an A/B test nothing is counted, back as a bandit the
-- answers given meanwhile are in.
SELECT kaireon.apply_catalog('{"experiments": [{"id": "strategy", "flowId": "home", "type": "ab", "status": "active",
  "holdoutPercent": 10, "variants": [{"id": "gold-first", "weight": 1, "control": true},
                                     {"id": "silver-first", "weight": 1, "flowId": "home-silver"}]}]}') -> 'applied' AS to_ab;
SELECT pg_temp.play(301, 340);
SELECT (SELECT sum(impressions) FROM kaireon.bandit_arms WHERE tenant_id = 'ban-a' AND experiment_id = 'strategy')
       < (SELECT count(*) FROM kaireon.interactions WHERE tenant_id = 'ban-a' AND experiment_id = 'strategy' AND kind = 'impression')
       AS ab_answers_not_counted;
SELECT kaireon.apply_catalog('{"experiments": [{"id": "strategy", "flowId": "home", "type": "bandit", "status": "active",
  "holdoutPercent": 10, "bandit": {"algorithm": "thompson"},
  "variants": [{"id": "gold-first", "weight": 1}, {"id": "silver-first", "weight": 1, "flowId": "home-silver"}]}]}') -> 'applied' AS to_bandit;
SELECT (SELECT sum(impressions) FROM kaireon.bandit_arms WHERE tenant_id = 'ban-a' AND experiment_id = 'strategy')
       = (SELECT count(*) FROM kaireon.interactions WHERE tenant_id = 'ban-a' AND experiment_id = 'strategy' AND kind = 'impression')
       AS recounted;
-- A paused bandit places nobody: the flow decides as itself.
UPDATE kaireon.experiments SET status = 'paused' WHERE tenant_id = 'ban-a' AND id = 'offers';
SELECT pg_temp.decide('shop', 'c1', true) ? 'experiment' AS experiment_while_paused,
       pg_temp.decide('shop', 'c1', true) -> 'offers' -> 0 ->> 'offerId' AS the_flows_model_decides;

-- 7. Wrong settings are refused.
SET kaireon.bandit_seed = -1;
SELECT kaireon.apply_catalog('{"experiments": [{"id": "b2", "flowId": "home", "type": "bandit"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"experiments": [{"id": "b2", "flowId": "home", "type": "bandit",
  "bandit": {"algorithm": "epsilon_greedy", "epsilon": 1.5}}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"experiments": [{"id": "b2", "flowId": "home", "type": "bandit",
  "bandit": {"algorithm": "ucb"}}]}');
\echo :LAST_ERROR_SQLSTATE

-- Clean up.
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('ban-a') -> 'deleted' -> 'kaireon.bandit_arm_slots' IS NOT NULL AS dropped;

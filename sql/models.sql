-- Scoring models (SPEC 6.2 step 5, docs/models.md): tier gates,
-- gradient-boosted trees from XGBoost's JSON (features from paths, missing
-- values, categorical splits, the saved file's text with NaN), Bayesian
-- posteriors from the statistics kaireon_respond counts (blending with the
-- category and tenant rates, segments, rebuilt when a model appears), and
-- custom SQL functions (the calling role, errors, timeout, privileges).
-- The XGBoost evaluator is compared with XGBoost itself in
-- test/models/xgboost_oracle.py and test/cluster/xgboost_sql.sh.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
SET kaireon.model_stats_max_age = 0;  -- every decision reads the statistics
CREATE ROLE regress_models_app IN ROLE kaireon_app;
CREATE ROLE regress_models_admin IN ROLE kaireon_admin;
SELECT kaireon.create_tenant('mod-a', 'Models A', 'ops@models.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_models_app', 'mod-a') IS NOT NULL AS granted;
SELECT kaireon.grant_tenant('regress_models_admin', 'mod-a') IS NOT NULL AS granted;
SET kaireon.tenant = 'mod-a';
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{
  "categories": [{"id": "cards", "name": "Cards"}, {"id": "loans", "name": "Loans"}],
  "channels": [{"id": "web", "name": "Web", "type": "web"}],
  "offers": [{"id": "gold", "name": "Gold", "categoryId": "cards", "value": 150, "priority": 90},
             {"id": "silver", "name": "Silver", "categoryId": "cards", "value": 50, "priority": 80},
             {"id": "loan", "name": "Loan", "categoryId": "loans", "value": 100, "priority": 70},
             {"id": "note", "name": "Note", "priority": 60}],
  "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web"},
                {"id": "silver-web", "offerId": "silver", "channelId": "web"},
                {"id": "loan-web", "offerId": "loan", "channelId": "web"},
                {"id": "note-web", "offerId": "note", "channelId": "web"}],
  "customers": [{"id": "ana", "segments": ["vip"], "attributes": {"age": 40, "vip": true}},
                {"id": "ben", "segments": ["vip", "young"], "attributes": {"age": 22}},
                {"id": "cy", "attributes": {"age": "unknown"}}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"},
                   {"id": "dismiss", "kind": "negative"}],
  "flows": [{"id": "home", "name": "Home", "channelId": "web"}]
}') -> 'applied');

-- offers(flow, customer, context) lists a dry run's offers with their
-- propensities (rounded: float32 models), in rank order.
CREATE FUNCTION pg_temp.offers(flow text, customer text, context jsonb DEFAULT '{}')
RETURNS TABLE (rank int, offer_id text, propensity numeric, score numeric) LANGUAGE sql AS $$
    SELECT (o ->> 'rank')::int, o ->> 'offerId', round((o ->> 'propensity')::numeric, 6), round((o ->> 'score')::numeric, 6)
    FROM jsonb_array_elements(kaireon_recommend(jsonb_build_object('customerId', customer, 'flow', flow,
                                                                   'context', context, 'dryRun', true)) -> 'offers') o
$$;
CREATE FUNCTION pg_temp.respond(customer text, offer text, outcome text, key text) RETURNS text LANGUAGE sql AS $$
    SELECT kaireon_respond(jsonb_build_object('customerId', customer, 'offerId', offer, 'channel', 'web',
                                              'outcome', outcome, 'idempotencyKey', key)) ->> 'recorded'
$$;
CREATE FUNCTION pg_temp.sigmoid(margin float8) RETURNS numeric LANGUAGE sql AS $$
    SELECT round((1 / (1 + exp(-margin)))::numeric, 6)
$$;

-- 1. Tier gates: gradient_boosted and bayesian are professional+, custom
-- enterprise (KR403 naming the tier), checked when a flow scores with one.
SELECT kaireon.apply_catalog('{"models": [{"id": "tiny", "type": "gradient_boosted", "definition": {
  "format": "xgboost-json", "features": ["customer.age"],
  "model": {"learner": {"learner_model_param": {"base_score": "5E-1", "num_feature": "1"},
            "objective": {"name": "binary:logistic"},
            "gradient_booster": {"name": "gbtree", "model": {"trees": [
              {"left_children": [-1], "right_children": [-1], "split_indices": [0], "split_conditions": [0.25],
               "default_left": [0]}]}}}}}}],
  "flows": [{"id": "tiny", "name": "Tiny", "channelId": "web", "modelId": "tiny"}]}') -> 'applied' -> 'models' AS tiny;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "tiny", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('scoring.gradient_boosted', '{"enabled": true}') ->> 'inForce' AS gbt_in_force;
-- One leaf of 0.25 on a base margin of 0: sigmoid(0.25) for every offer.
SELECT DISTINCT propensity, propensity = pg_temp.sigmoid(0.25) AS as_expected FROM pg_temp.offers('tiny', 'ana');

-- 2. Gradient-boosted trees: three trees over customer.age, offer.value
-- and context.code: age < 30 -0.5 else 0.5 (missing: left); value < 100
-- -0.25 else 0.75 (missing: right); code in {1, 3} +1 else 0 (a
-- categorical split: in the set goes right; missing: left).
SELECT jsonb_object_agg(key, value) AS applied FROM jsonb_each(kaireon.apply_catalog('{"models": [{"id": "gbt", "type": "gradient_boosted", "definition": {
  "format": "xgboost-json", "features": ["customer.age", "offer.value", "context.code"],
  "model": {"learner": {"learner_model_param": {"base_score": "5E-1", "num_feature": "3", "num_class": "0", "num_target": "1"},
            "objective": {"name": "binary:logistic"},
            "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0, 0, 0], "trees": [
              {"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [0, 0, 0],
               "split_conditions": [30, -0.5, 0.5], "default_left": [1, 0, 0], "split_type": [0, 0, 0]},
              {"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [1, 0, 0],
               "split_conditions": [100, -0.25, 0.75], "default_left": [0, 0, 0], "split_type": [0, 0, 0]},
              {"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [2, 0, 0],
               "split_conditions": [null, 0, 1], "default_left": [1, 0, 0], "split_type": [1, 0, 0],
               "categories": [1, 3], "categories_nodes": [0], "categories_segments": [0], "categories_sizes": [2]}]}}}}}}],
  "flows": [{"id": "gbt", "name": "GBT", "channelId": "web", "modelId": "gbt"}]}') -> 'applied');
-- ana (40): 0.5; gold 150 and loan 100 (not < 100) 0.75, silver 50 and
-- note (value 0, the default) -0.25; code 3: +1.
SELECT p.*, p.propensity = pg_temp.sigmoid(m.margin) AS as_expected, p.score = p.propensity AS score_is_propensity
FROM pg_temp.offers('gbt', 'ana', '{"code": 3}') p
JOIN (VALUES ('gold', 0.5 + 0.75 + 1), ('loan', 0.5 + 0.75 + 1), ('silver', 0.5 - 0.25 + 1), ('note', 0.5 - 0.25 + 1))
     m(offer_id, margin) USING (offer_id) ORDER BY p.rank;
-- Categories: 1 and 3 go right; 2, -1, a huge one and a missing code go
-- left; 3.7 truncates to 3 (as XGBoost casts); a string is missing.
SELECT c.code, p.propensity, p.propensity = pg_temp.sigmoid(0.5 + 0.75 + c.leaf) AS as_expected
FROM (VALUES ('1', 1), ('2', 0), ('-1', 0), ('16777216', 0), ('3.7', 1), ('"3"', 0), ('null', 0)) c(code, leaf),
     LATERAL pg_temp.offers('gbt', 'ana', ('{"code": ' || c.code || '}')::jsonb) p
WHERE p.offer_id = 'gold' ORDER BY c.code;
-- ben (22): -0.5; cy's age is text: missing, left (-0.5) too; the
-- request's attributes stand for the customer's.
SELECT 'ben' AS customer, propensity = pg_temp.sigmoid(-0.5 + 0.75) AS as_expected FROM pg_temp.offers('gbt', 'ben') WHERE offer_id = 'gold'
UNION ALL
SELECT 'cy', propensity = pg_temp.sigmoid(-0.5 + 0.75) FROM pg_temp.offers('gbt', 'cy') WHERE offer_id = 'gold'
UNION ALL
SELECT 'cy aged 31', (kaireon_recommend('{"customerId": "cy", "flow": "gbt", "dryRun": true, "attributes": {"age": 31}}')
                        -> 'offers' -> 0 ->> 'propensity')::float8 - 1 / (1 + exp(-(0.5 + 0.75))) < 1e-6;
-- The saved file's text as a string: NaN (what XGBoost writes for a
-- categorical split's condition) reads as missing; same predictions.
SELECT kaireon.apply_catalog(jsonb_build_object('models', jsonb_build_array(jsonb_build_object(
  'id', 'gbt-text', 'type', 'gradient_boosted', 'definition', jsonb_build_object(
  'format', 'xgboost-json', 'features', jsonb_build_array('customer.age', 'offer.value', 'context.code'),
  'model', replace((SELECT definition -> 'model' FROM kaireon.models WHERE id = 'gbt')::text, 'null', 'NaN')))),
  'flows', '[{"id": "gbt-text", "name": "GBT text", "channelId": "web", "modelId": "gbt-text"}]'::jsonb)) -> 'applied' -> 'models' AS text_model;
SELECT position('NaN' IN definition ->> 'model') > 0 AS stored_with_nan FROM kaireon.models WHERE id = 'gbt-text';
SELECT (SELECT array_agg(propensity ORDER BY offer_id) FROM pg_temp.offers('gbt-text', 'ana', '{"code": 1}')) =
       (SELECT array_agg(propensity ORDER BY offer_id) FROM pg_temp.offers('gbt', 'ana', '{"code": 1}')) AS same_predictions;
-- Regression objectives: the prediction is the propensity as it is (a
-- squared-error model predicting 2.5; count:poisson exp(margin)).
SELECT kaireon.apply_catalog(jsonb_build_object('models', jsonb_build_array(
  jsonb_build_object('id', 'reg', 'type', 'gradient_boosted', 'definition', jsonb_build_object('format', 'xgboost-json',
    'features', '["customer.age"]'::jsonb, 'model', jsonb_set(jsonb_set((SELECT definition -> 'model' FROM kaireon.models WHERE id = 'tiny'),
      '{learner,objective,name}', '"reg:squarederror"'), '{learner,learner_model_param,base_score}', '"2.25"'))),
  jsonb_build_object('id', 'pois', 'type', 'gradient_boosted', 'definition', jsonb_build_object('format', 'xgboost-json',
    'features', '["customer.age"]'::jsonb, 'model', jsonb_set((SELECT definition -> 'model' FROM kaireon.models WHERE id = 'tiny'),
      '{learner,objective,name}', '"count:poisson"')))),
  'flows', '[{"id": "reg", "name": "Reg", "channelId": "web", "modelId": "reg"},
             {"id": "pois", "name": "Poisson", "channelId": "web", "modelId": "pois"}]'::jsonb)) -> 'applied' -> 'models' AS regression_models;
SELECT DISTINCT propensity AS squared_error FROM pg_temp.offers('reg', 'ana');
SELECT DISTINCT propensity AS poisson, propensity = round(exp(ln(0.5) + 0.25)::numeric, 6) AS as_expected FROM pg_temp.offers('pois', 'ana');

-- Refusals: KR400 naming the path inside the model, and nothing changes.
SELECT count(*) AS models_before FROM kaireon.models;
CREATE FUNCTION pg_temp.try_model(model jsonb, features jsonb DEFAULT '["customer.age", "offer.value", "context.code"]')
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kaireon.apply_catalog(jsonb_build_object('models', jsonb_build_array(jsonb_build_object(
        'id', 'bad', 'type', 'gradient_boosted',
        'definition', jsonb_build_object('format', 'xgboost-json', 'features', features, 'model', model)))));
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE TEMP TABLE good AS SELECT definition -> 'model' AS m FROM kaireon.models WHERE id = 'gbt';
SELECT pg_temp.try_model(jsonb_set(m, '{learner,objective,name}', '"multi:softprob"')) AS unknown_objective FROM good;
SELECT pg_temp.try_model(jsonb_set(m, '{learner,learner_model_param,num_class}', '"3"')) AS multi_class FROM good;
SELECT pg_temp.try_model(jsonb_set(m, '{learner,gradient_booster,name}', '"dart"')) AS dart FROM good;
SELECT pg_temp.try_model(jsonb_set(jsonb_set(m, '{learner,gradient_booster,model,trees,1,left_children}', '[1, 0, -1]'),
                                   '{learner,gradient_booster,model,trees,1,right_children}', '[2, 2, -1]')) AS not_a_tree FROM good;
SELECT pg_temp.try_model(jsonb_set(m, '{learner,gradient_booster,model,trees,1,left_children}', '[1, 0, -1]')) AS one_child FROM good;
SELECT pg_temp.try_model(jsonb_set(m, '{learner,gradient_booster,model,trees,0,split_indices}', '[7, 0, 0]')) AS unknown_feature FROM good;
SELECT pg_temp.try_model(jsonb_set(m, '{learner,gradient_booster,model,trees,2,right_children}', '[2, -1]')) AS short_array FROM good;
SELECT pg_temp.try_model(m #- '{learner,learner_model_param}') AS missing_params FROM good;
SELECT pg_temp.try_model(m, '["customer.age", "offer.value"]') AS too_few_features FROM good;
SELECT pg_temp.try_model(m, '["customer.age", "offer.value", "weather.code"]') AS bad_path FROM good;
SELECT pg_temp.try_model('"{\"learner\": NaN"') AS malformed_text;
SELECT pg_temp.try_model('42') AS not_a_model;
SELECT count(*) AS models_after FROM kaireon.models;

-- 3. Bayesian: Beta(1, 9) prior (mean 0.1), blending pseudo-count 10.
SELECT kaireon.set_override('scoring.bayesian', '{"enabled": true}') ->> 'inForce' AS bayesian_in_force;
SELECT kaireon.apply_catalog('{"models": [{"id": "bay", "type": "bayesian",
    "definition": {"prior": {"alpha": 1, "beta": 9}, "minImpressions": 10}}],
  "flows": [{"id": "bay", "name": "Bayes", "channelId": "web", "modelId": "bay"}]}') -> 'applied' -> 'models' AS bayesian;
-- No data: every offer at the prior mean.
SELECT * FROM pg_temp.offers('bay', 'ana');
-- gold: 20 impressions, 5 clicks (one retried: counted once), a dismiss
-- (negative: not counted); silver 10 impressions, no click; a response
-- rolled back counts nothing.
SELECT count(*) FILTER (WHERE pg_temp.respond(CASE WHEN i % 2 = 0 THEN 'ana' ELSE 'ben' END, 'gold', 'impression', 'gi' || i) = 'true') AS gold_impressions
FROM generate_series(1, 20) i;
SELECT count(*) FILTER (WHERE pg_temp.respond('ana', 'gold', 'click', 'gc' || i) = 'true') AS gold_clicks FROM generate_series(1, 5) i;
SELECT pg_temp.respond('ana', 'gold', 'click', 'gc1') AS retried, pg_temp.respond('ana', 'gold', 'dismiss', 'gd1') AS dismissed;
SELECT count(*) FILTER (WHERE pg_temp.respond('cy', 'silver', 'impression', 'si' || i) = 'true') AS silver_impressions FROM generate_series(1, 10) i;
BEGIN;
SELECT pg_temp.respond('ana', 'loan', 'click', 'rolled-back') AS in_rolled_back;
ROLLBACK;
SELECT offer_id, segment, impressions, positives FROM kaireon.offer_stats WHERE tenant_id = 'mod-a' ORDER BY 1, 2;
-- tenant mean (5 + 1) / (30 + 10) = 0.15; cards (5 + 10 x 0.15) / (30 + 10)
-- = 0.1625; gold Beta(5 + 1.625, 15 + 8.375), silver Beta(0 + 1.625, 10 +
-- 8.375), loan (no data) its category's loans = the tenant mean 0.15, note
-- (no category) the tenant mean.
SELECT p.offer_id, p.propensity, p.propensity = round(e.mean::numeric, 6) AS as_expected
FROM pg_temp.offers('bay', 'ana') p
JOIN (VALUES ('gold', 6.625 / 30), ('silver', 1.625 / 20), ('loan', 0.15), ('note', 0.15)) e(offer_id, mean) USING (offer_id)
ORDER BY p.rank;
-- bySegment: the customer's segment with the most impressions of the offer
-- (ana: vip; ben: vip over young, which has none); cy has no segment: the
-- offer level. Statistics by segment were counted again from the recorded
-- interactions when this model was written (segments as the customers have
-- them now).
SELECT kaireon.apply_catalog('{"models": [{"id": "seg", "type": "bayesian",
    "definition": {"prior": {"alpha": 1, "beta": 9}, "minImpressions": 10, "bySegment": true}}],
  "flows": [{"id": "seg", "name": "By segment", "channelId": "web", "modelId": "seg"}]}') -> 'applied' -> 'models' AS by_segment;
SELECT offer_id, segment, impressions, positives FROM kaireon.offer_stats WHERE tenant_id = 'mod-a' AND segment <> '' ORDER BY 1, 2;
-- gold in vip: 20 impressions, 5 positives, blended with gold's 6.625/30:
-- Beta(5 + 10 x 0.2208333, 15 + 10 x 0.7791667).
SELECT c.customer, p.propensity, p.propensity = round(c.mean::numeric, 6) AS as_expected
FROM (VALUES ('ana', (5 + 10 * 6.625 / 30) / 30), ('ben', (5 + 10 * 6.625 / 30) / 30), ('cy', 6.625 / 30)) c(customer, mean),
     LATERAL pg_temp.offers('seg', c.customer) p
WHERE p.offer_id = 'gold' ORDER BY 1;
-- From now on respond counts by segment too.
SELECT pg_temp.respond('ben', 'silver', 'click', 'sc1') AS recorded;
SELECT offer_id, segment, impressions, positives FROM kaireon.offer_stats WHERE tenant_id = 'mod-a' AND offer_id = 'silver' ORDER BY 2;
-- minImpressions 0: no blending, each offer's own Beta(1 + P, 9 + F).
SELECT kaireon.apply_catalog('{"models": [{"id": "plain", "type": "bayesian",
    "definition": {"prior": {"alpha": 1, "beta": 9}, "minImpressions": 0}}],
  "flows": [{"id": "plain", "name": "Plain", "channelId": "web", "modelId": "plain"}]}') -> 'applied' -> 'models' AS plain;
SELECT p.offer_id, p.propensity = round(e.mean::numeric, 6) AS as_expected
FROM pg_temp.offers('plain', 'ana') p
JOIN (VALUES ('gold', 6 / 30.0), ('silver', 2 / 20.0), ('loan', 0.1), ('note', 0.1)) e(offer_id, mean) USING (offer_id)
ORDER BY 1;
-- A definition with a wrong prior is refused.
SELECT kaireon.apply_catalog('{"models": [{"id": "bad", "type": "bayesian", "definition": {"prior": {"alpha": -1, "beta": 1}}}]}');
\echo :LAST_ERROR_SQLSTATE

-- A tenant whose interactions came before its first bayesian model: no
-- statistics until the model is written, then exactly the interactions.
SELECT kaireon.create_tenant('mod-b', 'Models B', 'ops@models.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'mod-b';
SELECT kaireon.apply_catalog('{"channels": [{"id": "web", "name": "Web", "type": "web"}],
  "offers": [{"id": "o1", "name": "O1"}, {"id": "o2", "name": "O2"}],
  "creatives": [{"id": "o1-web", "offerId": "o1", "channelId": "web"}, {"id": "o2-web", "offerId": "o2", "channelId": "web"}],
  "customers": [{"id": "c1", "segments": ["s"]}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}],
  "flows": [{"id": "home", "name": "Home", "channelId": "web"}]}') -> 'applied' -> 'offers' AS offers;
SELECT count(*) FILTER (WHERE pg_temp.respond('c1', 'o' || (i % 2 + 1), CASE WHEN i % 3 = 0 THEN 'click' ELSE 'impression' END, 'b' || i) = 'true') AS recorded
FROM generate_series(1, 12) i;
SELECT count(*) AS stats_without_model FROM kaireon.offer_stats WHERE tenant_id = 'mod-b';
SELECT kaireon.set_override('scoring.bayesian', '{"enabled": true}') ->> 'inForce' AS bayesian_in_force;
SELECT kaireon.apply_catalog('{"models": [{"id": "bay", "type": "bayesian", "definition": {"bySegment": true}}]}') -> 'applied' -> 'models' AS bayesian;
SELECT s.offer_id, s.segment, s.impressions, s.positives,
       (s.impressions, s.positives) = (SELECT count(*) FILTER (WHERE kind = 'impression'), count(*) FILTER (WHERE kind = 'positive')
                                       FROM kaireon.interactions i WHERE i.tenant_id = 'mod-b' AND i.offer_id = s.offer_id) AS as_recorded
FROM kaireon.offer_stats s WHERE s.tenant_id = 'mod-b' ORDER BY 1, 2;
-- A prior edit counts nothing again; removing the model stops counting;
-- writing one again counts from the interactions.
SELECT kaireon.apply_catalog('{"models": [{"id": "bay", "type": "bayesian", "definition": {"bySegment": true, "prior": {"alpha": 2, "beta": 3}}}]}') -> 'applied' -> 'models' AS edited;
DELETE FROM kaireon.models WHERE tenant_id = 'mod-b' AND id = 'bay';
SELECT pg_temp.respond('c1', 'o1', 'impression', 'after-removal') AS recorded;
SELECT sum(impressions) AS o1_impressions_not_counted FROM kaireon.offer_stats WHERE tenant_id = 'mod-b' AND offer_id = 'o1' AND segment = '';
SELECT kaireon.apply_catalog('{"models": [{"id": "bay2", "type": "bayesian", "definition": {}}]}') -> 'applied' -> 'models' AS again;
SELECT sum(impressions) AS o1_impressions_counted_again FROM kaireon.offer_stats WHERE tenant_id = 'mod-b' AND offer_id = 'o1' AND segment = '';
-- Tenants never see each other's statistics (the view reads the table as
-- the querying role, under its row-level security).
SET ROLE regress_models_app;
SET kaireon.tenant = 'mod-a';
SELECT DISTINCT tenant_id FROM kaireon.offer_stats;
RESET ROLE;
SET kaireon.tenant = 'mod-a';

-- 4. Custom models: enterprise; a schema-qualified SQL function
-- (customer jsonb, offer jsonb, context jsonb) returns float8.
CREATE SCHEMA regress_models;
GRANT USAGE ON SCHEMA regress_models TO regress_models_app, regress_models_admin;
-- score: the offer's value / 200, plus context.boost; whoami: 1 when it runs
-- as the calling role; nulls: null for silver.
CREATE FUNCTION regress_models.score(customer jsonb, offer jsonb, context jsonb) RETURNS float8 LANGUAGE sql AS $$
    SELECT coalesce((offer ->> 'value')::float8, 0) / 200 + coalesce((context ->> 'boost')::float8, 0)
$$;
CREATE FUNCTION regress_models.whoami(customer jsonb, offer jsonb, context jsonb) RETURNS float8 LANGUAGE sql AS $$
    SELECT CASE WHEN current_user = 'regress_models_app' AND customer ->> 'id' = 'ana'
                     AND customer -> 'segments' = '["vip"]' THEN 1 ELSE 0 END
$$;
CREATE FUNCTION regress_models.nulls(customer jsonb, offer jsonb, context jsonb) RETURNS float8 LANGUAGE sql AS $$
    SELECT CASE WHEN offer ->> 'id' = 'silver' THEN NULL ELSE 0.5 END
$$;
CREATE FUNCTION regress_models.fails(customer jsonb, offer jsonb, context jsonb) RETURNS float8 LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'no score for %', offer ->> 'id' USING ERRCODE = '22023';
END $$;
CREATE FUNCTION regress_models.conflict(customer jsonb, offer jsonb, context jsonb) RETURNS float8 LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure';
END $$;
CREATE FUNCTION regress_models.slow(customer jsonb, offer jsonb, context jsonb) RETURNS float8 LANGUAGE sql AS $$
    SELECT 0.5 FROM pg_sleep(0.2)
$$;
CREATE FUNCTION regress_models.escalate(customer jsonb, offer jsonb, context jsonb) RETURNS float8 LANGUAGE plpgsql AS $$
BEGIN
    SET ROLE postgres;
    RETURN 1;
END $$;
CREATE FUNCTION regress_models.definer(customer jsonb, offer jsonb, context jsonb) RETURNS float8
LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1::float8 $$;
CREATE FUNCTION regress_models.text_score(customer jsonb, offer jsonb, context jsonb) RETURNS text
LANGUAGE sql AS $$ SELECT '1' $$;
CREATE FUNCTION regress_models.two_args(customer jsonb, offer jsonb) RETURNS float8 LANGUAGE sql AS $$ SELECT 1::float8 $$;
GRANT EXECUTE ON FUNCTION regress_models.score(jsonb, jsonb, jsonb), regress_models.whoami(jsonb, jsonb, jsonb),
    regress_models.nulls(jsonb, jsonb, jsonb) TO regress_models_app, regress_models_admin;
REVOKE EXECUTE ON FUNCTION regress_models.fails(jsonb, jsonb, jsonb), regress_models.slow(jsonb, jsonb, jsonb),
    regress_models.escalate(jsonb, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION regress_models.fails(jsonb, jsonb, jsonb), regress_models.slow(jsonb, jsonb, jsonb),
    regress_models.escalate(jsonb, jsonb, jsonb) TO regress_models_admin;
-- Refused on write: not schema-qualified, no such function (two
-- arguments), not float8, SECURITY DEFINER.
CREATE FUNCTION pg_temp.try_custom(function text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kaireon.apply_catalog(jsonb_build_object('models', jsonb_build_array(jsonb_build_object(
        'id', 'bad', 'type', 'custom', 'definition', jsonb_build_object('function', function)))));
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
SELECT f.function, pg_temp.try_custom(f.function) AS refused
FROM (VALUES ('score'), ('regress_models.two_args'), ('regress_models.text_score'), ('regress_models.definer'),
             ('regress_models.nope'), ('regress_models.score; DROP TABLE x')) f(function) ORDER BY 1;
SELECT kaireon.apply_catalog('{"models": [
    {"id": "cu", "type": "custom", "definition": {"function": "regress_models.score"}},
    {"id": "who", "type": "custom", "definition": {"function": "regress_models.whoami"}},
    {"id": "nul", "type": "custom", "definition": {"function": "regress_models.nulls"}},
    {"id": "fail", "type": "custom", "definition": {"function": "regress_models.fails"}},
    {"id": "slow", "type": "custom", "definition": {"function": "regress_models.slow"}},
    {"id": "esc", "type": "custom", "definition": {"function": "regress_models.escalate"}},
    {"id": "conflict", "type": "custom", "definition": {"function": "regress_models.conflict"}}],
  "flows": [{"id": "cu", "name": "Custom", "channelId": "web", "modelId": "cu"},
            {"id": "who", "name": "Who", "channelId": "web", "modelId": "who"},
            {"id": "nul", "name": "Nulls", "channelId": "web", "modelId": "nul"},
            {"id": "fail", "name": "Fails", "channelId": "web", "modelId": "fail"},
            {"id": "slow", "name": "Slow", "channelId": "web", "modelId": "slow"},
            {"id": "esc", "name": "Escalate", "channelId": "web", "modelId": "esc"},
            {"id": "conflict", "name": "Conflict", "channelId": "web", "modelId": "conflict"}]}') -> 'applied' -> 'models' AS custom_models;
-- Enterprise only.
SELECT kaireon_recommend('{"customerId": "ana", "flow": "cu", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('scoring.custom', '{"enabled": true}') ->> 'inForce' AS custom_in_force;
-- score = value / 200 + boost; propensity = the score clamped to [0, 1].
SELECT * FROM pg_temp.offers('cu', 'ana', '{"boost": 0.5}');
-- It runs as the calling role (here an application role deciding for
-- real: the decision is recorded), never as the extension's owner.
SET ROLE regress_models_app;
SELECT o ->> 'offerId' AS offer_id, o ->> 'score' AS score
FROM jsonb_array_elements(kaireon_recommend('{"customerId": "ana", "flow": "who"}') -> 'offers') o ORDER BY 1;
-- A function the calling role may not execute: KR400, nothing recorded.
SELECT count(*) AS decisions_before FROM kaireon.decisions;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "fail"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS decisions_after FROM kaireon.decisions;
RESET ROLE;
SET ROLE regress_models_admin;
-- A null score: 0, no propensity.
SELECT * FROM pg_temp.offers('nul', 'ana');
-- The function's error comes back as KR400 naming it (with its SQLSTATE).
SELECT kaireon_recommend('{"customerId": "ana", "flow": "fail", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE
-- A serialization failure (or a deadlock, a cancel, a statement timeout)
-- inside it is the transaction's, not the function's: it comes back as it
-- is, so that the client retries.
RESET ROLE;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "conflict", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_models_admin;
-- It runs security-restricted: SET ROLE is refused.
SELECT kaireon_recommend('{"customerId": "ana", "flow": "esc", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- kaireon.custom_model_timeout bounds all calls of one decision (4 offers
-- x 0.2 s > 0.25 s by default).
SELECT kaireon_recommend('{"customerId": "ana", "flow": "slow", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.custom_model_timeout = '2s';
SELECT count(*) AS scored_in_time FROM pg_temp.offers('slow', 'ana');
RESET kaireon.custom_model_timeout;
-- A function dropped after the model was written: KR400 at decision time.
DROP FUNCTION regress_models.nulls(jsonb, jsonb, jsonb);
SELECT kaireon_recommend('{"customerId": "ana", "flow": "nul", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE

-- Clean up.
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('mod-a') ->> 'tenantId' AS dropped, kaireon.drop_tenant('mod-b') ->> 'tenantId' AS dropped;
SELECT count(*) AS stats_left FROM kaireon.offer_stat_slots;
DROP SCHEMA regress_models CASCADE;
DROP ROLE regress_models_app;
DROP ROLE regress_models_admin;

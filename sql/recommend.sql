-- Decisions (SPEC 6.2): kaireon_recommend through every stage of the
-- pipeline, each removal visible in the stored trace (candidates,
-- qualification, consent, scoring, ranking, groups/placements, the limit),
-- request errors, dry runs, decision records and kaireon.stats, traces
-- within the daily allowance, the SQL twins recommend and recommend_batch,
-- determinism, tenant isolation and grants, and forget_customer.
-- Decision and trace ids are random and durations vary: they are never
-- printed, only whether they are there.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
CREATE ROLE regress_rec_app IN ROLE kaireon_app;
CREATE ROLE regress_rec_reader IN ROLE kaireon_reader;
CREATE ROLE regress_rec_admin IN ROLE kaireon_admin;
SELECT kaireon.create_tenant('rec-a', 'Recommend A', 'a@rec.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('rec-b', 'Recommend B', 'b@rec.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_rec_app', 'rec-a');
SELECT kaireon.grant_tenant('regress_rec_reader', 'rec-a');

-- Helpers. decide() makes a decision and keeps its response in `last`;
-- offers() shows a response's offers one a line (the last one by default);
-- stages() shows a trace one line per removed offer (stage, offers in and
-- out, offer, reason; a stage that removed nothing has one line without an
-- offer); trace() makes the decision with "trace": true and shows the trace
-- stored for it (durations are never shown); stats() reads the tenant's
-- counters in kaireon.stats (0 before its first use).
CREATE TEMP TABLE last (response jsonb);
CREATE FUNCTION pg_temp.decide(request jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
BEGIN
    r := kaireon_recommend(request);
    DELETE FROM last;
    INSERT INTO last VALUES (r);
    RETURN r;
END
$$;
CREATE FUNCTION pg_temp.offers(response jsonb DEFAULT NULL)
RETURNS TABLE (rank int, offer_id text, creative_id text, placement text, category text, score float8,
               propensity float8, value float8)
LANGUAGE sql AS $$
    SELECT (o ->> 'rank')::int, o ->> 'offerId', o ->> 'creativeId', o ->> 'placement', o ->> 'category',
           (o ->> 'score')::float8, (o ->> 'propensity')::float8, (o ->> 'value')::float8
    FROM jsonb_array_elements(coalesce(response, (SELECT l.response FROM last l)) -> 'offers') o
$$;
CREATE FUNCTION pg_temp.stages(stages jsonb)
RETURNS TABLE (stage text, offers_in int, offers_out int, offer_id text, reason text)
LANGUAGE sql AS $$
    SELECT s.value ->> 'stage', (s.value ->> 'in')::int, (s.value ->> 'out')::int, x.value ->> 'offerId',
           x.value ->> 'reason'
    FROM jsonb_array_elements(stages) WITH ORDINALITY s(value, n)
    LEFT JOIN LATERAL jsonb_array_elements(s.value -> 'removed') WITH ORDINALITY x(value, m) ON true
    ORDER BY s.n, x.m
$$;
CREATE FUNCTION pg_temp.trace(request jsonb)
RETURNS TABLE (stage text, offers_in int, offers_out int, offer_id text, reason text)
LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
BEGIN
    r := pg_temp.decide(request || '{"trace": true}');
    RETURN QUERY
    SELECT st.* FROM kaireon.decision_traces t CROSS JOIN LATERAL pg_temp.stages(t.stages) st
    WHERE t.tenant_id = current_setting('kaireon.tenant') AND t.id = (r ->> 'traceId')::uuid;
END
$$;
CREATE FUNCTION pg_temp.stats(tenant text)
RETURNS TABLE (decisions bigint, empty_decisions bigint, trace_drops bigint)
LANGUAGE sql AS $$
    SELECT coalesce(sum(s.decisions), 0)::bigint, coalesce(sum(s.empty_decisions), 0)::bigint,
           coalesce(sum(s.trace_drops), 0)::bigint
    FROM kaireon.stats s WHERE s.tenant_id = tenant
$$;
-- arbitration() is SPEC 6.2's formula, to check the scores against:
-- propensity^Wp x relevance^Wr x impact^Wi x emphasis^We x context weight.
CREATE FUNCTION pg_temp.arbitration(p float8, r float8, i float8, e float8, cw float8,
                                    wp float8, wr float8, wi float8, we float8) RETURNS float8
LANGUAGE sql AS $$
    SELECT CASE WHEN wp = 0 THEN 1 ELSE power(p, wp) END * CASE WHEN wr = 0 THEN 1 ELSE power(r, wr) END
         * CASE WHEN wi = 0 THEN 1 ELSE power(i, wi) END * CASE WHEN we = 0 THEN 1 ELSE power(e, we) END * cw
$$;

-- The catalog: 12 offers, of which 6 can never be candidates on the web
-- (paused, draft, retired, not started, ended, e-mail only); scorecards
-- `lin` (linear; binary fractions, so scores are exact) and `logit`
-- (logistic, factor 0.5); a bayesian model; flows for each ranking.
CREATE TEMP TABLE docs (name text PRIMARY KEY, doc jsonb NOT NULL);
INSERT INTO docs VALUES ('catalog', $${
 "categories": [{"id": "cards"}, {"id": "loans"}, {"id": "savings"}, {"id": "insurance"}],
 "channels": [{"id": "web", "type": "web"}, {"id": "email", "type": "email", "batch": true},
              {"id": "sms", "type": "sms"}, {"id": "push", "type": "push"}],
 "placements": [{"id": "hero", "channelId": "web", "slots": 5}, {"id": "side", "channelId": "web", "slots": 2},
                {"id": "email-body", "channelId": "email", "slots": 2}],
 "offers": [
   {"id": "gold", "categoryId": "cards", "priority": 80, "value": 120, "lever": 0.5,
    "eligibility": "customer.age >= 21", "attributes": {"boost": 4}},
   {"id": "silver", "categoryId": "cards", "priority": 60, "value": 60,
    "eligibility": "offer.value * 500 <= customer.income"},
   {"id": "student", "categoryId": "cards", "priority": 70, "value": 20,
    "eligibility": "offer.tier = 'student' and customer.age < 26", "attributes": {"tier": "student"}},
   {"id": "loan", "categoryId": "loans", "priority": 50, "value": 200, "eligibility": "customer.income >= 30000"},
   {"id": "mortgage", "categoryId": "loans", "priority": 40, "value": 500, "lever": 0.8,
    "eligibility": "has_segment('homeowner') or context.page = 'mortgage'"},
   {"id": "saver", "categoryId": "savings", "priority": 50, "value": 10, "attributes": {"boost": 0}},
   {"id": "isa", "categoryId": "savings", "status": "paused"},
   {"id": "travel", "categoryId": "insurance", "status": "draft"},
   {"id": "old-promo", "status": "retired"},
   {"id": "future", "startAt": "2999-01-01T00:00:00Z"},
   {"id": "expired", "startAt": "2000-01-01T00:00:00Z", "endAt": "2001-01-01T00:00:00Z"},
   {"id": "newsletter", "categoryId": "savings", "priority": 30}],
 "creatives": [
   {"id": "gold-hero", "offerId": "gold", "channelId": "web", "placementId": "hero"},
   {"id": "gold-email", "offerId": "gold", "channelId": "email", "placementId": "email-body"},
   {"id": "gold-sms", "offerId": "gold", "channelId": "sms"},
   {"id": "gold-push", "offerId": "gold", "channelId": "push"},
   {"id": "silver-hero", "offerId": "silver", "channelId": "web", "placementId": "hero"},
   {"id": "silver-side", "offerId": "silver", "channelId": "web", "placementId": "side"},
   {"id": "student-hero", "offerId": "student", "channelId": "web", "placementId": "hero"},
   {"id": "loan-side", "offerId": "loan", "channelId": "web", "placementId": "side"},
   {"id": "mortgage-side", "offerId": "mortgage", "channelId": "web", "placementId": "side"},
   {"id": "saver-hero", "offerId": "saver", "channelId": "web", "placementId": "hero"},
   {"id": "saver-email", "offerId": "saver", "channelId": "email", "placementId": "email-body"},
   {"id": "isa-hero", "offerId": "isa", "channelId": "web", "placementId": "hero"},
   {"id": "travel-hero", "offerId": "travel", "channelId": "web", "placementId": "hero"},
   {"id": "future-hero", "offerId": "future", "channelId": "web", "placementId": "hero"},
   {"id": "expired-hero", "offerId": "expired", "channelId": "web", "placementId": "hero"},
   {"id": "newsletter-email", "offerId": "newsletter", "channelId": "email", "placementId": "email-body"}],
 "customers": [
   {"id": "ana", "attributes": {"age": 35, "income": 50000}, "segments": ["homeowner"], "timezone": "Europe/Paris"},
   {"id": "ben", "attributes": {"age": 22, "income": 15000}, "segments": ["student"]},
   {"id": "cal", "attributes": {"age": 16, "income": 0}},
   {"id": "dee", "attributes": {"age": 45, "income": 40000}},
   {"id": "eve", "attributes": {"age": 30, "income": 35000}}],
 "consents": [
   {"customerId": "ana", "channelId": "web", "granted": true},
   {"customerId": "ana", "channelId": "email", "granted": true},
   {"customerId": "ben", "channelId": "email", "granted": false},
   {"customerId": "eve", "channelId": "email", "granted": true},
   {"customerId": "eve", "channelId": "sms", "granted": true}],
 "models": [
   {"id": "lin", "type": "scorecard",
    "definition": {"base": 0.125, "scale": "linear",
                   "rules": [{"when": "customer.income >= 30000", "points": 0.25},
                             {"when": "offer.categoryId = 'cards'", "points": 0.5},
                             {"when": "offer.value >= 100", "points": 0.125},
                             {"when": "has_segment('homeowner')", "points": 0.25},
                             {"when": "customer.age < 18", "points": -1}]}},
   {"id": "logit", "type": "scorecard",
    "definition": {"base": -1, "scale": "logistic", "factor": 0.5,
                   "rules": [{"when": "offer.categoryId = 'cards'", "points": 1},
                             {"when": "customer.income >= 30000", "points": 2}]}},
   {"id": "bayes", "type": "bayesian", "definition": {"prior": {"alpha": 1, "beta": 1}}}],
 "flows": [
   {"id": "home", "channelId": "web", "eligibility": "customer.age >= 18"},
   {"id": "hero", "channelId": "web", "placementId": "hero", "modelId": "lin", "ranking": {"method": "top_n", "n": 2}},
   {"id": "hero-logit", "channelId": "web", "placementId": "hero", "modelId": "logit"},
   {"id": "arbitrate", "channelId": "web", "modelId": "lin", "ranking": {"method": "arbitration"}},
   {"id": "arbitrate-custom", "channelId": "web", "modelId": "lin",
    "ranking": {"method": "arbitration", "relevance": "offer.boost", "contextWeights": {"loans": 2},
                "weights": {"propensity": 1, "relevance": 0.5, "impact": 1, "emphasis": 0}}},
   {"id": "groups", "channelId": "web",
    "groups": [{"placementId": "hero", "slots": 2, "allowPartial": true},
               {"placementId": "side", "slots": 3, "allowPartial": false}]},
   {"id": "groups-partial", "channelId": "web",
    "groups": [{"placementId": "hero", "slots": 2, "allowPartial": true},
               {"placementId": "side", "slots": 3, "allowPartial": true}]},
   {"id": "outbound", "channelId": "email"},
   {"id": "bayes", "channelId": "web", "modelId": "bayes"}]
}$$);
SET kaireon.tenant = 'rec-a';
SELECT key, value ->> 'inserted' AS inserted
FROM jsonb_each(kaireon.apply_catalog((SELECT doc FROM docs)) -> 'applied') ORDER BY key;
SET kaireon.tenant = 'rec-b';
SELECT count(*) AS keys FROM jsonb_each(kaireon.apply_catalog((SELECT doc FROM docs)) -> 'applied');
SET kaireon.tenant = 'rec-a';

-- ===========================================================================
-- 1. A decision: the response, and its record.
-- ===========================================================================
SELECT pg_temp.decide('{"customerId": "ana", "flow": "home"}') IS NOT NULL AS decided;
-- (the quota object of section 5 is not this test's business)
SELECT jsonb_pretty(response - 'decisionId' - 'quota') AS response,
       response ->> 'decisionId' ~ '^[0-9a-f-]{36}$' AS has_decision_id, response ? 'traceId' AS has_trace_id
FROM last;
SELECT d.customer_id, d.flow, d.channel, d.offers = l.response -> 'offers' AS same_offers,
       d.experiment, d.trace_id, d.decided_at
FROM kaireon.decisions d JOIN last l ON d.id = (l.response ->> 'decisionId')::uuid
WHERE d.tenant_id = 'rec-a';

-- ===========================================================================
-- 2. The pipeline, stage by stage, through the stored traces.
-- ===========================================================================
-- Candidates: not active (paused, draft, retired), not started, ended, no
-- creative for the channel (newsletter: e-mail only), excluded by the
-- request. Then the offers' own eligibility (student: ana is 35).
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "home", "excludeOffers": ["silver"]}');
SELECT * FROM pg_temp.offers();
-- With a placement, offers without a creative there leave (loan, mortgage:
-- side only).
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "hero"}') WHERE stage = 'candidates';
-- The request's placement (and channel) replace the flow's.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "hero", "placement": "side", "limit": 5}')
WHERE stage = 'candidates';
SELECT offer_id, creative_id, placement FROM pg_temp.offers();

-- Qualification. The flow's eligibility false removes everything: cal is 16
-- (an empty decision).
SELECT * FROM pg_temp.trace('{"customerId": "cal", "flow": "home"}') WHERE stage <> 'candidates';
SELECT jsonb_array_length(response -> 'offers') AS offers, response ->> 'decisionId' IS NOT NULL AS recorded FROM last;
-- The offers' eligibility reads the customer's attributes (gold: age,
-- loan: income), segments (mortgage), the context (mortgage), the offer's
-- fields (silver: value) and attributes (student: tier). ben is 22, earns
-- 15000, is a student and no homeowner.
SELECT * FROM pg_temp.trace('{"customerId": "ben", "flow": "home"}') WHERE stage = 'qualification';
SELECT offer_id FROM pg_temp.offers();
-- The request's attributes and segments replace the customer's for this
-- call only.
SELECT * FROM pg_temp.trace('{"customerId": "ben", "flow": "home", "attributes": {"income": 90000},
                              "segments": ["homeowner"]}') WHERE stage = 'qualification';
SELECT offer_id FROM pg_temp.offers();
SELECT * FROM pg_temp.trace('{"customerId": "ben", "flow": "home"}') WHERE stage = 'qualification';
-- An empty segments list takes ana's away (mortgage leaves); the context
-- brings mortgage back for dee.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "home", "segments": []}') WHERE stage = 'qualification';
SELECT * FROM pg_temp.trace('{"customerId": "dee", "flow": "home"}') WHERE stage = 'qualification';
SELECT * FROM pg_temp.trace('{"customerId": "dee", "flow": "home", "context": {"page": "mortgage"}}')
WHERE stage = 'qualification';
-- An attribute the customer does not have is null, and comparisons with
-- null are false: without an income nobody gets loan or silver.
SELECT * FROM pg_temp.trace('{"customerId": "dee", "flow": "home", "attributes": {"income": null}}')
WHERE stage = 'qualification';

-- Consent, on the channel of the creative. E-mail needs an explicit grant:
-- ana gave it, ben refused it, dee said nothing.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "outbound"}') WHERE stage = 'consent';
SELECT offer_id, creative_id, placement FROM pg_temp.offers();
SELECT * FROM pg_temp.trace('{"customerId": "ben", "flow": "outbound"}') WHERE stage IN ('consent', 'placement');
SELECT * FROM pg_temp.trace('{"customerId": "dee", "flow": "outbound"}') WHERE stage = 'consent';
-- The web needs no grant (dee), but a refusal counts there too.
SELECT * FROM pg_temp.trace('{"customerId": "dee", "flow": "outbound", "channel": "web"}') WHERE stage = 'consent';
SELECT offer_id, creative_id FROM pg_temp.offers();
UPDATE kaireon.consents SET granted = false WHERE tenant_id = 'rec-a' AND customer_id = 'ana' AND channel_id = 'web';
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "home"}') WHERE stage = 'consent';
UPDATE kaireon.consents SET granted = true WHERE tenant_id = 'rec-a' AND customer_id = 'ana' AND channel_id = 'web';
-- SMS and push need a grant as well: eve granted sms, not push; ana neither.
SELECT * FROM pg_temp.trace('{"customerId": "eve", "flow": "outbound", "channel": "sms"}') WHERE stage = 'consent';
SELECT offer_id, creative_id FROM pg_temp.offers();
SELECT * FROM pg_temp.trace('{"customerId": "eve", "flow": "outbound", "channel": "push"}') WHERE stage = 'consent';
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "outbound", "channel": "sms"}') WHERE stage = 'consent';

-- Scoring. Without a model: score = priority / 100, propensity null.
SELECT pg_temp.decide('{"customerId": "ana", "flow": "home"}') IS NOT NULL AS decided;
SELECT * FROM pg_temp.offers();
-- The linear scorecard `lin`: base 0.125, +0.25 income >= 30000, +0.5
-- cards, +0.125 value >= 100, +0.25 homeowner, -1 under 18; propensity is
-- the score clamped to [0, 1]. ana: gold 1.25, silver 1.125, saver 0.625.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "hero"}') WHERE stage IN ('scoring', 'ranking', 'placement');
SELECT * FROM pg_temp.offers();
-- cal (16, no income): student 0.125 + 0.5 - 1, saver 0.125 - 1; both
-- propensities 0.
SELECT * FROM pg_temp.offers(kaireon_recommend('{"customerId": "cal", "flow": "hero"}'));
-- The logistic scorecard `logit`: 1 / (1 + exp(-0.5 x (-1 + 1 cards + 2
-- income >= 30000))); the propensity is the score.
SELECT o.offer_id, o.score, o.propensity, o.score = o.propensity AS propensity_is_score,
       abs(o.score - 1 / (1 + exp(-0.5 * e.raw))) < 1e-15 AS as_expected
FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "hero-logit"}')) o
JOIN (VALUES ('gold', 2), ('silver', 2), ('saver', 1)) e(offer_id, raw) USING (offer_id) ORDER BY o.rank;
SELECT o.offer_id, o.score, o.propensity, abs(o.score - 1 / (1 + exp(-0.5 * e.raw))) < 1e-15 AS as_expected
FROM pg_temp.offers(kaireon_recommend('{"customerId": "ben", "flow": "hero-logit"}')) o
JOIN (VALUES ('gold', 0), ('student', 0), ('saver', -1)) e(offer_id, raw) USING (offer_id) ORDER BY o.rank;

-- Ranking, top_n: by score, ties by priority (higher first), then by id.
-- home for ana: loan and saver both score 0.5 with priority 50: loan first.
-- hero for ana at 24: student and silver both score 1.125; student's
-- priority 70 beats silver's 60 although "silver" < "student".
SELECT rank, offer_id, score FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "home"}'));
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "hero", "attributes": {"age": 24}}')
WHERE stage IN ('ranking', 'placement');
SELECT rank, offer_id, score, propensity FROM pg_temp.offers();
-- The flow's ranking.n (2 for hero) applies without a request limit; the
-- request's limit wins over it.
SELECT rank, offer_id, score
FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "hero", "attributes": {"age": 24}, "limit": 4}'));

-- Arbitration is professional+: a Community tenant gets KR403 naming the
-- tier it needs.
SELECT kaireon_recommend('{"customerId": "ana", "flow": "arbitrate"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('ranking.arbitration', '{"enabled": true}') ->> 'inForce' AS arbitration_in_force;
-- Default weights 0.4 / 0.2 / 0.3 / 0.1, relevance 1, impact = value / the
-- largest value among the candidates (mortgage's 500), emphasis = lever;
-- propensities from lin: gold 1 (1.25 clamped), silver 1 (1.125), loan
-- 0.75, mortgage 0.75, saver 0.625.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "arbitrate"}') WHERE stage IN ('scoring', 'ranking');
SELECT o.rank, o.offer_id, round(o.score::numeric, 12) AS score, o.propensity,
       abs(o.score - pg_temp.arbitration(e.p, 1, o.value / 500, e.lever, 1, 0.4, 0.2, 0.3, 0.1)) < 1e-12 AS as_expected
FROM pg_temp.offers() o
JOIN (VALUES ('gold', 1, 0.5), ('silver', 1, 1), ('loan', 0.75, 1), ('mortgage', 0.75, 0.8), ('saver', 0.625, 1))
     e(offer_id, p, lever) USING (offer_id) ORDER BY o.rank;
-- Without the homeowner segment mortgage is no candidate: the largest value
-- is loan's 200 (and lin gives 0.25 less to everyone).
SELECT o.rank, o.offer_id, round(o.score::numeric, 12) AS score, o.propensity,
       abs(o.score - pg_temp.arbitration(e.p, 1, o.value / 200, e.lever, 1, 0.4, 0.2, 0.3, 0.1)) < 1e-12 AS as_expected
FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "arbitrate", "segments": []}')) o
JOIN (VALUES ('gold', 1, 0.5), ('silver', 0.875, 1), ('loan', 0.5, 1), ('saver', 0.375, 1))
     e(offer_id, p, lever) USING (offer_id) ORDER BY o.rank;
-- Custom weights (propensity 1, relevance 0.5, impact 1, emphasis 0), the
-- relevance expression offer.boost (gold 4, saver 0, null = 1 for the
-- others) and contextWeights {"loans": 2}: saver's relevance 0 pulls its
-- score to 0; emphasis 0 ignores gold's lever.
SELECT o.rank, o.offer_id, round(o.score::numeric, 12) AS score,
       abs(o.score - pg_temp.arbitration(e.p, e.r, o.value / 500, 1, e.cw, 1, 0.5, 1, 0)) < 1e-12 AS as_expected
FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "arbitrate-custom"}')) o
JOIN (VALUES ('gold', 1, 4, 1), ('silver', 1, 1, 1), ('loan', 0.75, 1, 2), ('mortgage', 0.75, 1, 2), ('saver', 0.625, 0, 1))
     e(offer_id, p, r, cw) USING (offer_id) ORDER BY o.rank;

-- Groups and placements: each group fills its placement's slots in score
-- order (priority here). hero takes gold and silver; side (3 slots,
-- allowPartial false) has only loan and mortgage left (saver has no side
-- creative): it returns nothing.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "groups"}') WHERE stage = 'placement';
SELECT * FROM pg_temp.offers();
-- The same groups with allowPartial true on side: loan and mortgage.
SELECT * FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "groups-partial"}'));
-- At 24 student qualifies: hero takes gold and student, and silver, loan
-- and mortgage fill side's 3 slots.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "groups", "attributes": {"age": 24}}') WHERE stage = 'placement';
SELECT * FROM pg_temp.offers();

-- The limit: 5 by default (ana at 24 has 6 candidates in home), the
-- request's limit otherwise, 50 at most.
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "home", "attributes": {"age": 24}}') WHERE stage = 'placement';
SELECT rank, offer_id FROM pg_temp.offers();
SELECT * FROM pg_temp.trace('{"customerId": "ana", "flow": "home", "attributes": {"age": 24}, "limit": 2}')
WHERE stage = 'placement';
SELECT jsonb_array_length(kaireon_recommend('{"customerId": "ana", "flow": "home", "attributes": {"age": 24},
                                               "limit": 50}') -> 'offers') AS offers_with_limit_50;

-- ===========================================================================
-- 3. Errors: KR400 for a bad request, with the field in the DETAIL's path.
-- ===========================================================================
SELECT count(*) AS decisions_before FROM kaireon.decisions WHERE tenant_id = 'rec-a' \gset
SELECT kaireon_recommend('[{"customerId": "ana"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('"ana"');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "lmit": 3}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": 42, "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": ["home"]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "limit": "3"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "limit": 2.5}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "limit": 0}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "limit": 51}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "context": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "attributes": [1]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "segments": "homeowner"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "segments": ["homeowner", 7]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "excludeOffers": "gold"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "trace": "yes"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "dryRun": 1}');
\echo :LAST_ERROR_SQLSTATE
-- Missing customerId or flow (an explicit null is absent).
SELECT kaireon_recommend('{"flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": null}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{}');
\echo :LAST_ERROR_SQLSTATE
-- A null request, an unknown customer, an unknown flow.
SELECT kaireon_recommend(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "nobody", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "nope"}');
\echo :LAST_ERROR_SQLSTATE
-- A bayesian model: the tier's gate comes first (Community has no
-- scoring.bayesian) ...
SELECT kaireon_recommend('{"customerId": "ana", "flow": "bayes"}');
\echo :LAST_ERROR_SQLSTATE
-- ... and once entitled it scores by the posterior mean: with no responses
-- yet, the prior's 1 / (1 + 1) for every offer (sql/models.sql tests the
-- models themselves).
SELECT kaireon.set_override('scoring.bayesian', '{"enabled": true}') ->> 'inForce' AS bayesian_in_force;
SELECT DISTINCT o ->> 'propensity' AS propensity
FROM jsonb_array_elements(kaireon_recommend('{"customerId": "ana", "flow": "bayes", "dryRun": true}') -> 'offers') o;
SELECT kaireon.clear_override('scoring.bayesian') AS cleared;
-- No tenant selected.
RESET kaireon.tenant;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'rec-a';
-- A dry run by a non-administrator.
SET ROLE regress_rec_app;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "dryRun": true}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- None of them recorded a decision.
SELECT count(*) - :decisions_before AS new_decisions FROM kaireon.decisions WHERE tenant_id = 'rec-a';

-- ===========================================================================
-- 4. Dry runs (administrators): the same offers, no decision id, nothing
-- recorded, nothing counted; a trace comes inline and is not stored.
-- ===========================================================================
SELECT count(*) AS decisions_before, (SELECT count(*) FROM kaireon.decision_traces WHERE tenant_id = 'rec-a') AS traces_before
FROM kaireon.decisions WHERE tenant_id = 'rec-a' \gset
SELECT decisions AS decisions0, empty_decisions AS empty0, trace_drops AS drops0 FROM pg_temp.stats('rec-a') \gset
SET ROLE regress_rec_admin;
SELECT kaireon_recommend('{"customerId": "ana", "flow": "hero", "dryRun": true}') AS dry \gset
SELECT kaireon_recommend('{"customerId": "ana", "flow": "hero", "dryRun": true, "trace": true}') AS dry_traced \gset
SELECT kaireon_recommend('{"customerId": "cal", "flow": "home", "dryRun": true}') AS dry_empty \gset
RESET ROLE;
-- Nothing recorded, nothing counted.
SELECT count(*) - :decisions_before AS new_decisions,
       (SELECT count(*) FROM kaireon.decision_traces WHERE tenant_id = 'rec-a') - :traces_before AS new_traces
FROM kaireon.decisions WHERE tenant_id = 'rec-a';
SELECT decisions - :decisions0 AS decisions, empty_decisions - :empty0 AS empty_decisions, trace_drops - :drops0 AS trace_drops
FROM pg_temp.stats('rec-a');
-- No decision id, "dryRun": true, and the answer of a real decision (the
-- quota aside: the real one counts, the dry run did not - sql/quota.sql).
SELECT (:'dry'::jsonb) -> 'decisionId' AS decision_id, (:'dry'::jsonb) -> 'dryRun' AS dry_run,
       (:'dry'::jsonb) ? 'traceId' AS has_trace_id, (:'dry'::jsonb) ? 'trace' AS has_trace,
       (:'dry'::jsonb) - 'dryRun' - 'decisionId' - 'quota'
           = kaireon_recommend('{"customerId": "ana", "flow": "hero"}') - 'decisionId' - 'quota'
           AS same_as_a_real_decision;
SELECT (:'dry_empty'::jsonb) -> 'offers' AS offers, (:'dry_empty'::jsonb) -> 'dryRun' AS dry_run,
       (:'dry_empty'::jsonb) -> 'decisionId' AS decision_id;
-- Traced: the trace inline, no trace id.
SELECT (:'dry_traced'::jsonb) -> 'decisionId' AS decision_id, (:'dry_traced'::jsonb) ? 'traceId' AS has_trace_id,
       (:'dry_traced'::jsonb) -> 'offers' = (:'dry'::jsonb) -> 'offers' AS same_offers;
SELECT * FROM pg_temp.stages((:'dry_traced'::jsonb) -> 'trace');
SELECT count(*) AS stages, bool_and(jsonb_typeof(s -> 'micros') = 'number') AS all_timed
FROM jsonb_array_elements((:'dry_traced'::jsonb) -> 'trace') s;
-- It is the trace a real traced decision stores (durations aside).
SELECT kaireon_recommend('{"customerId": "ana", "flow": "hero", "trace": true}') ->> 'traceId' AS real_trace_id \gset
SELECT (SELECT jsonb_agg(s.value - 'micros' ORDER BY s.n)
        FROM jsonb_array_elements((:'dry_traced'::jsonb) -> 'trace') WITH ORDINALITY s(value, n))
     = (SELECT jsonb_agg(s.value - 'micros' ORDER BY s.n)
        FROM kaireon.decision_traces t, jsonb_array_elements(t.stages) WITH ORDINALITY s(value, n)
        WHERE t.tenant_id = 'rec-a' AND t.id = :'real_trace_id') AS same_trace;

-- ===========================================================================
-- 5. Decision records: one per decision that was not a dry run, empty ones
-- included; kaireon.stats counts decisions and empty decisions.
-- ===========================================================================
SELECT count(*) AS decisions_before FROM kaireon.decisions WHERE tenant_id = 'rec-a' \gset
SELECT decisions AS decisions0, empty_decisions AS empty0 FROM pg_temp.stats('rec-a') \gset
CREATE TEMP TABLE made (n int, response jsonb);
INSERT INTO made VALUES (1, kaireon_recommend('{"customerId": "ana", "flow": "hero"}')),
                        (2, kaireon_recommend('{"customerId": "ben", "flow": "outbound", "channel": "email"}')),
                        (3, kaireon_recommend('{"customerId": "dee", "flow": "outbound", "channel": "web", "limit": 1}'));
SELECT m.n, d.customer_id, d.flow, d.channel, jsonb_array_length(d.offers) AS offers,
       d.offers = m.response -> 'offers' AS same_offers, d.trace_id IS NULL AS no_trace,
       d.decided_at = '2026-06-10T12:00:00Z' AS decided_now
FROM made m JOIN kaireon.decisions d ON d.tenant_id = 'rec-a' AND d.id = (m.response ->> 'decisionId')::uuid
ORDER BY m.n;
SELECT d.offers FROM made m JOIN kaireon.decisions d ON d.tenant_id = 'rec-a' AND d.id = (m.response ->> 'decisionId')::uuid
WHERE m.n = 1;
SELECT count(*) - :decisions_before AS new_decisions FROM kaireon.decisions WHERE tenant_id = 'rec-a';
SELECT decisions - :decisions0 AS decisions, empty_decisions - :empty0 AS empty_decisions FROM pg_temp.stats('rec-a');
-- A decision rolled back leaves no record.
BEGIN;
SELECT pg_temp.decide('{"customerId": "ana", "flow": "hero"}') IS NOT NULL AS decided;
ROLLBACK;
SELECT count(*) - :decisions_before AS new_decisions FROM kaireon.decisions WHERE tenant_id = 'rec-a';

-- ===========================================================================
-- 6. Traces within the daily allowance (decision_traces_per_day, per UTC
-- day): on a new day, with an allowance of 2, the third traced decision is
-- made and recorded without its trace, and the drop is counted.
-- ===========================================================================
SET kaireon.test_clock = '2026-06-11T08:00:00Z';
SELECT kaireon.set_override('decision_traces_per_day', '{"limit": 2}') ->> 'inForce' AS in_force;
SELECT kaireon.entitlement('decision_traces_per_day') ->> 'limit' AS traces_per_day;
SELECT count(*) AS decisions_before FROM kaireon.decisions WHERE tenant_id = 'rec-a' \gset
SELECT trace_drops AS drops0, decisions AS decisions0 FROM pg_temp.stats('rec-a') \gset
TRUNCATE made;
INSERT INTO made SELECT i, kaireon_recommend('{"customerId": "ana", "flow": "hero", "trace": true}')
FROM generate_series(1, 3) i;
SELECT m.n, m.response ? 'traceId' AS has_trace_id, jsonb_array_length(m.response -> 'offers') AS offers,
       d.id IS NOT NULL AS recorded, d.trace_id IS NOT NULL AS record_has_trace,
       (SELECT count(*) FROM kaireon.decision_traces t
        WHERE t.tenant_id = 'rec-a' AND t.id = (m.response ->> 'traceId')::uuid AND t.decision_id = d.id
          AND t.customer_id = 'ana' AND t.flow = 'hero') AS stored_traces
FROM made m LEFT JOIN kaireon.decisions d ON d.tenant_id = 'rec-a' AND d.id = (m.response ->> 'decisionId')::uuid
ORDER BY m.n;
SELECT count(*) - :decisions_before AS new_decisions FROM kaireon.decisions WHERE tenant_id = 'rec-a';
SELECT trace_drops - :drops0 AS trace_drops, decisions - :decisions0 AS decisions FROM pg_temp.stats('rec-a');
SELECT count(*) AS traces_today FROM kaireon.decision_traces
WHERE tenant_id = 'rec-a' AND traced_at >= '2026-06-11T00:00:00Z';
-- The next day's allowance starts again.
SET kaireon.test_clock = '2026-06-12T08:00:00Z';
SELECT kaireon_recommend('{"customerId": "ana", "flow": "hero", "trace": true}') ? 'traceId' AS has_trace_id;
SELECT kaireon.clear_override('decision_traces_per_day') AS cleared;
SET kaireon.test_clock = '2026-06-10T12:00:00Z';

-- ===========================================================================
-- 7. The SQL twins. recommend: the response's offers as rows, with the
-- decision id of the one decision it records.
-- ===========================================================================
SELECT count(*) AS decisions_before FROM kaireon.decisions WHERE tenant_id = 'rec-a' \gset
CREATE TEMP TABLE twin AS SELECT * FROM kaireon.recommend('ana', 'arbitrate', 3, '{"page": "home"}');
SELECT rank, offer_id, creative_id, placement, category, round(score::numeric, 12) AS score, propensity, value,
       decision_id IS NOT NULL AS has_decision_id
FROM twin ORDER BY rank;
SELECT count(DISTINCT decision_id) AS decisions_in_rows,
       (SELECT count(*) FROM kaireon.decisions WHERE tenant_id = 'rec-a') - :decisions_before AS new_decisions,
       (SELECT d.offers = (SELECT jsonb_agg(jsonb_build_object('rank', t.rank, 'offerId', t.offer_id,
                                   'creativeId', t.creative_id, 'placement', t.placement, 'category', t.category,
                                   'score', t.score, 'propensity', t.propensity, 'value', t.value) ORDER BY t.rank)
                           FROM twin t)
        FROM kaireon.decisions d WHERE d.tenant_id = 'rec-a' AND d.id = (SELECT min(decision_id::text)::uuid FROM twin))
           AS rows_are_the_record
FROM twin;
-- The same request through kaireon_recommend: the same offers.
SELECT count(*) AS differences FROM (
    (SELECT rank, offer_id, creative_id, placement, category, score, propensity, value FROM twin
     EXCEPT ALL
     SELECT * FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "arbitrate", "limit": 3,
                                                      "context": {"page": "home"}}')))
    UNION ALL
    (SELECT * FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "arbitrate", "limit": 3,
                                                      "context": {"page": "home"}}'))
     EXCEPT ALL
     SELECT rank, offer_id, creative_id, placement, category, score, propensity, value FROM twin)) x;
-- n defaults to NULL, "no limit in the request": the flow's ranking.n, as
-- for kaireon_recommend without a limit (hero: n 2); n => 3 asks for 3.
SELECT rank, offer_id FROM kaireon.recommend('ana', 'hero');
SELECT rank, offer_id FROM pg_temp.offers(kaireon_recommend('{"customerId": "ana", "flow": "hero"}'));
SELECT rank, offer_id FROM kaireon.recommend('ana', 'hero', 3);
-- A placement holds at most its slots, whatever the limit: side has 2 (and
-- three offers with a creative there).
SELECT count(*) AS offers_on_side FROM pg_temp.offers(kaireon_recommend(
    '{"customerId": "ana", "flow": "home", "placement": "side", "limit": 10}'));
-- An unknown channel or placement in the request is a bad request.
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "channel": "fax"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home", "placement": "billboard"}');
\echo :LAST_ERROR_SQLSTATE
-- The context reaches the eligibility: mortgage for dee.
SELECT rank, offer_id FROM kaireon.recommend('dee', 'home', 5, '{"page": "mortgage"}');
-- Errors are kaireon_recommend's.
SELECT * FROM kaireon.recommend('nobody', 'home');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend('ana', 'home', 51);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend(NULL, 'home');
\echo :LAST_ERROR_SQLSTATE

-- recommend_batch: each customer's rows in the order of the array, one
-- decision each (cal's is empty: no rows, but a record).
CREATE TEMP TABLE seen AS SELECT id FROM kaireon.decisions WHERE tenant_id = 'rec-a';
CREATE TEMP TABLE batch AS
SELECT row_number() OVER () AS n, b.* FROM kaireon.recommend_batch('home', ARRAY['ben', 'cal', 'ana', 'dee'], 2) b;
SELECT n, customer_id, rank, offer_id, score, decision_id IS NOT NULL AS has_decision_id FROM batch ORDER BY n;
SELECT d.customer_id, jsonb_array_length(d.offers) AS offers, d.flow,
       (SELECT count(DISTINCT b.decision_id) FROM batch b WHERE b.customer_id = d.customer_id) AS decision_ids_in_rows,
       d.offers = coalesce((SELECT jsonb_agg(jsonb_build_object('rank', b.rank, 'offerId', b.offer_id,
                                    'creativeId', b.creative_id, 'placement', b.placement, 'category', b.category,
                                    'score', b.score, 'propensity', b.propensity, 'value', b.value) ORDER BY b.rank)
                            FROM batch b WHERE b.decision_id = d.id), '[]') AS rows_are_the_record
FROM kaireon.decisions d
WHERE d.tenant_id = 'rec-a' AND d.id NOT IN (SELECT id FROM seen)
ORDER BY d.customer_id;
-- All or nothing: one unknown customer fails the batch, and no decision of
-- it is recorded; a NULL in the array or a NULL array is KR400.
SELECT count(*) AS decisions_before FROM kaireon.decisions WHERE tenant_id = 'rec-a' \gset
SELECT * FROM kaireon.recommend_batch('home', ARRAY['ana', 'ben', 'nobody', 'dee']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend_batch('home', ARRAY['ana', NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend_batch('home', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend_batch('nope', ARRAY['ana']);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) - :decisions_before AS new_decisions FROM kaireon.decisions WHERE tenant_id = 'rec-a';
SELECT count(*) AS rows_for_no_customers FROM kaireon.recommend_batch('home', '{}');

-- ===========================================================================
-- 8. Determinism: the same request twice gives the same answer (the
-- decision id and the quota count aside), for every flow.
-- ===========================================================================
SELECT f.flow, r1 - 'decisionId' - 'quota' = r2 - 'decisionId' - 'quota' AS same_answer, r1 ->> 'decisionId' <> r2 ->> 'decisionId' AS new_id,
       jsonb_array_length(r1 -> 'offers') AS offers
FROM (VALUES ('home'), ('hero'), ('hero-logit'), ('arbitrate'), ('arbitrate-custom'), ('groups'), ('groups-partial'),
             ('outbound')) f(flow)
CROSS JOIN LATERAL (SELECT kaireon_recommend(jsonb_build_object('customerId', 'ana', 'flow', f.flow,
                                                                'attributes', '{"age": 24}'::jsonb)) AS r1) a
CROSS JOIN LATERAL (SELECT kaireon_recommend(jsonb_build_object('customerId', 'ana', 'flow', f.flow,
                                                                'attributes', '{"age": 24}'::jsonb)) AS r2) b
ORDER BY f.flow;

-- ===========================================================================
-- 9. Tenants and grants: kaireon_app decides for its tenant only and sees
-- only its tenant's decisions; kaireon_reader cannot decide.
-- ===========================================================================
SET kaireon.tenant = 'rec-b';
SELECT jsonb_array_length(kaireon_recommend('{"customerId": "ana", "flow": "home"}') -> 'offers') AS rec_b_offers;
SELECT count(*) AS rec_b_decisions FROM kaireon.decisions WHERE tenant_id = 'rec-b';
SELECT count(*) AS rec_a_decisions, (SELECT count(*) FROM kaireon.decision_traces WHERE tenant_id = 'rec-a') AS rec_a_traces
FROM kaireon.decisions WHERE tenant_id = 'rec-a' \gset
SET ROLE regress_rec_app;
SET kaireon.tenant = 'rec-a';
-- Its tenant's rows, all of them, and nothing else.
SELECT count(*) = :rec_a_decisions AS all_of_rec_a, count(DISTINCT tenant_id) AS tenants, min(tenant_id) AS tenant
FROM kaireon.decisions;
SELECT count(*) = :rec_a_traces AS all_of_rec_a, count(DISTINCT tenant_id) AS tenants FROM kaireon.decision_traces;
SELECT o ->> 'offerId' AS offer_id
FROM jsonb_array_elements(kaireon_recommend('{"customerId": "ana", "flow": "hero"}') -> 'offers') o;
SELECT rank, offer_id, decision_id IS NOT NULL AS has_decision_id FROM kaireon.recommend('ana', 'hero', 1);
SET kaireon.tenant = 'rec-b';
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend('ana', 'home');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend_batch('home', ARRAY['ana']);
\echo :LAST_ERROR_SQLSTATE
-- Setting the other tenant shows none of its rows.
SELECT count(*) AS visible_decisions FROM kaireon.decisions;
SELECT count(*) AS visible_traces FROM kaireon.decision_traces;
RESET ROLE;
SET ROLE regress_rec_reader;
SET kaireon.tenant = 'rec-a';
SELECT kaireon_recommend('{"customerId": "ana", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.recommend('ana', 'home');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ===========================================================================
-- 10. forget_customer: eve's decisions and traces stay, under one pseudonym.
-- ===========================================================================
SET kaireon.tenant = 'rec-a';
SELECT pg_temp.decide('{"customerId": "eve", "flow": "home", "trace": true}') ? 'traceId' AS traced;
SELECT pg_temp.decide('{"customerId": "eve", "flow": "outbound"}') IS NOT NULL AS decided;
SELECT pg_temp.decide('{"customerId": "eve", "flow": "hero", "limit": 1}') IS NOT NULL AS decided;
CREATE TEMP TABLE eve AS SELECT id, offers FROM kaireon.decisions WHERE tenant_id = 'rec-a' AND customer_id = 'eve';
SELECT count(*) AS eve_decisions FROM eve;
SELECT f -> 'erased' AS erased, f -> 'found' AS found,
       (f -> 'erased' ->> 'decisionsAnonymised')::int = (SELECT count(*) FROM eve) AS all_anonymised
FROM kaireon.forget_customer('eve') f;
SELECT count(*) AS decisions, count(DISTINCT d.customer_id) AS pseudonyms,
       bool_and(starts_with(d.customer_id, 'forgotten-')) AS all_forgotten,
       bool_and(d.offers = e.offers) AS offers_kept
FROM kaireon.decisions d JOIN eve e ON d.tenant_id = 'rec-a' AND d.id = e.id;
SELECT count(*) AS traces, bool_and(t.customer_id = d.customer_id) AS same_pseudonym
FROM kaireon.decision_traces t JOIN kaireon.decisions d ON d.tenant_id = t.tenant_id AND d.id = t.decision_id
WHERE t.tenant_id = 'rec-a' AND d.id IN (SELECT id FROM eve);
SELECT count(*) AS left_under_eve FROM kaireon.decisions WHERE tenant_id = 'rec-a' AND customer_id = 'eve';
SELECT count(*) AS traces_left_under_eve FROM kaireon.decision_traces WHERE tenant_id = 'rec-a' AND customer_id = 'eve';
SELECT kaireon_recommend('{"customerId": "eve", "flow": "home"}');
\echo :LAST_ERROR_SQLSTATE

-- Clean up.
RESET kaireon.tenant;
-- Decision ids are made in the backend (row_id.h): every one a distinct
-- version 7 uuid of the RFC 9562 variant, whose first 48 bits are the real
-- time it was made in milliseconds (not kaireon.clock(): within the hour
-- before this statement).
SELECT count(*) > 10 AS some_decisions, count(DISTINCT id) = count(*) AS ids_distinct,
       bool_and(substr(id::text, 15, 1) = '7' AND substr(id::text, 20, 1) IN ('8', '9', 'a', 'b')) AS all_version_7,
       bool_and(('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint
                BETWEEN (extract(epoch FROM clock_timestamp() - interval '1 hour') * 1000)::bigint
                    AND (extract(epoch FROM clock_timestamp()) * 1000)::bigint) AS made_in_the_last_hour
FROM kaireon.decisions WHERE tenant_id IN ('rec-a', 'rec-b');
SELECT kaireon.drop_tenant('rec-a') ->> 'tenantId' AS dropped, kaireon.drop_tenant('rec-b') ->> 'tenantId' AS dropped;
SELECT count(*) AS decisions_left FROM kaireon.decisions WHERE tenant_id IN ('rec-a', 'rec-b');
DROP ROLE regress_rec_app;
DROP ROLE regress_rec_reader;
DROP ROLE regress_rec_admin;

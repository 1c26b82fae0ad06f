-- kaireon_respond (SPEC 6.6) and system-wide frequency caps (SPEC 6.4):
-- the request and its errors, the answer, idempotency (a retry is a
-- duplicate; another outcome under a key is KR409), a decision's fields
-- filled from its record, which outcomes count toward which caps (offer,
-- category, channel; impressions only; past max_volume), exhausted caps
-- leaving their scope out of decisions with a trace reason, cap.exhausted
-- once per period, reset_at and lazy period rollover, enabling a cap,
-- editing its scope, kaireon.frequency_caps, roles, forget_customer and
-- drop_tenant. Concurrency: test/isolation/specs/caps_*.spec and
-- test/cluster/caps_stress.sh.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';  -- a Wednesday
CREATE ROLE regress_resp_app IN ROLE kaireon_app;
CREATE ROLE regress_resp_reader IN ROLE kaireon_reader;
SELECT kaireon.create_tenant('resp-a', 'Respond A', 'ops@resp.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('resp-b', 'Respond B', 'ops@b.resp.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_resp_app', 'resp-a');
SELECT kaireon.grant_tenant('regress_resp_reader', 'resp-a');
SET kaireon.tenant = 'resp-a';
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{
  "categories": [{"id": "cards", "name": "Cards"}, {"id": "loans", "name": "Loans"}],
  "channels": [{"id": "web", "name": "Web", "type": "web"}, {"id": "app", "name": "App", "type": "mobile"}],
  "offers": [{"id": "gold", "name": "Gold card", "categoryId": "cards", "priority": 90},
             {"id": "silver", "name": "Silver card", "categoryId": "cards", "priority": 70},
             {"id": "loan", "name": "Loan", "categoryId": "loans", "priority": 50}],
  "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web"},
                {"id": "gold-app", "offerId": "gold", "channelId": "app"},
                {"id": "silver-web", "offerId": "silver", "channelId": "web"},
                {"id": "loan-web", "offerId": "loan", "channelId": "web"}],
  "customers": [{"id": "ana"}, {"id": "ben"}, {"id": "cy"}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"},
                   {"id": "dismiss", "kind": "negative"}],
  "caps": [{"id": "gold-daily", "name": "Gold: 2 a day", "scope": "offer", "scopeId": "gold", "maxVolume": 2, "period": "daily"},
           {"id": "cards-weekly", "name": "Cards: 4 a week", "scope": "category", "scopeId": "cards", "maxVolume": 4, "period": "weekly"},
           {"id": "app-monthly", "name": "App: 100 a month", "scope": "channel", "scopeId": "app", "maxVolume": 100, "period": "monthly"},
           {"id": "loan-off", "name": "Loan (disabled)", "scope": "offer", "scopeId": "loan", "maxVolume": 1, "period": "daily", "enabled": false}],
  "flows": [{"id": "home", "name": "Home", "channelId": "web"}]
}') -> 'applied');

-- respond(doc) answers without the random ids; caps() shows the caps.
CREATE FUNCTION pg_temp.respond(doc jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT kaireon_respond(doc) - 'interactionId' - 'decisionId'
$$;
CREATE FUNCTION pg_temp.caps() RETURNS TABLE (id text, current_count bigint, max_volume int, exhausted boolean, reset_at timestamptz)
LANGUAGE sql AS $$
    SELECT id, current_count, max_volume, exhausted, reset_at FROM kaireon.frequency_caps ORDER BY id
$$;
SELECT * FROM pg_temp.caps();

-- ===========================================================================
-- 1. The request: what is required, what is checked.
-- ===========================================================================
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "impression"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "impression", "idempotencyKey": ""}');
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "idempotencyKey": "k"}');
SELECT kaireon_respond('{"offerId": "gold", "outcome": "impression", "idempotencyKey": "k"}');
SELECT kaireon_respond('{"customerId": "ana", "outcome": "impression", "idempotencyKey": "k"}');
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "purchase", "idempotencyKey": "k"}');
SELECT kaireon_respond('{"customerId": "ana", "offerId": "platinum", "outcome": "click", "idempotencyKey": "k"}');
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "click", "idempotencyKey": "k", "value": "12"}');
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "click", "idempotencyKey": "k", "occurredAt": "yesterday"}');
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "click", "idempotencyKey": "k", "occurredAt": "2026-06-10T12:30:00Z"}');
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "click", "idempotencyKey": "k", "shown": true}');
SELECT kaireon_respond('{"decisionId": "not-a-uuid", "outcome": "click", "idempotencyKey": "k"}');
SELECT kaireon_respond('{"decisionId": "00000000-0000-0000-0000-000000000000", "outcome": "click", "idempotencyKey": "k"}');
SELECT kaireon_respond('{"customerId": "a b", "offerId": "gold", "outcome": "click", "idempotencyKey": "k"}');
SELECT kaireon_respond(jsonb_build_object('customerId', 'ana', 'offerId', 'gold', 'outcome', 'click',
                                          'idempotencyKey', repeat('k', 256)));
SELECT kaireon_respond('[]');
SELECT kaireon_respond(NULL);
SELECT count(*) AS recorded FROM kaireon.interactions;

-- ===========================================================================
-- 2. Recording: the answer, a retry, another outcome under the same key.
-- ===========================================================================
SELECT pg_temp.respond('{"customerId": "ana", "offerId": "gold", "creativeId": "gold-web", "channel": "web",
                         "outcome": "impression", "idempotencyKey": "ana-1"}');
SELECT pg_temp.respond('{"customerId": "ana", "offerId": "gold", "creativeId": "gold-web", "channel": "web",
                         "outcome": "impression", "idempotencyKey": "ana-1"}') AS retry;
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "click", "idempotencyKey": "ana-1"}');
\echo :LAST_ERROR_SQLSTATE
-- A click counts toward no cap (only impressions do); its value is kept.
SELECT pg_temp.respond('{"customerId": "ana", "offerId": "gold", "outcome": "click", "value": 12.5,
                         "occurredAt": "2026-06-10T11:59:00Z", "idempotencyKey": "ana-2"}');
SELECT customer_id, offer_id, category_id, creative_id, channel, outcome, kind, value, occurred_at, recorded_at
FROM kaireon.interactions ORDER BY idempotency_key;

-- ===========================================================================
-- 3. Answering a decision: its record gives the customer, the offer (when
--    it had one), creative, placement and channel; what the request says
--    must agree.
-- ===========================================================================
SELECT kaireon_recommend('{"customerId": "ben", "flow": "home", "limit": 1}') ->> 'decisionId' AS one \gset
SELECT kaireon_recommend('{"customerId": "ben", "flow": "home"}') ->> 'decisionId' AS many \gset
SELECT pg_temp.respond(jsonb_build_object('decisionId', :'one', 'outcome', 'impression', 'idempotencyKey', 'ben-1'));
SELECT kaireon_respond(jsonb_build_object('decisionId', :'many', 'outcome', 'impression', 'idempotencyKey', 'ben-2'));
SELECT kaireon_respond(jsonb_build_object('decisionId', :'many', 'offerId', 'gold-x', 'outcome', 'impression',
                                          'idempotencyKey', 'ben-2'));
SELECT kaireon_respond(jsonb_build_object('decisionId', :'many', 'customerId', 'ana', 'offerId', 'silver',
                                          'outcome', 'impression', 'idempotencyKey', 'ben-2'));
SELECT pg_temp.respond(jsonb_build_object('decisionId', upper(:'many'), 'offerId', 'silver', 'outcome', 'impression',
                                          'idempotencyKey', 'ben-2'));
SELECT decision_id IS NOT NULL AS from_decision, customer_id, offer_id, creative_id, channel
FROM kaireon.interactions WHERE idempotency_key LIKE 'ben-%' ORDER BY idempotency_key;

-- ===========================================================================
-- 4. Caps: gold is at its daily maximum (2); cards at 3 of 4 this week.
--    Decisions leave gold out, with the reason in the trace; the impression
--    that reached the cap sent cap.exhausted, once.
-- ===========================================================================
SELECT * FROM pg_temp.caps();
SELECT o ->> 'offerId' AS offer FROM jsonb_array_elements(kaireon_recommend('{"customerId": "cy", "flow": "home"}') -> 'offers') o;
SELECT kaireon_recommend('{"customerId": "cy", "flow": "home", "trace": true}') ->> 'traceId' AS trace \gset
SELECT r ->> 'offerId' AS offer, r ->> 'reason' AS reason
FROM kaireon.decision_traces t, jsonb_array_elements(t.stages) s, jsonb_array_elements(s -> 'removed') r
WHERE t.id = :'trace' AND s ->> 'stage' = 'policies';
-- Counting goes on past the maximum (respond records what was shown).
SELECT pg_temp.respond('{"customerId": "cy", "offerId": "gold", "channel": "app", "outcome": "impression", "idempotencyKey": "cy-1"}');
SELECT type, payload - 'customerId' AS payload FROM kaireon.events WHERE type = 'cap.exhausted' ORDER BY id;
-- The category cap reaches 4: silver goes too; loan stays.
SELECT o ->> 'offerId' AS offer FROM jsonb_array_elements(kaireon_recommend('{"customerId": "cy", "flow": "home"}') -> 'offers') o;
-- A disabled cap counts (so that enabling it later is exact) but never excludes.
SELECT pg_temp.respond('{"customerId": "cy", "offerId": "loan", "channel": "web", "outcome": "impression", "idempotencyKey": "cy-2"}') -> 'caps' AS caps;
SELECT o ->> 'offerId' AS offer FROM jsonb_array_elements(kaireon_recommend('{"customerId": "ana", "flow": "home"}') -> 'offers') o;
UPDATE kaireon.caps SET enabled = true WHERE id = 'loan-off';
SELECT o ->> 'offerId' AS offer FROM jsonb_array_elements(kaireon_recommend('{"customerId": "ana", "flow": "home"}') -> 'offers') o;
-- Editing a cap's scope counts the new scope's impressions of the period.
UPDATE kaireon.caps SET scope_id = 'silver' WHERE id = 'gold-daily';
SELECT * FROM pg_temp.caps();
-- Re-applying the catalog resets nothing.
SELECT kaireon.apply_catalog(kaireon.export_catalog()) -> 'applied' -> 'caps' AS caps_applied;
SELECT * FROM pg_temp.caps();

-- ===========================================================================
-- 5. Periods: a new UTC day, ISO week (Monday) and month start from zero
--    by themselves (no job needed); the old impressions stay recorded.
-- ===========================================================================
SET kaireon.test_clock = '2026-06-11T00:00:00Z';
SELECT * FROM pg_temp.caps();
SET kaireon.test_clock = '2026-06-15T00:00:00Z';  -- Monday
SELECT * FROM pg_temp.caps();
SET kaireon.test_clock = '2026-07-01T00:00:00Z';
SELECT * FROM pg_temp.caps();
SELECT pg_temp.respond('{"customerId": "cy", "offerId": "gold", "channel": "app", "outcome": "impression", "idempotencyKey": "cy-3"}') -> 'caps' AS caps;
SELECT count(*) AS interactions FROM kaireon.interactions;

-- ===========================================================================
-- 6. Roles: applications respond; readers read; other tenants see nothing.
-- ===========================================================================
SET ROLE regress_resp_app;
SELECT pg_temp.respond('{"customerId": "ana", "offerId": "loan", "outcome": "dismiss", "idempotencyKey": "app-1"}') ->> 'recorded' AS app_recorded;
RESET ROLE;
SET ROLE regress_resp_reader;
SELECT kaireon_respond('{"customerId": "ana", "offerId": "loan", "outcome": "dismiss", "idempotencyKey": "reader-1"}');
SELECT count(*) AS reader_sees FROM kaireon.interactions;
SELECT count(*) AS reader_caps FROM kaireon.frequency_caps;
SELECT * FROM kaireon._cap_state('resp-b', 'gold-daily');
SET kaireon.tenant = 'resp-b';
SELECT count(*) AS reader_sees_of_b FROM kaireon.interactions;
RESET ROLE;
-- Each tenant has its own catalog: resp-b registered no outcome types.
SELECT kaireon_respond('{"customerId": "ana", "offerId": "gold", "outcome": "impression", "idempotencyKey": "b-1"}');
SET kaireon.tenant = 'resp-a';

-- ===========================================================================
-- 7. forget_customer pseudonymises the customer's interactions (they stay
--    counted); drop_tenant removes them.
-- ===========================================================================
SELECT kaireon.forget_customer('cy') -> 'erased' AS erased;
SELECT count(*) FILTER (WHERE customer_id = 'cy') AS cy, count(*) FILTER (WHERE customer_id LIKE 'forgotten-%') AS forgotten
FROM kaireon.interactions;
SELECT current_count FROM kaireon.frequency_caps WHERE id = 'app-monthly';
RESET kaireon.tenant;
-- Interaction ids are made in the backend (row_id.h): every one a distinct
-- version 7 uuid of the RFC 9562 variant, whose first 48 bits are the real
-- time it was made in milliseconds (not kaireon.clock(): within the hour
-- before this statement).
SELECT count(*) AS interactions, count(DISTINCT id) = count(*) AS ids_distinct,
       bool_and(substr(id::text, 15, 1) = '7' AND substr(id::text, 20, 1) IN ('8', '9', 'a', 'b')) AS all_version_7,
       bool_and(('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint
                BETWEEN (extract(epoch FROM clock_timestamp() - interval '1 hour') * 1000)::bigint
                    AND (extract(epoch FROM clock_timestamp()) * 1000)::bigint) AS made_in_the_last_hour
FROM kaireon.interactions WHERE tenant_id IN ('resp-a', 'resp-b');
SELECT kaireon.drop_tenant('resp-a') -> 'deleted' -> 'kaireon.interactions' AS interactions_deleted;
SELECT kaireon.drop_tenant('resp-b') ->> 'tenantId' AS dropped;
-- The same tenant and cap made again count from zero (the dropped counts
-- went with the tenant).
SELECT kaireon.create_tenant('resp-a', 'Respond A again', 'ops@resp.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'resp-a';
SELECT kaireon.apply_catalog('{"channels": [{"id": "app", "type": "mobile"}],
  "caps": [{"id": "app-monthly", "scope": "channel", "scopeId": "app", "maxVolume": 100, "period": "monthly"}]}')
       -> 'applied' -> 'caps' -> 'inserted' AS caps;
SELECT id, current_count FROM kaireon.frequency_caps;
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('resp-a') ->> 'tenantId' AS dropped;
RESET kaireon.test_clock;

-- ===========================================================================
-- 8. A plan made while a table was nearly empty is made again as it grows
--    (spi.cpp: after 100, 200, 400, ... uses). decisions vacuumed small, a
--    new backend plans the lookup of the decision a response answers as a
--    scan of the whole table; without remaking, every later response would
--    scan it. The idempotency lookup reads interaction_keys by its index
--    without a plan (indexed_rows.h): never a scan. Counted in this
--    transaction's own statistics.
-- ===========================================================================
\c
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
SELECT kaireon.create_tenant('resp-plan', 'Respond plans', 'ops@plan.resp.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'resp-plan';
SELECT kaireon.apply_catalog('{"channels": [{"id": "web", "type": "web"}], "offers": [{"id": "o1", "name": "O1"}],
  "creatives": [{"id": "o1-web", "offerId": "o1", "channelId": "web"}], "customers": [{"id": "c1"}],
  "flows": [{"id": "home", "channelId": "web"}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}]}') IS NOT NULL AS applied;
VACUUM ANALYZE kaireon.decisions, kaireon.interaction_keys;
CREATE TEMP VIEW full_scans AS
SELECT coalesce(sum(seq_scan) FILTER (WHERE relid <> 'kaireon.interaction_keys'::regclass), 0) AS decisions,
       coalesce(sum(seq_scan) FILTER (WHERE relid = 'kaireon.interaction_keys'::regclass), 0) AS interaction_keys
FROM pg_stat_xact_user_tables
WHERE relid = 'kaireon.interaction_keys'::regclass
   OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'kaireon.decisions'::regclass);
BEGIN;
SELECT count(kaireon_respond(jsonb_build_object('decisionId', made.d ->> 'decisionId', 'outcome', 'impression',
                                                'idempotencyKey', 'plan-' || i)))
FROM generate_series(1, 1600) AS i,
     LATERAL (SELECT kaireon_recommend(jsonb_build_object('customerId', 'c1', 'flow', 'home', 'context', jsonb_build_object('i', i))) AS d) AS made;
SELECT decisions AS first_1600_full_scans FROM full_scans \gset
SELECT :first_1600_full_scans > 0 AS planned_on_a_small_table;
SELECT count(kaireon_respond(jsonb_build_object('decisionId', made.d ->> 'decisionId', 'outcome', 'impression',
                                                'idempotencyKey', 'plan-' || i)))
FROM generate_series(1601, 1700) AS i,
     LATERAL (SELECT kaireon_recommend(jsonb_build_object('customerId', 'c1', 'flow', 'home', 'context', jsonb_build_object('i', i))) AS d) AS made;
SELECT decisions - :first_1600_full_scans AS next_100_full_scans, interaction_keys AS idempotency_full_scans
FROM full_scans;
COMMIT;
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('resp-plan') ->> 'tenantId' AS dropped;
RESET kaireon.test_clock;
DROP ROLE regress_resp_app, regress_resp_reader;

-- Streaming ingest and triggers (SPEC 6.7, docs/automation.md): the tier
-- gates (ingest professional+, checked first; triggers enterprise), triggers
-- in priority order with conditions over the customer and the event's
-- payload, per-customer cooldowns, the actions run_flow (a recorded
-- decision whose context is the payload), update_attribute (seen by later
-- triggers), webhook (the outbox), trigger.fired events, the batch form, and
-- refusals that change nothing.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
SELECT kaireon.create_tenant('ing-a', 'Ingest A', 'ops@ing.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'ing-a';
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog(jsonb_build_object(
  'channels', '[{"id": "web", "name": "Web", "type": "web"}]'::jsonb,
  'offers', '[{"id": "gold", "name": "Gold", "priority": 90, "eligibility": "context.amount >= 100"},
              {"id": "silver", "name": "Silver", "priority": 80}]'::jsonb,
  'creatives', '[{"id": "gold-web", "offerId": "gold", "channelId": "web"},
                 {"id": "silver-web", "offerId": "silver", "channelId": "web"}]'::jsonb,
  'customers', '[{"id": "c1", "attributes": {"tier": "silver", "age": 30}}, {"id": "c2", "attributes": {"tier": "silver"}}]'::jsonb,
  'flows', '[{"id": "welcome", "name": "Welcome", "channelId": "web", "ranking": {"method": "top_n", "n": 1}},
             {"id": "vip", "name": "Gold customers only", "channelId": "web", "eligibility": "customer.tier = ''gold''",
              "ranking": {"method": "top_n", "n": 1}}]'::jsonb
)) -> 'applied');

-- 1. Ingest is professional+ (KR403, before anything else: even a bad
-- event is refused for the tier first).
SELECT kaireon.ingest_event('c1', 'signup', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_event('nobody', 'bad type!', '[]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('pipelines.streaming', '{"enabled": true}') ->> 'inForce' AS streaming_in_force;
-- Without triggers of its type, an event fires nothing.
SELECT kaireon.ingest_event('c1', 'signup', '{"source": "web"}');

-- 2. Triggers: signup runs the welcome flow (cooldown 1 h); purchase
-- makes big spenders gold (priority 20), then thanks gold customers with
-- the vip flow, for gold customers only (priority 30, once a day); cart_abandoned goes to a
-- webhook; birthday enrolls in a journey.
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog(jsonb_build_object(
  'journeys', '[{"id": "j1", "name": "Birthday", "nodes": [{"id": "start", "type": "recommend", "flowId": "welcome"},
                                                            {"id": "end", "type": "exit"}],
                 "edges": [{"from": "start", "to": "end"}]}]'::jsonb,
  'triggers', '[{"id": "t-welcome", "eventType": "signup", "priority": 10, "cooldownSeconds": 3600,
                 "action": {"type": "run_flow", "flowId": "welcome"}},
                {"id": "t-thanks", "eventType": "purchase", "priority": 30, "cooldownSeconds": 86400,
                 "condition": "customer.tier = ''gold''", "action": {"type": "run_flow", "flowId": "vip"}},
                {"id": "t-vip", "eventType": "purchase", "priority": 20, "condition": "context.amount >= 1000",
                 "action": {"type": "update_attribute", "attribute": "tier", "value": "gold"}},
                {"id": "t-hook", "eventType": "cart_abandoned",
                 "action": {"type": "webhook", "endpointId": 7, "payload": {"template": "cart"}}},
                {"id": "t-birthday", "eventType": "birthday", "action": {"type": "enroll_journey", "journeyId": "j1"}}]'::jsonb
)) -> 'applied');
-- Triggers are enterprise: an event that would fire one is refused.
SELECT kaireon.ingest_event('c1', 'signup', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('triggers', '{"enabled": true}') ->> 'inForce' AS triggers_in_force;

-- 3. run_flow: a recorded decision whose context is the payload (gold
-- needs context.amount >= 100), and trigger.fired in the outbox.
CREATE TEMP TABLE answer AS SELECT kaireon.ingest_event('c1', 'signup', '{"amount": 250}') AS a;
SELECT jsonb_pretty(a #- '{triggers,0,result,decisionId}') AS answer,
       (a -> 'triggers' -> 0 -> 'result' ->> 'decisionId') IN
           (SELECT id::text FROM kaireon.decisions WHERE tenant_id = 'ing-a' AND customer_id = 'c1' AND flow = 'welcome')
       AS decision_recorded
FROM answer;
SELECT type, payload - 'result' AS payload, payload -> 'result' -> 'offers' -> 0 ->> 'offerId' AS offer
FROM kaireon.events WHERE tenant_id = 'ing-a' AND type = 'trigger.fired' ORDER BY id;

-- 4. The cooldown: again within the hour, nothing fires; an hour later it
-- fires again (c2 has its own cooldown).
SELECT kaireon.ingest_event('c1', 'signup', '{}') -> 'triggers' AS within_the_hour;
SELECT kaireon.ingest_event('c2', 'signup', '{}') -> 'triggers' -> 0 ->> 'fired' AS c2_fires;
SET kaireon.test_clock = '2026-06-10T13:00:00Z';
SELECT kaireon.ingest_event('c1', 'signup', '{}') -> 'triggers' -> 0 ->> 'fired' AS an_hour_later;
SELECT trigger_id, customer_id, last_fired_at, fired FROM kaireon.trigger_cooldowns
WHERE tenant_id = 'ing-a' ORDER BY 1, 2;

-- 5. Conditions and order: a small purchase fires nothing; a big one makes
-- c1 gold, and the next trigger already sees it, in its condition and in
-- its decision (the vip flow shows offers to gold customers only).
SELECT kaireon.ingest_event('c1', 'purchase', '{"amount": 50}') -> 'triggers' AS small_purchase;
SELECT t ->> 'triggerId' AS trigger, t ->> 'fired' AS fired, (t -> 'result') - 'decisionId'::text AS result
FROM jsonb_array_elements(kaireon.ingest_event('c1', 'purchase', '{"amount": 5000}') -> 'triggers') t;
SELECT attributes FROM kaireon.customers WHERE tenant_id = 'ing-a' AND id = 'c1';

-- 6. webhook: the action's endpoint and payload go to the outbox for
-- delivery.
SELECT kaireon.ingest_event('c2', 'cart_abandoned', '{"items": 3}') -> 'triggers' AS webhook;
SELECT payload FROM kaireon.events WHERE tenant_id = 'ing-a' AND type = 'trigger.fired'
  AND payload ->> 'action' = 'webhook';

-- 7. Refusals change nothing: an action the plan lacks (journeys), bad events, an
-- unknown customer.
CREATE FUNCTION pg_temp.snapshot() RETURNS TABLE (decisions bigint, events bigint, fired numeric) LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM kaireon.decisions WHERE tenant_id = 'ing-a'),
           (SELECT count(*) FROM kaireon.events WHERE tenant_id = 'ing-a'),
           (SELECT sum(fired) FROM kaireon.trigger_cooldowns WHERE tenant_id = 'ing-a')
$$;
CREATE TEMP TABLE counts AS SELECT * FROM pg_temp.snapshot();
SELECT kaireon.ingest_event('c1', 'birthday', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_event(NULL, 'signup', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_event('', 'signup', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_event('c1', 'bad type!', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_event('c1', NULL, '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_event('c1', 'signup', '[1, 2]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_event('nobody', 'signup', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT s = c AS nothing_changed FROM pg_temp.snapshot() s, counts c;
-- A null payload is an empty one.
SELECT kaireon.ingest_event('c2', 'no_trigger', NULL) -> 'triggers' AS null_payload;

-- 8. The batch form: in order, in one transaction; one bad event refuses
-- them all.
SET kaireon.test_clock = '2026-06-10T15:00:00Z';
SELECT e ->> 'customerId' AS customer, e ->> 'eventType' AS event_type,
       jsonb_path_query_array(e -> 'triggers', '$[*].fired') AS fired
FROM jsonb_array_elements(kaireon.ingest_events('[{"customerId": "c1", "eventType": "signup", "payload": {"amount": 1}},
                                                  {"customerId": "c2", "eventType": "purchase", "payload": {"amount": 2000}},
                                                  {"customerId": "c2", "eventType": "purchase"}]') -> 'events') e;
DELETE FROM counts;
INSERT INTO counts SELECT * FROM pg_temp.snapshot();
SELECT kaireon.ingest_events('[{"customerId": "c1", "eventType": "signup"}, {"customerId": "c2", "eventType": "no way"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_events('[{"customerId": "c1", "eventType": "signup", "extra": 1}]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_events('{"customerId": "c1"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ingest_events((SELECT jsonb_agg(jsonb_build_object('customerId', 'c1', 'eventType', 'x')) FROM generate_series(1, 1001)));
\echo :LAST_ERROR_SQLSTATE
SELECT s = c AS nothing_changed FROM pg_temp.snapshot() s, counts c;

-- 9. metric() has no history to count at ingest: refused in a trigger's
-- condition.
SELECT kaireon.apply_catalog('{"triggers": [{"id": "t-m", "eventType": "x", "condition": "metric(''clicks'') > 1",
                                              "action": {"type": "run_flow", "flowId": "welcome"}}]}');
\echo :LAST_ERROR_SQLSTATE

-- Clean up.
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('ing-a') -> 'deleted' -> 'kaireon.trigger_cooldowns' AS cooldowns_deleted;

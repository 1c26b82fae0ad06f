-- Journeys (SPEC 6.7, docs/automation.md): the enterprise gate, the
-- catalog's rules for a journey's graph, enrolment (entry condition, modes
-- skip_if_active / restart / allow_multiple), recommend / wait / branch /
-- exit nodes, waits ended by responses and ingested events or by tick()
-- after their time, the maximum duration, every transition recorded with
-- its outbox event, exit_journey, journeys or customers that disappear, a
-- failing step that waits while the others go on, a tick that rolls back,
-- and refusals that change nothing.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
SELECT kaireon.create_tenant('jr-a', 'Journeys A', 'ops@jr.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'jr-a';
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog(jsonb_build_object(
  'channels', '[{"id": "web", "name": "Web", "type": "web"}]'::jsonb,
  'outcomeTypes', '[{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"},
                    {"id": "purchase", "kind": "positive"}]'::jsonb,
  'offers', '[{"id": "card", "name": "Card", "priority": 90}, {"id": "gift", "name": "Gift", "priority": 80},
              {"id": "vip", "name": "VIP lounge", "priority": 70, "eligibility": "customer.tier = ''gold''"}]'::jsonb,
  'creatives', '[{"id": "card-web", "offerId": "card", "channelId": "web"}, {"id": "gift-web", "offerId": "gift", "channelId": "web"},
                 {"id": "vip-web", "offerId": "vip", "channelId": "web"}]'::jsonb,
  'customers', '[{"id": "c1", "attributes": {"age": 30, "tier": "gold"}}, {"id": "c2", "attributes": {"age": 40, "tier": "silver"}},
                 {"id": "c3", "attributes": {"age": 25}}, {"id": "kid", "attributes": {"age": 15}}]'::jsonb,
  'flows', '[{"id": "welcome", "name": "Welcome", "channelId": "web", "ranking": {"method": "top_n", "n": 1}},
             {"id": "thanks", "name": "Thanks", "channelId": "web", "eligibility": "context.source != ''none''",
              "ranking": {"method": "top_n", "n": 1}},
             {"id": "lounge", "name": "Lounge", "channelId": "web", "eligibility": "customer.tier = ''gold''",
              "ranking": {"method": "top_n", "n": 1}}]'::jsonb
)) -> 'applied');

-- 1. Journeys are enterprise (KR403 before anything else).
SELECT kaireon.enroll_journey('c1', 'onboarding');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.set_override('journeys', '{"enabled": true}') ->> 'inForce' AS journeys_in_force;

-- 2. The catalog refuses a graph the engine cannot run (KR400 naming the
-- field): a label the node cannot leave by, two edges with one label, an
-- edge out of an exit, a field the node type does not use, a cycle without
-- a wait.
SELECT kaireon.apply_catalog('{"journeys": [{"id": "bad", "nodes": [{"id": "a", "type": "recommend", "flowId": "welcome"},
  {"id": "b", "type": "exit"}], "edges": [{"from": "a", "to": "b", "when": "timeout"}]}]}');
SELECT kaireon.apply_catalog('{"journeys": [{"id": "bad", "nodes": [{"id": "a", "type": "branch", "condition": "true"},
  {"id": "b", "type": "exit"}], "edges": [{"from": "a", "to": "b", "when": "true"}, {"from": "a", "to": "b", "when": "true"}]}]}');
SELECT kaireon.apply_catalog('{"journeys": [{"id": "bad", "nodes": [{"id": "a", "type": "exit"}, {"id": "b", "type": "exit"}],
  "edges": [{"from": "a", "to": "b"}]}]}');
SELECT kaireon.apply_catalog('{"journeys": [{"id": "bad", "nodes": [{"id": "a", "type": "recommend", "flowId": "welcome",
  "waitHours": 2}]}]}');
SELECT kaireon.apply_catalog('{"journeys": [{"id": "bad", "nodes": [{"id": "a", "type": "recommend", "flowId": "welcome"},
  {"id": "b", "type": "branch", "condition": "customer.age > 20"}],
  "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}]}');
SELECT count(*) AS journeys_stored FROM kaireon.journeys WHERE tenant_id = 'jr-a';

-- 3. The journeys of this test.
-- onboarding: offer (welcome) -> wait for a click, 48 h at most
--   -outcome-> thank (thanks flow) -> done
--   -timeout-> gold? (branch) -true-> lounge (lounge flow) ; -false-> done
-- nurture: a 24 h delay, then a recommend; loyalty: waits for a purchase
-- for at most its one-day maximum duration.
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{"journeys": [
  {"id": "onboarding", "name": "Onboarding", "entryCondition": "customer.age >= 18", "maxDurationDays": 30,
   "nodes": [{"id": "offer", "type": "recommend", "flowId": "welcome"},
             {"id": "wait", "type": "wait", "outcome": "click", "timeoutHours": 48},
             {"id": "thank", "type": "recommend", "flowId": "thanks"},
             {"id": "gold", "type": "branch", "condition": "customer.tier = ''gold''"},
             {"id": "lounge", "type": "recommend", "flowId": "lounge"},
             {"id": "done", "type": "exit"}],
   "edges": [{"from": "offer", "to": "wait"}, {"from": "wait", "to": "thank", "when": "outcome"},
             {"from": "wait", "to": "gold", "when": "timeout"}, {"from": "thank", "to": "done"},
             {"from": "gold", "to": "lounge", "when": "true"}, {"from": "gold", "to": "done", "when": "false"}]},
  {"id": "nurture", "nodes": [{"id": "pause", "type": "wait", "waitHours": 24},
                              {"id": "again", "type": "recommend", "flowId": "welcome"}],
   "edges": [{"from": "pause", "to": "again"}]},
  {"id": "loyalty", "maxDurationDays": 1,
   "nodes": [{"id": "buy", "type": "wait", "outcome": "purchase"}, {"id": "bought", "type": "branch", "outcome": "click"},
             {"id": "fan", "type": "exit"}],
   "edges": [{"from": "buy", "to": "bought"}, {"from": "bought", "to": "fan", "when": "true"}]}]}'::jsonb) -> 'applied');

CREATE FUNCTION pg_temp.instances() RETURNS TABLE (id bigint, journey text, customer text, status text, node text,
                                                   wake_at timestamptz, steps int, end_reason text, last_error text)
LANGUAGE sql AS $$
    SELECT id, journey_id, customer_id, status, node_id, wake_at, steps, end_reason, last_error
    FROM kaireon.journey_instances WHERE tenant_id = 'jr-a' ORDER BY id
$$;
CREATE FUNCTION pg_temp.transitions(instance bigint) RETURNS TABLE (step int, from_node text, to_node text, reason text,
                                                                   decided boolean, at timestamptz)
LANGUAGE sql AS $$
    SELECT step, from_node, to_node, reason, decision_id IS NOT NULL, at
    FROM kaireon.journey_transitions WHERE tenant_id = 'jr-a' AND instance_id = instance ORDER BY step
$$;

-- 4. Enrolling runs the journey as far as it goes now: c1 enters, gets the
-- welcome decision (recorded, with its id on the transition) and waits for
-- a click until 48 h later.
CREATE TEMP TABLE enrolled AS SELECT kaireon.enroll_journey('c1', 'onboarding', '{"source": "web"}') AS a;
SELECT jsonb_pretty(a #- '{transitions,1,decisionId}') AS answer,
       (a -> 'transitions' -> 1 ->> 'decisionId') IN
           (SELECT id::text FROM kaireon.decisions WHERE tenant_id = 'jr-a' AND customer_id = 'c1' AND flow = 'welcome')
       AS decision_recorded
FROM enrolled;
SELECT * FROM pg_temp.instances();
SELECT * FROM pg_temp.transitions(1);
SELECT type, payload FROM kaireon.events WHERE tenant_id = 'jr-a' AND type LIKE 'journey.%' ORDER BY id;
-- skip_if_active (the default): already in it, nothing happens.
SELECT kaireon.enroll_journey('c1', 'onboarding');
-- The entry condition keeps the kid out.
SELECT kaireon.enroll_journey('kid', 'onboarding');
SELECT journey_id, customer_id, enrolled, last_enrolled_at FROM kaireon.journey_enrollments WHERE tenant_id = 'jr-a' ORDER BY 1, 2;

-- 5. A response ends the wait for it, at once; the decision it leads to is
-- the next tick's (a journey never makes a response fail), which then
-- completes the journey. A tick before anything is due does nothing.
SELECT kaireon.tick() -> 'journeys' AS nothing_due;
SELECT kaireon_respond(jsonb_build_object('customerId', 'c1', 'offerId', 'card', 'channel', 'web', 'outcome', 'click',
                                          'idempotencyKey', 'c1-click-1')) ->> 'recorded' AS clicked;
SELECT * FROM pg_temp.instances();
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT * FROM pg_temp.instances();
SELECT * FROM pg_temp.transitions(1);
SELECT type, payload - 'instanceId' AS payload FROM kaireon.events
WHERE tenant_id = 'jr-a' AND type LIKE 'journey.%' AND payload ->> 'instanceId' = '1' ORDER BY id OFFSET 2;
-- The same click again (its idempotency key) is a duplicate: no news.
SELECT kaireon_respond(jsonb_build_object('customerId', 'c1', 'offerId', 'card', 'channel', 'web', 'outcome', 'click',
                                          'idempotencyKey', 'c1-click-1')) ->> 'duplicate' AS duplicate;

-- 6. The timeout: c2 (silver) and c3 (no tier) never click. Nothing moves
-- before 48 h; then the branch sends neither to the lounge. A second tick
-- finds nothing to do.
SELECT kaireon.enroll_journey('c2', 'onboarding') ->> 'node' AS c2_at,
       kaireon.enroll_journey('c3', 'onboarding') ->> 'node' AS c3_at;
SET kaireon.test_clock = '2026-06-12T11:59:59Z';
SELECT kaireon.tick() -> 'journeys' AS a_second_early;
SET kaireon.test_clock = '2026-06-12T12:00:00Z';
SELECT kaireon.tick() -> 'journeys' AS after_48h;
SELECT kaireon.tick() -> 'journeys' AS again;
SELECT * FROM pg_temp.instances();
SELECT * FROM pg_temp.transitions(2);

-- 7. The lounge for gold customers: c1 enters again (the last one ended),
-- times out, and the branch takes it to the lounge decision.
SELECT kaireon.enroll_journey('c1', 'onboarding') ->> 'instanceId' AS c1_again;
SET kaireon.test_clock = '2026-06-14T12:00:00Z';
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT * FROM pg_temp.transitions(4);

-- 8. Modes: restart ends the active instance ("restarted") and starts
-- another; allow_multiple adds one beside it.
SELECT kaireon.enroll_journey('c2', 'nurture') ->> 'node' AS c2_pausing;
SELECT kaireon.enroll_journey('c2', 'nurture', '{}', 'restart') ->> 'instanceId' AS restarted_as;
SELECT kaireon.enroll_journey('c2', 'nurture', '{}', 'allow_multiple') ->> 'instanceId' AS beside;
SELECT id, status, node, end_reason FROM pg_temp.instances() WHERE journey = 'nurture';
SELECT type, payload ->> 'reason' AS reason FROM kaireon.events
WHERE tenant_id = 'jr-a' AND type = 'journey.exited' ORDER BY id;
-- A day later both pauses end and each makes its decision.
SET kaireon.test_clock = '2026-06-15T12:00:00Z';
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT id, status, end_reason, steps FROM pg_temp.instances() WHERE journey = 'nurture';

-- 9. Ingested events are news too: a purchase ends loyalty's wait (the
-- answer lists the journeys it moved), and a click seen earlier in the
-- journey sends the branch to "fan". A trigger can enrol (mode restart).
SELECT kaireon.set_override('pipelines.streaming', '{"enabled": true}') ->> 'inForce' AS streaming;
SELECT kaireon.set_override('triggers', '{"enabled": true}') ->> 'inForce' AS triggers;
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{"triggers": [
  {"id": "t-loyal", "eventType": "signup", "action": {"type": "enroll_journey", "journeyId": "loyalty", "mode": "restart"}}]}'::jsonb)
  -> 'applied');
SELECT jsonb_pretty((kaireon.ingest_event('c3', 'signup', '{"plan": "basic"}') -> 'triggers' -> 0) #- '{result,transitions}')
       AS enrolled_by_trigger;
SELECT kaireon.ingest_event('c3', 'click', '{}') -> 'journeys' AS click_news;
SELECT jsonb_pretty(kaireon.ingest_event('c3', 'purchase', '{"amount": 20}') -> 'journeys') AS purchase_news;
SELECT context, outcomes FROM kaireon.journey_instances WHERE tenant_id = 'jr-a' AND journey_id = 'loyalty';
SELECT type, payload ->> 'triggerId' AS trigger, payload -> 'result' ->> 'journeyId' AS journey,
       payload -> 'result' ->> 'enrolled' AS enrolled
FROM kaireon.events WHERE tenant_id = 'jr-a' AND type = 'trigger.fired' ORDER BY id;

-- 10. The maximum duration: loyalty lasts a day; c2 never buys and leaves
-- at tick a day later ("maxDuration").
SELECT kaireon.enroll_journey('c2', 'loyalty') ->> 'node' AS c2_waits;
SELECT wake_at FROM kaireon.journey_instances WHERE tenant_id = 'jr-a' AND journey_id = 'loyalty' AND customer_id = 'c2';
SET kaireon.test_clock = '2026-06-16T12:00:00Z';
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT status, end_reason FROM kaireon.journey_instances WHERE tenant_id = 'jr-a' AND journey_id = 'loyalty' AND customer_id = 'c2';

-- 11. exit_journey takes a customer out ("removed"); a journey deleted
-- from the catalog, or a customer deleted, ends the instance at the next
-- tick.
SELECT kaireon.enroll_journey('c1', 'nurture') ->> 'node' AS c1_pausing;
SELECT kaireon.exit_journey('c1', 'nurture');
SELECT kaireon.exit_journey('c1', 'nurture') ->> 'exited' AS nothing_left;
SELECT kaireon.enroll_journey('c1', 'loyalty') ->> 'node' AS c1_loyal,
       kaireon.enroll_journey('c3', 'nurture') ->> 'node' AS c3_pausing;
UPDATE kaireon.journey_instances SET wake_at = kaireon.clock() WHERE tenant_id = 'jr-a' AND status = 'active';
DELETE FROM kaireon.journeys WHERE tenant_id = 'jr-a' AND id = 'loyalty';
DELETE FROM kaireon.customers WHERE tenant_id = 'jr-a' AND id = 'c3';
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT journey, customer, status, end_reason FROM pg_temp.instances() WHERE end_reason LIKE '%removed';

-- 12. A step that fails keeps its place and tells why; the others go on.
-- The thanks flow is deleted behind the catalog's back (plain SQL), so
-- c2's decision after its click cannot be made.
SELECT kaireon.enroll_journey('c2', 'onboarding') ->> 'node' AS c2_waits;
SELECT kaireon.enroll_journey('c1', 'nurture') ->> 'node' AS c1_pausing;
SELECT kaireon_respond(jsonb_build_object('customerId', 'c2', 'offerId', 'card', 'channel', 'web', 'outcome', 'click',
                                          'idempotencyKey', 'c2-click-1')) ->> 'recorded' AS clicked;
DELETE FROM kaireon.flows WHERE tenant_id = 'jr-a' AND id = 'thanks';
SET kaireon.test_clock = '2026-06-17T12:00:00Z';
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT journey, customer, status, node, wake_at, last_error FROM pg_temp.instances() WHERE status = 'active';

-- 13. A tick that rolls back leaves no trace; run again, it does the work
-- once.
SELECT kaireon.enroll_journey('c1', 'nurture') ->> 'node' AS c1_pausing;
BEGIN;
SET LOCAL kaireon.test_clock = '2026-06-18T12:00:00Z';
SELECT kaireon.tick() -> 'journeys' AS rolled_back;
ROLLBACK;
SELECT count(*) AS transitions_before FROM kaireon.journey_transitions WHERE tenant_id = 'jr-a';
SET kaireon.test_clock = '2026-06-18T12:00:00Z';
SELECT kaireon.tick() -> 'journeys' AS tick;
SELECT kaireon.tick() -> 'journeys' AS again;
SELECT count(*) AS transitions_after FROM kaireon.journey_transitions WHERE tenant_id = 'jr-a';

-- 14. What the summary shows.
SELECT journey_id, status, at, customers FROM kaireon.journey_summary WHERE tenant_id = 'jr-a' ORDER BY 1, 2, 3;

-- 15. Refusals change nothing.
CREATE FUNCTION pg_temp.snapshot() RETURNS TABLE (instances bigint, transitions bigint, events bigint, decisions bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM kaireon.journey_instances WHERE tenant_id = 'jr-a'),
           (SELECT count(*) FROM kaireon.journey_transitions WHERE tenant_id = 'jr-a'),
           (SELECT count(*) FROM kaireon.events WHERE tenant_id = 'jr-a'),
           (SELECT count(*) FROM kaireon.decisions WHERE tenant_id = 'jr-a')
$$;
CREATE TEMP TABLE counts AS SELECT * FROM pg_temp.snapshot();
SELECT kaireon.enroll_journey('nobody', 'onboarding');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.enroll_journey('c1', 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.enroll_journey('c1', 'nurture', '{}', 'twice');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.enroll_journey('c1', 'nurture', '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.enroll_journey(NULL, 'nurture');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.enroll_journey('c1', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.exit_journey('nobody', 'nurture');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.exit_journey('c1', '');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.advance_journeys(0);
\echo :LAST_ERROR_SQLSTATE
-- A journey stored under older rules (written past the catalog's checks
-- here with the trigger disabled) is refused by name when used.
ALTER TABLE kaireon.journeys DISABLE TRIGGER USER;
INSERT INTO kaireon.journeys (tenant_id, id, nodes, edges) VALUES
  ('jr-a', 'legacy', '[{"id": "a", "type": "exit"}, {"id": "b", "type": "exit"}]', '[{"from": "a", "to": "b"}]');
ALTER TABLE kaireon.journeys ENABLE TRIGGER USER;
UPDATE kaireon.journeys SET name = name WHERE tenant_id = 'jr-a' AND id = 'nurture';  -- the catalog changed
SELECT kaireon.enroll_journey('c1', 'legacy');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM kaireon.journeys WHERE tenant_id = 'jr-a' AND id = 'legacy';
SELECT (SELECT row(s.*)::text FROM pg_temp.snapshot() s) = (SELECT row(c.*)::text FROM counts c) AS nothing_changed;
-- Another tenant sees nothing of these instances (RLS; tested for roles in
-- pgTAP), and a tenant without journeys is refused.
SELECT kaireon.create_tenant('jr-b', 'Journeys B', 'ops@jr.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'jr-b';
SELECT kaireon.enroll_journey('c1', 'onboarding');
\echo :LAST_ERROR_SQLSTATE

-- Clean up: dropping a tenant deletes its journeys' rows.
RESET kaireon.tenant;
SELECT d -> 'kaireon.journey_instances' AS instances, d -> 'kaireon.journey_transitions' AS transitions,
       d -> 'kaireon.journey_enrollments' AS enrollments
FROM (SELECT kaireon.drop_tenant('jr-a') -> 'deleted' AS d) x;
SELECT kaireon.drop_tenant('jr-b') IS NOT NULL AS dropped;
RESET kaireon.test_clock;

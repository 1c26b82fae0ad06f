-- Webhook delivery (docs/webhooks.md): plan_webhook_deliveries fans the
-- outbox out to matching endpoints only (event types, active, the tenant's,
-- registered before the event; trigger webhook actions to the endpoint they
-- name), never twice; claim_webhook_deliveries returns signed requests, one
-- per endpoint, in seq order per endpoint (a failing head holds up its own
-- endpoint only); finish_webhook_delivery retries with backoff within
-- bounds, dead-letters after kaireon.webhook_max_attempts, ignores stale
-- finishes; lease expiry; redeliver_webhook; every bad argument refused with
-- nothing changed. Signatures are compared with pgcrypto's hmac().
-- Endpoints are shown by label and events by their payload's "n": ids
-- depend on the tests before.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-07-01T00:00:00Z';
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The settings and their defaults.
SHOW kaireon.webhook_max_attempts;
SHOW kaireon.webhook_backoff_base;
SHOW kaireon.webhook_backoff_max;
SET kaireon.webhook_max_attempts = 3;

-- Other tests' endpoints are switched off, so claims return only ours.
UPDATE kaireon.webhook_endpoints SET active = false;
SELECT kaireon.plan_webhook_deliveries(10000) >= 0 AS caught_up;

SELECT kaireon.create_tenant('wh-a', 'Webhooks A', 'a@wh.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('wh-b', 'Webhooks B', 'b@wh.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'wh-a';
SELECT (kaireon.add_webhook_endpoint('http://127.0.0.1:9/a1') ->> 'id') AS a1,
       (kaireon.add_webhook_endpoint('http://127.0.0.1:9/a2', ARRAY['quota.warning']) ->> 'id') AS a2,
       (kaireon.add_webhook_endpoint('http://127.0.0.1:9/a3') ->> 'id') AS a3,
       (kaireon.add_webhook_endpoint('http://127.0.0.1:9/a4') ->> 'id') AS a4 \gset
SET kaireon.tenant = 'wh-b';
SELECT (kaireon.add_webhook_endpoint('http://127.0.0.1:9/b1') ->> 'id') AS b1 \gset
RESET kaireon.tenant;
UPDATE kaireon.webhook_endpoints SET active = false WHERE url = 'http://127.0.0.1:9/a4';

-- label: an endpoint's label; n: an event's "n".
CREATE FUNCTION pg_temp.label(endpoint bigint) RETURNS text LANGUAGE sql AS $$
    SELECT substr(url, length('http://127.0.0.1:9/') + 1) FROM kaireon.webhook_endpoints WHERE id = endpoint
$$;
CREATE FUNCTION pg_temp.emit(tenant text, type text, n int, extra jsonb DEFAULT '{}') RETURNS void LANGUAGE sql AS $$
    SELECT kaireon._emit_event_once(tenant, type, jsonb_build_object('n', n) || extra, 'wh-test:' || n)
$$;
CREATE VIEW pg_temp.deliveries AS
    SELECT pg_temp.label(d.endpoint_id) AS endpoint, (e.payload ->> 'n')::int AS n, d.state, d.attempts,
           d.lease_owner, d.last_status, d.last_error
    FROM kaireon.webhook_deliveries d JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
    WHERE d.tenant_id IN ('wh-a', 'wh-b');
-- claimed: a claim shown by endpoint, n and attempt, with whether its
-- signature is pgcrypto's HMAC of "<timestamp>.<body>" with the secret.
CREATE FUNCTION pg_temp.claim(worker text, max int DEFAULT 10, lease int DEFAULT 60)
RETURNS TABLE (endpoint text, n int, attempt int, attempt_header text, signature_ok boolean)
LANGUAGE sql AS $$
    SELECT pg_temp.label(c.endpoint_id),
           (SELECT (e.payload ->> 'n')::int FROM kaireon.events e WHERE e.tenant_id = c.tenant_id AND e.id = c.event_id), c.attempt,
           c.headers ->> 'Kaireon-Delivery-Attempt',
           c.headers ->> 'Kaireon-Signature' = 'v1=' || encode(hmac(convert_to((c.headers ->> 'Kaireon-Timestamp') || '.' || c.body, 'UTF8'),
                                                                convert_to(w.secret, 'UTF8'), 'sha256'), 'hex')
    FROM kaireon.claim_webhook_deliveries(worker, max, lease) c
    JOIN kaireon.webhook_endpoints w ON w.tenant_id = c.tenant_id AND w.id = c.endpoint_id
    ORDER BY 1, 2
$$;
-- finish: finish_webhook_delivery for (endpoint label, n).
CREATE FUNCTION pg_temp.finish(endpoint text, n int, attempt int, worker text, status int, error text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT kaireon.finish_webhook_delivery(d.tenant_id, d.endpoint_id, d.event_id, attempt, worker, status, error, 12)
           - 'nextAttemptAt'
    FROM kaireon.webhook_deliveries d JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
    WHERE pg_temp.label(d.endpoint_id) = endpoint AND (e.payload ->> 'n')::int = n
$$;
-- delay: seconds from the clock to a delivery's next attempt.
CREATE FUNCTION pg_temp.delay(endpoint text, n int) RETURNS numeric LANGUAGE sql AS $$
    SELECT extract(epoch FROM d.next_attempt_at - kaireon.clock())
    FROM kaireon.webhook_deliveries d JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
    WHERE pg_temp.label(d.endpoint_id) = endpoint AND (e.payload ->> 'n')::int = n
$$;
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Fan-out: a1 takes every type, a2 quota.warning only, a3 is removed after
-- planning, a4 is inactive, b1 is the other tenant's.
SELECT pg_temp.emit('wh-a', 'quota.warning', 1), pg_temp.emit('wh-a', 'usage.threshold_reached', 2),
       pg_temp.emit('wh-b', 'quota.warning', 3);
SELECT kaireon.plan_webhook_deliveries() AS planned;
SELECT * FROM pg_temp.deliveries ORDER BY endpoint, n;
-- Planned once: a second plan finds nothing new.
SELECT kaireon.plan_webhook_deliveries() AS planned_again;
SET kaireon.tenant = 'wh-a';
SELECT kaireon.remove_webhook_endpoint(:a3) AS removed_a3;
RESET kaireon.tenant;
SELECT endpoint, count(*) FROM pg_temp.deliveries GROUP BY endpoint ORDER BY endpoint;
-- An endpoint receives only events after it was registered.
SELECT pg_temp.emit('wh-b', 'quota.warning', 4);
SET kaireon.tenant = 'wh-b';
SELECT (kaireon.add_webhook_endpoint('http://127.0.0.1:9/b2') ->> 'id') AS b2 \gset
RESET kaireon.tenant;
SELECT kaireon.plan_webhook_deliveries() AS planned;
SELECT * FROM pg_temp.deliveries WHERE n = 4 ORDER BY endpoint;

-- Trigger webhook actions (trigger.fired with action "webhook"): delivered to
-- the named endpoint whatever its event types (a2), with the action's
-- payload and the trigger's context as data; a1 (every type) gets the
-- event as it is. The other tenant's endpoint (b1) and an inactive one
-- (a4) get nothing.
SELECT pg_temp.emit('wh-a', 'trigger.fired', 5, jsonb_build_object('triggerId', 't-cart', 'customerId', 'c1',
         'eventType', 'cart_abandoned', 'action', 'webhook',
         'result', jsonb_build_object('endpointId', :a2, 'payload', '{"template": "cart"}'::jsonb))),
       pg_temp.emit('wh-a', 'trigger.fired', 6, jsonb_build_object('triggerId', 't-x', 'customerId', 'c1',
         'eventType', 'x', 'action', 'webhook', 'result', jsonb_build_object('endpointId', :b1, 'payload', '{}'::jsonb))),
       pg_temp.emit('wh-a', 'trigger.fired', 7, jsonb_build_object('triggerId', 't-y', 'customerId', 'c1',
         'eventType', 'y', 'action', 'webhook', 'result', jsonb_build_object('endpointId', :a4, 'payload', '{}'::jsonb)));
SELECT kaireon.plan_webhook_deliveries() AS planned;
SELECT * FROM pg_temp.deliveries WHERE n >= 5 ORDER BY endpoint, n;
SELECT pg_temp.label(d.endpoint_id) AS endpoint, kaireon._webhook_body(e, d.endpoint_id)::jsonb - 'id' - 'seq' AS body
FROM kaireon.webhook_deliveries d JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
WHERE e.payload ->> 'n' = '5' ORDER BY 1;
-- The envelope of a plain event, and the headers of a claim.
SELECT kaireon._webhook_body(e, :a1)::jsonb - 'id' - 'seq' AS body FROM kaireon.events e WHERE e.dedupe_key = 'wh-test:1';

-- Claims: one per endpoint, each endpoint's earliest pending delivery;
-- every signature checks with pgcrypto.
SELECT * FROM pg_temp.claim('w1');
SELECT pg_temp.label(c.endpoint_id) AS endpoint,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(c.headers) k) AS headers,
       c.headers ->> 'Kaireon-Timestamp' AS ts, c.headers ->> 'Kaireon-Event-Id' = c.event_id::text AS event_id_ok,
       c.headers ->> 'Kaireon-Event-Type' AS type
FROM kaireon.claim_webhook_deliveries('w2', 10, 60) c;
-- Everything of ours is leased or waits behind a lease: w2 got nothing.
SELECT * FROM pg_temp.deliveries WHERE lease_owner IS NOT NULL ORDER BY endpoint, n;

-- Finish: 2xx delivers; a status or an error schedules a retry after
-- 5 to 10 s (base 10 s, jitter 50-100 %).
SELECT pg_temp.finish('a1', 1, 1, 'w1', 200) AS a1_1;
SELECT pg_temp.finish('a2', 1, 1, 'w1', NULL, 'Timeout was reached: Operation timed out after 10000 milliseconds') AS a2_1;
SELECT pg_temp.finish('b1', 3, 1, 'w1', 503) AS b1_3;
SELECT pg_temp.finish('b2', 4, 1, 'w1', 204) AS b2_4;
SELECT endpoint, n, pg_temp.delay(endpoint, n) BETWEEN 5 AND 10 AS delay_ok FROM pg_temp.deliveries
WHERE state = 'pending' AND last_status IS DISTINCT FROM NULL OR last_error IS NOT NULL ORDER BY 1, 2;
-- Order per endpoint: a1 moves on to 2; a2's failing head (1) holds up its
-- 5; b1's holds up its 4; other endpoints are not held up.
SELECT * FROM pg_temp.claim('w1');
-- 11 s later a2 and b1 are due again (attempt 2), a1's 2 is still leased.
SET kaireon.test_clock = '2026-07-01T00:00:11Z';
SELECT * FROM pg_temp.claim('w1');
SELECT pg_temp.finish('a2', 1, 2, 'w1', 200) AS a2_1;
SELECT pg_temp.finish('b1', 3, 2, 'w1', 500) AS b1_3;
SELECT pg_temp.delay('b1', 3) BETWEEN 10 AND 20 AS second_delay_ok;
SELECT * FROM pg_temp.claim('w1');  -- a2's 5 (its head was delivered); b1 waits
SELECT pg_temp.finish('a2', 5, 1, 'w1', 299) AS a2_5;
-- The third failure of b1's 3 (webhook_max_attempts = 3) dead-letters it,
-- and b1's 4 is no longer held up.
SET kaireon.test_clock = '2026-07-01T00:00:32Z';
SELECT * FROM pg_temp.claim('w1');
SELECT pg_temp.finish('b1', 3, 3, 'w1', 500) AS b1_3;
SELECT * FROM pg_temp.claim('w1');
SELECT pg_temp.finish('b1', 4, 1, 'w1', 200) AS b1_4;
SELECT pg_temp.label(endpoint_id) AS endpoint, event_type, attempts, last_status, dead_at
FROM kaireon.webhook_dead_letters WHERE tenant_id IN ('wh-a', 'wh-b');

-- A lease that runs out: a1's 2 was claimed by w1 at 00:00:00 for 60 s. At
-- 00:01:01 a claim records the lost attempt (lease_expired) and takes the
-- delivery again (attempt 2, w2). w1's late finish is recorded as stale and
-- changes nothing; w2's counts.
SET kaireon.test_clock = '2026-07-01T00:01:01Z';
SELECT * FROM pg_temp.claim('w2');
SELECT pg_temp.finish('a1', 2, 1, 'w1', 200) AS late_w1;
SELECT * FROM pg_temp.deliveries WHERE endpoint = 'a1' AND n = 2;
SELECT pg_temp.finish('a1', 2, 2, 'w2', 200) AS w2;
-- The same finish again: recorded, stale, nothing changes.
SELECT pg_temp.finish('a1', 2, 2, 'w2', 500) AS repeated;
SELECT * FROM pg_temp.deliveries WHERE endpoint = 'a1' ORDER BY n;

-- Every attempt is in the log.
SELECT pg_temp.label(a.endpoint_id) AS endpoint, (e.payload ->> 'n')::int AS n, a.attempt, a.worker, a.http_status,
       a.error, a.duration_ms, a.outcome
FROM kaireon.webhook_attempts a JOIN kaireon.events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id
WHERE a.tenant_id IN ('wh-a', 'wh-b') ORDER BY a.id;

-- Redelivery (the tenant's administrators): a dead delivery is requeued
-- with a full set of attempts and delivered.
SET kaireon.tenant = 'wh-b';
SELECT kaireon.redeliver_webhook(:b1, e.id) - 'endpointId' AS redelivered FROM kaireon.events e WHERE e.dedupe_key = 'wh-test:3';
SELECT * FROM pg_temp.deliveries WHERE endpoint = 'b1' ORDER BY n;
SELECT * FROM pg_temp.claim('w1');
SELECT pg_temp.finish('b1', 3, 1, 'w1', 200) AS b1_3;
-- Refused: a delivery that is not dead, an unknown event, another tenant's
-- endpoint, no endpoint; redelivering every dead one of an endpoint.
SELECT pg_temp.error_of(format('SELECT kaireon.redeliver_webhook(%s, %s)', :b1, e.id))
       = format('KR400: the delivery of event %s to webhook endpoint %s is delivered, not dead', e.id, :b1) AS not_dead
FROM kaireon.events e WHERE e.dedupe_key = 'wh-test:3';
SELECT pg_temp.error_of(format('SELECT kaireon.redeliver_webhook(%s, -1)', :b1))
       = format('KR400: no delivery of event -1 to webhook endpoint %s', :b1) AS unknown_event;
SELECT pg_temp.error_of(format('SELECT kaireon.redeliver_webhook(%s)', :a1)) = format('KR400: unknown webhook endpoint %s', :a1) AS other_tenant;
SELECT pg_temp.error_of('SELECT kaireon.redeliver_webhook(NULL)');
SELECT kaireon.redeliver_webhook(:b1) - 'endpointId' AS none_dead;
RESET kaireon.tenant;

-- Errors are stored without the endpoint's secret, at most 500 characters.
SELECT pg_temp.emit('wh-a', 'quota.warning', 8);
SELECT kaireon.plan_webhook_deliveries() AS planned;
SELECT count(*) AS claimed FROM pg_temp.claim('w1');
SELECT pg_temp.finish('a2', 8, 1, 'w1', NULL, 'echo of ' || w.secret || ' ' || repeat('x', 1000)) ->> 'state' AS state
FROM kaireon.webhook_endpoints w WHERE w.id = :a2;
SELECT length(a.error) AS stored_length, strpos(a.error, w.secret) AS secret_at, left(a.error, 16) AS starts,
       length(d.last_error) AS last_error_length, strpos(d.last_error, w.secret) AS last_error_secret_at
FROM kaireon.webhook_attempts a JOIN kaireon.webhook_endpoints w ON w.tenant_id = a.tenant_id AND w.id = a.endpoint_id
JOIN kaireon.webhook_deliveries d ON d.tenant_id = a.tenant_id AND d.endpoint_id = a.endpoint_id AND d.event_id = a.event_id
WHERE a.endpoint_id = :a2 ORDER BY a.id DESC LIMIT 1;

-- Backoff within bounds for every attempt: [step/2, step], step = 10 s
-- doubled per attempt, capped at 1 h; 200 draws each.
SELECT n, min(d) >= least(10000 * 2 ^ (n - 1), 3600000) / 2 AS low_ok, max(d) <= least(10000 * 2 ^ (n - 1), 3600000) AS high_ok,
       max(d) - min(d) > least(10000 * 2 ^ (n - 1), 3600000) / 4 AS spread
FROM generate_series(1, 12) n, LATERAL (SELECT kaireon._webhook_retry_delay(n) AS d FROM generate_series(1, 200)) draws
GROUP BY n ORDER BY n;
SET kaireon.webhook_backoff_base = '1s';
SET kaireon.webhook_backoff_max = '4s';
SELECT min(kaireon._webhook_retry_delay(9)) >= 2000 AND max(kaireon._webhook_retry_delay(9)) <= 4000 AS capped
FROM generate_series(1, 100);
RESET kaireon.webhook_backoff_base;
RESET kaireon.webhook_backoff_max;
-- The signature function alone: RFC 4231 test case 2 is HMAC-SHA256("Jefe", ...);
-- here over "<timestamp>.<body>".
SELECT kaireon._webhook_signature('Jefe', 1, 'x') = 'v1=' || encode(hmac('1.x', 'Jefe', 'sha256'), 'hex') AS matches_pgcrypto;

-- Bad arguments: a clear error, and nothing changes.
SELECT count(*) AS deliveries, sum(attempts) AS attempts, (SELECT count(*) FROM kaireon.webhook_attempts) AS log,
       (SELECT position FROM kaireon.webhook_plan_position) AS position
FROM kaireon.webhook_deliveries \gset before_
SELECT pg_temp.emit('wh-a', 'quota.warning', 9);
SELECT pg_temp.error_of('SELECT kaireon.plan_webhook_deliveries(0)') AS plan_0,
       pg_temp.error_of('SELECT kaireon.plan_webhook_deliveries(NULL)') AS plan_null,
       pg_temp.error_of('SELECT kaireon.plan_webhook_deliveries(10001)') AS plan_big;
SELECT pg_temp.error_of('SELECT kaireon.claim_webhook_deliveries(NULL)') AS worker_null,
       pg_temp.error_of('SELECT kaireon.claim_webhook_deliveries('''')') AS worker_empty,
       pg_temp.error_of('SELECT kaireon.claim_webhook_deliveries(''a b'')') AS worker_space;
SELECT pg_temp.error_of('SELECT kaireon.claim_webhook_deliveries(''w'', 0)') AS max_0,
       pg_temp.error_of('SELECT kaireon.claim_webhook_deliveries(''w'', 1001)') AS max_big,
       pg_temp.error_of('SELECT kaireon.claim_webhook_deliveries(''w'', 1, 0)') AS lease_0,
       pg_temp.error_of('SELECT kaireon.claim_webhook_deliveries(''w'', 1, NULL)') AS lease_null;
SELECT pg_temp.error_of(format('SELECT kaireon.finish_webhook_delivery(''wh-a'', %s, e.id, 1, ''w1'') FROM kaireon.events e WHERE e.dedupe_key = ''wh-test:1''', :a1)) AS no_outcome,
       pg_temp.error_of(format('SELECT kaireon.finish_webhook_delivery(''wh-a'', %s, e.id, 1, ''w1'', 99) FROM kaireon.events e WHERE e.dedupe_key = ''wh-test:1''', :a1)) AS status_99,
       pg_temp.error_of(format('SELECT kaireon.finish_webhook_delivery(''wh-a'', %s, e.id, 1, ''w1'', 600) FROM kaireon.events e WHERE e.dedupe_key = ''wh-test:1''', :a1)) AS status_600;
SELECT pg_temp.error_of(format('SELECT kaireon.finish_webhook_delivery(''wh-a'', %s, e.id, 0, ''w1'', 200) FROM kaireon.events e WHERE e.dedupe_key = ''wh-test:1''', :a1)) AS attempt_0,
       pg_temp.error_of(format('SELECT kaireon.finish_webhook_delivery(''wh-a'', %s, e.id, 9, ''w1'', 200) FROM kaireon.events e WHERE e.dedupe_key = ''wh-test:1''', :a1)) AS attempt_9,
       pg_temp.error_of(format('SELECT kaireon.finish_webhook_delivery(''wh-a'', %s, e.id, 1, ''w1'', 200, NULL, -1) FROM kaireon.events e WHERE e.dedupe_key = ''wh-test:1''', :a1)) AS duration;
SELECT pg_temp.error_of('SELECT kaireon.finish_webhook_delivery(''wh-a'', -1, -1, 1, ''w1'', 200)') AS unknown,
       pg_temp.error_of('SELECT kaireon.finish_webhook_delivery(''wh-a'', -1, -1, 1, NULL, 200)') AS worker,
       pg_temp.error_of('SELECT kaireon.release_webhook_delivery(''wh-a'', -1, -1, 1, ''w1'')') AS release_unknown,
       pg_temp.error_of('SELECT kaireon._webhook_retry_delay(0)') AS delay_0;
SELECT count(*) = :before_deliveries AS same_deliveries, sum(attempts) = :before_attempts AS same_attempts,
       (SELECT count(*) FROM kaireon.webhook_attempts) = :before_log AS same_log,
       (SELECT position FROM kaireon.webhook_plan_position) = :before_position AS same_position
FROM kaireon.webhook_deliveries;

-- Release: a claim given back (the worker is stopping) is not an attempt.
-- Minutes later a1's 5 (claimed at 00:01:01) has lost its lease and a2's 8
-- is due again.
SELECT kaireon.plan_webhook_deliveries() AS planned;
SET kaireon.test_clock = '2026-07-01T00:05:00Z';
SELECT * FROM pg_temp.claim('w3');
SELECT kaireon.release_webhook_delivery(d.tenant_id, d.endpoint_id, d.event_id, 2, 'w9') AS other_worker,
       kaireon.release_webhook_delivery(d.tenant_id, d.endpoint_id, d.event_id, 1, 'w3') AS other_attempt,
       kaireon.release_webhook_delivery(d.tenant_id, d.endpoint_id, d.event_id, 2, 'w3') AS released,
       kaireon.release_webhook_delivery(d.tenant_id, d.endpoint_id, d.event_id, 1, 'w3') AS again
FROM kaireon.webhook_deliveries d JOIN kaireon.events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
WHERE e.dedupe_key = 'wh-test:8' AND d.endpoint_id = :a2;
SELECT endpoint, n, state, attempts, lease_owner FROM pg_temp.deliveries WHERE n IN (5, 8, 9) ORDER BY endpoint, n;
SELECT * FROM pg_temp.claim('w3');

-- Dropping a tenant removes its deliveries and attempts.
SELECT kaireon.drop_tenant('wh-a') IS NOT NULL AS dropped_a, kaireon.drop_tenant('wh-b') IS NOT NULL AS dropped_b;
SELECT count(*) AS deliveries_left FROM kaireon.webhook_deliveries WHERE tenant_id IN ('wh-a', 'wh-b');
SELECT count(*) AS attempts_left FROM kaireon.webhook_attempts WHERE tenant_id IN ('wh-a', 'wh-b');
RESET kaireon.webhook_max_attempts;
RESET kaireon.test_clock;
DROP EXTENSION pgcrypto;

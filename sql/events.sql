-- Events (SPEC section 4): the event type catalog, consumers reading the
-- outbox in seq order (create_event_consumer, fetch_events, ack_events,
-- drop_event_consumer), NOTIFY kaireon_events once per transaction, tenant
-- isolation of consumers and events, and webhook endpoints whose secrets are
-- shown once and never again. Seqs are printed relative to the outbox's
-- last seq before this test (other tests may have used the outbox).
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
CREATE ROLE regress_ev_admin IN ROLE kaireon_admin;
CREATE ROLE regress_ev_reader IN ROLE kaireon_reader;
CREATE ROLE regress_ev_reader_b IN ROLE kaireon_reader;
CREATE ROLE regress_ev_app IN ROLE kaireon_app;
SELECT kaireon.create_tenant('ev-a', 'Events A', 'a@ev.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('ev-b', 'Events B', 'b@ev.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_ev_reader', 'ev-a'), kaireon.grant_tenant('regress_ev_app', 'ev-a'),
       kaireon.grant_tenant('regress_ev_reader_b', 'ev-b');
SELECT kaireon.define_feature('ev_calls', 'numeric', '{"aggregation": "sum", "period": "month"}') ->> 'key' AS feature;
SELECT kaireon.set_plan_entitlement('community', 'ev_calls', '{"limit": 100}') ->> 'value' AS value;

-- The catalog: 27 types in the SPEC's ten categories, each with a
-- description and an object payload schema that lists its fields.
SELECT count(*) AS event_types FROM kaireon.event_types;
SELECT category, count(*) AS types, string_agg(type, ', ' ORDER BY type) AS event_types
FROM kaireon.event_types GROUP BY category ORDER BY category;
SELECT type FROM kaireon.event_types
WHERE description !~ '^[A-Z].*\.$' OR payload_schema ->> 'type' <> 'object'
   OR jsonb_typeof(payload_schema -> 'required') <> 'array' OR jsonb_typeof(payload_schema -> 'properties') <> 'object'
   OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(payload_schema -> 'required') r
              WHERE NOT payload_schema -> 'properties' ? r);
SELECT payload_schema -> 'required' AS threshold_fields FROM kaireon.event_types WHERE type = 'usage.threshold_reached';
-- Every role reads the catalog; nobody but the owner changes it.
SET ROLE regress_ev_app;
SELECT count(*) AS app_sees FROM kaireon.event_types;
DELETE FROM kaireon.event_types;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- error_of runs sql and answers its SQLSTATE and message (`id` shown as
-- <id>: ids depend on the tests before), or 'ok'.
CREATE FUNCTION pg_temp.error_of(sql text, id text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || replace(SQLERRM, id, '<id>');
END
$$;
-- relative seqs: a consumer's fetch printed as (seq - seq0, tenant, type,
-- threshold); the outbox's seq0 after sequencing what is there.
CREATE FUNCTION pg_temp.fetched(consumer text, max_events int DEFAULT 100)
RETURNS TABLE (rel_seq bigint, tenant_id text, type text, detail text)
LANGUAGE sql AS $$
    SELECT f.seq - current_setting('regress.seq0')::bigint, f.tenant_id, f.type,
           coalesce(f.payload ->> 'threshold', f.payload ->> 'note')
    FROM kaireon.fetch_events(consumer, max_events) f
$$;

-- Consumers: a tenant's consumer starts after the events committed so far;
-- from_start starts at the beginning of the outbox; event_types filters.
SET ROLE regress_ev_reader;
SET kaireon.tenant = 'ev-a';
SELECT kaireon.create_event_consumer('ops');
SELECT kaireon.create_event_consumer('thresholds', ARRAY['usage.threshold_reached']);
SELECT kaireon.create_event_consumer('licences', ARRAY['license.installed', 'license.expiring']);
RESET ROLE;
SELECT coalesce(max(seq), 0) AS seq0 FROM kaireon.events \gset
SELECT set_config('regress.seq0', :'seq0', false) IS NOT NULL AS seq0_set;
SELECT count(*) AS unsequenced_events FROM kaireon.events WHERE seq IS NULL;
-- Bad names, unknown types, duplicates, no tenant, and every tenant's
-- events for a role that is not an administrator.
SET ROLE regress_ev_reader;
SELECT kaireon.create_event_consumer('ops');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.create_event_consumer('Ops');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.create_event_consumer('');
SELECT kaireon.create_event_consumer(NULL);
SELECT kaireon.create_event_consumer('1st');
SELECT kaireon.create_event_consumer('with space');
SELECT kaireon.create_event_consumer('a' || repeat('b', 63));
SELECT kaireon.create_event_consumer('a' || repeat('b', 62)) ->> 'name' = 'a' || repeat('b', 62) AS longest_name_ok;
SELECT kaireon.create_event_consumer('typo', ARRAY['usage.threshold_reached', 'usage.thresold_reached']);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.create_event_consumer('typo', ARRAY[NULL]::text[]);
SELECT kaireon.create_event_consumer('everyone', all_tenants => true);
\echo :LAST_ERROR_SQLSTATE
RESET kaireon.tenant;
SELECT kaireon.create_event_consumer('nowhere');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'ev-b';
SELECT kaireon.create_event_consumer('nowhere');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Applications do not read the outbox.
SET ROLE regress_ev_app;
SET kaireon.tenant = 'ev-a';
SELECT kaireon.create_event_consumer('app');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM kaireon.events;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT tenant_id, name, event_types, position - :seq0 AS rel_position FROM kaireon.event_consumers
WHERE tenant_id LIKE 'ev-%' OR tenant_id = '' ORDER BY tenant_id, name;

-- The same name in another tenant is another consumer.
SET ROLE regress_ev_reader_b;
SET kaireon.tenant = 'ev-b';
SELECT kaireon.create_event_consumer('ops');
SELECT tenant_id, name FROM kaireon.event_consumers ORDER BY name;
RESET ROLE;
-- An administrator's consumer of every tenant's events (tenantId null).
SET ROLE regress_ev_admin;
RESET kaireon.tenant;
SELECT kaireon.create_event_consumer('deliverer', all_tenants => true);
RESET ROLE;

-- Events: usage thresholds of ev-a (75) and ev-b (75, 90), in that order.
SET kaireon.tenant = 'ev-a';
SELECT kaireon.report_usage('ev_calls', 80) ->> 'currentUsage' AS a_usage;
SET kaireon.tenant = 'ev-b';
SELECT kaireon.report_usage('ev_calls', 91) ->> 'currentUsage' AS b_usage;

-- A tenant's consumer gets its own tenant's events only, in seq order, as
-- long as it does not acknowledge them (at-least-once).
SET ROLE regress_ev_reader;
SET kaireon.tenant = 'ev-a';
SELECT * FROM pg_temp.fetched('ops');
SELECT * FROM pg_temp.fetched('ops');
SELECT * FROM pg_temp.fetched('licences');
SELECT count(*) AS b_events_visible FROM kaireon.events WHERE tenant_id = 'ev-b';
RESET ROLE;
SET ROLE regress_ev_reader_b;
SET kaireon.tenant = 'ev-b';
SELECT * FROM pg_temp.fetched('ops');
-- ev-a's consumers are not ev-b's to read or move.
SELECT * FROM pg_temp.fetched('thresholds');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ack_events('thresholds', :seq0 + 1);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.drop_event_consumer('thresholds');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS a_events_visible FROM kaireon.events WHERE tenant_id = 'ev-a';
-- Acknowledging moves the position; the next fetch starts after it.
SELECT * FROM pg_temp.fetched('ops', 1);
SELECT kaireon.ack_events('ops', :seq0 + 2) ->> 'consumer' AS consumer;
SELECT * FROM pg_temp.fetched('ops');
SELECT kaireon.ack_events('ops', :seq0 + 3) ->> 'consumer' AS consumer;
SELECT * FROM pg_temp.fetched('ops');
-- Acknowledging an earlier seq again does not move the position back.
SELECT (kaireon.ack_events('ops', :seq0 + 2) ->> 'position')::bigint - :seq0 AS rel_position;
SELECT * FROM pg_temp.fetched('ops');
-- Bad acknowledgements and fetches.
SELECT kaireon.ack_events('ops', 9223372036854775807);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ack_events('ops', -1);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ack_events('ops', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ack_events('nope', :seq0);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.fetch_events('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.fetch_events('ops', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.fetch_events('ops', 10001);
SELECT kaireon.fetch_events('ops', NULL);
RESET ROLE;

-- from_start begins at the start of the outbox; a consumer made now begins
-- after the events committed so far.
SET ROLE regress_ev_reader;
SET kaireon.tenant = 'ev-a';
SELECT kaireon.create_event_consumer('replay', from_start => true) ->> 'name' AS consumer;
SELECT kaireon.create_event_consumer('late') ->> 'name' AS consumer;
SELECT * FROM pg_temp.fetched('replay');
SELECT * FROM pg_temp.fetched('late');
RESET ROLE;
-- Events of other types (written into the outbox directly here: licences
-- and overrides emit them in their own tests) go to the consumers whose
-- event_types include them.
INSERT INTO kaireon.events (tenant_id, type, payload, created_at) VALUES
    ('ev-a', 'override.set', '{"note": "an override"}', kaireon.clock()),
    ('ev-a', 'license.installed', '{"note": "a licence"}', kaireon.clock()),
    ('ev-b', 'license.installed', '{"note": "b licence"}', kaireon.clock());
SET kaireon.tenant = 'ev-a';
SELECT kaireon.report_usage('ev_calls', 10) ->> 'currentUsage' AS a_usage;
SET ROLE regress_ev_reader;
SELECT * FROM pg_temp.fetched('late');
SELECT * FROM pg_temp.fetched('thresholds');
SELECT * FROM pg_temp.fetched('licences');
SELECT * FROM pg_temp.fetched('replay', 2);
-- A consumer that acknowledges everything it fetched gets nothing twice.
SELECT kaireon.ack_events('replay', max(f.seq)) ->> 'consumer' AS consumer FROM kaireon.fetch_events('replay') f;
SELECT * FROM pg_temp.fetched('replay');
RESET ROLE;

-- The administrator's consumer gets every tenant's events, without a
-- tenant selected.
SET ROLE regress_ev_admin;
RESET kaireon.tenant;
SELECT * FROM pg_temp.fetched('deliverer');
RESET ROLE;
-- ... which is not a consumer for anyone else: a tenant's reader can
-- neither read it nor move it.
SET ROLE regress_ev_reader;
SET kaireon.tenant = 'ev-a';
SELECT * FROM pg_temp.fetched('deliverer');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.ack_events('deliverer', :seq0 + 1);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT tenant_id, name, position - :seq0 AS rel_position FROM kaireon.event_consumers
WHERE name = 'deliverer' ORDER BY tenant_id;

-- NOTIFY kaireon_events: once per transaction, however many events it
-- emits; none when it rolls back. (psql prints a notification with the
-- sender's PID: the output goes to a file, and the notifications in it
-- are counted.)
SELECT '/tmp/kaireon_regress_notify_' || pg_backend_pid() || '.txt' AS notify_file \gset
LISTEN kaireon_events;
-- Two events (ev-b crosses 95 and 100) in two statements: one notification.
SET kaireon.tenant = 'ev-b';
BEGIN;
SELECT kaireon.report_usage('ev_calls', 5) ->> 'currentUsage' AS b_usage;
SELECT kaireon.report_usage('ev_calls', 4) ->> 'currentUsage' AS b_usage;
SELECT count(*) AS events_in_transaction FROM kaireon.events WHERE txid = pg_current_xact_id();
\o :notify_file
COMMIT;
SELECT 1 AS after_commit;
\o
\set notifications `grep -c 'notification "kaireon_events" received' :notify_file`
SELECT :notifications AS notifications_for_two_events;
-- An event emitted in a rolled-back savepoint, then again: one notification.
SET kaireon.tenant = 'ev-a';
BEGIN;
SAVEPOINT first_try;
SELECT kaireon.report_usage('ev_calls', 5) ->> 'currentUsage' AS a_usage;
ROLLBACK TO SAVEPOINT first_try;
SELECT kaireon.report_usage('ev_calls', 5) ->> 'currentUsage' AS a_usage;
\o :notify_file
COMMIT;
SELECT 1 AS after_commit;
\o
\set notifications `grep -c 'notification "kaireon_events" received' :notify_file`
SELECT :notifications AS notifications_after_savepoint_retry;
-- A transaction that emits an event and rolls back: none.
BEGIN;
SELECT kaireon.report_usage('ev_calls', 5) ->> 'currentUsage' AS a_usage;
SELECT count(*) AS events_in_transaction FROM kaireon.events WHERE txid = pg_current_xact_id();
\o :notify_file
ROLLBACK;
SELECT 1 AS after_rollback;
\o
\set notifications `grep -c 'notification "kaireon_events" received' :notify_file`
SELECT :notifications AS notifications_after_rollback;
-- A transaction that emits nothing: none.
BEGIN;
SELECT kaireon.report_usage('ev_calls', 0) ->> 'currentUsage' AS a_usage;
\o :notify_file
COMMIT;
SELECT 1 AS after_commit;
\o
\set notifications `grep -c 'notification "kaireon_events" received' :notify_file`
SELECT :notifications AS notifications_after_no_event;
\set notifications `rm -f :notify_file`
UNLISTEN kaireon_events;
-- ev-b's consumer: the licence event, then the transaction's two events.
SET ROLE regress_ev_reader_b;
SET kaireon.tenant = 'ev-b';
SELECT * FROM pg_temp.fetched('ops');
RESET ROLE;

-- Seqs are never given again: when the events with the highest seqs go
-- (a tenant dropped), later events still come after every seq delivered.
-- (The administrator selects a tenant here: the deliverer is found either
-- way.)
SET ROLE regress_ev_admin;
SELECT kaireon.create_tenant('ev-gone', 'Gone', 'gone@ev.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'ev-gone';
SELECT kaireon.report_usage('ev_calls', 100) ->> 'currentUsage' AS gone_usage;
SET kaireon.tenant = 'ev-b';
SELECT max(f.seq) AS deliverer_last FROM kaireon.fetch_events('deliverer') f \gset
SELECT kaireon.ack_events('deliverer', :deliverer_last) ->> 'consumer' AS consumer;
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('ev-gone') ->> 'tenantId' AS dropped;
RESET ROLE;
SET kaireon.tenant = 'ev-a';
SELECT kaireon.report_usage('ev_calls', 5) ->> 'currentUsage' AS a_usage;
SET ROLE regress_ev_admin;
SET kaireon.tenant = 'ev-b';
SELECT count(*) AS delivered, bool_and(f.seq > :deliverer_last) AS after_every_seq_delivered,
       string_agg(f.tenant_id || ' ' || f.type || ' ' || (f.payload ->> 'threshold'), ', ') AS events
FROM kaireon.fetch_events('deliverer') f;
RESET ROLE;

-- ev-a's thresholds in order: 75, 90, the 95 of the savepoint retry once,
-- and 100.
SET ROLE regress_ev_reader;
SET kaireon.tenant = 'ev-a';
SELECT tenant_id, type, detail FROM pg_temp.fetched('thresholds');
-- drop_event_consumer removes the current tenant's consumer.
SELECT kaireon.drop_event_consumer('late') AS dropped;
SELECT kaireon.drop_event_consumer('late');
\echo :LAST_ERROR_SQLSTATE
SELECT name FROM kaireon.event_consumers ORDER BY name;
RESET ROLE;

-- Webhook endpoints (administrators): the answer shows the secret once;
-- afterwards only its hint.
SET ROLE regress_ev_admin;
SET kaireon.tenant = 'ev-a';
SELECT kaireon.add_webhook_endpoint('https://hooks.example.com/kaireon', ARRAY['usage.threshold_reached']) AS hook \gset
SELECT (:'hook'::jsonb ->> 'id')::bigint AS hook_id, :'hook'::jsonb ->> 'secret' AS hook_secret \gset
SELECT h ->> 'url' AS url, h -> 'eventTypes' AS event_types, h -> 'active' AS active,
       h ->> 'secret' ~ '^whsec_[0-9a-f]{64}$' AS secret_shape,
       h ->> 'secretHint' = '…' || right(h ->> 'secret', 4) AS hint_is_last_four,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(h) k) AS keys
FROM (SELECT :'hook'::jsonb AS h) x;
SELECT url, event_types, active, secret_hint = :'hook'::jsonb ->> 'secretHint' AS same_hint
FROM kaireon.webhook_endpoints WHERE id = :hook_id;
-- Every endpoint gets its own secret; every type or some; http only for
-- localhost.
SELECT kaireon.add_webhook_endpoint('https://other.example.com/hook') ->> 'secret' <> :'hook_secret' AS new_secret;
SELECT u AS url, kaireon.add_webhook_endpoint(u) -> 'eventTypes' AS event_types
FROM unnest(ARRAY['http://localhost:8080/hook', 'http://127.0.0.1/hook', 'http://[::1]:9000/hook',
                  'https://hooks.example.com:8443/a/b?tenant=ev-a', 'https://example.com']) u;
SELECT kaireon.add_webhook_endpoint('https://hooks.example.com/' || repeat('p', 2022)) ->> 'active' AS url_of_2048;
-- Refused URLs and types.
SELECT kaireon.add_webhook_endpoint('http://hooks.example.com/kaireon');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.add_webhook_endpoint('http://localhost.example.com/hook');
SELECT kaireon.add_webhook_endpoint('http://localhost@example.com/hook');
SELECT kaireon.add_webhook_endpoint('https://user:password@example.com/hook');
SELECT kaireon.add_webhook_endpoint('https://hooks.example.com/' || repeat('p', 2023));
SELECT kaireon.add_webhook_endpoint('ftp://example.com/hook');
SELECT kaireon.add_webhook_endpoint('hooks.example.com/kaireon');
SELECT kaireon.add_webhook_endpoint('https://hooks example.com/');
SELECT kaireon.add_webhook_endpoint(NULL);
SELECT kaireon.add_webhook_endpoint('https://hooks.example.com/kaireon', ARRAY['usage.threshold']);
\echo :LAST_ERROR_SQLSTATE
RESET kaireon.tenant;
SELECT kaireon.add_webhook_endpoint('https://hooks.example.com/kaireon');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'ev-a';
SELECT count(*) AS endpoints FROM kaireon.webhook_endpoints;
-- Rotating gives a new secret, shown once, and a new hint.
\set rotated 'null'
SELECT kaireon.rotate_webhook_secret(:hook_id) AS rotated \gset
SELECT r ->> 'secret' ~ '^whsec_[0-9a-f]{64}$' AS secret_shape, r ->> 'secret' <> :'hook_secret' AS new_secret,
       r ->> 'secretHint' = '…' || right(r ->> 'secret', 4) AS hint_is_last_four, r ->> 'url' AS url
FROM (SELECT :'rotated'::jsonb AS r) x;
SELECT secret_hint = :'rotated'::jsonb ->> 'secretHint' AS hint_updated FROM kaireon.webhook_endpoints WHERE id = :hook_id;
SELECT kaireon.rotate_webhook_secret(-1);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT secret = :'rotated'::jsonb ->> 'secret' AS stored_secret_is_the_new_one FROM kaireon.webhook_endpoints WHERE id = :hook_id;
-- Nobody but the owner reads a secret back.
SET ROLE regress_ev_admin;
SELECT secret FROM kaireon.webhook_endpoints;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.webhook_endpoints;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_ev_reader;
SELECT secret FROM kaireon.webhook_endpoints;
\echo :LAST_ERROR_SQLSTATE
SELECT url, secret_hint IS NOT NULL AS has_hint FROM kaireon.webhook_endpoints WHERE id = :hook_id;
SELECT kaireon.add_webhook_endpoint('https://reader.example.com/hook');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_ev_app;
SELECT url FROM kaireon.webhook_endpoints;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Another tenant neither sees nor changes ev-a's endpoints.
SET ROLE regress_ev_admin;
SET kaireon.tenant = 'ev-b';
SELECT pg_temp.error_of(format('SELECT kaireon.rotate_webhook_secret(%s)', :hook_id), :'hook_id') AS rotate_from_b;
SELECT kaireon.remove_webhook_endpoint(:hook_id) AS removed_from_b;
RESET ROLE;
SET ROLE regress_ev_reader_b;
SELECT count(*) AS endpoints_b_sees FROM kaireon.webhook_endpoints;
RESET ROLE;
-- Removing: true once, then false.
SET ROLE regress_ev_admin;
SET kaireon.tenant = 'ev-a';
SELECT kaireon.remove_webhook_endpoint(:hook_id) AS removed, kaireon.remove_webhook_endpoint(:hook_id) AS again;
RESET ROLE;
-- No secret, old or new, is anywhere but in webhook_endpoints.secret: not
-- in the audit trail, the outbox, or the consumers.
SELECT s.label, (SELECT count(*) FROM kaireon.audit_log a
                 WHERE strpos(a.details::text || coalesce(a.target, ''), s.secret) > 0) AS in_audit,
       (SELECT count(*) FROM kaireon.events e WHERE strpos(e.payload::text, s.secret) > 0) AS in_events,
       (SELECT count(*) FROM kaireon.audit_log a WHERE a.details::text LIKE '%whsec\_%') AS any_secret_in_audit
FROM (VALUES ('first', :'hook_secret'), ('rotated', coalesce(:'rotated'::jsonb ->> 'secret', 'none'))) s (label, secret);
-- The audit trail records what changed, without the secret.
SELECT action, target,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(coalesce(details -> 'after', details)) k) AS keys,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(details -> 'before') k) AS keys_before,
       details -> 'before' ->> 'secret_hint' IS DISTINCT FROM details -> 'after' ->> 'secret_hint' AS hint_changed
FROM kaireon.audit_log WHERE tenant_id = 'ev-a' AND action LIKE 'webhook_endpoint.%' AND target LIKE '%hooks.example.com/kaireon'
ORDER BY id;

RESET kaireon.tenant;
RESET kaireon.test_clock;
DELETE FROM kaireon.event_consumers WHERE tenant_id = '' AND name IN ('deliverer', 'everyone');
SELECT d -> 'deleted' -> 'kaireon.event_consumers' AS consumers_deleted,
       d -> 'deleted' -> 'kaireon.webhook_endpoints' AS endpoints_deleted
FROM kaireon.drop_tenant('ev-a') AS d;
SELECT kaireon.drop_tenant('ev-b') ->> 'tenantId' AS dropped;
SELECT (SELECT count(*) FROM kaireon.events WHERE tenant_id LIKE 'ev-%') AS events_left,
       (SELECT count(*) FROM kaireon.event_consumers WHERE tenant_id LIKE 'ev-%') AS consumers_left,
       (SELECT count(*) FROM kaireon.webhook_endpoints WHERE tenant_id LIKE 'ev-%') AS endpoints_left;
DELETE FROM kaireon.features WHERE key = 'ev_calls';
DROP ROLE regress_ev_admin, regress_ev_reader, regress_ev_reader_b, regress_ev_app;

-- Moving a tenant between shards, the parts that run on one database
-- (docs/scale-out.md "Moving a tenant"; the whole move between real shards
-- is test/cluster/scale_out.sh): freezing, unfreezing, releasing on the
-- source, adopting on the target, and the answers calls get meanwhile.
\set SHOW_CONTEXT never
CREATE ROLE regress_kr_mover_app IN ROLE kaireon_app;
CREATE ROLE regress_kr_mover_other IN ROLE kaireon_app;
CREATE ROLE regress_kr_mover_admin IN ROLE kaireon_admin;
SELECT kaireon.create_tenant('mv-src', 'Moving out', 'ops@mv.test') ->> 'tenantId' AS created;
SELECT kaireon.grant_tenant('regress_kr_mover_app', 'mv-src');
SELECT kaireon.define_feature('mv_calls', 'numeric', '{"period": "month"}') ->> 'key' AS feature;
SELECT kaireon.set_plan_entitlement('community', 'mv_calls', '{"limit": 1000}') IS NOT NULL AS planned;
SET kaireon.test_clock = '2026-06-10T12:00:00Z';

-- Bad input: KR400, nothing frozen.
SELECT kaireon.freeze_tenant('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.freeze_tenant('Bad Id');
SELECT kaireon.freeze_tenant(NULL);
SELECT kaireon.unfreeze_tenant('mv-src');
SELECT kaireon.release_moved_tenant('mv-src');
SELECT count(*) AS moves FROM kaireon.tenant_moves;
-- Applications may not freeze (administrators only).
SET ROLE regress_kr_mover_app;
SELECT kaireon.freeze_tenant('mv-src');
RESET ROLE;

-- Frozen: the tenant's calls get KR503 TENANT_MOVING, administrative calls
-- naming it too; a role without its grant still gets KR403 (a freeze tells
-- outsiders nothing); freezing again is refused.
SET ROLE regress_kr_mover_admin;
SELECT kaireon.freeze_tenant('mv-src') ->> 'tenantId' AS frozen;
RESET ROLE;
SELECT tenant_id, state, moved_at FROM kaireon.tenant_moves;
SET ROLE regress_kr_mover_app;
SET kaireon.tenant = 'mv-src';
SELECT kaireon.report_usage('mv_calls', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.current_tenant();
SET ROLE regress_kr_mover_other;
SELECT kaireon.current_tenant();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET kaireon.tenant;
SELECT kaireon.grant_tenant('regress_kr_mover_other', 'mv-src');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.freeze_tenant('mv-src');
SELECT count(*) AS grants FROM kaireon.tenant_grants WHERE tenant_id = 'mv-src';

-- Unfrozen: calls go through again.
SELECT kaireon.unfreeze_tenant('mv-src');
SET ROLE regress_kr_mover_app;
SET kaireon.tenant = 'mv-src';
SELECT kaireon.report_usage('mv_calls', 3, 'before-move') ->> 'currentUsage' AS usage;
RESET ROLE;
RESET kaireon.tenant;
SELECT action, target FROM kaireon.audit_log WHERE tenant_id = 'mv-src' AND action LIKE 'tenant.%' ORDER BY id;

-- Released: the tenant's rows go except its audit trail; calls naming it
-- are told it moved (KR503, so that clients retry through the router).
SELECT kaireon.freeze_tenant('mv-src') ->> 'tenantId' AS frozen;
SELECT r ->> 'tenantId' AS released, r ->> 'moved' AS moved, r -> 'deleted' -> 'kaireon.usage_events' AS usage_events
FROM kaireon.release_moved_tenant('mv-src') AS r;
SELECT tenant_id, state, moved_at IS NOT NULL AS moved FROM kaireon.tenant_moves;
SELECT count(*) AS tenants FROM kaireon.tenants WHERE tenant_id = 'mv-src';
SELECT count(*) > 0 AS audit_kept FROM kaireon.audit_log WHERE tenant_id = 'mv-src';
SET ROLE regress_kr_mover_app;
SET kaireon.tenant = 'mv-src';
SELECT kaireon.quota_status();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT kaireon.quota_status();
RESET kaireon.tenant;
SELECT kaireon.release_moved_tenant('mv-src');
SELECT kaireon.unfreeze_tenant('mv-src');

-- Adopting: a tenant loaded with triggers off (as scripts/move_tenant.sh
-- loads it) gets the next outbox numbers here in its old order (numbered
-- ones first, then unnumbered ones), its consumer's position and endpoint's
-- start at the same place in the new numbering, and identity sequences past
-- its ids.
SELECT kaireon.adopt_moved_tenant('mv-dst', 0);  -- not loaded
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO kaireon.tenants (tenant_id, name, admin_email) VALUES ('mv-dst', 'Moving in', 'ops@mv.test');
SELECT kaireon.adopt_moved_tenant('mv-dst', 0);  -- no events loaded
ROLLBACK;
SELECT kaireon._sequence_events() >= 0 AS numbered;  -- the outbox here is numbered so far
CREATE TEMP TABLE before_move AS SELECT kaireon._last_event_seq() AS last_seq,
    (SELECT last_value FROM kaireon.usage_events_id_seq) AS usage_id;
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO kaireon.tenants (tenant_id, name, admin_email) VALUES ('mv-dst', 'Moving in', 'ops@mv.test');
CREATE TEMP TABLE kaireon_moved_events (LIKE kaireon.events) ON COMMIT DROP;
INSERT INTO kaireon_moved_events (tenant_id, id, type, payload, created_at, delivery_state, txid, seq) VALUES
    ('mv-dst', 7, 'license.installed', '{"n": 2}', '2026-06-01', 'pending', '900', 52),
    ('mv-dst', 5, 'license.installed', '{"n": 1}', '2026-06-01', 'pending', '800', 50),
    ('mv-dst', 9, 'quota.reset', '{"n": 3}', '2026-06-02', 'pending', '950', NULL),
    ('mv-dst', 8, 'license.installed', '{"n": 4}', '2026-06-02', 'pending', '990', 60);
INSERT INTO kaireon.event_consumers (tenant_id, name, position) VALUES ('mv-dst', 'halfway', 52), ('mv-dst', 'nothing-read', 10);
INSERT INTO kaireon.webhook_endpoints (tenant_id, id, url, secret, secret_hint, start_seq) OVERRIDING SYSTEM VALUE
VALUES ('mv-dst', 4000000, 'https://hooks.mv.test/', 'whsec_x', 'x', 50);
INSERT INTO kaireon.usage_events (tenant_id, id, feature, value, occurred_at, recorded_at) OVERRIDING SYSTEM VALUE
VALUES ('mv-dst', 5000000, 'mv_calls', 4, '2026-06-01', '2026-06-01');
SELECT a ->> 'events' AS events, a -> 'rows' -> 'kaireon.events' AS event_rows, a -> 'rows' -> 'kaireon.usage_events' AS usage_rows
FROM kaireon.adopt_moved_tenant('mv-dst', 55) AS a;
COMMIT;
SELECT e.id, e.payload ->> 'n' AS n, e.seq - b.last_seq AS new_seq FROM kaireon.events e, before_move b
WHERE e.tenant_id = 'mv-dst' ORDER BY e.seq;
-- halfway had read through old 52 (ids 5, 7): now through the new number of
-- id 7; nothing-read had read none of them: before them all.
SELECT c.name, c.position - b.last_seq AS new_position FROM kaireon.event_consumers c, before_move b
WHERE c.tenant_id = 'mv-dst' ORDER BY 1;
-- The endpoint started at 50, and the source had planned through 55: it
-- starts after id 7 (old 52) here, so ids 8 and 9 get planned, 5 and 7 not.
SELECT w.start_seq - b.last_seq AS new_start FROM kaireon.webhook_endpoints w, before_move b WHERE w.tenant_id = 'mv-dst';
SELECT nextval('kaireon.usage_events_id_seq') > 5000000 AS usage_ids_lifted,
       nextval('kaireon.webhook_endpoints_id_seq') > 4000000 AS endpoint_ids_lifted;
SELECT action FROM kaireon.audit_log WHERE tenant_id = 'mv-dst' ORDER BY id;
-- Calls on the adopted tenant work at once (no cache remembers it missing;
-- its usage is read from the rollups, which this test does not load).
SET kaireon.tenant = 'mv-dst';
SELECT kaireon.entitlement('mv_calls') ->> 'currentUsage' AS usage;
RESET kaireon.tenant;
-- Applications may not adopt (superusers only).
SET ROLE regress_kr_mover_admin;
SELECT kaireon.adopt_moved_tenant('mv-dst', 0);
RESET ROLE;

-- A moved-out tenant can move back in: adopting removes the mark.
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO kaireon.tenants (tenant_id, name, admin_email) VALUES ('mv-src', 'Moving back', 'ops@mv.test');
CREATE TEMP TABLE kaireon_moved_events (LIKE kaireon.events) ON COMMIT DROP;
INSERT INTO kaireon_moved_events (tenant_id, id, type, payload, created_at, delivery_state, txid, seq)
VALUES ('mv-dst', 1, 'quota.reset', '{}', '2026-06-01', 'pending', '1', 1);
SELECT kaireon.adopt_moved_tenant('mv-src', 0);  -- another tenant's event
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO kaireon.tenants (tenant_id, name, admin_email) VALUES ('mv-src', 'Moving back', 'ops@mv.test');
CREATE TEMP TABLE kaireon_moved_events (LIKE kaireon.events) ON COMMIT DROP;
SELECT kaireon.adopt_moved_tenant('mv-src', 0) ->> 'events' AS events;
COMMIT;
SELECT count(*) AS moves FROM kaireon.tenant_moves WHERE tenant_id = 'mv-src';
SET kaireon.tenant = 'mv-src';
SELECT kaireon.current_tenant();
RESET kaireon.tenant;

SELECT kaireon.drop_tenant('mv-src') ->> 'tenantId' AS dropped;
SELECT kaireon.drop_tenant('mv-dst') ->> 'tenantId' AS dropped;
DELETE FROM kaireon.features WHERE key = 'mv_calls';
DROP ROLE regress_kr_mover_app, regress_kr_mover_other, regress_kr_mover_admin;

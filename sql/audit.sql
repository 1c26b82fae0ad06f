-- Audit (SPEC section 4): what kaireon.audit_log records (entitlement
-- evaluations, usage reports and bulk loads, tenants and grants, licences,
-- catalog changes, webhooks, refusal counts) and never records (licence
-- tokens, webhook secrets); audit_trail() and its filters; append-only for
-- everyone, also in replica mode; seal_audit() and verify_audit(), and the
-- tampering verify_audit catches (each on a tenant of its own). Audit ids
-- are printed relative to the last id before this test (#n).
\set SHOW_CONTEXT never
\set ECHO none
\i test/license/fixtures.sql
\set ECHO all
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T10:00:00Z';
CREATE ROLE regress_au_app IN ROLE kaireon_app;
CREATE ROLE regress_au_reader IN ROLE kaireon_reader;
CREATE ROLE regress_au_reader_b IN ROLE kaireon_reader;
CREATE ROLE regress_au_admin IN ROLE kaireon_admin;

-- Seal what earlier tests left (twice: the first run may write refusal
-- counts), so that the counts below are this test's.
SELECT kaireon.seal_audit() ? 'sealed' AS sealed_earlier_rows;
SELECT kaireon.seal_audit() ? 'sealed' AS sealed_earlier_rows;
SELECT coalesce(max(id), 0) AS audit0 FROM kaireon.audit_log \gset
SELECT set_config('regress.audit0', :'audit0', false) IS NOT NULL AS audit0_set;
-- new_audit: this test's records (superuser: every tenant), without the
-- fields that hold the wall clock (created_at, granted_at).
CREATE TEMP VIEW new_audit AS
SELECT a.id - :audit0 AS n, a.tenant_id, a.recorded_at, a.actor, a.action, a.target,
       a.details #- '{created_at}' #- '{granted_at}' AS details
FROM kaireon.audit_log a WHERE a.id > :audit0;
-- verdict: verify_audit's answer, ids relative (#n).
CREATE FUNCTION pg_temp.verdict(tenant text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v jsonb := kaireon.verify_audit(tenant);
    base bigint := current_setting('regress.audit0')::bigint;
    reason text := v ->> 'reason';
    id text := substring(reason FROM 'row ([0-9]+)');
BEGIN
    IF id IS NOT NULL THEN
        reason := replace(reason, 'row ' || id, 'row #' || (id::bigint - base));
    END IF;
    RETURN format('valid %s, checked %s, firstBrokenId %s, reason %s', v ->> 'valid', v ->> 'checked',
                  coalesce('#' || ((v ->> 'firstBrokenId')::bigint - base), 'null'), coalesce(reason, 'null'));
END
$$;

-- Tenants and grants are audited in the tenant's trail; features and plans
-- (not tied to a tenant) in the system's ('').
SELECT kaireon.create_tenant('au-a', 'Audited A', 'a@au.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('au-b', 'Audited B', 'b@au.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_au_app', 'au-a'), kaireon.grant_tenant('regress_au_reader', 'au-a'),
       kaireon.grant_tenant('regress_au_reader_b', 'au-b'), kaireon.grant_tenant('regress_au_app', 'au-b');
SELECT kaireon.revoke_tenant('regress_au_app', 'au-b');
SELECT kaireon.define_feature('au_calls', 'numeric', '{"aggregation": "sum", "period": "month"}') ->> 'key' AS feature,
       kaireon.define_feature('au_msgs', 'numeric', '{"aggregation": "count", "period": "day"}') ->> 'key' AS feature;
SELECT kaireon.set_plan_entitlement('community', 'au_calls', '{"limit": 100}') ->> 'source' AS source,
       kaireon.set_plan_entitlement('community', 'au_msgs', '{"limit": null}') ->> 'source' AS source;
SELECT n, tenant_id, recorded_at, actor, action, target, details FROM new_audit ORDER BY n;

-- Entitlement evaluations through the API, as the calling role (not the
-- functions' owner); entitlement_evaluations shows them. A refused
-- require_feature rolls back with its caller: it is counted instead.
SET kaireon.test_clock = '2026-06-10T11:00:00Z';
SET ROLE regress_au_app;
SET kaireon.tenant = 'au-a';
SELECT kaireon.entitlement('au_calls') ->> 'status' AS status;
SELECT kaireon.has_feature('scoring.scorecard') AS scorecard;
SELECT kaireon.check_usage('au_calls', 40.5) ->> 'status' AS status;
SELECT kaireon.require_feature('scoring.scorecard');
RESET ROLE;
SELECT tenant_id, evaluated_at, role_name, api, feature, requested, status, result ->> 'limit' AS "limit"
FROM kaireon.entitlement_evaluations WHERE id > :audit0 ORDER BY id;
SELECT n, action, target, details ->> 'api' AS api FROM new_audit WHERE action = 'entitlement.evaluated' ORDER BY n;
-- Its readers see their own tenant's evaluations only; applications none.
SET ROLE regress_au_reader_b;
SELECT count(*) AS b_sees_evaluations FROM kaireon.entitlement_evaluations;
RESET ROLE;
SET ROLE regress_au_reader;
SELECT tenant_id, api, feature FROM kaireon.entitlement_evaluations WHERE id > :audit0 ORDER BY id;
RESET ROLE;
SET ROLE regress_au_app;
SELECT count(*) FROM kaireon.entitlement_evaluations;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Usage: one record per report and per bulk statement (usage.reported,
-- usage.bulk_loaded), with its features, events and totals. A replayed
-- idempotency key records nothing; a refused report rolls back.
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
SET ROLE regress_au_app;
SELECT kaireon.report_usage('au_calls', 10) ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('au_calls', 2.5, 'au-key-1') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('au_calls', 2.5, 'au-key-1') ->> 'currentUsage' AS replayed;
SELECT kaireon.report_usage('au_calls', 1000);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.usage_events (feature, value, idempotency_key) VALUES
    ('au_calls', 1, 'au-bulk-1'), ('au_calls', 2, NULL), ('au_msgs', 7, NULL), ('au_msgs', 1, 'au-bulk-2');
INSERT INTO kaireon.usage_events (feature, value) SELECT 'au_msgs', 1 FROM generate_series(1, 3);
RESET ROLE;
SELECT n, tenant_id, recorded_at, actor, action, target, details FROM new_audit WHERE action LIKE 'usage.%' ORDER BY n;

-- Licences: the key (system trail), the installed licence (the tenant's
-- trail: never its token or claims), its revocation and the key's.
SET kaireon.test_clock = '2026-06-10T13:00:00Z';
SELECT kaireon.create_tenant('lic-zzz', 'Licensed', 'l@au.test') ->> 'tenantId' AS tenant;
SELECT kaireon.add_license_key('rsa-1', 'RS256', :'pem_rsa') ->> 'kid' AS kid;
SELECT kaireon.install_license(:'tok_unknown_tenant') ->> 'tier' AS installed;
SELECT kaireon.install_license(:'tok_unknown_tenant') ->> 'tier' AS installed_again;
SELECT kaireon.revoke_license('z-pro') ->> 'jti' AS revoked;
SELECT kaireon.revoke_license_key('rsa-1') ->> 'kid' AS revoked;
SELECT n, tenant_id, action, target,
       CASE WHEN action LIKE 'license_key.%' THEN (coalesce(details -> 'after', details) - 'public_key_pem')::text
            ELSE details::text END AS details
FROM new_audit WHERE action LIKE 'license%' ORDER BY n;
SELECT count(*) AS records_holding_the_token FROM kaireon.audit_log
WHERE strpos(details::text, :'tok_unknown_tenant') > 0 OR strpos(details::text, split_part(:'tok_unknown_tenant', '.', 3)) > 0
   OR strpos(details::text, split_part(:'tok_unknown_tenant', '.', 2)) > 0;
SELECT kaireon.drop_tenant('lic-zzz') ->> 'tenantId' AS dropped;
DELETE FROM kaireon.revoked_licenses WHERE jti = 'z-pro';
DELETE FROM kaireon.license_keys WHERE kid = 'rsa-1';

-- Catalog changes: features, plans, overrides, thresholds, with before and
-- after on an update; built-in features are not anyone's change.
SET kaireon.test_clock = '2026-06-10T14:00:00Z';
SELECT kaireon.define_feature('au_calls', 'numeric', '{"aggregation": "sum", "period": "month", "unit": "calls"}') ->> 'key' AS feature;
SELECT kaireon.set_plan_entitlement('community', 'au_calls', '{"limit": 200}') ->> 'source' AS source;
SELECT kaireon.set_plan_entitlement('community', 'au_msgs', NULL);
SELECT kaireon.set_plan_entitlement('community', 'decisions_per_month', '{"limit": 20000}') ->> 'source' AS source;
SELECT kaireon.set_plan_entitlement('community', 'decisions_per_month', NULL);
SET kaireon.tenant = 'au-a';
SELECT kaireon.set_override('au_calls', '{"limit": 500}', '2026-07-01T00:00:00Z') ->> 'inForce' AS in_force;
SELECT kaireon.set_override('au_calls', '{"limit": 600}') ->> 'inForce' AS in_force;
SELECT kaireon.clear_override('au_calls') AS cleared;
SELECT kaireon.set_thresholds('au_calls', '{50, 80}') ->> 'feature' AS feature;
SELECT kaireon.set_thresholds('au_calls', '{60}') ->> 'feature' AS feature;
SELECT kaireon.set_thresholds('au_calls', NULL) ->> 'feature' AS feature;
RESET kaireon.tenant;
SELECT n, tenant_id, recorded_at, action, target, details FROM new_audit
WHERE action ~ '^(feature|plan_entitlement|override|thresholds)\.' AND recorded_at = '2026-06-10T14:00:00Z' ORDER BY n;

-- Event consumers and webhook endpoints: the secret is never recorded.
SET ROLE regress_au_admin;
SET kaireon.tenant = 'au-a';
SELECT kaireon.create_event_consumer('au-audit') ->> 'name' AS consumer;
SELECT kaireon.add_webhook_endpoint('https://hooks.example.com/au') AS hook \gset
SELECT kaireon.remove_webhook_endpoint((:'hook'::jsonb ->> 'id')::bigint) AS removed;
SELECT kaireon.drop_event_consumer('au-audit') AS dropped;
RESET ROLE;
SELECT n, actor, action, target, details - ARRAY['id', 'position', 'secret_hint'] AS details,
       details ->> 'secret_hint' ~ '^…[0-9a-f]{4}$' AS hint_only
FROM new_audit
WHERE action LIKE 'event_consumer.%' OR action LIKE 'webhook_endpoint.%' ORDER BY n;
SELECT count(*) AS records_holding_the_secret FROM kaireon.audit_log
WHERE strpos(details::text, :'hook'::jsonb ->> 'secret') > 0 OR details::text LIKE '%whsec\_%';
RESET kaireon.tenant;

-- audit_trail(): the current tenant's records, newest first, filtered by
-- time (since inclusive, until exclusive), actor, action (a prefix up to a
-- dot, or the whole action) and max_rows.
SET ROLE regress_au_reader;
SET kaireon.tenant = 'au-a';
SELECT count(*) AS records, min(recorded_at) AS first, max(recorded_at) AS last FROM kaireon.audit_trail();
SELECT recorded_at, action, target FROM kaireon.audit_trail(max_rows => 3);
SELECT recorded_at, action, target FROM kaireon.audit_trail(since => '2026-06-10T11:00:00Z', until => '2026-06-10T12:00:00Z');
SELECT count(*) AS since_noon FROM kaireon.audit_trail(since => '2026-06-10T12:00:00Z');
SELECT count(*) AS before_eleven FROM kaireon.audit_trail(until => '2026-06-10T11:00:00Z');
SELECT actor, count(*) FROM kaireon.audit_trail(actor => 'regress_au_app') GROUP BY actor;
SELECT count(*) AS nobody FROM kaireon.audit_trail(actor => 'nobody');
SELECT action, count(*) FROM kaireon.audit_trail(action => 'usage') GROUP BY action ORDER BY action;
SELECT action, count(*) FROM kaireon.audit_trail(action => 'usage.reported') GROUP BY action;
SELECT count(*) AS partial_word FROM kaireon.audit_trail(action => 'usage.rep');
SELECT count(*) AS partial_prefix FROM kaireon.audit_trail(action => 'usa');
SELECT count(*) AS percent FROM kaireon.audit_trail(action => '%');
SELECT count(*) AS underscore FROM kaireon.audit_trail(action => 'u_age');
SELECT action, count(*) FROM kaireon.audit_trail(action => 'tenant_grant') GROUP BY action ORDER BY action;
-- Errors: max_rows out of range, no tenant, another tenant (by name, or by
-- selecting it), and naming a tenant at all: administrators only.
SELECT count(*) FROM kaireon.audit_trail(max_rows => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM kaireon.audit_trail(max_rows => 100001);
SELECT count(*) FROM kaireon.audit_trail(max_rows => NULL);
SELECT count(*) FROM kaireon.audit_trail(tenant_id => 'au-b');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM kaireon.audit_trail(tenant_id => '');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'au-b';
SELECT count(*) FROM kaireon.audit_trail();
\echo :LAST_ERROR_SQLSTATE
RESET kaireon.tenant;
SELECT count(*) FROM kaireon.audit_trail();
\echo :LAST_ERROR_SQLSTATE
-- The log itself, under row-level security: the own tenant's rows only.
SET kaireon.tenant = 'au-a';
SELECT tenant_id, count(*) FROM kaireon.audit_log WHERE id > :audit0 GROUP BY tenant_id;
RESET ROLE;
SET ROLE regress_au_app;
SET kaireon.tenant = 'au-a';
SELECT count(*) FROM kaireon.audit_trail();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM kaireon.audit_log;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_au_admin;
SET kaireon.tenant = 'au-a';
SELECT count(*) AS b_records, string_agg(action, ', ' ORDER BY id) AS b_actions FROM kaireon.audit_trail(tenant_id => 'au-b');
SELECT count(*) > 0 AS system_records FROM kaireon.audit_trail(tenant_id => '', action => 'feature');
RESET kaireon.tenant;
SELECT count(*) AS b_records FROM kaireon.audit_trail(tenant_id => 'au-b');
RESET ROLE;

-- seal_audit() seals every tenant's committed rows into its chain, one seal
-- per row at positions 1..n; verify_audit() walks the chain.
SELECT kaireon.seal_audit();
SELECT kaireon.seal_audit();
SELECT tenant_id, count(*) AS seals, min(position) AS first, max(position) AS last,
       count(DISTINCT audit_id) AS rows_sealed,
       (SELECT count(*) FROM kaireon.audit_log a WHERE a.tenant_id = s.tenant_id) AS rows_in_log
FROM kaireon.audit_seals s WHERE tenant_id IN ('au-a', 'au-b', 'lic-zzz') GROUP BY tenant_id ORDER BY tenant_id;
-- Each link follows the previous one; the first follows 32 zero bytes.
SELECT s.tenant_id, bool_and(s.prev_hash = coalesce(p.hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea))
           AS linked, bool_and(length(s.hash) = 32) AS sha256
FROM kaireon.audit_seals s
LEFT JOIN kaireon.audit_seals p ON p.tenant_id = s.tenant_id AND p.position = s.position - 1
WHERE s.tenant_id IN ('au-a', 'au-b', 'lic-zzz') GROUP BY s.tenant_id ORDER BY s.tenant_id;
SELECT kaireon.verify_audit('au-a');
SELECT t, pg_temp.verdict(t) FROM unnest(ARRAY['au-b', 'lic-zzz', 'no-such-tenant']) t;
SELECT (kaireon.verify_audit('') ->> 'valid')::boolean AS system_trail_valid;
-- Append-only: UPDATE, DELETE and TRUNCATE of the log and the seals are
-- refused, also for the superuser that owns the tables, also in replica
-- mode (ENABLE ALWAYS).
SELECT (SELECT count(*) FROM kaireon.audit_log) AS records_before, (SELECT count(*) FROM kaireon.audit_seals) AS seals_before \gset
UPDATE kaireon.audit_log SET details = '{}' WHERE id > :audit0;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM kaireon.audit_log WHERE id > :audit0;
TRUNCATE kaireon.audit_log;
UPDATE kaireon.audit_seals SET hash = prev_hash WHERE tenant_id = 'au-a';
DELETE FROM kaireon.audit_seals WHERE tenant_id = 'au-a';
TRUNCATE kaireon.audit_seals;
SET session_replication_role = replica;
UPDATE kaireon.audit_log SET details = '{}' WHERE id > :audit0;
DELETE FROM kaireon.audit_log WHERE id > :audit0;
TRUNCATE kaireon.audit_log;
UPDATE kaireon.audit_seals SET hash = prev_hash WHERE tenant_id = 'au-a';
DELETE FROM kaireon.audit_seals WHERE tenant_id = 'au-a';
TRUNCATE kaireon.audit_seals;
UPDATE kaireon.usage_events SET value = 0 WHERE tenant_id = 'au-a';
DELETE FROM kaireon.usage_events WHERE tenant_id = 'au-a';
TRUNCATE kaireon.usage_events;
RESET session_replication_role;
SELECT (SELECT count(*) FROM kaireon.audit_log) = :records_before AND (SELECT count(*) FROM kaireon.audit_seals) = :seals_before
       AND kaireon.verify_audit('au-a') ->> 'valid' = 'true' AS nothing_changed;
SET ROLE regress_au_admin;
UPDATE kaireon.audit_seals SET hash = prev_hash;
\echo :LAST_ERROR_SQLSTATE
UPDATE kaireon.audit_log SET details = '{}';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM kaireon.audit_log;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.audit_log (tenant_id, actor, action) VALUES ('au-a', 'me', 'forged');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Every run that sealed a tenant's rows emitted audit.sealed for it.
SELECT tenant_id, payload ->> 'sealed' AS sealed, (payload ->> 'lastAuditId')::bigint - :audit0 AS last_audit_id,
       payload ->> 'lastHash' = (SELECT encode(s.hash, 'hex') FROM kaireon.audit_seals s
                                 WHERE s.tenant_id = e.tenant_id AND s.audit_id = (payload ->> 'lastAuditId')::bigint)
           AS last_hash_is_its_seal
FROM kaireon.events e WHERE type = 'audit.sealed' AND tenant_id IN ('au-a', 'au-b') ORDER BY tenant_id, id;
-- New rows are sealed by the next run after the last seal.
SET kaireon.test_clock = '2026-06-10T15:00:00Z';
SET kaireon.tenant = 'au-a';
SELECT kaireon.report_usage('au_calls', 1) ->> 'currentUsage' AS usage;
SELECT kaireon.entitlement('au_calls') ->> 'currentUsage' AS usage;
SELECT kaireon.report_usage('au_calls', 1) ->> 'currentUsage' AS usage;
RESET kaireon.tenant;
-- max_rows bounds one run: at most 2 rows per tenant, the rest next time.
SELECT kaireon.seal_audit(max_rows => 2);
SELECT pg_temp.verdict('au-a');
SELECT kaireon.seal_audit(max_rows => 2);
SELECT pg_temp.verdict('au-a');
SELECT s.position, a.id - :audit0 AS n, a.action FROM kaireon.audit_seals s
JOIN kaireon.audit_log a ON a.tenant_id = s.tenant_id AND a.id = s.audit_id
WHERE s.tenant_id = 'au-a' ORDER BY s.position DESC LIMIT 4;
-- Bad calls: max_rows out of range, not READ COMMITTED.
SELECT kaireon.seal_audit(0);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.seal_audit(10000001);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT kaireon.seal_audit();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT kaireon.seal_audit();
ROLLBACK;
-- Who may seal and verify: administrators seal; a tenant's readers verify
-- their own tenant; applications neither.
SET ROLE regress_au_admin;
SELECT kaireon.seal_audit() ->> 'sealed' AS sealed;
SELECT pg_temp.verdict('au-b');
RESET ROLE;
SET ROLE regress_au_reader;
SET kaireon.tenant = 'au-a';
SELECT kaireon.seal_audit();
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.verdict('au-a');
SELECT kaireon.verify_audit('au-b');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.verify_audit('');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.verify_audit(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM kaireon.audit_seals;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_au_app;
SELECT kaireon.verify_audit('au-a');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET kaireon.tenant;

-- Refusal counts: a refused report rolls back with its transaction, yet the
-- next seal_audit writes how many there were ('refusals', per kind), as
-- kaireon.stats counts them.
SELECT kaireon.create_tenant('au-ref', 'Refused', 'r@au.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'au-ref';
SELECT kaireon.report_usage('au_calls', 150) ->> 'currentUsage' AS usage;
BEGIN;
SELECT kaireon.report_usage('au_calls', 60);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT kaireon.require_feature('journeys');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT usage_refusals, entitlement_refusals, quota_refusals FROM kaireon.stats WHERE tenant_id = 'au-ref';
RESET kaireon.tenant;
SELECT kaireon.seal_audit() ->> 'refusalRecords' AS refusal_records;
SELECT n, actor, action, target, details FROM new_audit WHERE tenant_id = 'au-ref' AND action = 'refusals' ORDER BY n;
SELECT kaireon.seal_audit() ->> 'refusalRecords' AS refusal_records_again;
SET kaireon.tenant = 'au-ref';
SELECT kaireon.report_usage('au_calls', 60);
SELECT kaireon.report_usage('au_calls', 51);
RESET kaireon.tenant;
SELECT kaireon.seal_audit() ->> 'refusalRecords' AS refusal_records;
SELECT n, action, target, details FROM new_audit WHERE tenant_id = 'au-ref' AND action = 'refusals' ORDER BY n;
SELECT usage_refusals FROM kaireon.stats WHERE tenant_id = 'au-ref';
SELECT pg_temp.verdict('au-ref');
SELECT count(*) AS unsealed_refusal_records FROM kaireon.audit_log a
WHERE a.tenant_id = 'au-ref' AND NOT EXISTS (SELECT 1 FROM kaireon.audit_seals s WHERE s.tenant_id = a.tenant_id AND s.audit_id = a.id);

-- Tampering, as a superuser who bypasses the append-only triggers: each on
-- a tenant of its own, with three sealed rows (the tenant's creation and
-- two reports).
SELECT t, kaireon.create_tenant(t, 'Tampered', 't@au.test') ->> 'tenantId' AS tenant
FROM unnest(ARRAY['au-t-mod', 'au-t-del', 'au-t-seal', 'au-t-forge', 'au-t-hash']) t;
SELECT set_config('kaireon.tenant', t, false) AS tenant, kaireon.report_usage('au_calls', 1) ->> 'currentUsage' AS usage,
       kaireon.report_usage('au_calls', 2) ->> 'currentUsage' AS usage
FROM unnest(ARRAY['au-t-mod', 'au-t-del', 'au-t-seal', 'au-t-forge', 'au-t-hash']) t;
RESET kaireon.tenant;
SELECT kaireon.seal_audit() ->> 'sealed' AS sealed;
SELECT t, pg_temp.verdict(t) FROM unnest(ARRAY['au-t-mod', 'au-t-del', 'au-t-seal', 'au-t-forge', 'au-t-hash']) t;
ALTER TABLE kaireon.audit_log DISABLE TRIGGER append_only;
ALTER TABLE kaireon.audit_seals DISABLE TRIGGER append_only;
-- A row's details changed; a row deleted; a seal deleted; a seal's hash
-- changed; a row inserted with a small id below the sealed horizon.
UPDATE kaireon.audit_log SET details = details || '{"total": 0}'
WHERE tenant_id = 'au-t-mod' AND id = (SELECT min(id) FROM kaireon.audit_log WHERE tenant_id = 'au-t-mod' AND action = 'usage.reported');
DELETE FROM kaireon.audit_log
WHERE tenant_id = 'au-t-del' AND id = (SELECT max(id) FROM kaireon.audit_log WHERE tenant_id = 'au-t-del');
DELETE FROM kaireon.audit_seals WHERE tenant_id = 'au-t-seal' AND position = 2;
UPDATE kaireon.audit_seals SET hash = sha256(hash) WHERE tenant_id = 'au-t-hash' AND position = 3;
INSERT INTO kaireon.audit_log (tenant_id, id, recorded_at, txid, actor, action, target, details) OVERRIDING SYSTEM VALUE
SELECT tenant_id, min(id) - 1, min(recorded_at), min(txid), 'postgres', 'usage.reported', 'au_calls', '{"events": 1}'
FROM kaireon.audit_log WHERE tenant_id = 'au-t-forge' GROUP BY tenant_id;
ALTER TABLE kaireon.audit_log ENABLE ALWAYS TRIGGER append_only;
ALTER TABLE kaireon.audit_seals ENABLE ALWAYS TRIGGER append_only;
SELECT tgrelid::regclass AS "table", tgname, tgenabled FROM pg_trigger
WHERE tgrelid IN ('kaireon.audit_log'::regclass, 'kaireon.audit_seals'::regclass) AND tgname LIKE 'append_only%'
ORDER BY 1, 2;
SELECT t, pg_temp.verdict(t) FROM unnest(ARRAY['au-t-mod', 'au-t-del', 'au-t-seal', 'au-t-hash', 'au-t-forge']) t;
-- Sealing again changes none of that, and the untouched chains stay valid.
SELECT kaireon.seal_audit() ->> 'sealed' AS sealed;
SELECT t, pg_temp.verdict(t) FROM unnest(ARRAY['au-t-mod', 'au-t-del', 'au-t-seal', 'au-t-hash', 'au-t-forge', 'au-a']) t;
-- Each failed verification went to the outbox.
SELECT tenant_id, count(*) AS events, min(payload ->> 'reason') ~ '^(row|seal)' AS has_reason
FROM kaireon.events WHERE type = 'audit.verification_failed' AND tenant_id LIKE 'au-%' GROUP BY tenant_id ORDER BY tenant_id;

-- A dropped tenant's trail stays (and stays valid), with its drop in it.
SELECT kaireon.drop_tenant('au-b') ->> 'tenantId' AS dropped;
SELECT n, action, target FROM new_audit WHERE tenant_id = 'au-b' ORDER BY n;
SELECT kaireon.seal_audit() ->> 'sealed' AS sealed;
SELECT pg_temp.verdict('au-b');
SELECT count(*) AS b_records_kept FROM kaireon.audit_log WHERE tenant_id = 'au-b';

RESET kaireon.tenant;
RESET kaireon.test_clock;
SELECT count(kaireon.drop_tenant(t)) AS dropped
FROM unnest(ARRAY['au-a', 'au-ref', 'au-t-mod', 'au-t-del', 'au-t-seal', 'au-t-forge', 'au-t-hash']) t;
DELETE FROM kaireon.features WHERE key IN ('au_calls', 'au_msgs');
DROP ROLE regress_au_app, regress_au_reader, regress_au_reader_b, regress_au_admin;

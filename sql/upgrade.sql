-- ALTER EXTENSION kaireon UPDATE from the first version keeps the data in
-- place and gives the same objects as a fresh install.
\set SHOW_CONTEXT never
CREATE TEMP TABLE fresh_objects AS
    SELECT pg_describe_object(classid, objid, objsubid) AS object
    FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
      AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kaireon');
DROP EXTENSION kaireon;
CREATE EXTENSION kaireon VERSION '0.1';
SELECT extversion FROM pg_extension WHERE extname = 'kaireon';
CREATE ROLE regress_kr_upgrade IN ROLE kaireon_app;
SELECT kaireon.create_tenant('old-tenant', 'Old', 'old@old.test') - 'createdAt' AS created;
SELECT kaireon.grant_tenant('regress_kr_upgrade', 'old-tenant');
ALTER EXTENSION kaireon UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'kaireon') AS at_default_version
FROM pg_extension WHERE extname = 'kaireon';
-- The data survived and works with the new version's functions.
SELECT tenant_id, name, admin_email FROM kaireon.tenants;
SET ROLE regress_kr_upgrade;
SET kaireon.tenant = 'old-tenant';
SELECT kaireon.current_tenant();
RESET ROLE;
RESET kaireon.tenant;
-- Same objects as a fresh install of the default version.
SELECT object AS missing_after_upgrade FROM fresh_objects
EXCEPT
SELECT pg_describe_object(classid, objid, objsubid)
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'kaireon');
SELECT d ->> 'tenantId' AS dropped, d -> 'deleted' -> 'kaireon.tenant_grants' AS grants_deleted
FROM kaireon.drop_tenant('old-tenant') AS d;
DROP ROLE regress_kr_upgrade;

-- 0.5 -> 0.6 moves the entitlement evaluations into the audit trail and keeps
-- them readable through the view of the same name; usage data stays.
DROP EXTENSION kaireon;
CREATE EXTENSION kaireon VERSION '0.5';
INSERT INTO kaireon.tenants (tenant_id, name, admin_email) VALUES ('up-tenant', 'Up', 'up@up.test');
INSERT INTO kaireon.entitlement_evaluations (tenant_id, evaluated_at, role_name, api, feature, requested, status, result)
VALUES ('up-tenant', '2026-05-01T00:00:00Z', 'someone', 'check_usage', 'connectors', 2, 'ACCEPTED', '{"status": "ACCEPTED"}');
INSERT INTO kaireon.events (tenant_id, type, payload) VALUES ('up-tenant', 'license.installed', '{"tier": "professional"}');
ALTER EXTENSION kaireon UPDATE;
SELECT tenant_id, evaluated_at, role_name, api, feature, requested, status, result FROM kaireon.entitlement_evaluations;
SELECT tenant_id, actor, action, target FROM kaireon.audit_log WHERE tenant_id = 'up-tenant';
SELECT type, seq IS NULL AS not_numbered_yet FROM kaireon.events WHERE tenant_id = 'up-tenant';
SELECT kaireon.seal_audit() ->> 'sealed' AS sealed;
SELECT kaireon.verify_audit('up-tenant');

-- 0.6 -> 0.7 adds the decision catalog: data stays, the new tables take rows
-- for tenants made before the upgrade.
DROP EXTENSION kaireon;
CREATE EXTENSION kaireon VERSION '0.6';
SELECT kaireon.create_tenant('up-tenant', 'Up', 'up@up.test') ->> 'tenantId' AS created;
SELECT kaireon.define_feature('api_calls', 'numeric', '{"period": "never"}') ->> 'key' AS defined;
SELECT kaireon.set_plan_entitlement('community', 'api_calls', '{"limit": 100}') IS NOT NULL AS planned;
SELECT kaireon.report_usage('api_calls', 7) ->> 'currentUsage' AS usage FROM (SELECT set_config('kaireon.tenant', 'up-tenant', false)) s;
ALTER EXTENSION kaireon UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'kaireon';
SELECT tenant_id, name FROM kaireon.tenants;
SELECT feature, sum FROM kaireon.usage_totals WHERE tenant_id = 'up-tenant';
SELECT kaireon.apply_catalog('{"channels": [{"id": "web", "type": "web"}], "offers": [{"id": "gold", "eligibility": "customer.age >= 18"}]}') -> 'applied' -> 'offers' AS offers;
SELECT jsonb_array_length(kaireon.export_catalog() -> 'offers') AS exported_offers;
SELECT d -> 'deleted' -> 'kaireon.offers' AS offers_deleted FROM kaireon.drop_tenant('up-tenant') AS d;
RESET kaireon.tenant;
-- 0.17 -> 0.18 requires every interaction recorded at most 5 minutes before
-- it occurred (kaireon_respond never writes another): a row inserted
-- directly that is not stops the update, which says how to find it, and
-- changes nothing.
DROP EXTENSION kaireon;
CREATE EXTENSION kaireon VERSION '0.17';
INSERT INTO kaireon.interactions (tenant_id, idempotency_key, customer_id, offer_id, outcome, kind, occurred_at, recorded_at)
VALUES ('up-tenant', 'kept', 'c1', 'gold', 'impression', 'impression', '2026-04-01T00:05:00Z', '2026-04-01T00:00:00Z'),
       ('up-tenant', 'ahead', 'c1', 'gold', 'impression', 'impression', '2026-04-01T00:05:01Z', '2026-04-01T00:00:00Z');
ALTER EXTENSION kaireon UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'kaireon';
DELETE FROM kaireon.interactions WHERE idempotency_key = 'ahead';
ALTER EXTENSION kaireon UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'kaireon') AS at_default_version,
       (SELECT array_agg(idempotency_key) FROM kaireon.interactions) AS interactions
FROM pg_extension WHERE extname = 'kaireon';
DROP EXTENSION kaireon;
CREATE EXTENSION kaireon;

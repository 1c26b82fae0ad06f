-- 06_licences_entitlements.sql - who may change licences, plans and
-- overrides (administrators only) and who may ask (every kaireon role), and
-- that the tables behind them cannot be written around the API.
BEGIN;
SELECT plan(31);

CREATE ROLE kr06_app NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr06_reader NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr06_admin NOLOGIN IN ROLE kaireon_admin;

-- Administration: kaireon_admin only.
SELECT function_privs_are('kaireon', f.name, f.args, r.role, CASE WHEN r.role = 'kaireon_admin' THEN ARRAY['EXECUTE'] ELSE ARRAY[]::text[] END,
                          f.name || ' is for administrators only (' || r.role || ')')
FROM (VALUES ('add_license_key', ARRAY['text', 'text', 'text']),
             ('revoke_license_key', ARRAY['text']),
             ('revoke_license', ARRAY['text']),
             ('install_license', ARRAY['text']),
             ('define_feature', ARRAY['text', 'text', 'jsonb']),
             ('set_plan_entitlement', ARRAY['text', 'text', 'jsonb']),
             ('set_override', ARRAY['text', 'jsonb', 'timestamp with time zone']),
             ('clear_override', ARRAY['text']),
             ('set_thresholds', ARRAY['text', 'integer[]'])) AS f (name, args)
CROSS JOIN (VALUES ('kaireon_admin'), ('kaireon_app')) AS r (role);

-- Asking: every kaireon role.
SELECT ok(bool_and(has_function_privilege(r.role, 'kaireon.' || f.sig, 'EXECUTE')),
          f.sig || ' is executable by kaireon_admin, kaireon_app and kaireon_reader')
FROM (VALUES ('entitlement(text)'), ('has_feature(text)'), ('require_feature(text)'),
             ('check_usage(text, numeric)'), ('license_status()')) AS f (sig)
CROSS JOIN (VALUES ('kaireon_admin'), ('kaireon_app'), ('kaireon_reader')) AS r (role)
GROUP BY f.sig;

-- The tables cannot be written around the API, not even by administrators.
SELECT ok(NOT has_table_privilege(r.role, t.tab, 'INSERT,UPDATE,DELETE,TRUNCATE'),
          t.tab || ' is not writable by ' || r.role)
FROM (VALUES ('kaireon.features'), ('kaireon.plan_entitlements'), ('kaireon.entitlement_overrides'),
             ('kaireon.licenses'), ('kaireon.license_keys')) AS t (tab)
CROSS JOIN (VALUES ('kaireon_admin'), ('kaireon_app')) AS r (role)
WHERE r.role = 'kaireon_admin' OR t.tab IN ('kaireon.features', 'kaireon.licenses');

-- An application role gets "permission denied" for administration.
SET ROLE kr06_app;
SELECT throws_ok($$SELECT kaireon.set_plan_entitlement('community', 'journeys', '{"enabled": true}')$$,
                 '42501', NULL, 'an application cannot change a plan');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

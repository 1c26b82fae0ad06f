-- Licences (SPEC section 2): keys bound to one algorithm, every rejection
-- with its own reason, grace, fallback, upgrades, and the events they emit.
-- Keys and tokens come from an independent implementation (PyJWT and
-- cryptography, test/license/mint.py); the clock is kaireon.test_clock.
\set SHOW_CONTEXT never
\set ECHO none
\i test/license/fixtures.sql
\set ECHO all
SET kaireon.test_clock = '2026-06-01T00:00:00Z';
SET timezone = 'UTC';
CREATE ROLE regress_lic_app IN ROLE kaireon_app;
SELECT kaireon.create_tenant('lic-a', 'Licensed A', 'a@lic.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('lic-b', 'Licensed B', 'b@lic.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_lic_app', 'lic-a');

-- try_install answers 'installed <tier>' or the SQLSTATE, reason and message.
CREATE FUNCTION pg_temp.try_install(token text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    status jsonb;
    detail text;
BEGIN
    status := kaireon.install_license(token);
    RETURN 'installed ' || (status ->> 'tier');
EXCEPTION WHEN SQLSTATE 'KR401' OR SQLSTATE 'KR400' OR SQLSTATE 'KR403' THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ' ' || coalesce(detail::jsonb ->> 'reason', '-') || ': ' || SQLERRM;
END
$$;

-- Keys: each bound to one algorithm.
SELECT kaireon.add_license_key('rsa-1', 'RS256', :'pem_rsa') - 'createdAt' AS key;
SELECT kaireon.add_license_key('rsa-pss', 'PS256', :'pem_rsa') - 'createdAt' AS key;
SELECT kaireon.add_license_key('ec-1', 'ES256', :'pem_ec') - 'createdAt' AS key;
SELECT kaireon.add_license_key('ed-1', 'EdDSA', :'pem_ed') - 'createdAt' AS key;
-- Refused keys.
SELECT kaireon.add_license_key('rsa-small', 'RS256', :'pem_rsa_small');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.add_license_key('ec-as-rsa', 'RS256', :'pem_ec');
SELECT kaireon.add_license_key('p384', 'ES256', :'pem_ec_p384');
SELECT kaireon.add_license_key('rsa-as-ed', 'EdDSA', :'pem_rsa');
SELECT kaireon.add_license_key('garbage', 'RS256', 'not a pem');
SELECT kaireon.add_license_key('hmac', 'HS256', :'pem_rsa');
SELECT kaireon.add_license_key('none', 'none', :'pem_rsa');
SELECT kaireon.add_license_key('rsa-1', 'RS256', :'pem_rsa_other');
SELECT kaireon.add_license_key('', 'RS256', :'pem_rsa');
SELECT kaireon.add_license_key('with space', 'RS256', :'pem_rsa');
SELECT kaireon.add_license_key(NULL, 'RS256', :'pem_rsa');
SELECT kid, alg, revoked_at FROM kaireon.license_keys ORDER BY kid;

-- No licence: Community.
SET kaireon.tenant = 'lic-a';
SELECT kaireon.license_status();

-- A valid RS256 licence, then the other algorithms.
SELECT pg_temp.try_install(:'tok_pro');
SELECT kaireon.license_status();
SELECT pg_temp.try_install(:'tok_ps256'), pg_temp.try_install(:'tok_es256'), pg_temp.try_install(:'tok_eddsa');

-- Every attack and malformation is refused with its own reason.
SELECT pg_temp.try_install(:'bad_alg_none') AS alg_none;
SELECT pg_temp.try_install(:'bad_hs256_with_public_pem') AS hs256_signed_with_the_public_pem;
SELECT pg_temp.try_install(:'bad_hs512') AS hs512;
SELECT pg_temp.try_install(:'bad_unknown_kid') AS unknown_kid;
SELECT pg_temp.try_install(:'bad_alg_not_the_keys') AS alg_not_the_keys;
SELECT pg_temp.try_install(:'bad_signed_by_other_key') AS signed_by_other_key;
SELECT pg_temp.try_install(:'bad_tampered_payload') AS tampered_payload;
SELECT pg_temp.try_install(:'bad_tampered_header') AS tampered_header;
SELECT pg_temp.try_install(:'bad_malformed_base64url') AS malformed_base64url;
SELECT pg_temp.try_install(:'bad_malformed_json') AS malformed_json;
SELECT pg_temp.try_install(:'bad_two_segments') AS two_segments;
SELECT pg_temp.try_install(:'bad_four_segments') AS four_segments;
SELECT pg_temp.try_install(:'bad_too_large') AS too_large;
SELECT pg_temp.try_install(:'bad_missing_exp') AS missing_exp;
SELECT pg_temp.try_install(:'bad_expired') AS expired;
SELECT pg_temp.try_install(:'bad_not_yet_valid') AS not_yet_valid;
SELECT pg_temp.try_install(:'bad_unknown_tier') AS unknown_tier;
SELECT pg_temp.try_install(:'bad_missing_kid') AS missing_kid;
SELECT pg_temp.try_install(:'tok_bad_sub') AS sub_not_a_tenant_id;
SELECT pg_temp.try_install(:'tok_unknown_tenant') AS unknown_tenant;
SELECT pg_temp.try_install('') AS empty, pg_temp.try_install(NULL) AS null_token;
-- What a client sees: SQLSTATE KR401, the reason in the DETAIL, never the token.
SELECT kaireon.install_license(:'bad_alg_none');
\echo :LAST_ERROR_SQLSTATE
-- The failed installs changed nothing, and each was counted.
SELECT kaireon.license_status() ->> 'tier' AS tier, kaireon.license_status() ->> 'state' AS state;
SELECT license_failures FROM kaireon.stats WHERE tenant_id = 'lic-a';

-- The issuer is checked when kaireon.license_issuer is set.
SET kaireon.license_issuer = 'https://licenses.kaireon.example';
SELECT pg_temp.try_install(:'tok_pro') AS without_iss, pg_temp.try_install(:'tok_issuer') AS with_iss;
RESET kaireon.license_issuer;

-- A revoked jti never installs.
SELECT kaireon.revoke_license('a-revoked');
SELECT pg_temp.try_install(:'tok_revoked') AS revoked_jti;

-- Claims limits and features are kept for the entitlements.
SELECT pg_temp.try_install(:'tok_with_claims');
SELECT claims FROM kaireon.licenses WHERE tenant_id = 'lic-a';

-- Upgrade restarts the decision quota's period count; a downgrade does not.
SELECT pg_temp.try_install(:'tok_pro');
UPDATE kaireon.licenses SET quota_reset_at = NULL;
SELECT pg_temp.try_install(:'tok_enterprise') AS upgrade;
SELECT quota_reset_at FROM kaireon.licenses WHERE tenant_id = 'lic-a';
SET kaireon.test_clock = '2026-06-01T08:00:00Z';
SELECT pg_temp.try_install(:'tok_community') AS downgrade;
SELECT quota_reset_at FROM kaireon.licenses WHERE tenant_id = 'lic-a';
SELECT kaireon.license_status() ->> 'effectiveTier' AS effective_tier;

-- Expiry: notices 14, 7 and 1 days ahead (each once), then 7 days of grace at
-- the last verified tier with one reminder a day, then Community.
SET kaireon.test_clock = '2026-06-01T00:00:00Z';
SELECT pg_temp.try_install(:'tok_short');                     -- expires 2026-06-10
SELECT kaireon.license_status() ->> 'state' AS state;          -- 14-day notice due
SET kaireon.test_clock = '2026-06-04T00:00:00Z';
SELECT kaireon.license_status() ->> 'state' AS state;          -- 7-day notice
SELECT kaireon.license_status() ->> 'state' AS state;          -- not again
SET kaireon.test_clock = '2026-06-09T12:00:00Z';
SELECT kaireon.license_status() ->> 'state' AS state;          -- 1-day notice
SET kaireon.test_clock = '2026-06-10T00:00:59Z';
SELECT kaireon.license_status() ->> 'state' AS within_leeway;
SET kaireon.test_clock = '2026-06-10T00:01:00Z';
SELECT kaireon.license_status();
SELECT kaireon.license_status() ->> 'state' AS same_day;       -- no second reminder
SET kaireon.test_clock = '2026-06-11T09:00:00Z';
SELECT kaireon.license_status() ->> 'state' AS next_day;       -- another reminder
SELECT first_failure_at, failure_reason, verified_tier FROM kaireon.licenses WHERE tenant_id = 'lic-a';
SET kaireon.test_clock = '2026-06-16T23:59:59Z';
SELECT kaireon.license_status() ->> 'effectiveTier' AS last_second_of_grace;
SET kaireon.test_clock = '2026-06-17T00:00:00Z';
SELECT kaireon.license_status();
SELECT type, dedupe_key, payload ->> 'daysLeft' AS days_left, payload ->> 'graceUntil' AS grace_until
FROM kaireon.events WHERE tenant_id = 'lic-a' AND type LIKE 'license.%' AND type <> 'license.installed'
ORDER BY id;
-- A valid licence ends the fallback at once.
SELECT pg_temp.try_install(:'tok_pro');
SELECT kaireon.license_status() ->> 'state' AS state, kaireon.license_status() ->> 'effectiveTier' AS effective_tier;
SELECT first_failure_at, failure_reason FROM kaireon.licenses WHERE tenant_id = 'lic-a';

-- Revoking the key (or the jti) of the stored licence starts grace.
SET kaireon.test_clock = '2026-06-20T00:00:00Z';
SELECT pg_temp.try_install(:'tok_es256');
SELECT kaireon.revoke_license_key('ec-1') - 'revokedAt' AS revoked;
SELECT kaireon.license_status();
SELECT kaireon.revoke_license_key('no-such-kid');
SELECT pg_temp.try_install(:'tok_eddsa');
SELECT kaireon.revoke_license('a-ed') - 'revokedAt' AS revoked;
SELECT kaireon.license_status() ->> 'state' AS state, kaireon.license_status() ->> 'reason' AS reason;
SELECT pg_temp.try_install(:'tok_pro');

-- The application reads its own status; other tenants are refused.
SET ROLE regress_lic_app;
SELECT kaireon.license_status() ->> 'state' AS app_sees;
SELECT kaireon.install_license(:'tok_pro');
SELECT kaireon.add_license_key('x', 'RS256', :'pem_rsa');
SET kaireon.tenant = 'lic-b';
SELECT kaireon.license_status();
SET kaireon.test_clock = '2030-01-01T00:00:00Z';
SET kaireon.license_key = 'x';
SELECT count(*) AS licenses_readable FROM kaireon.licenses;
RESET ROLE;
RESET kaireon.tenant;
SELECT kaireon.license_status();

-- kaireon.license_key serves a single-tenant install: it counts for the
-- tenant in its sub while no licence is installed there.
SET kaireon.license_key = :'tok_other_tenant';
SET kaireon.tenant = 'lic-b';
SELECT kaireon.license_status();
SET kaireon.test_clock = '2027-06-02T00:00:00Z';
SELECT kaireon.license_status() ->> 'state' AS expired_key_state, kaireon.license_status() ->> 'reason' AS reason;
RESET kaireon.license_key;
RESET kaireon.tenant;
SET kaireon.license_server_url = 'https://licenses.kaireon.example/verify';
SHOW kaireon.license_server_url;

RESET kaireon.test_clock;
SELECT d -> 'deleted' -> 'kaireon.licenses' AS licences_deleted, d -> 'deleted' -> 'kaireon.events' AS events_deleted
FROM kaireon.drop_tenant('lic-a') AS d;
SELECT kaireon.drop_tenant('lic-b') ->> 'tenantId' AS dropped;
DROP ROLE regress_lic_app;

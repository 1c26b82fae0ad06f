-- kaireon 0.2 -> 0.3: licences (SPEC section 2), the test clock, and the
-- event outbox the licence events go to.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.3'" to load this file. \quit

-- clock() is the time kaireon acts at: now(), or kaireon.test_clock when a
-- superuser set it (tests move time without sleeping).
CREATE FUNCTION kaireon.clock() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(nullif(current_setting('kaireon.test_clock', true), '')::timestamptz, now())
$$;
GRANT EXECUTE ON FUNCTION kaireon.clock() TO kaireon_admin, kaireon_app, kaireon_reader;

-- The event outbox. The events issue adds the catalog of types, consumers
-- and delivery; licences already emit into it. dedupe_key makes "once per
-- period" events exact: a second insert with the same key does nothing.
CREATE TABLE kaireon.events (
    tenant_id      text NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    type           text NOT NULL,
    payload        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    dedupe_key     text,
    delivery_state text NOT NULL DEFAULT 'pending' CHECK (delivery_state IN ('pending', 'delivered', 'failed', 'dead')),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, dedupe_key)
);
COMMENT ON TABLE kaireon.events IS 'Transactional outbox: one row per event, written in the transaction that caused it.';
ALTER TABLE kaireon.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.events USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.events TO kaireon_admin, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.events', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.events_id_seq', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.events', 'delete', 90);

-- Public keys that sign licences, each bound to one algorithm. Global and
-- administrator-only.
CREATE TABLE kaireon.license_keys (
    kid            text PRIMARY KEY,
    alg            text NOT NULL CHECK (alg IN ('RS256', 'PS256', 'ES256', 'EdDSA')),
    public_key_pem text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
COMMENT ON TABLE kaireon.license_keys IS 'Licence signing keys: add with add_license_key, revoke with revoke_license_key.';
CREATE TABLE kaireon.revoked_licenses (
    jti        text PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kaireon.revoked_licenses IS 'Licences revoked by jti with revoke_license.';

-- The licence installed for each tenant, and what grace needs to know.
CREATE TABLE kaireon.licenses (
    tenant_id        text PRIMARY KEY REFERENCES kaireon.tenants ON DELETE CASCADE,
    token            text NOT NULL,
    jti              text NOT NULL,
    tier             text NOT NULL,
    issuer           text,
    issued_at        timestamptz,
    not_before       timestamptz,
    expires_at       timestamptz NOT NULL,
    claims           jsonb NOT NULL,
    installed_at     timestamptz NOT NULL,
    verified_tier    text NOT NULL,
    verified_at      timestamptz NOT NULL,
    first_failure_at timestamptz,
    failure_reason   text,
    quota_reset_at   timestamptz
);
COMMENT ON TABLE kaireon.licenses IS 'The licence of each tenant (install_license); see license_status().';
COMMENT ON COLUMN kaireon.licenses.verified_tier IS 'The tier when the licence last verified: in force during grace.';
COMMENT ON COLUMN kaireon.licenses.first_failure_at IS 'When the licence was first seen failing: grace lasts 7 days from it.';
COMMENT ON COLUMN kaireon.licenses.quota_reset_at IS 'Set by an upgrade: the current period''s decision quota counts from here.';
ALTER TABLE kaireon.licenses ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.licenses USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.licenses TO kaireon_admin;
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.licenses', 'delete', 80);

CREATE TRIGGER license_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.license_keys
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();
CREATE TRIGGER revoked_licenses_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.revoked_licenses
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();
CREATE TRIGGER licenses_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.licenses
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();

REVOKE ALL ON kaireon.license_keys, kaireon.revoked_licenses FROM PUBLIC;
GRANT SELECT ON kaireon.license_keys, kaireon.revoked_licenses TO kaireon_admin;
SELECT pg_catalog.pg_extension_config_dump('kaireon.license_keys', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.revoked_licenses', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.licenses', '');

-- The licence API (src/pg/license_functions.cpp).
CREATE FUNCTION kaireon.add_license_key(kid text, alg text, public_key_pem text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_add_license_key'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.revoke_license_key(kid text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_revoke_license_key'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.revoke_license(jti text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_revoke_license'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.install_license(token text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_install_license'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.license_status() RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_license_status'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

GRANT EXECUTE ON FUNCTION kaireon.add_license_key(text, text, text), kaireon.revoke_license_key(text),
    kaireon.revoke_license(text), kaireon.install_license(text) TO kaireon_admin;
GRANT EXECUTE ON FUNCTION kaireon.license_status() TO kaireon_admin, kaireon_app, kaireon_reader;

SELECT kaireon._revoke_public();

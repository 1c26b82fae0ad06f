-- kaireon 0.3 -> 0.4: features, plans, overrides, thresholds and the
-- entitlement API (SPEC section 3).
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.4'" to load this file. \quit

-- Features. The built-in ones (the seed's table) come from the library
-- (src/core/entitlements.cpp) and are not dumped: CREATE EXTENSION makes them
-- again. Features defined with define_feature are user data.
CREATE TABLE kaireon.features (
    key         text PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ('boolean', 'numeric', 'config')),
    options     jsonb NOT NULL,
    description text,
    builtin     boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kaireon.features IS 'Features: built in (the tiers'' table) and defined with define_feature.';

-- The tiers' values: built-in defaults, and the changes an administrator
-- made with set_plan_entitlement (dumped; a change wins over the default).
CREATE TABLE kaireon.plan_defaults (
    tier    text NOT NULL CHECK (tier IN ('community', 'professional', 'enterprise')),
    feature text NOT NULL REFERENCES kaireon.features ON DELETE CASCADE,
    value   jsonb NOT NULL,
    PRIMARY KEY (tier, feature)
);
CREATE TABLE kaireon.plan_entitlements (
    tier       text NOT NULL CHECK (tier IN ('community', 'professional', 'enterprise')),
    feature    text NOT NULL REFERENCES kaireon.features ON DELETE CASCADE,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tier, feature)
);
COMMENT ON TABLE kaireon.plan_entitlements IS 'Changes to the tiers made with set_plan_entitlement.';

CREATE FUNCTION kaireon._builtin_features(OUT key text, OUT type text, OUT options jsonb, OUT description text)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'kaireon_builtin_features' LANGUAGE C IMMUTABLE;
CREATE FUNCTION kaireon._builtin_plan_values(OUT tier text, OUT feature text, OUT value jsonb)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'kaireon_builtin_plan_values' LANGUAGE C IMMUTABLE;
INSERT INTO kaireon.features (key, type, options, description, builtin)
SELECT key, type, options, description, true FROM kaireon._builtin_features();
INSERT INTO kaireon.plan_defaults SELECT * FROM kaireon._builtin_plan_values();

CREATE VIEW kaireon.plans AS
SELECT t.tier, f.key AS feature, f.type,
       coalesce(c.value, d.value) AS value,
       CASE WHEN c.value IS NOT NULL THEN 'custom' WHEN d.value IS NOT NULL THEN 'default' ELSE 'none' END AS source
FROM kaireon.features f
CROSS JOIN (VALUES ('community', 1), ('professional', 2), ('enterprise', 3)) AS t (tier, rank)
LEFT JOIN kaireon.plan_defaults d ON d.tier = t.tier AND d.feature = f.key
LEFT JOIN kaireon.plan_entitlements c ON c.tier = t.tier AND c.feature = f.key
ORDER BY f.key, t.rank;
COMMENT ON VIEW kaireon.plans IS 'What each tier includes, feature by feature (NULL value = not entitled).';

-- Per-tenant overrides (trials, deals) and usage thresholds.
CREATE TABLE kaireon.entitlement_overrides (
    tenant_id  text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    feature    text NOT NULL REFERENCES kaireon.features ON DELETE CASCADE,
    value      jsonb NOT NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, feature)
);
COMMENT ON TABLE kaireon.entitlement_overrides IS 'One override per tenant and feature (set_override); expires_at NULL = never.';
CREATE TABLE kaireon.feature_thresholds (
    tenant_id  text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    feature    text NOT NULL REFERENCES kaireon.features ON DELETE CASCADE,
    percents   int[] NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, feature)
);
COMMENT ON TABLE kaireon.feature_thresholds IS 'Usage alert thresholds per tenant and feature (set_thresholds).';

-- Every evaluation made through the entitlement API, append-only (the audit
-- trail adopts it). Never customer data: the feature, the answer, who asked.
CREATE TABLE kaireon.entitlement_evaluations (
    tenant_id    text NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    evaluated_at timestamptz NOT NULL,
    role_name    name NOT NULL,
    api          text NOT NULL,
    feature      text NOT NULL,
    requested    numeric,
    status       text NOT NULL,
    result       jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE kaireon.entitlement_evaluations IS 'Audit of entitlement evaluations made through the API (append-only).';

ALTER TABLE kaireon.entitlement_overrides ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.entitlement_overrides USING (tenant_id = kaireon.visible_tenant());
ALTER TABLE kaireon.feature_thresholds ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.feature_thresholds USING (tenant_id = kaireon.visible_tenant());
ALTER TABLE kaireon.entitlement_evaluations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.entitlement_evaluations USING (tenant_id = kaireon.visible_tenant());
INSERT INTO kaireon.tenant_tables VALUES
    ('kaireon.entitlement_overrides', 'delete', 70),
    ('kaireon.feature_thresholds', 'delete', 70),
    ('kaireon.entitlement_evaluations', 'keep', 70);

CREATE TRIGGER features_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.features
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();
CREATE TRIGGER plan_entitlements_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.plan_entitlements
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();
CREATE TRIGGER plan_defaults_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.plan_defaults
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();
CREATE TRIGGER entitlement_overrides_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON kaireon.entitlement_overrides FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();
CREATE TRIGGER feature_thresholds_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON kaireon.feature_thresholds FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();

GRANT SELECT ON kaireon.features, kaireon.plan_defaults, kaireon.plan_entitlements, kaireon.plans TO kaireon_admin;
GRANT SELECT ON kaireon.entitlement_overrides, kaireon.feature_thresholds TO kaireon_admin, kaireon_reader;
GRANT SELECT ON kaireon.entitlement_evaluations TO kaireon_admin, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.features', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('kaireon.plan_entitlements', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.entitlement_overrides', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.feature_thresholds', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.entitlement_evaluations', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.entitlement_evaluations_id_seq', '');

-- _feature_usage is the usage of a numeric feature so far in the period that
-- starts at period_start (NULL for period never). Metering and the catalog
-- and quota components replace it as they land; until then usage is 0.
CREATE FUNCTION kaireon._feature_usage(tenant_id text, feature text, period_start timestamptz) RETURNS numeric
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$ SELECT 0::numeric $$;

-- The entitlement API (src/pg/entitlement_functions.cpp).
CREATE FUNCTION kaireon.define_feature(key text, type text, options jsonb DEFAULT '{}') RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_define_feature'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.set_plan_entitlement(tier text, feature text, value jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_set_plan_entitlement'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.set_override(feature text, value jsonb, expires_at timestamptz DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_set_override'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.clear_override(feature text) RETURNS boolean
AS 'MODULE_PATHNAME', 'kaireon_clear_override'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.set_thresholds(feature text, percents int[]) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_set_thresholds'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.entitlement(feature text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_entitlement'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.has_feature(feature text) RETURNS boolean
AS 'MODULE_PATHNAME', 'kaireon_has_feature'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.require_feature(feature text) RETURNS void
AS 'MODULE_PATHNAME', 'kaireon_require_feature'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.check_usage(feature text, requested numeric) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_check_usage'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

GRANT EXECUTE ON FUNCTION kaireon.define_feature(text, text, jsonb), kaireon.set_plan_entitlement(text, text, jsonb),
    kaireon.set_override(text, jsonb, timestamptz), kaireon.clear_override(text),
    kaireon.set_thresholds(text, int[]) TO kaireon_admin;
GRANT EXECUTE ON FUNCTION kaireon.entitlement(text), kaireon.has_feature(text), kaireon.require_feature(text),
    kaireon.check_usage(text, numeric) TO kaireon_admin, kaireon_app, kaireon_reader;

SELECT kaireon._revoke_public();

-- kaireon 0.6 -> 0.7: the decision catalog (SPEC 6.1): its tables, validated
-- on every write by the library (src/core/catalog.cpp describes the format),
-- apply_catalog / export_catalog, countable tier limits, the per-backend
-- compiled cache, forget_customer.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.7'" to load this file. \quit

-- Catalog rows are written with plain SQL by kaireon_admin (and customers by
-- kaireon_app), so the audit trigger runs as the extension owner (it appends
-- to the trail, which those roles cannot write); nobody else may attach it to
-- a table (no EXECUTE).
ALTER FUNCTION kaireon._audit_row_change() SECURITY DEFINER;

-- The catalog tables' triggers (src/pg/catalog_functions.cpp): _catalog_row
-- validates each written row as the document object it stores (KR400 naming
-- the path), keeps it in its tenant, stamps updated_at and notes the tenant's
-- catalog change; _catalog_truncated notes a change of every tenant;
-- _catalog_limit refuses (KR422) a statement that takes a tenant past a
-- tier-limited count.
CREATE FUNCTION kaireon._catalog_row() RETURNS trigger
AS 'MODULE_PATHNAME', 'kaireon_catalog_row' LANGUAGE C;
CREATE FUNCTION kaireon._catalog_truncated() RETURNS trigger
AS 'MODULE_PATHNAME', 'kaireon_catalog_truncated' LANGUAGE C;
CREATE FUNCTION kaireon._catalog_limit() RETURNS trigger
AS 'MODULE_PATHNAME', 'kaireon_catalog_limit' LANGUAGE C;

-- ---------------------------------------------------------------------------
-- The tables. Columns follow the document's fields (categoryId -> category_id);
-- defaults are the document's defaults. tenant_id defaults to the current
-- tenant, so plain INSERTs need not name it.
CREATE TABLE kaireon.categories (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    parent_id  text,  -- checked by apply_catalog, not by a key: a dump restores a table's rows in any order
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.channels (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    type       text NOT NULL,
    batch      boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.placements (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    channel_id text NOT NULL,
    name       text,
    slots      integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, channel_id) REFERENCES kaireon.channels
);
CREATE TABLE kaireon.outcome_types (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.offers (
    tenant_id   text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id          text NOT NULL,
    name        text,
    category_id text,
    priority    double precision NOT NULL DEFAULT 50,
    value       double precision NOT NULL DEFAULT 0,
    lever       double precision NOT NULL DEFAULT 1,
    start_at    timestamptz,
    end_at      timestamptz,
    status      text NOT NULL DEFAULT 'active',
    eligibility text,
    mandatory   boolean NOT NULL DEFAULT false,
    budget      jsonb,
    attributes  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES kaireon.categories
);
CREATE TABLE kaireon.creatives (
    tenant_id    text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id           text NOT NULL,
    offer_id     text NOT NULL,
    channel_id   text NOT NULL,
    placement_id text,
    name         text,
    content      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, offer_id) REFERENCES kaireon.offers,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES kaireon.channels,
    FOREIGN KEY (tenant_id, placement_id) REFERENCES kaireon.placements
);
CREATE INDEX ON kaireon.creatives (tenant_id, offer_id);
CREATE TABLE kaireon.customers (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    attributes jsonb NOT NULL DEFAULT '{}',
    segments   text[] NOT NULL DEFAULT '{}',
    timezone   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.consents (
    tenant_id   text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    customer_id text NOT NULL,
    channel_id  text NOT NULL,
    granted     boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, channel_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES kaireon.customers ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, channel_id) REFERENCES kaireon.channels
);
CREATE TABLE kaireon.metrics (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.models (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    type       text NOT NULL,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.flows (
    tenant_id     text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id            text NOT NULL,
    name          text,
    channel_id    text,
    placement_id  text,
    eligibility   text,
    model_id      text,
    ranking       jsonb,
    groups        jsonb NOT NULL DEFAULT '[]',
    experiment_id text,  -- experiments refer to flows: checked by apply_catalog and the decision, not by a key
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, channel_id) REFERENCES kaireon.channels,
    FOREIGN KEY (tenant_id, placement_id) REFERENCES kaireon.placements,
    FOREIGN KEY (tenant_id, model_id) REFERENCES kaireon.models
);
CREATE TABLE kaireon.experiments (
    tenant_id       text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id              text NOT NULL,
    name            text,
    flow_id         text NOT NULL,
    type            text NOT NULL,
    variants        jsonb NOT NULL DEFAULT '[]',
    holdout_percent double precision NOT NULL DEFAULT 0,
    bandit          jsonb,
    status          text NOT NULL DEFAULT 'draft',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, flow_id) REFERENCES kaireon.flows
);
CREATE TABLE kaireon.policies (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    type       text NOT NULL,
    priority   integer NOT NULL DEFAULT 100,
    scope      text NOT NULL DEFAULT 'global',
    scope_id   text,
    config     jsonb NOT NULL DEFAULT '{}',
    enabled    boolean NOT NULL DEFAULT true,
    bypassable boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.caps (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    scope      text NOT NULL,
    scope_id   text NOT NULL,
    max_volume integer NOT NULL,
    period     text NOT NULL,
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.journeys (
    tenant_id         text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id                text NOT NULL,
    name              text,
    entry_condition   text,
    max_duration_days integer,
    nodes             jsonb NOT NULL,
    edges             jsonb NOT NULL DEFAULT '[]',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.triggers (
    tenant_id        text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id               text NOT NULL,
    name             text,
    event_type       text NOT NULL,
    priority         integer NOT NULL DEFAULT 100,
    condition        text,
    cooldown_seconds integer NOT NULL DEFAULT 0,
    action           jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.connectors (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    type       text NOT NULL,
    config     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE kaireon.cms_sources (
    tenant_id  text NOT NULL DEFAULT kaireon.current_tenant() REFERENCES kaireon.tenants ON DELETE CASCADE,
    id         text NOT NULL,
    name       text,
    type       text NOT NULL,
    config     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- What every catalog table gets: RLS, dumps, offboarding, validation, cache
-- invalidation, audit (customers excepted: personal data stays out of the
-- trail), grants.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('triggers', 10, 'trigger'), ('journeys', 11, 'journey'), ('caps', 12, 'cap'), ('policies', 13, 'policy'),
        ('experiments', 14, 'experiment'), ('flows', 15, 'flow'), ('models', 16, 'model'), ('metrics', 17, 'metric'),
        ('consents', 18, 'consent'), ('customers', 19, NULL), ('creatives', 20, 'creative'), ('offers', 21, 'offer'),
        ('outcome_types', 22, 'outcome_type'), ('placements', 23, 'placement'), ('channels', 24, 'channel'),
        ('categories', 25, 'category'), ('connectors', 26, 'connector'), ('cms_sources', 27, 'cms_source'))
        AS v(name, drop_order, audit_action)
    LOOP
        EXECUTE format('ALTER TABLE kaireon.%I ENABLE ROW LEVEL SECURITY', t.name);
        EXECUTE format('CREATE POLICY tenant_isolation ON kaireon.%I USING (tenant_id = kaireon.visible_tenant())', t.name);
        PERFORM pg_catalog.pg_extension_config_dump(format('kaireon.%I', t.name), '');
        INSERT INTO kaireon.tenant_tables VALUES (format('kaireon.%I', t.name)::regclass, 'delete', t.drop_order);
        EXECUTE format('CREATE TRIGGER validate BEFORE INSERT OR UPDATE OR DELETE ON kaireon.%I '
                       'FOR EACH ROW EXECUTE FUNCTION kaireon._catalog_row()', t.name);
        EXECUTE format('CREATE TRIGGER truncated AFTER TRUNCATE ON kaireon.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION kaireon._catalog_truncated()', t.name);
        IF t.audit_action IS NOT NULL THEN
            EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON kaireon.%I '
                           'FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(%L, %L)', t.name,
                           'catalog.' || t.audit_action,
                           CASE t.name WHEN 'consents' THEN 'customer_id' ELSE 'id' END);
        END IF;
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON kaireon.%I TO kaireon_admin', t.name);
        IF t.name IN ('customers', 'consents') THEN
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON kaireon.%I TO kaireon_app', t.name);
        ELSE
            EXECUTE format('GRANT SELECT ON kaireon.%I TO kaireon_app, kaireon_reader', t.name);
        END IF;
    END LOOP;
END
$$;

-- Tier-limited counts (connectors, CMS sources, content items = creatives,
-- behavioral metrics): checked after each statement that adds rows.
CREATE TRIGGER tier_limit AFTER INSERT ON kaireon.creatives REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._catalog_limit();
CREATE TRIGGER tier_limit AFTER INSERT ON kaireon.metrics REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._catalog_limit();
CREATE TRIGGER tier_limit AFTER INSERT ON kaireon.connectors REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._catalog_limit();
CREATE TRIGGER tier_limit AFTER INSERT ON kaireon.cms_sources REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._catalog_limit();

COMMENT ON TABLE kaireon.offers IS 'Decision catalog: offers (SPEC 6.1; docs/catalog.md).';
COMMENT ON TABLE kaireon.customers IS 'Decision catalog: customers, their attributes, segments and time zone (personal data: forget_customer erases).';

-- ---------------------------------------------------------------------------
-- The API.
CREATE FUNCTION kaireon.apply_catalog(doc jsonb, mode text DEFAULT 'merge') RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_apply_catalog' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.apply_catalog(jsonb, text) IS
    'Upserts a catalog document in one transaction (mode merge or replace); errors name the document path.';
CREATE FUNCTION kaireon.export_catalog() RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_export_catalog' LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.export_catalog() IS 'The current tenant''s catalog as a document (arrays sorted by id).';
CREATE FUNCTION kaireon.forget_customer(customer_id text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_forget_customer' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.forget_customer(text) IS
    'Erases a customer''s personal data (attributes, segments, consents); counts stay, anonymised.';
CREATE FUNCTION kaireon.check_eligibility(customer_id text, context jsonb DEFAULT '{}', flow text DEFAULT NULL)
RETURNS TABLE (offer_id text, eligible boolean, reason text)
AS 'MODULE_PATHNAME', 'kaireon_check_eligibility' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION kaireon.check_eligibility(text, jsonb, text) IS
    'Why each offer is or is not eligible for a customer now (status, date window, eligibility of the offer and the flow).';
CREATE FUNCTION kaireon.catalog_fields(OUT document_key text, OUT table_name text, OUT field text, OUT column_name text,
                                       OUT column_type text, OUT required boolean, OUT default_value jsonb)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'kaireon_catalog_fields' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION kaireon.catalog_fields() IS 'The catalog document format: each key''s fields and the columns that store them.';

GRANT EXECUTE ON FUNCTION kaireon.apply_catalog(jsonb, text), kaireon.forget_customer(text) TO kaireon_admin;
GRANT EXECUTE ON FUNCTION kaireon.export_catalog(), kaireon.catalog_fields() TO kaireon_admin, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon.check_eligibility(text, jsonb, text) TO kaireon_admin, kaireon_app;

SELECT kaireon._revoke_public();

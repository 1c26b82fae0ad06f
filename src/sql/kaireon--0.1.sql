-- kaireon 0.1: tenants, roles, membership, and row-level security.
\echo Use "CREATE EXTENSION kaireon" to load this file. \quit

-- Roles are cluster-wide: create them only when missing, so the extension can
-- live in several databases of one cluster. Administrators are also app users
-- and readers.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_app') THEN
        CREATE ROLE kaireon_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_reader') THEN
        CREATE ROLE kaireon_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'kaireon_admin') THEN
        CREATE ROLE kaireon_admin NOLOGIN;
        GRANT kaireon_app, kaireon_reader TO kaireon_admin;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA kaireon FROM PUBLIC;
GRANT USAGE ON SCHEMA kaireon TO kaireon_admin, kaireon_app, kaireon_reader;

-- _revoke_public takes EXECUTE away from PUBLIC on every function of the
-- extension (PostgreSQL grants it by default). Every script calls it last.
CREATE FUNCTION kaireon._revoke_public() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT d.objid::regprocedure
        FROM pg_depend d
        JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'kaireon'
          AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
END
$$;

-- The C side of access control (src/pg/tenant_functions.cpp).
CREATE FUNCTION kaireon.current_tenant() RETURNS text
AS 'MODULE_PATHNAME', 'kaireon_current_tenant' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION kaireon.current_tenant() IS
    'The tenant in kaireon.tenant, after checking the calling role may act on it (KR400 when unset, KR403 when not a member).';

CREATE FUNCTION kaireon.visible_tenant() RETURNS text
AS 'MODULE_PATHNAME', 'kaireon_visible_tenant' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION kaireon.visible_tenant() IS
    'The tenant whose rows the current user may see (used by row-level security), else NULL.';

CREATE FUNCTION kaireon.is_admin() RETURNS boolean
AS 'MODULE_PATHNAME', 'kaireon_is_admin' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION kaireon.is_admin() IS 'Whether the current user is a superuser or a member of kaireon_admin.';

CREATE FUNCTION kaireon._check_tenant_id(tenant_id text) RETURNS text
AS 'MODULE_PATHNAME', 'kaireon_check_tenant_id' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION kaireon._raise(code text, message text, extra jsonb DEFAULT NULL, hint text DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'kaireon_raise' LANGUAGE C VOLATILE;

CREATE FUNCTION kaireon._invalidate_caches() RETURNS trigger
AS 'MODULE_PATHNAME', 'kaireon_invalidate_caches' LANGUAGE C;

-- Tenants and who may act on them.
CREATE TABLE kaireon.tenants (
    tenant_id   text PRIMARY KEY CHECK (kaireon._check_tenant_id(tenant_id) = tenant_id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    admin_email text NOT NULL CHECK (admin_email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kaireon.tenants IS 'One row per tenant; write it with create_tenant and drop_tenant.';

-- The grantee is stored as regrole (its OID): a grant follows a role through
-- a rename, and a new role that reuses a dropped role's name inherits
-- nothing. pg_dump writes it as the role's name.
CREATE TABLE kaireon.tenant_grants (
    tenant_id  text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    role       regrole NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, role)
);
COMMENT ON TABLE kaireon.tenant_grants IS
    'Roles that may act on a tenant (members of these roles too); write it with grant_tenant and revoke_tenant.';

-- Every backend caches grants; any change to these tables drops the caches.
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.tenants
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();
CREATE TRIGGER tenant_grants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.tenant_grants
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();

-- Row-level security: a row is visible when it belongs to the tenant in
-- kaireon.tenant AND the current user may act on that tenant; setting another
-- tenant shows nothing. Administrators also see every tenant's registry rows.
ALTER TABLE kaireon.tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.tenants USING (tenant_id = kaireon.visible_tenant());
CREATE POLICY administrators ON kaireon.tenants USING (kaireon.is_admin());
ALTER TABLE kaireon.tenant_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.tenant_grants USING (tenant_id = kaireon.visible_tenant());
CREATE POLICY administrators ON kaireon.tenant_grants USING (kaireon.is_admin());

GRANT SELECT ON kaireon.tenants TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT SELECT ON kaireon.tenant_grants TO kaireon_admin;

-- pg_dump keeps these rows (they are user data inside an extension).
SELECT pg_catalog.pg_extension_config_dump('kaireon.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.tenant_grants', '');

-- tenant_json returns a tenant as the API shows it.
CREATE FUNCTION kaireon._tenant_json(t kaireon.tenants) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object('tenantId', t.tenant_id, 'name', t.name, 'adminEmail', t.admin_email,
                              'createdAt', t.created_at)
$$;

-- create_tenant creates a tenant and returns it.
CREATE FUNCTION kaireon.create_tenant(tenant_id text, name text, admin_email text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    created kaireon.tenants;
BEGIN
    PERFORM kaireon._check_tenant_id(tenant_id);
    IF name IS NULL OR length(name) NOT BETWEEN 1 AND 200 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'tenant name must be 1 to 200 characters', '{"field": "name"}');
    END IF;
    IF admin_email IS NULL OR admin_email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'admin_email is not an e-mail address', '{"field": "adminEmail"}');
    END IF;
    INSERT INTO kaireon.tenants AS t (tenant_id, name, admin_email)
    VALUES (create_tenant.tenant_id, create_tenant.name, create_tenant.admin_email)
    ON CONFLICT ON CONSTRAINT tenants_pkey DO NOTHING
    RETURNING * INTO created;
    IF created.tenant_id IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('tenant "%s" already exists', tenant_id),
                               jsonb_build_object('tenant', tenant_id));
    END IF;
    RETURN kaireon._tenant_json(created);
END
$$;

-- _require_tenant raises KR400 unless the tenant exists.
CREATE FUNCTION kaireon._require_tenant(tenant_id text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kaireon.tenants t WHERE t.tenant_id = _require_tenant.tenant_id) THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('unknown tenant "%s"', tenant_id),
                               jsonb_build_object('tenant', tenant_id));
    END IF;
END
$$;

-- drop_tenant offboards a tenant and returns what it removed.
CREATE FUNCTION kaireon.drop_tenant(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grants bigint;
BEGIN
    PERFORM kaireon._require_tenant(tenant_id);
    DELETE FROM kaireon.tenant_grants g WHERE g.tenant_id = drop_tenant.tenant_id;
    GET DIAGNOSTICS grants = ROW_COUNT;
    DELETE FROM kaireon.tenants t WHERE t.tenant_id = drop_tenant.tenant_id;
    RETURN jsonb_build_object('tenantId', tenant_id, 'deleted', jsonb_build_object('tenant_grants', grants));
END
$$;

-- _require_role returns the role called `role`, or raises KR400.
CREATE FUNCTION kaireon._require_role(role name) RETURNS regrole
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found oid;
BEGIN
    IF role IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'role must not be null', '{"field": "role"}');
    END IF;
    SELECT r.oid INTO found FROM pg_roles r WHERE r.rolname = role;
    IF found IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('role "%s" does not exist', role),
                               jsonb_build_object('role', role));
    END IF;
    RETURN found::regrole;
END
$$;

-- grant_tenant lets `role` (and its members) act on a tenant.
CREATE FUNCTION kaireon.grant_tenant(role name, tenant_id text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grantee regrole;
BEGIN
    PERFORM kaireon._check_tenant_id(tenant_id);
    PERFORM kaireon._require_tenant(tenant_id);
    grantee := kaireon._require_role(role);
    INSERT INTO kaireon.tenant_grants AS g (tenant_id, role) VALUES (grant_tenant.tenant_id, grantee)
    ON CONFLICT DO NOTHING;
END
$$;

-- revoke_tenant takes a grant back (no error when there was none).
CREATE FUNCTION kaireon.revoke_tenant(role name, tenant_id text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grantee regrole;
BEGIN
    PERFORM kaireon._check_tenant_id(tenant_id);
    PERFORM kaireon._require_tenant(tenant_id);
    grantee := kaireon._require_role(role);
    DELETE FROM kaireon.tenant_grants g WHERE g.tenant_id = revoke_tenant.tenant_id AND g.role = grantee;
END
$$;

GRANT EXECUTE ON FUNCTION kaireon.current_tenant(), kaireon.visible_tenant(), kaireon.is_admin()
    TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon.create_tenant(text, text, text), kaireon.drop_tenant(text),
    kaireon.grant_tenant(name, text), kaireon.revoke_tenant(name, text) TO kaireon_admin;

SELECT kaireon._revoke_public();

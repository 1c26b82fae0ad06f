-- kaireon 0.5 -> 0.6: the event catalog, consumers reading the outbox in
-- order, webhook endpoints, and the tamper-evident audit trail (SPEC
-- section 4).
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.6'" to load this file. \quit

-- clock() in C: it is the default of columns written on every usage report
-- and audit record, and a SQL function with a SET clause is parsed anew on
-- every call. Same answer: now(), or kaireon.test_clock when set.
CREATE OR REPLACE FUNCTION kaireon.clock() RETURNS timestamptz
AS 'MODULE_PATHNAME', 'kaireon_clock' LANGUAGE C STABLE PARALLEL SAFE;

-- _caller_is_admin: whether the calling role (after SET ROLE; not the owner
-- of the SECURITY DEFINER function on the way, unlike is_admin() in RLS
-- policies) is a superuser or a member of kaireon_admin.
CREATE FUNCTION kaireon._caller_is_admin() RETURNS boolean
AS 'MODULE_PATHNAME', 'kaireon_caller_is_admin' LANGUAGE C STABLE;
-- _selected_tenant: the current tenant after the access check, or NULL when
-- none is selected (current_tenant() would raise).
CREATE FUNCTION kaireon._selected_tenant() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN coalesce(current_setting('kaireon.tenant', true), '') = '' THEN NULL
                ELSE kaireon.current_tenant() END
$$;

-- ---------------------------------------------------------------------------
-- Event types: every type the product emits, from the library
-- (src/core/event_types.cpp); not dumped, CREATE EXTENSION makes them again.
CREATE FUNCTION kaireon._builtin_event_types(OUT type text, OUT category text, OUT description text,
                                             OUT payload_schema jsonb)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'kaireon_builtin_event_types' LANGUAGE C IMMUTABLE;
CREATE TABLE kaireon.event_types (
    type           text PRIMARY KEY,
    category       text NOT NULL,
    description    text NOT NULL,
    payload_schema jsonb NOT NULL
);
COMMENT ON TABLE kaireon.event_types IS 'The catalog of event types kaireon emits into kaireon.events.';
INSERT INTO kaireon.event_types SELECT * FROM kaireon._builtin_event_types();
GRANT SELECT ON kaireon.event_types TO kaireon_admin, kaireon_app, kaireon_reader;

-- Consumers read the outbox in `seq` order. Ids are not commit order (a
-- transaction that took a smaller id may commit later), so a reader that
-- remembered "up to id N" could skip rows. Instead, _sequence_events gives
-- every committed event without one the next `seq`, under one lock: a row
-- gets its number only once it is committed, so a reader past seq N never
-- misses a row with a smaller one. Restored rows keep their numbers.
ALTER TABLE kaireon.events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id();
ALTER TABLE kaireon.events ADD COLUMN seq bigint;
ALTER TABLE kaireon.events ADD FOREIGN KEY (type) REFERENCES kaireon.event_types ON UPDATE CASCADE;
CREATE UNIQUE INDEX events_seq ON kaireon.events (seq);
CREATE INDEX events_unsequenced ON kaireon.events (txid, id) WHERE seq IS NULL;
CREATE TABLE kaireon.event_sequencer ();  -- locked by _sequence_events: one sequencer at a time
COMMENT ON TABLE kaireon.event_sequencer IS 'Lock target of kaireon._sequence_events; holds no rows.';
-- The last seq given; never goes back, also when the newest events are
-- deleted (drop_tenant), so a consumer past N never sees a new event below N.
CREATE SEQUENCE kaireon.event_seq_counter;
SELECT pg_catalog.pg_extension_config_dump('kaireon.event_seq_counter', '');

CREATE FUNCTION kaireon._sequence_events() RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    numbered bigint;
    last bigint;
BEGIN
    -- Under REPEATABLE READ the snapshot could miss rows committed before the
    -- lock was granted: number only in READ COMMITTED (read what is numbered),
    -- and never in a read-only transaction.
    IF current_setting('transaction_isolation') <> 'read committed' OR current_setting('transaction_read_only')::boolean THEN
        RETURN 0;
    END IF;
    BEGIN
        LOCK TABLE kaireon.event_sequencer IN EXCLUSIVE MODE NOWAIT;
    EXCEPTION WHEN lock_not_available THEN
        RETURN 0;  -- another transaction is numbering: its numbers show when it commits
    END;
    SELECT CASE WHEN c.is_called THEN c.last_value ELSE 0 END INTO last FROM kaireon.event_seq_counter c;
    WITH todo AS (
        SELECT e.tenant_id, e.id, row_number() OVER (ORDER BY e.txid, e.id) AS n
        FROM kaireon.events e
        WHERE e.seq IS NULL AND e.txid IS DISTINCT FROM pg_current_xact_id_if_assigned())
    UPDATE kaireon.events e SET seq = last + todo.n
    FROM todo
    WHERE e.tenant_id = todo.tenant_id AND e.id = todo.id;
    GET DIAGNOSTICS numbered = ROW_COUNT;
    IF numbered > 0 THEN
        PERFORM setval('kaireon.event_seq_counter', last + numbered);
    END IF;
    RETURN numbered;
END
$$;

-- _last_event_seq: the last seq given.
CREATE FUNCTION kaireon._last_event_seq() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN c.is_called THEN c.last_value ELSE 0 END FROM kaireon.event_seq_counter c
$$;

-- Consumers: a named position in the outbox (one tenant's events, or all of
-- them for an administrator's consumer, e.g. the webhook deliverer).
CREATE TABLE kaireon.event_consumers (
    tenant_id   text NOT NULL,  -- '': every tenant's events (an administrator's consumer)
    name        text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    event_types text[],         -- NULL: every type
    position    bigint NOT NULL,  -- the last seq acknowledged
    created_at  timestamptz NOT NULL DEFAULT now(),
    acked_at    timestamptz,
    PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE kaireon.event_consumers IS 'Named read positions in kaireon.events (create_event_consumer, fetch_events, ack_events).';
ALTER TABLE kaireon.event_consumers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.event_consumers USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT ON kaireon.event_consumers TO kaireon_admin, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.event_consumers', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.event_consumers', 'delete', 80);

-- create_event_consumer starts a consumer after the events committed so far
-- (or at the beginning of the outbox). A tenant's consumer sees the current
-- tenant's events; all_tenants (administrators) sees every tenant's.
CREATE FUNCTION kaireon.create_event_consumer(name text, event_types text[] DEFAULT NULL,
                                              from_start boolean DEFAULT false, all_tenants boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text;
    unknown text;
    created kaireon.event_consumers;
BEGIN
    IF name IS NULL OR name !~ '^[a-z][a-z0-9_.-]{0,62}$' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'consumer name must be 1 to 63 characters of [a-z0-9_.-], starting with a letter',
                               '{"path": "name"}');
    END IF;
    IF all_tenants THEN
        IF NOT kaireon._caller_is_admin() THEN
            PERFORM kaireon._raise('TENANT_ACCESS_DENIED', 'only administrators may read every tenant''s events',
                                   '{"path": "all_tenants"}');
        END IF;
    ELSE
        tenant := kaireon.current_tenant();
        IF tenant IS NULL THEN
            PERFORM kaireon._raise('BAD_REQUEST', 'no tenant selected: SET kaireon.tenant first', '{"path": "kaireon.tenant"}');
        END IF;
    END IF;
    SELECT t INTO unknown FROM unnest(event_types) AS t
    WHERE t IS NULL OR NOT EXISTS (SELECT 1 FROM kaireon.event_types e WHERE e.type = t) LIMIT 1;
    IF FOUND THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('unknown event type "%s"', unknown),
                               jsonb_build_object('path', 'event_types', 'type', unknown));
    END IF;
    PERFORM kaireon._sequence_events();
    INSERT INTO kaireon.event_consumers AS c (name, tenant_id, event_types, position)
    VALUES (create_event_consumer.name, coalesce(tenant, ''), create_event_consumer.event_types,
            CASE WHEN from_start THEN 0 ELSE kaireon._last_event_seq() END)
    ON CONFLICT ON CONSTRAINT event_consumers_pkey DO NOTHING
    RETURNING * INTO created;
    IF created.name IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('event consumer "%s" already exists', name),
                               jsonb_build_object('path', 'name', 'consumer', name));
    END IF;
    RETURN jsonb_build_object('name', created.name, 'tenantId', nullif(created.tenant_id, ''),
                              'eventTypes', created.event_types);
END
$$;

-- _event_consumer returns the consumer called `name` the calling role may
-- use (locked for ack and drop): the current tenant's, else (administrators)
-- the all-tenants one.
CREATE FUNCTION kaireon._event_consumer(name text, for_update boolean) RETURNS kaireon.event_consumers
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found kaireon.event_consumers;
    tenant text := kaireon._selected_tenant();
    admin boolean := kaireon._caller_is_admin();
BEGIN
    IF for_update THEN
        SELECT * INTO found FROM kaireon.event_consumers c
        WHERE c.name = _event_consumer.name AND (c.tenant_id = tenant OR (c.tenant_id = '' AND admin))
        ORDER BY c.tenant_id DESC LIMIT 1 FOR UPDATE;
    ELSE
        SELECT * INTO found FROM kaireon.event_consumers c
        WHERE c.name = _event_consumer.name AND (c.tenant_id = tenant OR (c.tenant_id = '' AND admin))
        ORDER BY c.tenant_id DESC LIMIT 1;
    END IF;
    IF found.name IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('unknown event consumer "%s"', name),
                               jsonb_build_object('path', 'consumer', 'consumer', name));
    END IF;
    RETURN found;
END
$$;

-- fetch_events returns the consumer's next events after its position, in
-- seq order (committed events only: no gaps, no skipped rows). It does not
-- move the position; ack_events does, so a consumer that fails before
-- acknowledging gets the same events again (at-least-once delivery).
CREATE FUNCTION kaireon.fetch_events(consumer text, max_events int DEFAULT 100)
RETURNS TABLE (seq bigint, id bigint, tenant_id text, type text, payload jsonb, created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c kaireon.event_consumers;
BEGIN
    IF max_events IS NULL OR max_events NOT BETWEEN 1 AND 10000 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_events must be between 1 and 10000', '{"path": "max_events"}');
    END IF;
    c := kaireon._event_consumer(consumer, false);
    PERFORM kaireon._sequence_events();
    RETURN QUERY
    SELECT e.seq, e.id, e.tenant_id, e.type, e.payload, e.created_at
    FROM kaireon.events e
    WHERE e.seq > c.position
      AND (c.tenant_id = '' OR e.tenant_id = c.tenant_id)
      AND (c.event_types IS NULL OR e.type = ANY (c.event_types))
    ORDER BY e.seq
    LIMIT max_events;
END
$$;

-- ack_events moves the consumer past `through_seq` (the seq of the last
-- event it processed) and returns the new position.
CREATE FUNCTION kaireon.ack_events(consumer text, through_seq bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c kaireon.event_consumers;
BEGIN
    c := kaireon._event_consumer(consumer, true);
    IF through_seq IS NULL OR through_seq < 0 OR through_seq > kaireon._last_event_seq() THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('seq %s is not one this consumer has fetched', through_seq),
                               jsonb_build_object('path', 'through_seq', 'seq', through_seq));
    END IF;
    IF through_seq > c.position THEN
        UPDATE kaireon.event_consumers ec SET position = through_seq, acked_at = now()
        WHERE ec.tenant_id = c.tenant_id AND ec.name = c.name;
    END IF;
    RETURN jsonb_build_object('consumer', c.name, 'position', greatest(through_seq, c.position));
END
$$;

CREATE FUNCTION kaireon.drop_event_consumer(name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DECLARE
        c kaireon.event_consumers := kaireon._event_consumer(name, true);
    BEGIN
        DELETE FROM kaireon.event_consumers ec WHERE ec.tenant_id = c.tenant_id AND ec.name = c.name;
    END;
    RETURN true;
END
$$;

-- ---------------------------------------------------------------------------
-- Webhook endpoints. The signing secret is stored for the deliverer and
-- shown once, when it is made; no role but the owner may read it back.
CREATE TABLE kaireon.webhook_endpoints (
    tenant_id   text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    url         text NOT NULL,
    secret      text NOT NULL,
    secret_hint text NOT NULL,
    event_types text[],  -- NULL: every type
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE kaireon.webhook_endpoints IS 'Where a tenant''s events are delivered (signed with HMAC-SHA256 with the secret).';
COMMENT ON COLUMN kaireon.webhook_endpoints.secret IS 'The signing secret: readable by the extension owner only.';
ALTER TABLE kaireon.webhook_endpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.webhook_endpoints USING (tenant_id = kaireon.visible_tenant());
GRANT SELECT (tenant_id, id, url, secret_hint, event_types, active, created_at) ON kaireon.webhook_endpoints
    TO kaireon_admin, kaireon_reader;
SELECT pg_catalog.pg_extension_config_dump('kaireon.webhook_endpoints', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.webhook_endpoints_id_seq', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.webhook_endpoints', 'delete', 80);

-- _check_webhook validates an endpoint's URL and event types.
CREATE FUNCTION kaireon._check_webhook(url text, event_types text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    unknown text;
BEGIN
    IF url IS NULL OR length(url) > 2048 OR url !~ '^https?://[^/?#[:space:]@]+(/[^[:space:]]*)?$' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'url must be an absolute http(s) URL of at most 2048 characters, without credentials',
                               '{"path": "url"}');
    END IF;
    IF url ~ '^http://' AND url !~ '^http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?(/|$)' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'url must use https (http only for localhost)', '{"path": "url"}');
    END IF;
    SELECT t INTO unknown FROM unnest(event_types) AS t
    WHERE t IS NULL OR NOT EXISTS (SELECT 1 FROM kaireon.event_types e WHERE e.type = t) LIMIT 1;
    IF FOUND THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('unknown event type "%s"', unknown),
                               jsonb_build_object('path', 'event_types', 'type', unknown));
    END IF;
END
$$;

-- _new_webhook_secret returns a fresh signing secret (244 random bits).
CREATE FUNCTION kaireon._new_webhook_secret() RETURNS text
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'whsec_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
$$;

CREATE FUNCTION kaireon._webhook_json(e kaireon.webhook_endpoints) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object('id', e.id, 'url', e.url, 'eventTypes', e.event_types, 'active', e.active,
                              'secretHint', e.secret_hint, 'createdAt', e.created_at)
$$;

-- add_webhook_endpoint registers an endpoint for the current tenant and
-- returns it with its secret: the only time the secret is shown.
CREATE FUNCTION kaireon.add_webhook_endpoint(url text, event_types text[] DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := kaireon.current_tenant();
    secret text := kaireon._new_webhook_secret();
    created kaireon.webhook_endpoints;
BEGIN
    IF tenant IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'no tenant selected: SET kaireon.tenant first', '{"path": "kaireon.tenant"}');
    END IF;
    PERFORM kaireon._check_webhook(url, event_types);
    INSERT INTO kaireon.webhook_endpoints AS w (tenant_id, url, secret, secret_hint, event_types)
    VALUES (tenant, url, secret, '…' || right(secret, 4), event_types)
    RETURNING * INTO created;
    RETURN kaireon._webhook_json(created) || jsonb_build_object('secret', secret);
END
$$;

-- rotate_webhook_secret replaces an endpoint's secret and shows the new one once.
CREATE FUNCTION kaireon.rotate_webhook_secret(endpoint_id bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_secret text := kaireon._new_webhook_secret();
    updated kaireon.webhook_endpoints;
BEGIN
    UPDATE kaireon.webhook_endpoints w SET secret = new_secret, secret_hint = '…' || right(new_secret, 4)
    WHERE w.tenant_id = kaireon.current_tenant() AND w.id = endpoint_id
    RETURNING * INTO updated;
    IF updated.id IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('unknown webhook endpoint %s', endpoint_id),
                               jsonb_build_object('path', 'endpoint_id', 'endpointId', endpoint_id));
    END IF;
    RETURN kaireon._webhook_json(updated) || jsonb_build_object('secret', new_secret);
END
$$;

CREATE FUNCTION kaireon.remove_webhook_endpoint(endpoint_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM kaireon.webhook_endpoints w WHERE w.tenant_id = kaireon.current_tenant() AND w.id = endpoint_id;
    RETURN FOUND;
END
$$;

-- ---------------------------------------------------------------------------
-- The audit trail: append-only, sealed into a SHA-256 hash chain per tenant
-- (tenant '' holds what is not tied to a tenant: keys, plans, features).
CREATE TABLE kaireon.audit_log (
    tenant_id   text NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    recorded_at timestamptz NOT NULL DEFAULT kaireon.clock(),
    txid        xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    actor       text NOT NULL,
    action      text NOT NULL,
    target      text,
    details     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_txid ON kaireon.audit_log (tenant_id, txid);
CREATE INDEX audit_log_recorded ON kaireon.audit_log (tenant_id, recorded_at);
COMMENT ON TABLE kaireon.audit_log IS 'Append-only audit trail; sealed into a hash chain per tenant by seal_audit().';

CREATE TABLE kaireon.audit_seals (
    tenant_id  text NOT NULL,
    position   bigint NOT NULL,
    audit_id   bigint NOT NULL,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL,
    sealed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, position),
    UNIQUE (tenant_id, audit_id)
);
COMMENT ON TABLE kaireon.audit_seals IS 'The hash chain over kaireon.audit_log: one link per row, in the order seal_audit sealed them.';

-- Per tenant, where the next seal_audit starts looking: every row of a
-- transaction below scan_from had ended at the last run, and was sealed then
-- if it committed. Derived, not dumped: after a restore the first run looks
-- at every row once.
CREATE TABLE kaireon.audit_chain_state (
    tenant_id text PRIMARY KEY,
    scan_from xid8 NOT NULL,
    sealed_at timestamptz NOT NULL
);

-- What seal_audit has already written of the refusal counters (shared
-- memory, since the server started).
CREATE TABLE kaireon.audit_refusal_marks (
    tenant_id  text NOT NULL,
    kind       text NOT NULL,
    counted    bigint NOT NULL,
    server_start timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

ALTER TABLE kaireon.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.audit_log USING (tenant_id = kaireon.visible_tenant());
ALTER TABLE kaireon.audit_seals ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.audit_seals USING (tenant_id = kaireon.visible_tenant());
ALTER TABLE kaireon.audit_chain_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.audit_chain_state USING (tenant_id = kaireon.visible_tenant());
ALTER TABLE kaireon.audit_refusal_marks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.audit_refusal_marks USING (tenant_id = kaireon.visible_tenant());
INSERT INTO kaireon.tenant_tables VALUES
    ('kaireon.audit_log', 'keep', 95),
    ('kaireon.audit_seals', 'keep', 95),
    ('kaireon.audit_chain_state', 'keep', 95),
    ('kaireon.audit_refusal_marks', 'keep', 95);
GRANT SELECT ON kaireon.audit_log TO kaireon_admin, kaireon_reader;
GRANT SELECT ON kaireon.audit_seals TO kaireon_admin;
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_seals', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_refusal_marks', '');

-- Append-only, also for the owner and in replica mode (ENABLE ALWAYS).
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON kaireon.audit_log
    FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON kaireon.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change();
ALTER TABLE kaireon.audit_log ENABLE ALWAYS TRIGGER append_only;
ALTER TABLE kaireon.audit_log ENABLE ALWAYS TRIGGER append_only_truncate;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON kaireon.audit_seals
    FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON kaireon.audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change();
ALTER TABLE kaireon.audit_seals ENABLE ALWAYS TRIGGER append_only;
ALTER TABLE kaireon.audit_seals ENABLE ALWAYS TRIGGER append_only_truncate;
-- usage_events too: replica mode must not open a way around append-only.
ALTER TABLE kaireon.usage_events ENABLE ALWAYS TRIGGER append_only;

-- _audit appends one record as the calling role (src/pg/audit.cpp).
CREATE FUNCTION kaireon._audit(tenant_id text, action text, target text, details jsonb) RETURNS void
AS 'MODULE_PATHNAME', 'kaireon_audit' LANGUAGE C VOLATILE;

-- _audit_row_change audits changes to the tables it is attached to:
-- TG_ARGV[0] the action prefix, TG_ARGV[1] the column naming the target,
-- further arguments columns never recorded (secrets, tokens).
CREATE FUNCTION kaireon._audit_row_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    hidden text[] := TG_ARGV[2:];
    old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) - hidden END;
    new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) - hidden END;
    row_now jsonb := coalesce(new_row, old_row);
BEGIN
    IF (row_now ->> 'builtin')::boolean THEN
        RETURN NULL;  -- built-in features come from the library, not from anyone's change
    END IF;
    PERFORM kaireon._audit(coalesce(row_now ->> 'tenant_id', ''),
                           TG_ARGV[0] || '.' || lower(TG_OP),
                           row_now ->> TG_ARGV[1],
                           CASE TG_OP WHEN 'UPDATE' THEN jsonb_build_object('before', old_row, 'after', new_row)
                                      ELSE row_now END);
    RETURN NULL;
END
$$;

CREATE TRIGGER audit AFTER INSERT OR DELETE ON kaireon.tenants
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('tenant', 'tenant_id');
CREATE TRIGGER audit AFTER INSERT OR DELETE ON kaireon.tenant_grants
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('tenant_grant', 'role');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON kaireon.license_keys
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('license_key', 'kid');
CREATE TRIGGER audit AFTER INSERT OR DELETE ON kaireon.revoked_licenses
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('license_revocation', 'jti');
CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE OF token ON kaireon.licenses
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('license', 'jti', 'token', 'claims');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON kaireon.features
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('feature', 'key');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON kaireon.plan_entitlements
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('plan_entitlement', 'feature');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON kaireon.entitlement_overrides
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('override', 'feature');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON kaireon.feature_thresholds
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('thresholds', 'feature');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON kaireon.webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('webhook_endpoint', 'url', 'secret');
CREATE TRIGGER audit AFTER INSERT OR DELETE ON kaireon.event_consumers
    FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change('event_consumer', 'name');

-- Entitlement evaluations move into the audit trail (one place for audit
-- records); entitlement_evaluations stays as a view of them.
INSERT INTO kaireon.audit_log (tenant_id, recorded_at, actor, action, target, details)
SELECT e.tenant_id, e.evaluated_at, e.role_name, 'entitlement.evaluated', e.feature,
       jsonb_build_object('api', e.api, 'requested', e.requested, 'status', e.status, 'result', e.result)
FROM kaireon.entitlement_evaluations e ORDER BY e.tenant_id, e.id;
DELETE FROM kaireon.tenant_tables WHERE table_name = 'kaireon.entitlement_evaluations'::regclass;
ALTER EXTENSION kaireon DROP SEQUENCE kaireon.entitlement_evaluations_id_seq;
ALTER EXTENSION kaireon DROP TABLE kaireon.entitlement_evaluations;
DROP TABLE kaireon.entitlement_evaluations;
CREATE VIEW kaireon.entitlement_evaluations WITH (security_invoker = true) AS
SELECT a.tenant_id, a.id, a.recorded_at AS evaluated_at, a.actor::name AS role_name,
       a.details ->> 'api' AS api, a.target AS feature, (a.details ->> 'requested')::numeric AS requested,
       a.details ->> 'status' AS status, a.details -> 'result' AS result
FROM kaireon.audit_log a WHERE a.action = 'entitlement.evaluated';
COMMENT ON VIEW kaireon.entitlement_evaluations IS 'Entitlement evaluations made through the API (from kaireon.audit_log).';
GRANT SELECT ON kaireon.entitlement_evaluations TO kaireon_admin, kaireon_reader;

-- seal_audit extends every tenant's chain over its committed rows not sealed
-- yet; verify_audit walks a tenant's chain.
CREATE FUNCTION kaireon.seal_audit(max_rows int DEFAULT 100000) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_seal_audit'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION kaireon.verify_audit(tenant_id text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_verify_audit'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- audit_trail: the current tenant's records (administrators: any tenant's,
-- '' for the system's), filtered by time, actor and action, newest first.
CREATE FUNCTION kaireon.audit_trail(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
                                    actor text DEFAULT NULL, action text DEFAULT NULL,
                                    max_rows int DEFAULT 1000, tenant_id text DEFAULT NULL)
RETURNS SETOF kaireon.audit_log
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tenant text := coalesce(audit_trail.tenant_id, kaireon.current_tenant());
BEGIN
    IF tenant IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'no tenant selected: SET kaireon.tenant first', '{"path": "kaireon.tenant"}');
    END IF;
    IF audit_trail.tenant_id IS NOT NULL AND NOT kaireon._caller_is_admin() THEN
        PERFORM kaireon._raise('TENANT_ACCESS_DENIED', 'only administrators may name another tenant''s audit trail',
                               '{"path": "tenant_id"}');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 100000 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_rows must be between 1 and 100000', '{"path": "max_rows"}');
    END IF;
    RETURN QUERY
    SELECT a.* FROM kaireon.audit_log a
    WHERE a.tenant_id = tenant
      AND (since IS NULL OR a.recorded_at >= since) AND (until IS NULL OR a.recorded_at < until)
      AND (audit_trail.actor IS NULL OR a.actor = audit_trail.actor)
      AND (audit_trail.action IS NULL OR a.action = audit_trail.action
           OR starts_with(a.action, audit_trail.action || '.'))
    ORDER BY a.recorded_at DESC, a.id DESC
    LIMIT max_rows;
END
$$;

-- The refusal counters seal_audit writes to the trail.
DROP VIEW kaireon.stats;
DROP FUNCTION kaireon._stats();
CREATE FUNCTION kaireon._stats(
    OUT tenant_id text, OUT decisions bigint, OUT empty_decisions bigint, OUT quota_refusals bigint,
    OUT license_failures bigint, OUT trace_drops bigint, OUT cache_hits bigint, OUT cache_misses bigint,
    OUT usage_refusals bigint, OUT entitlement_refusals bigint)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'kaireon_stats' LANGUAGE C VOLATILE;
CREATE VIEW kaireon.stats AS SELECT * FROM kaireon._stats();
COMMENT ON VIEW kaireon.stats IS 'Per-tenant counters since the server started (from shared memory).';
GRANT SELECT ON kaireon.stats TO kaireon_admin, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon._stats() TO kaireon_admin, kaireon_reader;

GRANT EXECUTE ON FUNCTION kaireon.create_event_consumer(text, text[], boolean, boolean),
    kaireon.fetch_events(text, int), kaireon.ack_events(text, bigint), kaireon.drop_event_consumer(text)
    TO kaireon_admin, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon.add_webhook_endpoint(text, text[]), kaireon.rotate_webhook_secret(bigint),
    kaireon.remove_webhook_endpoint(bigint) TO kaireon_admin;
GRANT EXECUTE ON FUNCTION kaireon.seal_audit(int) TO kaireon_admin;
GRANT EXECUTE ON FUNCTION kaireon.verify_audit(text) TO kaireon_admin, kaireon_reader;
GRANT EXECUTE ON FUNCTION kaireon.audit_trail(timestamptz, timestamptz, text, text, int, text)
    TO kaireon_admin, kaireon_reader;

SELECT kaireon._revoke_public();

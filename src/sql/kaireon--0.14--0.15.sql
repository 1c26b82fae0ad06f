-- kaireon 0.14 -> 0.15: moving a tenant between shards (issue 16,
-- docs/scale-out.md "Moving a tenant"). The source shard freezes the tenant
-- (its calls wait for the ones in flight, later ones get KR503
-- TENANT_MOVING), its rows are copied to the target, which adopts them
-- (outbox numbers, consumer positions and identity sequences fitted to the
-- target), the router points the tenant at the target, and the source
-- releases it. scripts/move_tenant.sh runs these steps.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.15'" to load this file. \quit

-- One row per tenant a move touched on this database: 'frozen' while the
-- tenant is being copied away (its calls are refused), 'moved' once it has
-- left (calls naming it get KR503 TENANT_MOVING, so that clients retry and
-- the router sends them to the new shard). Kept by drop_tenant, like the
-- audit trail; a tenant moving back in removes it.
CREATE TABLE kaireon.tenant_moves (
    tenant_id text PRIMARY KEY CHECK (kaireon._check_tenant_id(tenant_id) = tenant_id),
    state     text NOT NULL CHECK (state IN ('frozen', 'moved')),
    frozen_at timestamptz NOT NULL DEFAULT now(),
    moved_at  timestamptz,
    CHECK ((state = 'moved') = (moved_at IS NOT NULL))
);
COMMENT ON TABLE kaireon.tenant_moves IS
    'Tenants frozen for a move to another shard, or moved away (freeze_tenant, release_moved_tenant).';
ALTER TABLE kaireon.tenant_moves ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.tenant_moves USING (tenant_id = kaireon.visible_tenant());
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.tenant_moves', 'keep', 95);
GRANT SELECT ON kaireon.tenant_moves TO kaireon_admin;
SELECT pg_catalog.pg_extension_config_dump('kaireon.tenant_moves', '');
CREATE TRIGGER tenant_moves_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kaireon.tenant_moves
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._invalidate_caches();

-- The move gate (src/pg/tenant_access.cpp): every call on a tenant holds it
-- shared until its transaction ends; _close_move_gate takes it exclusively
-- (freeze_tenant), so it waits for the calls in flight.
CREATE FUNCTION kaireon._close_move_gate(tenant_id text) RETURNS void
AS 'MODULE_PATHNAME', 'kaireon_lock_tenant_for_move' LANGUAGE C STRICT VOLATILE;
-- _enter_tenant holds the gate shared and tells whether the tenant is here
-- and not frozen (for jobs that act on tenants no call names).
CREATE FUNCTION kaireon._enter_tenant(tenant_id text) RETURNS boolean
AS 'MODULE_PATHNAME', 'kaireon_enter_tenant' LANGUAGE C STRICT VOLATILE;
-- _invalidate_all_caches: every backend drops every kaireon cache when this
-- transaction commits (rows loaded with triggers off fire no invalidation).
CREATE FUNCTION kaireon._invalidate_all_caches() RETURNS void
AS 'MODULE_PATHNAME', 'kaireon_invalidate_all_caches' LANGUAGE C VOLATILE;

-- _require_tenant (the administrative functions naming a tenant) also
-- refuses a frozen tenant: a grant or an override written on the source
-- after its rows were copied would be lost.
CREATE OR REPLACE FUNCTION kaireon._require_tenant(tenant_id text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon._enter_tenant(tenant_id);  -- holds the gate: freeze_tenant waits for this call
    IF NOT EXISTS (SELECT 1 FROM kaireon.tenants t WHERE t.tenant_id = _require_tenant.tenant_id) THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('unknown tenant "%s"', tenant_id),
                               jsonb_build_object('tenant', tenant_id));
    END IF;
    IF EXISTS (SELECT 1 FROM kaireon.tenant_moves m
               WHERE m.tenant_id = _require_tenant.tenant_id AND m.state = 'frozen') THEN
        PERFORM kaireon._raise('TENANT_MOVING', format('tenant "%s" is being moved to another shard', tenant_id),
                               jsonb_build_object('tenant', tenant_id, 'moved', false),
                               'Wait for the move to end, or end it with kaireon.unfreeze_tenant.');
    END IF;
END
$$;

-- freeze_tenant stops every call on the tenant for a move: it waits for the
-- calls in flight (within lock_timeout), then records the freeze. Once it
-- commits, calls get KR503 TENANT_MOVING until unfreeze_tenant (the move is
-- called off) or release_moved_tenant (the move is done).
CREATE FUNCTION kaireon.freeze_tenant(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    frozen kaireon.tenant_moves;
BEGIN
    PERFORM kaireon._check_tenant_id(tenant_id);
    PERFORM kaireon._close_move_gate(tenant_id);  -- waits for the calls in flight
    PERFORM kaireon._require_tenant(tenant_id);   -- exists, and is not frozen already
    INSERT INTO kaireon.tenant_moves AS m (tenant_id, state) VALUES (freeze_tenant.tenant_id, 'frozen')
    ON CONFLICT ON CONSTRAINT tenant_moves_pkey
        DO UPDATE SET state = 'frozen', frozen_at = now(), moved_at = NULL  -- an earlier move away and back
    RETURNING * INTO frozen;
    PERFORM kaireon._audit(tenant_id, 'tenant.frozen', tenant_id, '{}');
    RETURN jsonb_build_object('tenantId', tenant_id, 'frozenAt', kaireon._iso_utc(frozen.frozen_at));
END
$$;
COMMENT ON FUNCTION kaireon.freeze_tenant(text) IS
    'Stops every call on the tenant for a move between shards (waits for the calls in flight); returns {tenantId, frozenAt}.';

-- unfreeze_tenant calls a move off on the source: calls resume there.
CREATE FUNCTION kaireon.unfreeze_tenant(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM kaireon._check_tenant_id(tenant_id);
    DELETE FROM kaireon.tenant_moves m WHERE m.tenant_id = unfreeze_tenant.tenant_id AND m.state = 'frozen';
    IF NOT FOUND THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('tenant "%s" is not frozen', tenant_id),
                               jsonb_build_object('tenant', tenant_id));
    END IF;
    PERFORM kaireon._audit(tenant_id, 'tenant.unfrozen', tenant_id, '{}');
    RETURN jsonb_build_object('tenantId', tenant_id, 'frozen', false);
END
$$;
COMMENT ON FUNCTION kaireon.unfreeze_tenant(text) IS 'Calls off a move: the frozen tenant takes calls again here.';

-- release_moved_tenant ends a move on the source, once the target has
-- adopted the tenant and the router points at it: the tenant's rows go
-- (drop_tenant; the audit trail stays, as for any dropped tenant) and calls
-- naming it get KR503 TENANT_MOVING ("has moved") from now on.
CREATE FUNCTION kaireon.release_moved_tenant(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dropped jsonb;
BEGIN
    PERFORM kaireon._check_tenant_id(tenant_id);
    UPDATE kaireon.tenant_moves m SET state = 'moved', moved_at = now()
    WHERE m.tenant_id = release_moved_tenant.tenant_id AND m.state = 'frozen'
      AND EXISTS (SELECT 1 FROM kaireon.tenants t WHERE t.tenant_id = m.tenant_id);
    IF NOT FOUND THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('tenant "%s" is not frozen for a move here', tenant_id),
                               jsonb_build_object('tenant', tenant_id),
                               'Freeze it with kaireon.freeze_tenant and copy it to the target first (scripts/move_tenant.sh).');
    END IF;
    PERFORM kaireon._audit(tenant_id, 'tenant.moved_out', tenant_id, '{}');
    dropped := kaireon.drop_tenant(tenant_id);
    RETURN jsonb_build_object('tenantId', tenant_id, 'moved', true, 'deleted', dropped -> 'deleted');
END
$$;
COMMENT ON FUNCTION kaireon.release_moved_tenant(text) IS
    'Ends a move on the source: drops the frozen tenant (its audit trail stays); calls naming it get KR503 "has moved".';

-- adopt_moved_tenant finishes copying a tenant in, in the transaction that
-- loaded its rows (with session_replication_role = replica, rows as they
-- were) and its outbox into pg_temp.kaireon_moved_events:
--   - the events get the next outbox numbers here, in their old order, under
--     the sequencer's lock (a reader past N never misses a smaller number);
--   - the tenant's consumer positions and webhook endpoints' start move to
--     the same place in the new numbering (an endpoint starts after what the
--     source had planned, so nothing is planned twice);
--   - identity sequences are lifted past the tenant's ids;
--   - a 'moved' mark left by an earlier move away goes;
--   - every backend drops its caches at commit.
-- Returns the tenant's row count per table, for the caller to compare with
-- the source. Superusers only (it is part of a load with triggers off).
CREATE FUNCTION kaireon.adopt_moved_tenant(tenant_id text, source_plan_position bigint) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET session_replication_role = replica AS $$
DECLARE
    last_seq bigint;
    moved bigint;
    entry record;
    top bigint;
    counted bigint;
    counts jsonb := '{}';
BEGIN
    PERFORM kaireon._check_tenant_id(tenant_id);
    IF source_plan_position IS NULL OR source_plan_position < 0 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'source_plan_position must be 0 or more', '{"path": "source_plan_position"}');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM kaireon.tenants t WHERE t.tenant_id = adopt_moved_tenant.tenant_id) THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('tenant "%s" has not been loaded here', tenant_id),
                               jsonb_build_object('tenant', tenant_id));
    END IF;
    IF to_regclass('pg_temp.kaireon_moved_events') IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'the moved events are missing: load them into pg_temp.kaireon_moved_events',
                               jsonb_build_object('tenant', tenant_id));
    END IF;
    IF EXISTS (SELECT 1 FROM pg_temp.kaireon_moved_events m WHERE m.tenant_id IS DISTINCT FROM adopt_moved_tenant.tenant_id) THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'pg_temp.kaireon_moved_events holds events of another tenant',
                               jsonb_build_object('tenant', tenant_id));
    END IF;

    LOCK TABLE kaireon.event_sequencer IN EXCLUSIVE MODE;  -- waits: no other numbering until we commit
    last_seq := kaireon._last_event_seq();
    INSERT INTO kaireon.events (tenant_id, id, type, payload, created_at, dedupe_key, delivery_state, txid, seq)
    OVERRIDING SYSTEM VALUE
    SELECT m.tenant_id, m.id, m.type, m.payload, m.created_at, m.dedupe_key, m.delivery_state, m.txid,
           last_seq + row_number() OVER (ORDER BY m.seq NULLS LAST, m.txid, m.id)
    FROM pg_temp.kaireon_moved_events m;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved > 0 THEN
        PERFORM setval('kaireon.event_seq_counter', last_seq + moved);
    END IF;
    -- A position p (the last seq seen) becomes the new number of the last
    -- moved event numbered p or less there; before them all, last_seq.
    UPDATE kaireon.event_consumers c
    SET position = coalesce((SELECT max(e.seq) FROM pg_temp.kaireon_moved_events m
                             JOIN kaireon.events e ON e.tenant_id = m.tenant_id AND e.id = m.id
                             WHERE m.seq <= c.position), last_seq)
    WHERE c.tenant_id = adopt_moved_tenant.tenant_id;
    UPDATE kaireon.webhook_endpoints w
    SET start_seq = coalesce((SELECT max(e.seq) FROM pg_temp.kaireon_moved_events m
                              JOIN kaireon.events e ON e.tenant_id = m.tenant_id AND e.id = m.id
                              WHERE m.seq <= greatest(w.start_seq, source_plan_position)), last_seq)
    WHERE w.tenant_id = adopt_moved_tenant.tenant_id;
    UPDATE kaireon.webhook_deliveries d SET event_seq = e.seq
    FROM kaireon.events e
    WHERE d.tenant_id = adopt_moved_tenant.tenant_id AND e.tenant_id = d.tenant_id AND e.id = d.event_id;

    -- Identity sequences past the tenant's ids (ids are unique per tenant:
    -- never moving a sequence back is all that matters here).
    FOR entry IN
        SELECT tt.table_name, a.attname, pg_get_serial_sequence(tt.table_name::text, a.attname) AS seq
        FROM kaireon.tenant_tables tt
        JOIN pg_attribute a ON a.attrelid = tt.table_name AND a.attidentity <> '' AND NOT a.attisdropped
    LOOP
        EXECUTE format('SELECT max(%I) FROM %s WHERE tenant_id = $1', entry.attname, entry.table_name)
            INTO top USING tenant_id;
        IF top IS NOT NULL AND top > nextval(entry.seq) THEN
            PERFORM setval(entry.seq, top);
        END IF;
    END LOOP;

    DELETE FROM kaireon.tenant_moves m WHERE m.tenant_id = adopt_moved_tenant.tenant_id;
    PERFORM kaireon._invalidate_all_caches();

    -- Counted as loaded (before the audit record of the move itself).
    counts := jsonb_build_object('kaireon.tenants', 1);
    FOR entry IN SELECT tt.table_name FROM kaireon.tenant_tables tt ORDER BY tt.table_name::text LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = $1', entry.table_name) INTO counted USING tenant_id;
        counts := counts || jsonb_build_object(entry.table_name::text, counted);
    END LOOP;
    PERFORM kaireon._audit(tenant_id, 'tenant.moved_in', tenant_id,
                           jsonb_build_object('events', moved, 'firstSeq', CASE WHEN moved > 0 THEN last_seq + 1 END));
    RETURN jsonb_build_object('tenantId', tenant_id, 'events', moved, 'rows', counts);
END
$$;
COMMENT ON FUNCTION kaireon.adopt_moved_tenant(text, bigint) IS
    'Finishes loading a tenant moved from another shard (scripts/move_tenant.sh); superusers only.';

-- Journeys of a frozen tenant wait; advance_journeys holds each tenant's
-- gate while it moves the tenant's instances.
CREATE OR REPLACE FUNCTION kaireon.advance_journeys(max_instances integer DEFAULT 1000) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    due record;
    advanced integer := 0;
    failed integer := 0;
BEGIN
    IF max_instances IS NULL OR max_instances NOT BETWEEN 1 AND 100000 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_instances must be between 1 and 100000', '{"path": "max_instances"}');
    END IF;
    FOR due IN
        SELECT i.tenant_id, i.id FROM kaireon.journey_instances i
        WHERE i.status = 'active' AND i.wake_at <= kaireon.clock()
          AND NOT EXISTS (SELECT 1 FROM kaireon.tenant_moves m WHERE m.tenant_id = i.tenant_id AND m.state = 'frozen')
        ORDER BY i.wake_at, i.tenant_id, i.id
        LIMIT max_instances
        FOR UPDATE OF i SKIP LOCKED
    LOOP
        CONTINUE WHEN NOT kaireon._enter_tenant(due.tenant_id);  -- frozen since the rows were read
        BEGIN
            PERFORM kaireon._advance_journey(due.tenant_id, due.id);
            advanced := advanced + 1;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available THEN
                RAISE;  -- the whole transaction must go (or wait): not the step's fault
            WHEN OTHERS THEN
                failed := failed + 1;
                UPDATE kaireon.journey_instances i
                SET last_error = left(SQLERRM, 500), wake_at = kaireon.clock() + interval '15 minutes'
                WHERE i.tenant_id = due.tenant_id AND i.id = due.id;
        END;
    END LOOP;
    RETURN jsonb_build_object('advanced', advanced, 'failed', failed);
END
$$;

GRANT EXECUTE ON FUNCTION kaireon.freeze_tenant(text), kaireon.unfreeze_tenant(text),
    kaireon.release_moved_tenant(text) TO kaireon_admin;

-- Backends that cached grants before this version learn of tenant_moves.
UPDATE kaireon.tenants SET tenant_id = tenant_id WHERE false;

SELECT kaireon._revoke_public();

-- kaireon 0.16 -> 0.17: the audit trail is cut by time too (issue 16,
-- docs/audit.md "Retention"). audit_log and audit_seals become
-- range-partitioned by the record's recorded_at (a seal lives in the
-- partition of the record it seals), each with a default partition, as the
-- other append tables in 0.16. Retention of the trail is off until an
-- administrator sets it (set_partition_retention); it then drops only whole
-- pairs of partitions whose records are all sealed, whose seals are the
-- oldest part of each tenant's chain, and whose chain verifies. Each tenant
-- whose chain loses seals gets an anchor (audit_anchors: the last dropped
-- seal's position and hash), from which verify_audit and seal_audit go on.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.17'" to load this file. \quit

-- The audit tables' indexes, on each partition (see 0.16: none on the
-- partitioned tables). A seal is keyed by its chain position; positions and
-- ids are unique by construction (seal_audit runs one sealer per tenant).
CREATE OR REPLACE FUNCTION kaireon._index_partition(parent regclass, part regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text := (SELECT c.relname FROM pg_class c WHERE c.oid = part);
BEGIN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (tenant_id, %I)', part, name || '_pkey',
                   CASE WHEN parent = 'kaireon.audit_seals'::regclass THEN 'position' ELSE 'id' END);
    CASE parent
        WHEN 'kaireon.usage_events'::regclass THEN
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, feature, occurred_at)', name || '_feature', part);
        WHEN 'kaireon.decisions'::regclass THEN
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, customer_id, decided_at)', name || '_customer', part);
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, (experiment ->> ''id'')) WHERE experiment IS NOT NULL',
                           name || '_experiment', part);
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, quota_period) WHERE quota_period IS NOT NULL',
                           name || '_quota_period', part);
        WHEN 'kaireon.decision_traces'::regclass THEN
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, traced_at)', name || '_traced', part);
        WHEN 'kaireon.interactions'::regclass THEN
            -- customer_id leads: the planner took a (tenant_id, ...) index for
            -- a customer's history and filtered the tenant's rows.
            EXECUTE format('CREATE INDEX %I ON %s (customer_id, tenant_id, occurred_at)', name || '_customer', part);
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, experiment_id, variant) WHERE experiment_id IS NOT NULL',
                           name || '_experiment', part);
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, recorded_at) WHERE kind = ''impression''',
                           name || '_impressions', part);
        WHEN 'kaireon.audit_log'::regclass THEN
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, txid)', name || '_txid', part);
            EXECUTE format('CREATE INDEX %I ON %s (tenant_id, recorded_at)', name || '_recorded', part);
        WHEN 'kaireon.audit_seals'::regclass THEN
            EXECUTE format('CREATE UNIQUE INDEX %I ON %s (tenant_id, audit_id)', name || '_audit_id', part);
    END CASE;
END
$$;

-- ---------------------------------------------------------------------------
-- The conversion (as in 0.16: each table made again under its name, rows
-- copied, the old one dropped).

ALTER TABLE kaireon.audit_log RENAME TO audit_log_unpartitioned;
ALTER INDEX kaireon.audit_log_pkey RENAME TO audit_log_unpartitioned_pkey;
ALTER INDEX kaireon.audit_log_txid RENAME TO audit_log_unpartitioned_txid;
ALTER INDEX kaireon.audit_log_recorded RENAME TO audit_log_unpartitioned_recorded;
ALTER SEQUENCE kaireon.audit_log_id_seq RENAME TO audit_log_unpartitioned_id_seq;
CREATE TABLE kaireon.audit_log (
    tenant_id   text NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    recorded_at timestamptz NOT NULL DEFAULT kaireon.clock(),
    txid        xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    actor       text NOT NULL,
    action      text NOT NULL,
    target      text,
    details     jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (recorded_at);
COMMENT ON TABLE kaireon.audit_log IS
    'Append-only audit trail; sealed into a hash chain per tenant by seal_audit(); partitioned by recorded_at.';
CREATE TABLE kaireon.audit_log_default PARTITION OF kaireon.audit_log DEFAULT;
SELECT kaireon._secure_partition('kaireon.audit_log', 'kaireon.audit_log_default', true);
INSERT INTO kaireon.audit_log OVERRIDING SYSTEM VALUE SELECT * FROM kaireon.audit_log_unpartitioned;
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('kaireon.audit_log', 'id'),
                         greatest(coalesce((SELECT max(id) FROM kaireon.audit_log), 0),
                                  (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END
                                   FROM kaireon.audit_log_unpartitioned_id_seq)) + 1, false);

ALTER TABLE kaireon.audit_seals RENAME TO audit_seals_unpartitioned;
ALTER INDEX kaireon.audit_seals_pkey RENAME TO audit_seals_unpartitioned_pkey;
ALTER INDEX kaireon.audit_seals_tenant_id_audit_id_key RENAME TO audit_seals_unpartitioned_audit_id;
CREATE TABLE kaireon.audit_seals (
    tenant_id   text NOT NULL,
    position    bigint NOT NULL,
    audit_id    bigint NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    sealed_at   timestamptz NOT NULL DEFAULT now(),
    recorded_at timestamptz NOT NULL
) PARTITION BY RANGE (recorded_at);
COMMENT ON TABLE kaireon.audit_seals IS
    'The hash chain over kaireon.audit_log: one link per row, in the order seal_audit sealed them; partitioned by the sealed row''s recorded_at.';
COMMENT ON COLUMN kaireon.audit_seals.recorded_at IS
    'The sealed row''s recorded_at: a seal lives in the time partition of its row, and retention drops them together.';
CREATE TABLE kaireon.audit_seals_default PARTITION OF kaireon.audit_seals DEFAULT;
SELECT kaireon._secure_partition('kaireon.audit_seals', 'kaireon.audit_seals_default', true);
-- A seal whose row is gone (a tampered trail) keeps its own time: the break
-- stays for verify_audit to report.
INSERT INTO kaireon.audit_seals
SELECT s.tenant_id, s.position, s.audit_id, s.prev_hash, s.hash, s.sealed_at, coalesce(a.recorded_at, s.sealed_at)
FROM kaireon.audit_seals_unpartitioned s
LEFT JOIN kaireon.audit_log a ON a.tenant_id = s.tenant_id AND a.id = s.audit_id;

-- entitlement_evaluations is a view of the trail: it follows the new table.
CREATE OR REPLACE VIEW kaireon.entitlement_evaluations WITH (security_invoker = true) AS
SELECT a.tenant_id, a.id, a.recorded_at AS evaluated_at, a.actor::name AS role_name,
       a.details ->> 'api' AS api, a.target AS feature, (a.details ->> 'requested')::numeric AS requested,
       a.details ->> 'status' AS status, a.details -> 'result' AS result
FROM kaireon.audit_log a
WHERE a.action = 'entitlement.evaluated';

-- audit_trail returns rows of the table: made again for the new one (same
-- body as in 0.6).
DROP FUNCTION kaireon.audit_trail(timestamptz, timestamptz, text, text, int, text);
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
GRANT EXECUTE ON FUNCTION kaireon.audit_trail(timestamptz, timestamptz, text, text, int, text)
    TO kaireon_admin, kaireon_reader;

DELETE FROM kaireon.tenant_tables
WHERE table_name IN ('kaireon.audit_log_unpartitioned'::regclass, 'kaireon.audit_seals_unpartitioned'::regclass);
DROP TABLE kaireon.audit_log_unpartitioned, kaireon.audit_seals_unpartitioned;

-- Each tenant's anchor: where its chain goes on after retention dropped
-- its oldest seals. The latest anchor (highest position) is the one in
-- force; each is also an audit record (audit.pruned) sealed into the chain.
CREATE TABLE kaireon.audit_anchors (
    tenant_id      text NOT NULL,
    position       bigint NOT NULL,
    audit_id       bigint NOT NULL,
    hash           bytea NOT NULL,
    pruned_through timestamptz NOT NULL,
    anchored_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, position)
);
COMMENT ON TABLE kaireon.audit_anchors IS
    'Per tenant, the last seal retention dropped (position, audit id, hash): the chain goes on from the latest one.';

INSERT INTO kaireon.tenant_tables VALUES
    ('kaireon.audit_log', 'keep', 95),
    ('kaireon.audit_seals', 'keep', 95),
    ('kaireon.audit_anchors', 'keep', 95);
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['audit_log', 'audit_seals', 'audit_anchors'] LOOP
        EXECUTE format('ALTER TABLE kaireon.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON kaireon.%I USING (tenant_id = kaireon.visible_tenant())', t);
        -- Append-only, also for the owner and in replica mode (ENABLE
        -- ALWAYS); the row trigger reaches every partition, the TRUNCATE
        -- trigger is each partition's own (_secure_partition).
        EXECUTE format('CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON kaireon.%I '
                       'FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change()', t);
        EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON kaireon.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change()', t);
        EXECUTE format('ALTER TABLE kaireon.%I ENABLE ALWAYS TRIGGER append_only', t);
        EXECUTE format('ALTER TABLE kaireon.%I ENABLE ALWAYS TRIGGER append_only_truncate', t);
    END LOOP;
END
$$;
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_log_default', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_seals_default', '');
SELECT pg_catalog.pg_extension_config_dump('kaireon.audit_anchors', '');
GRANT SELECT ON kaireon.audit_log TO kaireon_admin, kaireon_reader;
GRANT SELECT ON kaireon.audit_seals, kaireon.audit_anchors TO kaireon_admin;

-- ---------------------------------------------------------------------------
-- Time partitions of the audit trail.

CREATE OR REPLACE FUNCTION kaireon._partitionable_tables(OUT table_name regclass, OUT control text,
                                                         OUT append_only boolean, OUT occurred text)
RETURNS SETOF record LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    VALUES ('kaireon.usage_events'::regclass, 'recorded_at', true, 'occurred_at'),
           ('kaireon.decisions'::regclass, 'decided_at', false, NULL),
           ('kaireon.decision_traces'::regclass, 'traced_at', false, NULL),
           ('kaireon.interactions'::regclass, 'recorded_at', false, 'occurred_at'),
           ('kaireon.audit_log'::regclass, 'recorded_at', true, NULL),
           ('kaireon.audit_seals'::regclass, 'recorded_at', true, NULL)
$$;

-- _audit_tables are the tables whose retention is the audit trail's: off
-- until set_partition_retention sets it (an audit trail is usually kept
-- longer than operational rows), and one setting for both.
CREATE FUNCTION kaireon._audit_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ARRAY['kaireon.audit_log'::regclass, 'kaireon.audit_seals'::regclass]
$$;

-- _partition_by_time hands one append table to pg_partman: time partitions
-- of partition_interval, premake of them ahead; the rows of the default
-- partition move into them. Takes the table's ACCESS EXCLUSIVE lock.
-- Partitions are cut at UTC boundaries (callers run with TimeZone UTC).
-- Returns how many rows moved.
CREATE FUNCTION kaireon._partition_by_time(parent regclass, control text, append_only boolean,
                                           partition_interval interval, premake integer) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    partman text := kaireon._partman_schema();
    default_name text := (parse_ident(parent::text))[2] || '_default';
    oldest timestamptz;
    moved bigint;
BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', parent);
    -- pg_partman makes a default partition of its own under this name: ours
    -- steps aside with the rows, which then move into the time partitions,
    -- and takes the default's place again.
    EXECUTE format('ALTER TABLE %s DETACH PARTITION kaireon.%I', parent, default_name);
    EXECUTE format('ALTER TABLE kaireon.%I RENAME TO %I', default_name, default_name || '_moving');
    EXECUTE format('SELECT min(%I) FROM kaireon.%I', control, default_name || '_moving') INTO oldest;
    -- A seal goes to the partition of its record, sealed or not yet: the
    -- seals' partitions start where the records' do.
    IF parent = 'kaireon.audit_seals'::regclass THEN
        oldest := least(oldest, (SELECT min(a.recorded_at) FROM kaireon.audit_log a));
    END IF;
    EXECUTE format('SELECT %I.create_parent(p_parent_table := $1, p_control := $2, p_type := ''native'', '
                   'p_interval := $3, p_premake := $4, p_start_partition := $5, p_jobmon := false)', partman)
        USING parent::text, control, partition_interval::text, premake,
              least(coalesce(oldest, kaireon.clock()), kaireon.clock())::text;
    -- kaireon runs the maintenance (partition_maintenance), which secures
    -- the partitions pg_partman cuts; pg_partman's own run of every set
    -- leaves these alone.
    EXECUTE format('UPDATE %I.part_config SET infinite_time_partitions = true, retention = NULL, '
                   'automatic_maintenance = ''off'' WHERE parent_table = $1', partman) USING parent::text;
    PERFORM kaireon._secure_partitions(parent, append_only);
    -- The move is a maintenance load: the rows were checked and counted when
    -- they came (no rollup trigger again).
    SET LOCAL session_replication_role = replica;
    EXECUTE format('INSERT INTO %s %s SELECT * FROM kaireon.%I', parent,
                   CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = parent AND a.attidentity <> '')
                        THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END, default_name || '_moving');
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF append_only THEN
        EXECUTE format('DROP TRIGGER append_only_truncate ON kaireon.%I', default_name || '_moving');
    END IF;
    EXECUTE format('TRUNCATE kaireon.%I', default_name || '_moving');
    -- Rows past the premade partitions went to pg_partman's default.
    EXECUTE format('ALTER TABLE %s DETACH PARTITION kaireon.%I', parent, default_name);
    EXECUTE format('INSERT INTO kaireon.%I SELECT * FROM kaireon.%I', default_name || '_moving', default_name);
    EXECUTE format('DROP TABLE kaireon.%I', default_name);
    EXECUTE format('ALTER TABLE kaireon.%I RENAME TO %I', default_name || '_moving', default_name);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION kaireon.%I DEFAULT', parent, default_name);
    PERFORM kaireon._secure_partition(parent, format('kaireon.%I', default_name)::regclass, append_only);
    RESET session_replication_role;
    PERFORM kaireon._secure_partitions(parent, append_only);
    RETURN moved;
END
$$;

-- enable_time_partitioning hands the append tables to pg_partman (see
-- _partition_by_time); retention (NULL: for ever) applies to the
-- operational tables, the audit trail's is set on its own
-- (set_partition_retention). Called again, it changes that retention and
-- hands over any table not handed over yet.
CREATE OR REPLACE FUNCTION kaireon._enable_time_partitioning(partition_interval interval, premake integer,
                                                             retention interval)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    t record;
    moved bigint;
    result jsonb := '{}';
BEGIN
    PERFORM kaireon._partman_schema();
    IF partition_interval IS NULL OR partition_interval < interval '1 hour' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'partition_interval must be at least 1 hour',
                               jsonb_build_object('path', 'partition_interval', 'value', partition_interval::text));
    END IF;
    IF premake IS NULL OR premake < 1 OR premake > 100 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'premake must be between 1 and 100',
                               jsonb_build_object('path', 'premake', 'value', premake));
    END IF;
    IF retention IS NOT NULL AND retention <= interval '0' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'retention must be positive (NULL keeps every row)',
                               jsonb_build_object('path', 'retention', 'value', retention::text));
    END IF;
    FOR t IN SELECT pt.*, pt.table_name = ANY (kaireon._audit_tables()) AS audit,
                    EXISTS (SELECT 1 FROM kaireon.time_partitioning p WHERE p.table_name = pt.table_name) AS handed
             FROM kaireon._partitionable_tables() pt LOOP
        IF t.handed THEN
            IF NOT t.audit THEN
                UPDATE kaireon.time_partitioning p SET retention = _enable_time_partitioning.retention
                WHERE p.table_name = t.table_name;
            END IF;
            result := result || jsonb_build_object(t.table_name::text, jsonb_build_object('enabled', false, 'moved', 0));
            CONTINUE;
        END IF;
        moved := kaireon._partition_by_time(t.table_name, t.control, t.append_only, partition_interval, premake);
        INSERT INTO kaireon.time_partitioning (table_name, partition_interval, retention)
        VALUES (t.table_name, _enable_time_partitioning.partition_interval,
                CASE WHEN t.audit THEN NULL ELSE _enable_time_partitioning.retention END);
        result := result || jsonb_build_object(t.table_name::text, jsonb_build_object(
            'enabled', true, 'moved', moved,
            'partitions', (SELECT count(*) FROM kaireon._partition_bounds(t.table_name))));
    END LOOP;
    PERFORM kaireon._audit('', 'partitioning.enabled', NULL,
                           jsonb_build_object('interval', partition_interval::text, 'premake', premake,
                                              'retention', retention::text, 'tables', result));
    RETURN result;
END
$$;
COMMENT ON FUNCTION kaireon.enable_time_partitioning(interval, integer, interval) IS
    'Cuts the append tables (usage events, decisions, traces, interactions, the audit trail) into time partitions with pg_partman; again: sets the retention of the operational tables.';

-- set_partition_retention sets how long one table's rows are kept (NULL:
-- for ever). For the audit trail name kaireon.audit_log: its seals follow.
CREATE FUNCTION kaireon.set_partition_retention(table_name regclass, retention interval) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    targets regclass[];
BEGIN
    IF table_name IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'table_name must not be null', '{"path": "table_name"}');
    END IF;
    IF retention IS NOT NULL AND retention <= interval '0' THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'retention must be positive (NULL keeps every row)',
                               jsonb_build_object('path', 'retention', 'value', retention::text));
    END IF;
    IF table_name = 'kaireon.audit_seals'::regclass THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'the audit seals follow the audit trail: name kaireon.audit_log',
                               '{"path": "table_name", "value": "kaireon.audit_seals"}');
    END IF;
    targets := CASE WHEN table_name = 'kaireon.audit_log'::regclass THEN kaireon._audit_tables()
                    ELSE ARRAY[table_name] END;
    IF NOT EXISTS (SELECT 1 FROM kaireon.time_partitioning p WHERE p.table_name = set_partition_retention.table_name)
    THEN
        PERFORM kaireon._raise('BAD_REQUEST', format('%s is not cut into time partitions', table_name),
                               jsonb_build_object('path', 'table_name', 'value', table_name::text,
                                                  'partitioned', (SELECT jsonb_agg(p.table_name::text ORDER BY p.table_name::text)
                                                                  FROM kaireon.time_partitioning p)),
                               'Run kaireon.enable_time_partitioning() first.');
    END IF;
    UPDATE kaireon.time_partitioning p SET retention = set_partition_retention.retention
    WHERE p.table_name = ANY (targets);
    PERFORM kaireon._audit('', 'partitioning.retention_set', table_name::text,
                           jsonb_build_object('retention', retention::text));
    RETURN jsonb_build_object('table', table_name::text, 'retention', retention::text);
END
$$;
COMMENT ON FUNCTION kaireon.set_partition_retention(regclass, interval) IS
    'Sets how long one time-partitioned table keeps its rows (NULL: for ever); kaireon.audit_log sets the audit trail''s.';

-- _audit_chain_verdict is verify_audit's walk of one tenant's chain from
-- its anchor up to a position, for retention (no caller check, no event).
CREATE FUNCTION kaireon._audit_chain_verdict(tenant_id text, through_position bigint) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_audit_chain_verdict' LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;

-- _drop_audit_partitions applies the audit trail's retention: it drops the
-- oldest pairs of audit_log and audit_seals partitions that end at or
-- before keep_from, the most that hold together:
--   every record in them is sealed, and every seal in them seals one of
--     them (nothing of an unsealed chain goes);
--   for each tenant, their seals are the oldest part of its chain (no kept
--     seal has a lower position: a transaction that committed late is
--     sealed after rows recorded later, so its partition waits for them);
--   and that part of each chain verifies from the tenant's anchor (the
--     evidence of a broken chain is never dropped).
-- Each such tenant gets an anchor at its last dropped seal and an
-- audit.pruned record. Returns {"dropped": [...], "heldBy": reason or null}.
CREATE FUNCTION kaireon._drop_audit_partitions(keep_from timestamptz) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cut timestamptz;
    logs regclass[];
    seals regclass[];
    log_rows text;
    seal_rows text;
    found record;
    lasts jsonb;
    verdict jsonb;
    kept_seals text;
    held text;
    first_held text;
    part regclass;
    names jsonb;
BEGIN
    FOR cut IN SELECT b.range_to FROM kaireon._partition_bounds('kaireon.audit_log') b
               WHERE b.range_to <= keep_from ORDER BY b.range_to DESC LOOP
        logs := ARRAY(SELECT b.partition FROM kaireon._partition_bounds('kaireon.audit_log') b WHERE b.range_to <= cut);
        seals := ARRAY(SELECT b.partition FROM kaireon._partition_bounds('kaireon.audit_seals') b
                       WHERE b.range_to <= cut);
        -- No record comes into them while they are judged (a transaction
        -- still writing there is waited for).
        EXECUTE (SELECT format('LOCK TABLE %s IN SHARE MODE', string_agg(p::text, ', ')) FROM unnest(logs || seals) p);
        log_rows := (SELECT string_agg(format('SELECT tenant_id, id FROM %s', p), ' UNION ALL ') FROM unnest(logs) p);
        seal_rows := coalesce((SELECT string_agg(format('SELECT tenant_id, position, audit_id, hash FROM %s', p),
                                                 ' UNION ALL ')
                               FROM unnest(seals) p),
                              'SELECT NULL::text AS tenant_id, NULL::bigint AS position, NULL::bigint AS audit_id, '
                              'NULL::bytea AS hash WHERE false');
        kept_seals := (SELECT string_agg(format('SELECT tenant_id, position FROM %s', i.inhrelid::regclass), ' UNION ALL ')
                       FROM pg_inherits i
                       WHERE i.inhparent = 'kaireon.audit_seals'::regclass AND i.inhrelid <> ALL (seals::oid[]));
        held := NULL;
        EXECUTE format('SELECT a.tenant_id, a.id FROM (%s) a WHERE NOT EXISTS '
                       '(SELECT 1 FROM (%s) s WHERE s.tenant_id = a.tenant_id AND s.audit_id = a.id) LIMIT 1',
                       log_rows, seal_rows) INTO found;
        IF found.id IS NOT NULL THEN
            held := format('record %s of tenant "%s" is not sealed yet', found.id, found.tenant_id);
        END IF;
        IF held IS NULL THEN
            EXECUTE format('SELECT s.tenant_id, s.audit_id FROM (%s) s WHERE NOT EXISTS '
                           '(SELECT 1 FROM (%s) a WHERE a.tenant_id = s.tenant_id AND a.id = s.audit_id) LIMIT 1',
                           seal_rows, log_rows) INTO found;
            IF found.tenant_id IS NOT NULL THEN
                held := format('the seal of record %s of tenant "%s" has no record beside it', found.audit_id,
                               found.tenant_id);
            END IF;
        END IF;
        IF held IS NULL THEN
            -- Each tenant's last seal in them, read once: the prefix check,
            -- the walk and the anchor all start from it.
            EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY l.tenant_id), ''[]'') FROM '
                           '(SELECT DISTINCT ON (tenant_id) tenant_id, position, audit_id, encode(hash, ''hex'') AS hash '
                           ' FROM (%s) s ORDER BY tenant_id, position DESC) l', seal_rows) INTO lasts;
            EXECUTE format('SELECT l.tenant_id FROM jsonb_to_recordset($1) AS l (tenant_id text, position bigint) '
                           'WHERE EXISTS (SELECT 1 FROM (%s) k WHERE k.tenant_id = l.tenant_id AND k.position <= l.position) '
                           'ORDER BY l.tenant_id LIMIT 1', kept_seals)
                INTO found USING lasts;
            IF found.tenant_id IS NOT NULL THEN
                held := format('a later partition holds an earlier seal of tenant "%s" (a late commit)',
                               found.tenant_id);
            END IF;
        END IF;
        IF held IS NULL THEN
            FOR found IN SELECT * FROM jsonb_to_recordset(lasts) AS l (tenant_id text, position bigint) LOOP
                verdict := kaireon._audit_chain_verdict(found.tenant_id, found.position);
                IF NOT (verdict ->> 'valid')::boolean THEN
                    held := format('the chain of tenant "%s" is broken: %s', found.tenant_id, verdict ->> 'reason');
                    EXIT;
                END IF;
            END LOOP;
        END IF;
        IF held IS NOT NULL THEN
            -- The largest cut's reason is the one reported; a smaller cut may hold.
            first_held := coalesce(first_held, held);
            CONTINUE;
        END IF;
        FOR found IN SELECT * FROM jsonb_to_recordset(lasts) AS l (tenant_id text, position bigint, audit_id bigint,
                                                                     hash text) LOOP
            INSERT INTO kaireon.audit_anchors (tenant_id, position, audit_id, hash, pruned_through)
            VALUES (found.tenant_id, found.position, found.audit_id, decode(found.hash, 'hex'), cut);
            PERFORM kaireon._audit(found.tenant_id, 'audit.pruned', NULL,
                                   jsonb_build_object('position', found.position, 'auditId', found.audit_id,
                                                      'hash', found.hash, 'prunedThrough', kaireon._iso_utc(cut)));
        END LOOP;
        names := (SELECT jsonb_agg(p::text) FROM unnest(logs || seals) p);
        FOREACH part IN ARRAY logs || seals LOOP
            EXECUTE format('DROP TABLE %s', part);
        END LOOP;
        RETURN jsonb_build_object('dropped', names, 'heldBy', first_held);
    END LOOP;
    RETURN jsonb_build_object('dropped', '[]'::jsonb, 'heldBy', first_held);
END
$$;

-- The audit trail's floor is the current decision-quota month: rollover
-- reads the trail of a closing period (_quota_terms_unchanged). Its seals
-- are dropped with their records, never on their own.
CREATE OR REPLACE FUNCTION kaireon._retention_floor(table_name regclass) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    now_utc timestamp := kaireon.clock() AT TIME ZONE 'UTC';
    floor_at timestamptz;
BEGIN
    CASE table_name
        WHEN 'kaireon.decisions'::regclass, 'kaireon.audit_log'::regclass THEN
            RETURN date_trunc('month', now_utc) AT TIME ZONE 'UTC';
        WHEN 'kaireon.decision_traces'::regclass THEN
            RETURN date_trunc('day', now_utc) AT TIME ZONE 'UTC';
        WHEN 'kaireon.interactions'::regclass THEN
            RETURN kaireon._interactions_floor();
        WHEN 'kaireon.usage_events'::regclass THEN
            SELECT min(CASE WHEN f.options ->> 'period' IN ('hour', 'day', 'week', 'month')
                            THEN (date_trunc(f.options ->> 'period', now_utc) AT TIME ZONE 'UTC') - interval '1 hour'
                            ELSE '-infinity'::timestamptz END)
            INTO floor_at
            FROM kaireon.features f
            WHERE f.key IN (SELECT DISTINCT r.feature FROM kaireon.usage_rollups r);
            RETURN coalesce(floor_at, kaireon.clock());
        ELSE
            RETURN '-infinity';
    END CASE;
END
$$;

-- partition_maintenance (the pg_cron job) also hands over the append tables
-- a newer version made partitionable (the audit trail, after an upgrade
-- from 0.16), with the interval the first ones were given; the audit trail
-- is dropped by _drop_audit_partitions.
CREATE OR REPLACE FUNCTION kaireon._partition_maintenance() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    partman text;
    t record;
    part record;
    keep_from timestamptz;
    latest timestamptz;
    dropped jsonb;
    held text;
    secured integer;
    first_interval interval;
    result jsonb := '{}';
BEGIN
    SELECT p.partition_interval INTO first_interval FROM kaireon.time_partitioning p ORDER BY p.enabled_at LIMIT 1;
    IF first_interval IS NULL THEN
        RETURN result;
    END IF;
    partman := kaireon._partman_schema();
    FOR t IN SELECT pt.* FROM kaireon._partitionable_tables() pt
             WHERE NOT EXISTS (SELECT 1 FROM kaireon.time_partitioning p WHERE p.table_name = pt.table_name) LOOP
        PERFORM kaireon._partition_by_time(t.table_name, t.control, t.append_only, first_interval, 4);
        INSERT INTO kaireon.time_partitioning (table_name, partition_interval, retention)
        VALUES (t.table_name, first_interval, NULL);
    END LOOP;
    -- Closed quota and cap periods are recorded before their rows can go.
    PERFORM kaireon.rollover_periods();
    PERFORM kaireon.reset_expired_caps();
    FOR t IN SELECT p.table_name, p.retention, pt.append_only, pt.occurred
             FROM kaireon.time_partitioning p JOIN kaireon._partitionable_tables() pt USING (table_name)
             ORDER BY p.table_name::text
    LOOP
        EXECUTE format('SELECT %I.run_maintenance(p_parent_table := $1, p_analyze := false, p_jobmon := false)',
                       partman) USING t.table_name::text;
        secured := kaireon._secure_partitions(t.table_name, t.append_only);
        keep_from := kaireon._retention_floor(t.table_name);
        IF t.retention IS NULL THEN
            keep_from := '-infinity';
        ELSE
            keep_from := least(keep_from, kaireon.clock() - t.retention);
        END IF;
        dropped := '[]';
        held := NULL;
        IF t.table_name = 'kaireon.audit_log'::regclass THEN
            SELECT r -> 'dropped', r ->> 'heldBy' INTO dropped, held FROM kaireon._drop_audit_partitions(keep_from) r;
        ELSIF t.table_name <> 'kaireon.audit_seals'::regclass THEN
            FOR part IN SELECT * FROM kaireon._partition_bounds(t.table_name) b WHERE b.range_to <= keep_from LOOP
                IF t.occurred IS NOT NULL THEN
                    EXECUTE format('SELECT max(%I) FROM %s', t.occurred, part.partition) INTO latest;
                    CONTINUE WHEN latest >= keep_from;
                END IF;
                dropped := dropped || to_jsonb(part.partition::text);
                EXECUTE format('DROP TABLE %s', part.partition);
            END LOOP;
        END IF;
        IF jsonb_array_length(dropped) > 0 THEN
            PERFORM kaireon._audit('', 'partitions.dropped', t.table_name::text,
                                   jsonb_build_object('partitions', dropped, 'keptFrom', keep_from));
        END IF;
        result := result || jsonb_build_object(t.table_name::text, jsonb_build_object(
            'partitions', (SELECT count(*) FROM kaireon._partition_bounds(t.table_name)),
            'secured', secured, 'dropped', dropped,
            'keptFrom', CASE WHEN keep_from = '-infinity' THEN NULL ELSE kaireon._iso_utc(keep_from) END)
            || CASE WHEN held IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('heldBy', held) END);
    END LOOP;
    RETURN result;
END
$$;

GRANT EXECUTE ON FUNCTION kaireon.set_partition_retention(regclass, interval) TO kaireon_admin;

-- ---------------------------------------------------------------------------
-- Cheaper writes on the hot paths (issue 15, docs/performance.md "Foreign
-- keys and the kind check"). decisions, decision_traces and interactions no
-- longer reference kaireon.tenants: the foreign key ran a trigger and a
-- SELECT ... FOR KEY SHARE of the tenant's row for every decision and
-- response. What it guarded (no row for a tenant that is gone) holds by the
-- move gate instead: every call on a tenant holds it shared until it
-- commits, and drop_tenant now closes it first, so it waits for the calls
-- in flight (their rows are then deleted with the tenant's) and calls after
-- it find no tenant (test/isolation/specs/drop_tenant_race.spec).
CREATE OR REPLACE FUNCTION kaireon.drop_tenant(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry record;
    removed bigint;
    deleted jsonb := '{}';
BEGIN
    PERFORM kaireon._require_tenant(tenant_id);
    PERFORM kaireon._close_move_gate(tenant_id);    -- waits for the tenant's calls in flight
    PERFORM kaireon._allow_tenant_purge(tenant_id);  -- append-only tables let this transaction remove the tenant
    FOR entry IN
        SELECT tt.table_name FROM kaireon.tenant_tables tt WHERE tt.on_drop = 'delete' ORDER BY tt.drop_order, tt.table_name::text
    LOOP
        EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', entry.table_name) USING tenant_id;
        GET DIAGNOSTICS removed = ROW_COUNT;
        deleted := deleted || jsonb_build_object(entry.table_name::text, removed);
    END LOOP;
    DELETE FROM kaireon.tenants t WHERE t.tenant_id = drop_tenant.tenant_id;
    RETURN jsonb_build_object('tenantId', tenant_id, 'deleted', deleted);
END
$$;
ALTER TABLE kaireon.decisions DROP CONSTRAINT decisions_tenant_id_fkey;
ALTER TABLE kaireon.decision_traces DROP CONSTRAINT decision_traces_tenant_id_fkey;
ALTER TABLE kaireon.interactions DROP CONSTRAINT interactions_tenant_id_fkey;
-- An interaction's kind is checked by a domain: the executor parses a
-- table's CHECK constraints from text for every statement, a domain's once
-- per backend.
CREATE DOMAIN kaireon.interaction_kind AS text
    CHECK (VALUE IN ('impression', 'positive', 'negative', 'neutral'));
ALTER TABLE kaireon.interactions DROP CONSTRAINT interactions_kind_check;
ALTER TABLE kaireon.interactions ALTER COLUMN kind TYPE kaireon.interaction_kind;

SELECT kaireon._revoke_public();

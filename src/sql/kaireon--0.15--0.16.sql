-- kaireon 0.15 -> 0.16: time partitioning of the append tables (issue 16,
-- docs/operations.md "Time partitioning"). usage_events, decisions,
-- decision_traces and interactions become range-partitioned by their
-- recording time, each with a default partition that holds every row until
-- pg_partman is asked to cut time partitions (enable_time_partitioning):
-- kaireon itself does not need pg_partman. Retention (partition_maintenance,
-- a pg_cron job) drops only whole partitions that no current quota, cap,
-- contact policy, usage period or trace allowance still counts.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.16'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The conversion. A table cannot become partitioned in place: each one is
-- made again under its name with the same columns, defaults, grants,
-- policies and triggers, its rows copied, the old one dropped. A partitioned
-- The indexes live on the partitions, not on the partitioned table
-- (_index_partition): a partitioned table that is a member of the extension
-- would give its indexes to a restored partition at ATTACH, before
-- pg_restore creates the partition's own dumped ones ("multiple primary
-- keys"). Each partition's primary key is (tenant_id, id); the ids are
-- unique on their own (identity, uuid).

-- _index_partition gives a partition of an append table the indexes its
-- table's queries use: the primary key (tenant_id, id) and the lookups.
CREATE FUNCTION kaireon._index_partition(parent regclass, part regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text := (SELECT c.relname FROM pg_class c WHERE c.oid = part);
BEGIN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (tenant_id, id)', part, name || '_pkey');
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
    END CASE;
END
$$;

-- _secure_partition gives a partition of an append table what its table's
-- rows need besides the row triggers cloned from the table: its indexes,
-- row-level security with the tenant policy (the table's policy does not
-- guard a partition named directly), no grants, and on an append-only table
-- a TRUNCATE trigger (TRUNCATE names the partition, not the table). A
-- usage_events partition also aggregates rows copied into it directly (a
-- statement trigger fires on the table a statement names: never twice).
-- Each step is skipped when done, so it can run again on the same partition.
CREATE FUNCTION kaireon._secure_partition(parent regclass, part regclass, append_only boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = part AND x.indisprimary) THEN
        PERFORM kaireon._index_partition(parent, part);
    END IF;
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', part);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', part);
    IF NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = part AND p.polname = 'tenant_isolation') THEN
        EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = kaireon.visible_tenant())', part);
    END IF;
    IF append_only AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                                   WHERE t.tgrelid = part AND t.tgname = 'append_only_truncate') THEN
        EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change()', part);
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER append_only_truncate', part);
    END IF;
    IF parent = 'kaireon.usage_events'::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = part AND t.tgname = 'aggregate') THEN
        EXECUTE format('CREATE TRIGGER aggregate AFTER INSERT ON %s REFERENCING NEW TABLE AS new_events '
                       'FOR EACH STATEMENT EXECUTE FUNCTION kaireon._usage_events_inserted()', part);
    END IF;
END
$$;

-- usage_events, by recorded_at (the database's time of the report: a late
-- event, whose occurred_at is old, still lands in the current partition).
ALTER TABLE kaireon.usage_events RENAME TO usage_events_unpartitioned;
ALTER INDEX kaireon.usage_events_pkey RENAME TO usage_events_unpartitioned_pkey;
ALTER INDEX kaireon.usage_events_feature RENAME TO usage_events_unpartitioned_feature;
ALTER SEQUENCE kaireon.usage_events_id_seq RENAME TO usage_events_unpartitioned_id_seq;
CREATE TABLE kaireon.usage_events (
    tenant_id       text NOT NULL DEFAULT kaireon.current_tenant(),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    feature         text NOT NULL,
    value           numeric NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT kaireon.clock(),
    recorded_at     timestamptz NOT NULL DEFAULT kaireon.clock(),
    idempotency_key text,
    properties      jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (recorded_at);
COMMENT ON TABLE kaireon.usage_events IS
    'Usage reports (report_usage and bulk loads); append-only; partitioned by recorded_at.';
CREATE TABLE kaireon.usage_events_default PARTITION OF kaireon.usage_events DEFAULT;
SELECT kaireon._secure_partition('kaireon.usage_events', 'kaireon.usage_events_default', true);
INSERT INTO kaireon.usage_events OVERRIDING SYSTEM VALUE SELECT * FROM kaireon.usage_events_unpartitioned;
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('kaireon.usage_events', 'id'),
                         coalesce((SELECT max(id) FROM kaireon.usage_events), 0) + 1, false);

-- decisions, by decided_at.
ALTER TABLE kaireon.decisions RENAME TO decisions_unpartitioned;
ALTER INDEX kaireon.decisions_pkey RENAME TO decisions_unpartitioned_pkey;
ALTER INDEX kaireon.decisions_experiment RENAME TO decisions_unpartitioned_experiment;
ALTER INDEX kaireon.decisions_quota_period RENAME TO decisions_unpartitioned_quota_period;
ALTER INDEX kaireon.decisions_tenant_id_customer_id_decided_at_idx RENAME TO decisions_unpartitioned_customer;
CREATE TABLE kaireon.decisions (
    tenant_id    text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    customer_id  text NOT NULL,
    flow         text NOT NULL,
    channel      text,
    offers       jsonb NOT NULL,
    experiment   jsonb,
    trace_id     uuid,
    decided_at   timestamptz NOT NULL DEFAULT kaireon.clock(),
    quota_period timestamptz
) PARTITION BY RANGE (decided_at);
COMMENT ON TABLE kaireon.decisions IS
    'Decision records: every kaireon_recommend answer that was not a dry run; partitioned by decided_at.';
CREATE TABLE kaireon.decisions_default PARTITION OF kaireon.decisions DEFAULT;
SELECT kaireon._secure_partition('kaireon.decisions', 'kaireon.decisions_default', false);
INSERT INTO kaireon.decisions SELECT * FROM kaireon.decisions_unpartitioned;

-- decision_traces, by traced_at.
ALTER TABLE kaireon.decision_traces RENAME TO decision_traces_unpartitioned;
ALTER INDEX kaireon.decision_traces_pkey RENAME TO decision_traces_unpartitioned_pkey;
ALTER INDEX kaireon.decision_traces_tenant_id_traced_at_idx RENAME TO decision_traces_unpartitioned_traced;
CREATE TABLE kaireon.decision_traces (
    tenant_id   text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    decision_id uuid NOT NULL,
    customer_id text NOT NULL,
    flow        text NOT NULL,
    stages      jsonb NOT NULL,
    traced_at   timestamptz NOT NULL DEFAULT kaireon.clock()
) PARTITION BY RANGE (traced_at);
COMMENT ON TABLE kaireon.decision_traces IS
    'Per-stage traces of decisions made with "trace": true; partitioned by traced_at.';
CREATE TABLE kaireon.decision_traces_default PARTITION OF kaireon.decision_traces DEFAULT;
SELECT kaireon._secure_partition('kaireon.decision_traces', 'kaireon.decision_traces_default', false);
INSERT INTO kaireon.decision_traces SELECT * FROM kaireon.decision_traces_unpartitioned;

-- interactions, by recorded_at (the database's time of the call, which
-- also decides the cap period). Their idempotency keys must be unique across
-- partitions: they live in kaireon.interaction_keys, unpartitioned, with
-- what a replay must match (so a replay is judged without the partitioned
-- table), and stay when retention drops the interactions (a late replay is
-- still one).
ALTER TABLE kaireon.interactions RENAME TO interactions_unpartitioned;
ALTER INDEX kaireon.interactions_pkey RENAME TO interactions_unpartitioned_pkey;
ALTER INDEX kaireon.interactions_customer RENAME TO interactions_unpartitioned_customer;
ALTER INDEX kaireon.interactions_experiment RENAME TO interactions_unpartitioned_experiment;
ALTER INDEX kaireon.interactions_impressions RENAME TO interactions_unpartitioned_impressions;
ALTER INDEX kaireon.interactions_tenant_id_idempotency_key_key RENAME TO interactions_unpartitioned_key;
CREATE TABLE kaireon.interactions (
    tenant_id       text NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    idempotency_key text NOT NULL,
    decision_id     uuid,
    customer_id     text NOT NULL,
    offer_id        text NOT NULL,
    category_id     text,
    creative_id     text,
    channel         text,
    placement       text,
    outcome         text NOT NULL,
    kind            text NOT NULL,
    value           numeric,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    experiment_id   text,
    variant         text,
    CONSTRAINT interactions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES kaireon.tenants ON DELETE CASCADE,
    CONSTRAINT interactions_kind_check CHECK (kind IN ('impression', 'positive', 'negative', 'neutral'))
) PARTITION BY RANGE (recorded_at);
COMMENT ON TABLE kaireon.interactions IS
    'Outcomes recorded by kaireon_respond (impressions, clicks, conversions, ...); partitioned by recorded_at.';
CREATE TABLE kaireon.interactions_default PARTITION OF kaireon.interactions DEFAULT;
SELECT kaireon._secure_partition('kaireon.interactions', 'kaireon.interactions_default', false);
INSERT INTO kaireon.interactions
SELECT tenant_id, id, idempotency_key, decision_id, customer_id, offer_id, category_id, creative_id, channel, placement,
       outcome, kind, value, occurred_at, recorded_at, experiment_id, variant
FROM kaireon.interactions_unpartitioned;

CREATE TABLE kaireon.interaction_keys (
    tenant_id       text NOT NULL,
    idempotency_key text NOT NULL,
    interaction_id  uuid NOT NULL,
    recorded_at     timestamptz NOT NULL,
    customer_id     text NOT NULL,
    offer_id        text NOT NULL,
    outcome         text NOT NULL,
    value           numeric,
    decision_id     uuid,
    PRIMARY KEY (tenant_id, idempotency_key)
);
COMMENT ON TABLE kaireon.interaction_keys IS
    'The idempotency key of every interaction kaireon_respond recorded (unique across the time partitions).';
INSERT INTO kaireon.interaction_keys
SELECT tenant_id, idempotency_key, id, recorded_at, customer_id, offer_id, outcome, value, decision_id
FROM kaireon.interactions_unpartitioned;
ALTER TABLE kaireon.interaction_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.interaction_keys USING (tenant_id = kaireon.visible_tenant());
SELECT pg_catalog.pg_extension_config_dump('kaireon.interaction_keys', '');

-- What the old tables carried, on the new ones. The default partitions are
-- dumped (a partitioned table has no rows of its own); partitions that
-- pg_partman cuts later are not members of the extension, so pg_dump dumps
-- them whole.
DELETE FROM kaireon.tenant_tables
WHERE table_name IN ('kaireon.usage_events_unpartitioned'::regclass, 'kaireon.decisions_unpartitioned'::regclass,
                     'kaireon.decision_traces_unpartitioned'::regclass, 'kaireon.interactions_unpartitioned'::regclass);
DROP TABLE kaireon.usage_events_unpartitioned, kaireon.decisions_unpartitioned, kaireon.decision_traces_unpartitioned,
    kaireon.interactions_unpartitioned;
ALTER TABLE kaireon.decisions RENAME CONSTRAINT decisions_tenant_id_fkey1 TO decisions_tenant_id_fkey;
ALTER TABLE kaireon.decision_traces RENAME CONSTRAINT decision_traces_tenant_id_fkey1 TO decision_traces_tenant_id_fkey;
INSERT INTO kaireon.tenant_tables VALUES
    ('kaireon.usage_events', 'delete', 60),
    ('kaireon.decisions', 'delete', 5),
    ('kaireon.decision_traces', 'delete', 5),
    ('kaireon.interactions', 'delete', 5),
    ('kaireon.interaction_keys', 'delete', 5);
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['usage_events', 'decisions', 'decision_traces', 'interactions'] LOOP
        EXECUTE format('ALTER TABLE kaireon.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON kaireon.%I USING (tenant_id = kaireon.visible_tenant())', t);
        PERFORM pg_catalog.pg_extension_config_dump(format('kaireon.%I', t || '_default'), '');
        EXECUTE format('GRANT SELECT ON kaireon.%I TO kaireon_admin, kaireon_app, kaireon_reader', t);
    END LOOP;
END
$$;
SELECT pg_catalog.pg_extension_config_dump('kaireon.usage_events_id_seq', '');
GRANT INSERT (tenant_id, feature, value, occurred_at, idempotency_key, properties) ON kaireon.usage_events
    TO kaireon_admin, kaireon_app;

CREATE TRIGGER aggregate AFTER INSERT ON kaireon.usage_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION kaireon._usage_events_inserted();
-- Append-only on the parent reaches every partition (row triggers are
-- cloned onto each partition, also those made later); TRUNCATE names a
-- partition directly, so each partition carries its own TRUNCATE trigger
-- (_secure_partition).
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON kaireon.usage_events
    FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON kaireon.usage_events
    FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change();
ALTER TABLE kaireon.usage_events ENABLE ALWAYS TRIGGER append_only;
ALTER TABLE kaireon.usage_events ENABLE ALWAYS TRIGGER append_only_truncate;

-- ---------------------------------------------------------------------------
-- Time partitions with pg_partman (optional).

-- The tables kaireon can cut by time: the partition key, and whether the
-- table is append-only (its partitions then refuse TRUNCATE too).
-- occurred names the client's time of a row, which current periods and
-- windows may count by: a partition that ended before the floor by its
-- recording time may still hold a row that happened later (a client's clock
-- ahead), and is kept then.
CREATE FUNCTION kaireon._partitionable_tables(OUT table_name regclass, OUT control text, OUT append_only boolean,
                                              OUT occurred text)
RETURNS SETOF record LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    VALUES ('kaireon.usage_events'::regclass, 'recorded_at', true, 'occurred_at'),
           ('kaireon.decisions'::regclass, 'decided_at', false, NULL),
           ('kaireon.decision_traces'::regclass, 'traced_at', false, NULL),
           ('kaireon.interactions'::regclass, 'recorded_at', false, 'occurred_at')
$$;

-- The tables enable_time_partitioning handed to pg_partman, and how long
-- their rows are kept (NULL: for ever). Dumped, with pg_partman's own
-- configuration (partman.part_config), which pg_dump dumps as its
-- extension's configuration.
CREATE TABLE kaireon.time_partitioning (
    table_name         regclass PRIMARY KEY,
    partition_interval interval NOT NULL CHECK (partition_interval >= interval '1 hour'),
    retention          interval CHECK (retention > interval '0'),
    enabled_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kaireon.time_partitioning IS
    'Append tables cut into time partitions by pg_partman (enable_time_partitioning), with their retention.';
SELECT pg_catalog.pg_extension_config_dump('kaireon.time_partitioning', '');
GRANT SELECT ON kaireon.time_partitioning TO kaireon_admin;

-- _partman_schema is the schema of pg_partman, refused when it is missing.
CREATE FUNCTION kaireon._partman_schema() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found text;
BEGIN
    SELECT n.nspname INTO found FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
    WHERE x.extname = 'pg_partman';
    IF found IS NULL THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'pg_partman is not installed in this database',
                               '{"requires": "pg_partman"}',
                               'apt-get install postgresql-15-partman, then CREATE SCHEMA partman; '
                               || 'CREATE EXTENSION pg_partman SCHEMA partman;');
    END IF;
    RETURN found;
END
$$;

-- _partition_bounds lists a table's time partitions (the default aside)
-- with their ranges, oldest first.
CREATE FUNCTION kaireon._partition_bounds(parent regclass, OUT partition regclass, OUT range_from timestamptz,
                                          OUT range_to timestamptz)
RETURNS SETOF record LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(''([^'']+)''\)')::timestamptz,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    ORDER BY 2
$$;

-- _secure_partitions runs _secure_partition on every time partition of a
-- table that lacks something (pg_partman cuts them bare; this runs after
-- it). The default partition is kaireon's own, made whole by the
-- extension's script. Returns how many partitions it secured.
CREATE FUNCTION kaireon._secure_partitions(parent regclass, append_only boolean) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    part regclass;
    secured integer := 0;
BEGIN
    FOR part IN
        SELECT i.inhrelid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
          AND (NOT c.relrowsecurity
               OR NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisprimary)
               OR (append_only AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                                               WHERE t.tgrelid = c.oid AND t.tgname = 'append_only_truncate')))
    LOOP
        PERFORM kaireon._secure_partition(parent, part, append_only);
        secured := secured + 1;
    END LOOP;
    RETURN secured;
END
$$;

-- enable_time_partitioning hands the append tables to pg_partman: time
-- partitions of partition_interval, premake of them ahead, and the rows
-- kept for retention (NULL: for ever; partition_maintenance never drops
-- what current quotas and usage periods still count). The rows already in
-- the default partition move into their time partitions. Called again, it
-- changes the retention only. Takes each table's ACCESS EXCLUSIVE lock: run
-- it in a quiet moment. Partitions are cut at UTC boundaries (the
-- functions run pg_partman with TimeZone UTC).
CREATE FUNCTION kaireon._enable_time_partitioning(partition_interval interval, premake integer, retention interval)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    partman text := kaireon._partman_schema();
    t record;
    parent text;
    default_name text;
    oldest timestamptz;
    moved bigint;
    result jsonb := '{}';
BEGIN
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
    FOR t IN SELECT * FROM kaireon._partitionable_tables() LOOP
        parent := t.table_name::text;
        IF EXISTS (SELECT 1 FROM kaireon.time_partitioning p WHERE p.table_name = t.table_name) THEN
            UPDATE kaireon.time_partitioning p SET retention = _enable_time_partitioning.retention
            WHERE p.table_name = t.table_name;
            result := result || jsonb_build_object(parent, jsonb_build_object('enabled', false, 'moved', 0));
            CONTINUE;
        END IF;
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', parent);
        -- pg_partman makes a default partition of its own under this name:
        -- ours steps aside with the rows, which then move into the time
        -- partitions, and takes the default's place again.
        default_name := (parse_ident(parent))[2] || '_default';
        EXECUTE format('ALTER TABLE %s DETACH PARTITION kaireon.%I', parent, default_name);
        EXECUTE format('ALTER TABLE kaireon.%I RENAME TO %I', default_name, default_name || '_moving');
        EXECUTE format('SELECT min(%I) FROM kaireon.%I', t.control, default_name || '_moving') INTO oldest;
        EXECUTE format('SELECT %I.create_parent(p_parent_table := $1, p_control := $2, p_type := ''native'', '
                       'p_interval := $3, p_premake := $4, p_start_partition := $5, p_jobmon := false)', partman)
            USING parent, t.control, partition_interval::text, premake,
                  least(coalesce(oldest, kaireon.clock()), kaireon.clock())::text;
        -- kaireon runs the maintenance (partition_maintenance), which secures
        -- the partitions pg_partman cuts; pg_partman's own run of every set
        -- leaves these alone.
        EXECUTE format('UPDATE %I.part_config SET infinite_time_partitions = true, retention = NULL, '
                       'automatic_maintenance = ''off'' WHERE parent_table = $1', partman) USING parent;
        PERFORM kaireon._secure_partitions(t.table_name, t.append_only);
        -- The move is a maintenance load: the rows were checked and counted
        -- when they came (no rollup trigger, no foreign-key check again).
        SET LOCAL session_replication_role = replica;
        EXECUTE format('INSERT INTO %s %s SELECT * FROM kaireon.%I', parent,
                       CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
                                         WHERE a.attrelid = t.table_name AND a.attidentity <> '')
                            THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END, default_name || '_moving');
        GET DIAGNOSTICS moved = ROW_COUNT;
        IF t.append_only THEN
            EXECUTE format('DROP TRIGGER append_only_truncate ON kaireon.%I', default_name || '_moving');
        END IF;
        EXECUTE format('TRUNCATE kaireon.%I', default_name || '_moving');
        -- Rows past the premade partitions went to pg_partman's default.
        EXECUTE format('ALTER TABLE %s DETACH PARTITION kaireon.%I', parent, default_name);
        EXECUTE format('INSERT INTO kaireon.%I SELECT * FROM kaireon.%I', default_name || '_moving', default_name);
        EXECUTE format('DROP TABLE kaireon.%I', default_name);
        EXECUTE format('ALTER TABLE kaireon.%I RENAME TO %I', default_name || '_moving', default_name);
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION kaireon.%I DEFAULT', parent, default_name);
        PERFORM kaireon._secure_partition(t.table_name, format('kaireon.%I', default_name)::regclass, t.append_only);
        RESET session_replication_role;
        PERFORM kaireon._secure_partitions(t.table_name, t.append_only);
        INSERT INTO kaireon.time_partitioning (table_name, partition_interval, retention)
        VALUES (t.table_name, _enable_time_partitioning.partition_interval, _enable_time_partitioning.retention);
        result := result || jsonb_build_object(parent, jsonb_build_object(
            'enabled', true, 'moved', moved,
            'partitions', (SELECT count(*) FROM kaireon._partition_bounds(t.table_name))));
    END LOOP;
    PERFORM kaireon._audit('', 'partitioning.enabled', NULL,
                           jsonb_build_object('interval', partition_interval::text, 'premake', premake,
                                              'retention', retention::text, 'tables', result));
    RETURN result;
END
$$;
-- The functions administrators call keep the caller's search_path: pg_partman
-- sets search_path for the session (set_config(..., false)), which outlives
-- a function's SET clause, so the work runs in _enable_time_partitioning and
-- _partition_maintenance (SECURITY DEFINER, pinned path) and these give the
-- caller's path back.
CREATE FUNCTION kaireon.enable_time_partitioning(partition_interval interval DEFAULT interval '1 month',
                                                 premake integer DEFAULT 4, retention interval DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    result jsonb;
BEGIN
    result := kaireon._enable_time_partitioning(partition_interval, premake, retention);
    PERFORM pg_catalog.set_config('search_path', caller_path, false);
    RETURN result;
END
$$;
COMMENT ON FUNCTION kaireon.enable_time_partitioning(interval, integer, interval) IS
    'Cuts usage_events, decisions, decision_traces and interactions into time partitions with pg_partman; again: sets the retention.';

CREATE FUNCTION kaireon._interactions_floor() RETURNS timestamptz
AS 'MODULE_PATHNAME', 'kaireon_interactions_floor' LANGUAGE C STABLE SET search_path = pg_catalog, pg_temp;

-- _retention_floor is the oldest instant of a table that something current
-- still counts: partition_maintenance never drops a partition that ends
-- after it.
--   decisions: the current decision-quota period (the UTC month; the
--     closed periods are recorded by rollover_periods first);
--   decision_traces: today (UTC), the trace allowance's day;
--   interactions: the oldest instant any tenant's catalog counts (its
--     contact policies' and metrics' windows, a day early for time zones;
--     its caps' and budgets' current periods); -infinity when one counts
--     every interaction (a maxTotal, a "total" budget, an active
--     experiment): _interactions_floor, src/core/contact_policies.cpp;
--   usage_events: the oldest current period start of the features with
--     usage (rollups), less an hour for clock skew; -infinity when one of
--     them is counted over its whole life (period "never").
CREATE FUNCTION kaireon._retention_floor(table_name regclass) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    now_utc timestamp := kaireon.clock() AT TIME ZONE 'UTC';
    floor_at timestamptz;
BEGIN
    CASE table_name
        WHEN 'kaireon.decisions'::regclass THEN
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
    END CASE;
    RETURN '-infinity';
END
$$;

-- partition_maintenance is the job (pg_cron, schedule_jobs): for each table
-- handed to pg_partman, its maintenance (the partitions ahead), the
-- partitions' security, then retention: the partitions that end before
-- both now - retention and the table's floor are dropped. Returns
-- {"<table>": {"partitions", "secured", "dropped": [...], "keptFrom"}}.
CREATE FUNCTION kaireon._partition_maintenance() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    partman text;
    t record;
    part record;
    keep_from timestamptz;
    latest timestamptz;
    dropped jsonb;
    secured integer;
    result jsonb := '{}';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kaireon.time_partitioning) THEN
        RETURN result;
    END IF;
    partman := kaireon._partman_schema();
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
        FOR part IN SELECT * FROM kaireon._partition_bounds(t.table_name) b WHERE b.range_to <= keep_from LOOP
            IF t.occurred IS NOT NULL THEN
                EXECUTE format('SELECT max(%I) FROM %s', t.occurred, part.partition) INTO latest;
                CONTINUE WHEN latest >= keep_from;
            END IF;
            dropped := dropped || to_jsonb(part.partition::text);
            EXECUTE format('DROP TABLE %s', part.partition);
        END LOOP;
        IF jsonb_array_length(dropped) > 0 THEN
            PERFORM kaireon._audit('', 'partitions.dropped', t.table_name::text,
                                   jsonb_build_object('partitions', dropped, 'keptFrom', keep_from));
        END IF;
        result := result || jsonb_build_object(t.table_name::text, jsonb_build_object(
            'partitions', (SELECT count(*) FROM kaireon._partition_bounds(t.table_name)),
            'secured', secured, 'dropped', dropped,
            'keptFrom', CASE WHEN keep_from = '-infinity' THEN NULL ELSE kaireon._iso_utc(keep_from) END));
    END LOOP;
    RETURN result;
END
$$;
CREATE FUNCTION kaireon.partition_maintenance() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    result jsonb;
BEGIN
    result := kaireon._partition_maintenance();
    PERFORM pg_catalog.set_config('search_path', caller_path, false);
    RETURN result;
END
$$;
COMMENT ON FUNCTION kaireon.partition_maintenance() IS
    'The time partitions'' job: pg_partman maintenance, partition security, retention that keeps what current quotas and usage periods count.';

-- rebuild_usage_rollups recomputes every numeric feature's rollups from the
-- usage events kept. After a pg_restore of time partitions dumped without
-- --load-via-partition-root (their rows were loaded before their rollup
-- triggers existed), or whenever the rollups are in doubt. Returns
-- {"<feature>": rollup rows}.
CREATE FUNCTION kaireon.rebuild_usage_rollups() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f record;
    result jsonb := '{}';
BEGIN
    FOR f IN SELECT key, coalesce(options ->> 'period', 'never') AS period FROM kaireon.features
             WHERE type = 'numeric' ORDER BY key LOOP
        result := result || jsonb_build_object(f.key, kaireon._rebuild_usage_rollups(f.key, f.period));
    END LOOP;
    PERFORM kaireon._audit('', 'usage.rollups_rebuilt', NULL, result);
    RETURN result;
END
$$;
COMMENT ON FUNCTION kaireon.rebuild_usage_rollups() IS
    'Recomputes every numeric feature''s usage rollups from the usage events kept (after a restore of time partitions).';

GRANT EXECUTE ON FUNCTION kaireon.enable_time_partitioning(interval, integer, interval),
    kaireon._enable_time_partitioning(interval, integer, interval), kaireon.partition_maintenance(),
    kaireon._partition_maintenance(), kaireon.rebuild_usage_rollups() TO kaireon_admin;

-- The jobs gain partition_maintenance, hourly (it does nothing until
-- enable_time_partitioning has run).
CREATE OR REPLACE FUNCTION kaireon._cron_jobs(OUT job_name text, OUT schedule text, OUT command text, OUT database text,
                                   OUT statement text, OUT cron_database text, OUT here boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    loaded boolean := current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_cron(\.so)?($|[\s,"])';
BEGIN
    IF NOT loaded THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'pg_cron is not loaded: kaireon.schedule_jobs() needs it',
                               '{"requires": "pg_cron"}',
                               'Add pg_cron to shared_preload_libraries, restart, and run CREATE EXTENSION pg_cron in '
                               || 'the database cron.database_name names; or have another scheduler call '
                               || 'kaireon.tick() and kaireon.seal_audit() every minute.');
    END IF;
    cron_database := coalesce(current_setting('cron.database_name', true), 'postgres');
    here := cron_database = current_database() AND EXISTS (SELECT 1 FROM pg_extension x WHERE x.extname = 'pg_cron');
    IF cron_database = current_database() AND NOT here THEN
        PERFORM kaireon._raise('BAD_REQUEST',
                               format('pg_cron is loaded for database "%s" but its extension is not created there',
                                      cron_database),
                               jsonb_build_object('requires', 'pg_cron', 'database', cron_database),
                               'Run CREATE EXTENSION pg_cron in this database, then kaireon.schedule_jobs() again.');
    END IF;
    database := current_database();
    FOR job_name, schedule, command IN
        SELECT 'kaireon-' || current_database() || '-' || j.name, j.schedule, j.command
        FROM (VALUES (1, 'tick', '* * * * *', 'SELECT kaireon.tick()'),
                     (2, 'seal-audit', '* * * * *', 'SELECT kaireon.seal_audit()'),
                     (3, 'purge-idempotency-keys', '17 3 * * *', 'SELECT kaireon.purge_idempotency_keys()'),
                     (4, 'partition-maintenance', '41 * * * *', 'SELECT kaireon.partition_maintenance()'))
             AS j (n, name, schedule, command)
        ORDER BY j.n
    LOOP
        statement := format('SELECT cron.schedule_in_database(%L, %L, %L, %L);', job_name, schedule, command, database);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION kaireon.schedule_jobs() IS
    'Installs the periodic jobs (tick, seal_audit, purge_idempotency_keys, partition_maintenance) with pg_cron''s cron.schedule_in_database, or returns the statements to run in pg_cron''s database.';

SELECT kaireon._revoke_public();

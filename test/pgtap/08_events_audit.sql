-- 08_events_audit.sql - the shape and the privileges of events and audit
-- (SPEC section 4): event_types, event_consumers, the outbox's sequencing
-- columns, webhook_endpoints, audit_log, audit_seals and the sealer's state;
-- row-level security on every tenant table; who may call and read what
-- (nothing to PUBLIC, the webhook secret readable by the owner only,
-- audit_seals administrators only, event_sequencer nobody); SECURITY
-- DEFINER functions pinning search_path; the append-only triggers, ENABLE
-- ALWAYS (also for the owner, also in replica mode); the audit triggers on
-- the audited tables.
--
-- The answers (consumers, webhooks, the trail, sealing, tampering) are in
-- sql/events.sql, sql/audit.sql and the isolation specs; this file is about
-- the schema and access.
BEGIN;
SELECT plan(129);

CREATE ROLE kr08_app NOLOGIN IN ROLE kaireon_app;
CREATE ROLE kr08_reader1 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr08_reader2 NOLOGIN IN ROLE kaireon_reader;
CREATE ROLE kr08_admin NOLOGIN IN ROLE kaireon_admin;

CREATE SCHEMA kr08;
GRANT USAGE ON SCHEMA kr08 TO PUBLIC;

-- columns_of: "name type [NOT NULL]" for every column of rel, in order.
CREATE FUNCTION kr08.columns_of(rel regclass) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                              || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END ORDER BY a.attnum), '{}')
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
$$;

-- The tables of this issue, the tenant-scoped ones, and its functions.
CREATE TABLE kr08.tables (rel regclass PRIMARY KEY, tenant_scoped boolean NOT NULL);
INSERT INTO kr08.tables VALUES
    ('kaireon.event_types', false), ('kaireon.event_sequencer', false),
    ('kaireon.event_consumers', true), ('kaireon.webhook_endpoints', true),
    ('kaireon.audit_log', true), ('kaireon.audit_seals', true), ('kaireon.audit_anchors', true),
    ('kaireon.audit_chain_state', true), ('kaireon.audit_refusal_marks', true);
CREATE TABLE kr08.functions (fn regprocedure PRIMARY KEY, definer boolean NOT NULL, granted_to text[] NOT NULL);
INSERT INTO kr08.functions VALUES
    ('kaireon.create_event_consumer(text, text[], boolean, boolean)', true, '{kaireon_admin,kaireon_reader}'),
    ('kaireon.fetch_events(text, int)', true, '{kaireon_admin,kaireon_reader}'),
    ('kaireon.ack_events(text, bigint)', true, '{kaireon_admin,kaireon_reader}'),
    ('kaireon.drop_event_consumer(text)', true, '{kaireon_admin,kaireon_reader}'),
    ('kaireon.add_webhook_endpoint(text, text[])', true, '{kaireon_admin}'),
    ('kaireon.rotate_webhook_secret(bigint)', true, '{kaireon_admin}'),
    ('kaireon.remove_webhook_endpoint(bigint)', true, '{kaireon_admin}'),
    ('kaireon.seal_audit(int)', true, '{kaireon_admin}'),
    ('kaireon.verify_audit(text)', true, '{kaireon_admin,kaireon_reader}'),
    ('kaireon.audit_trail(timestamptz, timestamptz, text, text, int, text)', true, '{kaireon_admin,kaireon_reader}'),
    ('kaireon._builtin_event_types()', false, '{}'),
    ('kaireon._sequence_events()', false, '{}'),
    ('kaireon._event_consumer(text, boolean)', false, '{}'),
    ('kaireon._caller_is_admin()', false, '{}'),
    ('kaireon._selected_tenant()', false, '{}'),
    ('kaireon._last_event_seq()', false, '{}'),
    ('kaireon._check_webhook(text, text[])', false, '{}'),
    ('kaireon._new_webhook_secret()', false, '{}'),
    ('kaireon._webhook_json(kaireon.webhook_endpoints)', false, '{}'),
    ('kaireon._audit(text, text, text, jsonb)', false, '{}'),
    ('kaireon._audit_row_change()', true, '{}');  -- definer since 0.7: catalog tables are written with plain SQL

DO $$
BEGIN
    PERFORM kaireon.create_tenant('kr08-t1', 'Tenant one', 'one@example.com');
    PERFORM kaireon.create_tenant('kr08-t2', 'Tenant two', 'two@example.com');
    PERFORM kaireon.grant_tenant('kr08_app', 'kr08-t1');
    PERFORM kaireon.grant_tenant('kr08_reader1', 'kr08-t1');
    PERFORM kaireon.grant_tenant('kr08_reader2', 'kr08-t2');
    PERFORM set_config('kaireon.tenant', 'kr08-t1', true);
    PERFORM kaireon.create_event_consumer('kr08-c');
    PERFORM kaireon.add_webhook_endpoint('https://hooks.example.com/kr08-t1');
    PERFORM set_config('kaireon.tenant', 'kr08-t2', true);
    PERFORM kaireon.create_event_consumer('kr08-c');
    PERFORM kaireon.add_webhook_endpoint('https://hooks.example.com/kr08-t2');
    PERFORM set_config('kaireon.tenant', '', true);
    PERFORM kaireon.create_event_consumer('kr08-all', all_tenants => true);
END
$$;

-- Schema ----------------------------------------------------------------------

SELECT has_table('kaireon', t, 'kaireon.' || t || ' exists')
FROM unnest(ARRAY['event_types', 'event_sequencer', 'event_consumers', 'webhook_endpoints', 'audit_log', 'audit_seals',
                  'audit_anchors', 'audit_chain_state', 'audit_refusal_marks']) t;
SELECT has_view('kaireon', 'entitlement_evaluations', 'kaireon.entitlement_evaluations is a view now');

SELECT is(kr08.columns_of('kaireon.event_types'),
          ARRAY['type text NOT NULL', 'category text NOT NULL', 'description text NOT NULL', 'payload_schema jsonb NOT NULL'],
          'event_types has its columns');
SELECT is(kr08.columns_of('kaireon.event_sequencer'), '{}', 'event_sequencer has no columns (a lock target)');
SELECT is(kr08.columns_of('kaireon.event_consumers'),
          ARRAY['tenant_id text NOT NULL', 'name text NOT NULL', 'event_types text[]', 'position bigint NOT NULL',
                'created_at timestamp with time zone NOT NULL', 'acked_at timestamp with time zone'],
          'event_consumers has its columns');
SELECT is(kr08.columns_of('kaireon.webhook_endpoints'),
          ARRAY['tenant_id text NOT NULL', 'id bigint NOT NULL', 'url text NOT NULL', 'secret text NOT NULL',
                'secret_hint text NOT NULL', 'event_types text[]', 'active boolean NOT NULL',
                'created_at timestamp with time zone NOT NULL', 'start_seq bigint NOT NULL'],
          'webhook_endpoints has its columns');
SELECT is(kr08.columns_of('kaireon.audit_log'),
          ARRAY['tenant_id text NOT NULL', 'id bigint NOT NULL', 'recorded_at timestamp with time zone NOT NULL',
                'txid xid8 NOT NULL', 'actor text NOT NULL', 'action text NOT NULL', 'target text',
                'details jsonb NOT NULL'],
          'audit_log has its columns');
SELECT is(kr08.columns_of('kaireon.audit_seals'),
          ARRAY['tenant_id text NOT NULL', 'position bigint NOT NULL', 'audit_id bigint NOT NULL',
                'prev_hash bytea NOT NULL', 'hash bytea NOT NULL', 'sealed_at timestamp with time zone NOT NULL',
                'recorded_at timestamp with time zone NOT NULL'],
          'audit_seals has its columns (recorded_at: its record''s, the partition key)');
SELECT is(kr08.columns_of('kaireon.audit_anchors'),
          ARRAY['tenant_id text NOT NULL', 'position bigint NOT NULL', 'audit_id bigint NOT NULL', 'hash bytea NOT NULL',
                'pruned_through timestamp with time zone NOT NULL', 'anchored_at timestamp with time zone NOT NULL'],
          'audit_anchors has its columns');
SELECT is(ARRAY(SELECT format('%s %s', c.oid::regclass, pg_catalog.pg_get_partkeydef(c.oid)) FROM pg_catalog.pg_class c
                WHERE c.oid IN ('kaireon.audit_log'::regclass, 'kaireon.audit_seals'::regclass) ORDER BY 1),
          ARRAY['kaireon.audit_log RANGE (recorded_at)', 'kaireon.audit_seals RANGE (recorded_at)'],
          'audit_log and audit_seals are partitioned by the record''s recorded_at');
SELECT is(kr08.columns_of('kaireon.audit_chain_state'),
          ARRAY['tenant_id text NOT NULL', 'scan_from xid8 NOT NULL', 'sealed_at timestamp with time zone NOT NULL'],
          'audit_chain_state has its columns');
SELECT is(kr08.columns_of('kaireon.audit_refusal_marks'),
          ARRAY['tenant_id text NOT NULL', 'kind text NOT NULL', 'counted bigint NOT NULL',
                'server_start timestamp with time zone NOT NULL'],
          'audit_refusal_marks has its columns');
SELECT is(kr08.columns_of('kaireon.events'),
          ARRAY['tenant_id text NOT NULL', 'id bigint NOT NULL', 'type text NOT NULL', 'payload jsonb NOT NULL',
                'created_at timestamp with time zone NOT NULL', 'dedupe_key text', 'delivery_state text NOT NULL',
                'txid xid8 NOT NULL', 'seq bigint'],
          'events has the sequencing columns txid and seq');
SELECT is(kr08.columns_of('kaireon.entitlement_evaluations'),
          ARRAY['tenant_id text', 'id bigint', 'evaluated_at timestamp with time zone', 'role_name name', 'api text',
                'feature text', 'requested numeric', 'status text', 'result jsonb'],
          'entitlement_evaluations keeps its columns');

SELECT col_is_pk('kaireon', 'event_types', 'type', 'event_types is keyed by type');
SELECT col_is_pk('kaireon', 'event_consumers', ARRAY['tenant_id', 'name'], 'event_consumers is keyed by (tenant_id, name)');
SELECT col_is_pk('kaireon', 'webhook_endpoints', ARRAY['tenant_id', 'id'], 'webhook_endpoints is keyed by (tenant_id, id)');
-- Keys live on the partitions (sql/partitioning.sql: a restored partition
-- keeps just its dumped indexes).
SELECT col_is_pk('kaireon', 'audit_log_default', ARRAY['tenant_id', 'id'], 'audit_log''s partitions are keyed by (tenant_id, id)');
SELECT col_is_pk('kaireon', 'audit_seals_default', ARRAY['tenant_id', 'position'],
                 'audit_seals''s partitions are keyed by (tenant_id, position)');
SELECT is(pg_catalog.pg_get_indexdef('kaireon.audit_seals_default_audit_id'::regclass),
          'CREATE UNIQUE INDEX audit_seals_default_audit_id ON kaireon.audit_seals_default USING btree (tenant_id, audit_id)',
          'a record is sealed at most once in a partition');
SELECT col_is_pk('kaireon', 'audit_anchors', ARRAY['tenant_id', 'position'], 'audit_anchors is keyed by (tenant_id, position)');
SELECT col_is_pk('kaireon', 'audit_chain_state', 'tenant_id', 'audit_chain_state is keyed by tenant_id');
SELECT col_is_pk('kaireon', 'audit_refusal_marks', ARRAY['tenant_id', 'kind'], 'audit_refusal_marks is keyed by (tenant_id, kind)');
SELECT is(ARRAY(SELECT format('%s.%s', a.attrelid::regclass, a.attname) FROM pg_catalog.pg_attribute a
                WHERE a.attrelid IN ('kaireon.audit_log'::regclass, 'kaireon.webhook_endpoints'::regclass)
                  AND a.attidentity = 'a' ORDER BY 1),
          ARRAY['kaireon.audit_log.id', 'kaireon.webhook_endpoints.id'],
          'audit_log.id and webhook_endpoints.id are GENERATED ALWAYS AS IDENTITY');
SELECT is(ARRAY(SELECT a.attname || ' = ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid)
                FROM pg_catalog.pg_attrdef d
                JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                WHERE d.adrelid = 'kaireon.audit_log'::regclass AND a.attidentity = '' ORDER BY a.attnum),
          ARRAY['recorded_at = kaireon.clock()', 'txid = pg_current_xact_id()', 'details = ''{}''::jsonb'],
          'audit_log defaults: recorded_at the clock, txid the writing transaction, details {}');
SELECT is((SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d
           JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
           WHERE d.adrelid = 'kaireon.events'::regclass AND a.attname = 'txid'),
          'pg_current_xact_id()', 'events.txid defaults to the emitting transaction');
SELECT is((SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i
           WHERE i.indexrelid = 'kaireon.events_seq'::regclass),
          'CREATE UNIQUE INDEX events_seq ON kaireon.events USING btree (seq)', 'an event''s seq is unique');
SELECT fk_ok('kaireon', 'events', 'type', 'kaireon', 'event_types', 'type');
SELECT fk_ok('kaireon', 'webhook_endpoints', 'tenant_id', 'kaireon', 'tenants', 'tenant_id');
SELECT is((SELECT count(*)::int FROM kaireon.event_types), 27, 'event_types holds the 27 built-in types');
SELECT is((SELECT count(*)::int FROM kaireon.event_sequencer), 0, 'event_sequencer holds no rows');
SELECT ok((SELECT c.reloptions FROM pg_catalog.pg_class c WHERE c.oid = 'kaireon.entitlement_evaluations'::regclass)
              @> ARRAY['security_invoker=true'],
          'entitlement_evaluations is security_invoker (it reads audit_log under the caller''s RLS)');

-- What pg_dump writes: the consumers, endpoints, trail and seals are data;
-- the catalog of types (made by CREATE EXTENSION) and the sealer's scan
-- state (derived) are not.
SELECT is(ARRAY(SELECT c::regclass::text FROM pg_catalog.pg_extension e, unnest(e.extconfig) c
                WHERE e.extname = 'kaireon'
                  AND c::regclass::text ~ '^kaireon\.(event_|webhook_endpoints|audit_)' ORDER BY 1),
          ARRAY['kaireon.audit_anchors', 'kaireon.audit_log_default', 'kaireon.audit_log_id_seq',
                'kaireon.audit_refusal_marks', 'kaireon.audit_seals_default',
                'kaireon.event_consumers', 'kaireon.event_seq_counter', 'kaireon.webhook_endpoints',
                'kaireon.webhook_endpoints_id_seq'],
          'pg_dump dumps consumers, the seq counter, endpoints, the trail (its default partitions; time partitions are dumped whole), its seals, anchors and refusal marks; not event_types or audit_chain_state');

-- Row-level security on every tenant table ------------------------------------

SELECT is(ARRAY(SELECT t.rel::text FROM kr08.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel
                WHERE t.tenant_scoped AND NOT c.relrowsecurity ORDER BY 1),
          ARRAY[]::text[], 'row-level security is enabled on every tenant table of events and audit');
SELECT policies_are('kaireon', c.relname, ARRAY['tenant_isolation'], t.rel || ' has the tenant_isolation policy')
FROM kr08.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel WHERE t.tenant_scoped ORDER BY t.rel::text;
SELECT is(ARRAY(SELECT format('%s %s', p.polrelid::regclass, pg_catalog.pg_get_expr(p.polqual, p.polrelid))
                FROM pg_catalog.pg_policy p JOIN kr08.tables t ON t.rel = p.polrelid ORDER BY 1),
          ARRAY(SELECT format('%s (tenant_id = kaireon.visible_tenant())', t.rel) FROM kr08.tables t
                WHERE t.tenant_scoped ORDER BY 1),
          'each policy lets a row through only for the visible (member) tenant');
SELECT is(ARRAY(SELECT format('%s %s', tt.table_name, tt.on_drop) FROM kaireon.tenant_tables tt
                JOIN kr08.tables t ON t.rel = tt.table_name ORDER BY 1),
          ARRAY['kaireon.audit_anchors keep', 'kaireon.audit_chain_state keep', 'kaireon.audit_log keep', 'kaireon.audit_refusal_marks keep',
                'kaireon.audit_seals keep', 'kaireon.event_consumers delete', 'kaireon.webhook_endpoints delete'],
          'drop_tenant deletes consumers and endpoints and keeps the audit trail');
SELECT ok((SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = 'kaireon.events'::regclass),
          'row-level security is still enabled on events');

-- Privileges in the catalogs -----------------------------------------------------

SELECT is(ARRAY(SELECT format('%s: %s', t.rel, a.privilege_type)
                FROM kr08.tables t JOIN pg_catalog.pg_class c ON c.oid = t.rel,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'no table of events and audit grants anything to PUBLIC');
SELECT is(ARRAY(SELECT format('%s.%s: %s', t.rel, att.attname, a.privilege_type)
                FROM kr08.tables t
                JOIN pg_catalog.pg_attribute att ON att.attrelid = t.rel AND att.attacl IS NOT NULL,
                     LATERAL pg_catalog.aclexplode(att.attacl) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'no column of events and audit grants anything to PUBLIC');
SELECT is(ARRAY(SELECT format('%s: %s', f.fn, a.privilege_type)
                FROM kr08.functions f JOIN pg_catalog.pg_proc p ON p.oid = f.fn,
                     LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 ORDER BY 1),
          ARRAY[]::text[], 'no function of events and audit is executable by PUBLIC');
SELECT is(ARRAY(SELECT format('%s: %s', s, a.privilege_type)
                FROM unnest(ARRAY['kaireon.audit_log_id_seq', 'kaireon.webhook_endpoints_id_seq']::regclass[]) s
                JOIN pg_catalog.pg_class c ON c.oid = s,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('s', c.relowner))) a
                WHERE a.grantee <> c.relowner ORDER BY 1),
          ARRAY[]::text[], 'the identity sequences of audit_log and webhook_endpoints are the owner''s only');

-- Who may execute what.
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r
                WHERE has_function_privilege(r, f.fn, 'EXECUTE') ORDER BY 1),
          f.granted_to,
          f.fn || ': EXECUTE for ' || CASE WHEN f.granted_to = '{}' THEN 'no kaireon role' ELSE array_to_string(f.granted_to, ', ') END)
FROM kr08.functions f ORDER BY f.fn::text;

-- SECURITY DEFINER for the API, pinned search_path; the helpers are not
-- definers (they run inside the API functions or as triggers).
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM kr08.functions f JOIN pg_catalog.pg_proc p ON p.oid = f.fn
                WHERE p.prosecdef ORDER BY 1),
          ARRAY(SELECT f.fn::text FROM kr08.functions f WHERE f.definer ORDER BY 1),
          'exactly the API functions of events and audit are SECURITY DEFINER');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM kr08.functions f JOIN pg_catalog.pg_proc p ON p.oid = f.fn
                WHERE p.prosecdef AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
                ORDER BY 1),
          ARRAY[]::text[],
          'every SECURITY DEFINER function of events and audit pins search_path = pg_catalog, pg_temp');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = 'kaireon'::regnamespace AND p.prosecdef
                  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c ~ '^search_path=.*pg_temp$')
                ORDER BY 1),
          ARRAY[]::text[], 'no SECURITY DEFINER function of schema kaireon leaves search_path open');
SELECT is((SELECT pg_catalog.pg_get_userbyid(p.proowner) FROM pg_catalog.pg_proc p
           WHERE p.oid = 'kaireon.seal_audit(int)'::regprocedure),
          (SELECT pg_catalog.pg_get_userbyid(e.extowner) FROM pg_catalog.pg_extension e WHERE e.extname = 'kaireon'),
          'seal_audit runs as the extension''s owner');

-- Tables: reads only, and only where granted.
SELECT is(ARRAY(SELECT format('%s %s', r, t.rel)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r, kr08.tables t
                WHERE has_table_privilege(r, t.rel, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                   OR has_any_column_privilege(r, t.rel, 'INSERT, UPDATE, REFERENCES')
                ORDER BY 1),
          ARRAY[]::text[], 'no kaireon role may write to any table of events and audit');
SELECT is(ARRAY(SELECT format('%s %s', r, t.rel)
                FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r, kr08.tables t
                WHERE has_any_column_privilege(r, t.rel, 'SELECT') ORDER BY 1),
          ARRAY['kaireon_admin kaireon.audit_anchors', 'kaireon_admin kaireon.audit_log', 'kaireon_admin kaireon.audit_seals', 'kaireon_admin kaireon.event_consumers',
                'kaireon_admin kaireon.event_types', 'kaireon_admin kaireon.webhook_endpoints',
                'kaireon_app kaireon.event_types',
                'kaireon_reader kaireon.audit_log', 'kaireon_reader kaireon.event_consumers', 'kaireon_reader kaireon.event_types',
                'kaireon_reader kaireon.webhook_endpoints'],
          'reads: the catalog for everyone; consumers, endpoints and the trail for readers and administrators; seals for administrators');
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader', 'kr08_admin', 'kr08_reader1']) r
                WHERE has_column_privilege(r, 'kaireon.webhook_endpoints', 'secret', 'SELECT') ORDER BY 1),
          ARRAY[]::text[], 'no kaireon role may read webhook_endpoints.secret');
SELECT is(ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'kaireon.webhook_endpoints'::regclass AND a.attnum > 0
                  AND has_column_privilege('kaireon_reader', a.attrelid, a.attnum, 'SELECT') ORDER BY a.attnum),
          ARRAY['tenant_id', 'id', 'url', 'secret_hint', 'event_types', 'active', 'created_at', 'start_seq'],
          'readers and administrators read every column of webhook_endpoints but the secret');
SELECT is(ARRAY(SELECT a.grantee::regrole::text FROM pg_catalog.pg_class c,
                     LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
                WHERE c.oid = 'kaireon.event_sequencer'::regclass AND a.grantee <> c.relowner),
          ARRAY[]::text[], 'event_sequencer grants nothing to anyone');
SELECT is(ARRAY(SELECT r FROM unnest(ARRAY['kaireon_admin', 'kaireon_app', 'kaireon_reader']) r,
                     unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                WHERE has_table_privilege(r, 'kaireon.event_sequencer', p)),
          ARRAY[]::text[], 'no kaireon role has any privilege on event_sequencer (nobody can lock it but the owner)');

-- The append-only and audit triggers --------------------------------------------

SELECT is(ARRAY(SELECT format('%s %s %s', t.tgrelid::regclass, t.tgname, t.tgenabled) FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid IN ('kaireon.audit_log'::regclass, 'kaireon.audit_seals'::regclass,
                                    'kaireon.audit_anchors'::regclass, 'kaireon.usage_events'::regclass)
                  AND t.tgname LIKE 'append_only%' ORDER BY 1),
          ARRAY['kaireon.audit_anchors append_only A', 'kaireon.audit_anchors append_only_truncate A',
                'kaireon.audit_log append_only A', 'kaireon.audit_log append_only_truncate A',
                'kaireon.audit_seals append_only A', 'kaireon.audit_seals append_only_truncate A',
                'kaireon.usage_events append_only A', 'kaireon.usage_events append_only_truncate A'],
          'the append-only triggers of audit_log, audit_seals, audit_anchors and usage_events are ENABLE ALWAYS (tgenabled = A)');
SELECT is(ARRAY(SELECT regexp_replace(pg_catalog.pg_get_triggerdef(t.oid), ' ON kaireon\.\w+ ', ' ')
                FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid IN ('kaireon.audit_log'::regclass, 'kaireon.audit_seals'::regclass,
                                    'kaireon.audit_anchors'::regclass) AND NOT t.tgisinternal
                ORDER BY t.tgrelid::regclass::text, t.tgname),
          ARRAY['CREATE TRIGGER append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change()',
                'CREATE TRIGGER append_only_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change()',
                'CREATE TRIGGER append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change()',
                'CREATE TRIGGER append_only_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change()',
                'CREATE TRIGGER append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._refuse_change()',
                'CREATE TRIGGER append_only_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION kaireon._refuse_change()'],
          'audit_log, audit_seals and audit_anchors have exactly the append-only triggers (UPDATE, DELETE per row; TRUNCATE)');
SELECT is(ARRAY(SELECT format('%s: %s', t.tgrelid::regclass,
                              regexp_replace(pg_catalog.pg_get_triggerdef(t.oid), '^CREATE TRIGGER audit (.*) ON \S+ (.*)$', '\1 \2'))
                FROM pg_catalog.pg_trigger t
                WHERE t.tgfoid = 'kaireon._audit_row_change'::regproc
                  AND t.tgrelid NOT IN (SELECT DISTINCT ('kaireon.' || f.table_name)::regclass FROM kaireon.catalog_fields() f)
                ORDER BY 1),
          ARRAY['kaireon.entitlement_overrides: AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''override'', ''feature'')',
                'kaireon.event_consumers: AFTER INSERT OR DELETE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''event_consumer'', ''name'')',
                'kaireon.feature_thresholds: AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''thresholds'', ''feature'')',
                'kaireon.features: AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''feature'', ''key'')',
                'kaireon.license_keys: AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''license_key'', ''kid'')',
                'kaireon.licenses: AFTER INSERT OR DELETE OR UPDATE OF token FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''license'', ''jti'', ''token'', ''claims'')',
                'kaireon.plan_entitlements: AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''plan_entitlement'', ''feature'')',
                'kaireon.revoked_licenses: AFTER INSERT OR DELETE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''license_revocation'', ''jti'')',
                'kaireon.tenant_grants: AFTER INSERT OR DELETE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''tenant_grant'', ''role'')',
                'kaireon.tenants: AFTER INSERT OR DELETE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''tenant'', ''tenant_id'')',
                'kaireon.webhook_endpoints: AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION kaireon._audit_row_change(''webhook_endpoint'', ''url'', ''secret'')'],
          'the audited tables have their audit triggers (licences without token and claims, endpoints without secret; the catalog''s: 09)');
SELECT is(ARRAY(SELECT t.tgrelid::regclass::text FROM pg_catalog.pg_trigger t
                WHERE t.tgfoid = 'kaireon._audit_row_change'::regproc AND t.tgenabled = 'D' ORDER BY 1),
          ARRAY[]::text[], 'no audit trigger is disabled');

-- Exercised: append-only for the owner, also in replica mode ----------------------

SELECT lives_ok($$SELECT kaireon.seal_audit()$$, 'the superuser may seal');
INSERT INTO kaireon.audit_log (tenant_id, actor, action) VALUES ('kr08-t1', 'kr08', 'kr08.test');
INSERT INTO kaireon.audit_seals (tenant_id, position, audit_id, prev_hash, hash, recorded_at)
VALUES ('kr08-t1', 1000000, 0, '\x00', '\x00', now());
SELECT throws_ok($$UPDATE kaireon.audit_log SET details = '{"x": 1}' WHERE tenant_id = 'kr08-t1'$$, 'KR400',
                 'kaireon.audit_log is append-only: UPDATE is not allowed', 'the owner may not UPDATE audit_log');
SELECT throws_ok($$DELETE FROM kaireon.audit_log WHERE tenant_id = 'kr08-t1'$$, 'KR400',
                 'kaireon.audit_log is append-only: DELETE is not allowed', 'the owner may not DELETE from audit_log');
SELECT throws_ok($$TRUNCATE kaireon.audit_log$$, 'KR400',
                 'kaireon.audit_log is append-only: TRUNCATE is not allowed', 'the owner may not TRUNCATE audit_log');
SELECT throws_ok($$UPDATE kaireon.audit_seals SET hash = '\x01' WHERE tenant_id = 'kr08-t1'$$, 'KR400',
                 'kaireon.audit_seals is append-only: UPDATE is not allowed', 'the owner may not UPDATE audit_seals');
SELECT throws_ok($$DELETE FROM kaireon.audit_seals WHERE tenant_id = 'kr08-t1'$$, 'KR400',
                 'kaireon.audit_seals is append-only: DELETE is not allowed', 'the owner may not DELETE from audit_seals');
SELECT throws_ok($$TRUNCATE kaireon.audit_seals$$, 'KR400',
                 'kaireon.audit_seals is append-only: TRUNCATE is not allowed', 'the owner may not TRUNCATE audit_seals');
SET session_replication_role = replica;
SELECT throws_ok($$UPDATE kaireon.audit_log SET details = '{"x": 1}' WHERE tenant_id = 'kr08-t1'$$, 'KR400',
                 'kaireon.audit_log is append-only: UPDATE is not allowed', 'replica mode: UPDATE audit_log refused');
SELECT throws_ok($$DELETE FROM kaireon.audit_log WHERE tenant_id = 'kr08-t1'$$, 'KR400',
                 'kaireon.audit_log is append-only: DELETE is not allowed', 'replica mode: DELETE from audit_log refused');
SELECT throws_ok($$TRUNCATE kaireon.audit_log$$, 'KR400',
                 'kaireon.audit_log is append-only: TRUNCATE is not allowed', 'replica mode: TRUNCATE audit_log refused');
SELECT throws_ok($$DELETE FROM kaireon.audit_seals WHERE tenant_id = 'kr08-t1'$$, 'KR400',
                 'kaireon.audit_seals is append-only: DELETE is not allowed', 'replica mode: DELETE from audit_seals refused');
SELECT throws_ok($$TRUNCATE kaireon.audit_seals$$, 'KR400',
                 'kaireon.audit_seals is append-only: TRUNCATE is not allowed', 'replica mode: TRUNCATE audit_seals refused');
SELECT throws_ok($$TRUNCATE kaireon.usage_events$$, 'KR400',
                 'kaireon.usage_events is append-only: TRUNCATE is not allowed', 'replica mode: usage_events stays append-only too');
RESET session_replication_role;

-- Exercised: row-level security and the secret --------------------------------------

SET ROLE kr08_reader1;
SET kaireon.tenant = 'kr08-t1';
SELECT is(ARRAY(SELECT DISTINCT tenant_id FROM kaireon.audit_log ORDER BY 1), ARRAY['kr08-t1'],
          'reader1 on t1 sees t1''s audit records only');
SELECT is(ARRAY(SELECT format('%s %s', tenant_id, name) FROM kaireon.event_consumers ORDER BY 1), ARRAY['kr08-t1 kr08-c'],
          'reader1 on t1 sees t1''s consumer only');
SELECT is(ARRAY(SELECT url FROM kaireon.webhook_endpoints ORDER BY 1), ARRAY['https://hooks.example.com/kr08-t1'],
          'reader1 on t1 sees t1''s endpoint only');
SELECT throws_ok($$SELECT secret FROM kaireon.webhook_endpoints$$, '42501', 'permission denied for table webhook_endpoints',
                 'reader1 may not read the secret');
SELECT throws_ok($$SELECT * FROM kaireon.audit_seals$$, '42501', 'permission denied for table audit_seals',
                 'reader1 may not read audit_seals');
SELECT throws_ok($$SELECT kaireon.seal_audit()$$, '42501', 'permission denied for function seal_audit',
                 'reader1 may not seal');
SELECT throws_ok($$LOCK TABLE kaireon.event_sequencer$$, '42501', 'permission denied for table event_sequencer',
                 'reader1 may not lock event_sequencer');
-- The definer functions do not lend their owner's administrator rights.
SELECT throws_ok($$SELECT kaireon.create_event_consumer('kr08-every', all_tenants => true)$$, 'KR403',
                 'only administrators may read every tenant''s events',
                 'reader1 may not create a consumer of every tenant''s events');
SELECT throws_ok($$SELECT kaireon.fetch_events('kr08-all')$$, 'KR400', 'unknown event consumer "kr08-all"',
                 'reader1 may not fetch from the administrators'' consumer of every tenant''s events');
SELECT throws_ok($$SELECT kaireon.ack_events('kr08-all', 0)$$, 'KR400', 'unknown event consumer "kr08-all"',
                 'reader1 may not move the administrators'' consumer');
SELECT throws_ok($$SELECT count(*) FROM kaireon.audit_trail(tenant_id => 'kr08-t2')$$, 'KR403',
                 'only administrators may name another tenant''s audit trail',
                 'reader1 may not read t2''s audit trail by naming it');
SELECT throws_ok($$SELECT count(*) FROM kaireon.audit_trail(tenant_id => '')$$, 'KR403',
                 'only administrators may name another tenant''s audit trail',
                 'reader1 may not read the system''s audit trail');
SET kaireon.tenant = 'kr08-t2';
SELECT is((SELECT count(*)::int FROM kaireon.audit_log) + (SELECT count(*)::int FROM kaireon.event_consumers)
          + (SELECT count(*)::int FROM kaireon.webhook_endpoints), 0,
          'reader1 setting t2 sees none of t2''s records, consumers or endpoints');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr08_admin;
SET kaireon.tenant = 'kr08-t1';
SELECT throws_ok($$SELECT secret FROM kaireon.webhook_endpoints$$, '42501', 'permission denied for table webhook_endpoints',
                 'an administrator may not read the secret');
SELECT throws_ok($$SELECT * FROM kaireon.webhook_endpoints$$, '42501', 'permission denied for table webhook_endpoints',
                 'an administrator may not SELECT * (it includes the secret)');
SELECT is((SELECT count(*)::int FROM kaireon.audit_seals WHERE tenant_id = 'kr08-t1'), 1,
          'an administrator reads audit_seals');
SELECT throws_ok($$INSERT INTO kaireon.audit_log (tenant_id, actor, action) VALUES ('kr08-t1', 'me', 'forged')$$,
                 '42501', 'permission denied for table audit_log', 'an administrator may not write to audit_log');
SELECT throws_ok($$INSERT INTO kaireon.audit_seals (tenant_id, position, audit_id, prev_hash, hash) VALUES ('kr08-t1', 1, 1, '\x00', '\x00')$$,
                 '42501', 'permission denied for table audit_seals', 'an administrator may not write to audit_seals');
SELECT throws_ok($$UPDATE kaireon.event_consumers SET position = 0$$, '42501', 'permission denied for table event_consumers',
                 'an administrator may not move a consumer but through ack_events');
SELECT throws_ok($$SELECT kaireon._sequence_events()$$, '42501', 'permission denied for function _sequence_events',
                 'an administrator may not call _sequence_events');
SELECT throws_ok($$SELECT kaireon._audit('kr08-t1', 'forged', NULL, '{}')$$, '42501', 'permission denied for function _audit',
                 'an administrator may not call _audit');
RESET kaireon.tenant;
RESET ROLE;

SET ROLE kr08_app;
SET kaireon.tenant = 'kr08-t1';
SELECT throws_ok($$SELECT url FROM kaireon.webhook_endpoints$$, '42501', 'permission denied for table webhook_endpoints',
                 'an application reads no endpoint');
SELECT throws_ok($$SELECT count(*) FROM kaireon.audit_log$$, '42501', 'permission denied for table audit_log',
                 'an application reads no audit record');
SELECT throws_ok($$SELECT kaireon.fetch_events('kr08-c')$$, '42501', 'permission denied for function fetch_events',
                 'an application does not consume events');
SELECT throws_ok($$SELECT kaireon.verify_audit('kr08-t1')$$, '42501', 'permission denied for function verify_audit',
                 'an application does not verify the trail');
RESET kaireon.tenant;
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

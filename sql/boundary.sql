-- The C++/PostgreSQL boundary: errors raised deep in C++ and from SPI inside
-- C++ reach the client with their SQLSTATE, message, DETAIL and HINT; every
-- C++ destructor runs; thousands of errors in one session leak nothing; and
-- per-transaction C++ state is cleared when a transaction ends.
\set SHOW_CONTEXT never
CREATE SCHEMA kaireon_selftest;
CREATE FUNCTION kaireon_selftest.throw(depth int, kind text) RETURNS int
    AS 'kaireon', 'kaireon_selftest_throw' LANGUAGE C STRICT;
CREATE FUNCTION kaireon_selftest.live_objects() RETURNS int
    AS 'kaireon', 'kaireon_selftest_live_objects' LANGUAGE C;
CREATE FUNCTION kaireon_selftest.heap_bytes() RETURNS bigint
    AS 'kaireon', 'kaireon_selftest_heap_bytes' LANGUAGE C;
CREATE FUNCTION kaireon_selftest.xact_note(text) RETURNS int
    AS 'kaireon', 'kaireon_selftest_xact_note' LANGUAGE C STRICT;
CREATE FUNCTION kaireon_selftest.xact_notes() RETURNS int
    AS 'kaireon', 'kaireon_selftest_xact_notes' LANGUAGE C;
CREATE FUNCTION kaireon_selftest.jsonb_paths(seed int8, documents int) RETURNS int
    AS 'kaireon', 'kaireon_selftest_jsonb_paths' LANGUAGE C STRICT;
CREATE FUNCTION kaireon_selftest.jsonb_reads(seed int8, documents int) RETURNS int
    AS 'kaireon', 'kaireon_selftest_jsonb_reads' LANGUAGE C STRICT;

-- No error: the recursion returns its depth.
SELECT kaireon_selftest.throw(50, 'none');

-- A catalog error from 50 frames down: SQLSTATE, message, JSON DETAIL, HINT.
SELECT kaireon_selftest.throw(50, 'kaireon');
\echo :LAST_ERROR_SQLSTATE
-- A std::exception and std::bad_alloc.
SELECT kaireon_selftest.throw(50, 'std');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_selftest.throw(50, 'bad_alloc');
\echo :LAST_ERROR_SQLSTATE
-- A PostgreSQL error raised inside C++ keeps its own SQLSTATE and message.
SELECT kaireon_selftest.throw(50, 'pg');
\echo :LAST_ERROR_SQLSTATE
-- A failing query run through SPI from C++.
SELECT kaireon_selftest.throw(50, 'spi');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon_selftest.throw(-1, 'none');
SELECT kaireon_selftest.throw(1, 'nonsense');
-- Every destructor ran.
SELECT kaireon_selftest.live_objects() AS live_objects;

-- Thousands of errors of every kind in one session: the heap does not grow
-- (a skipped destructor would leak about 2 KB per frame, 40 KB per error)
-- and nothing stays alive.
CREATE TEMP TABLE heap (phase text, bytes bigint);
CREATE FUNCTION pg_temp.raise_many(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    kinds text[] := ARRAY['kaireon', 'std', 'bad_alloc', 'pg', 'spi'];
    caught int := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM kaireon_selftest.throw(20, kinds[1 + i % 5]);
        EXCEPTION WHEN OTHERS THEN
            caught := caught + 1;
        END;
    END LOOP;
    RETURN caught;
END
$$;
SELECT pg_temp.raise_many(500) AS warm_up_errors;
INSERT INTO heap SELECT 'before', kaireon_selftest.heap_bytes();
SELECT pg_temp.raise_many(5000) AS errors;
INSERT INTO heap SELECT 'after', kaireon_selftest.heap_bytes();
SELECT kaireon_selftest.live_objects() AS live_objects,
       (SELECT bytes FROM heap WHERE phase = 'after') - (SELECT bytes FROM heap WHERE phase = 'before')
           < 1024 * 1024 AS heap_stable;

-- Per-transaction C++ state: cleared at commit, at rollback, after an error,
-- and when the subtransaction that added it rolls back.
BEGIN;
SELECT kaireon_selftest.xact_note('a'), kaireon_selftest.xact_note('b');
SELECT kaireon_selftest.xact_notes() AS in_transaction;
COMMIT;
SELECT kaireon_selftest.xact_notes() AS after_commit;
BEGIN;
SELECT kaireon_selftest.xact_note('a');
ROLLBACK;
SELECT kaireon_selftest.xact_notes() AS after_rollback;
BEGIN;
SELECT kaireon_selftest.xact_note('a');
SELECT 1 / 0;
ROLLBACK;
SELECT kaireon_selftest.xact_notes() AS after_error;
BEGIN;
SELECT kaireon_selftest.xact_note('kept');
SAVEPOINT s;
SELECT kaireon_selftest.xact_note('dropped');
ROLLBACK TO SAVEPOINT s;
SELECT kaireon_selftest.xact_notes() AS after_savepoint_rollback;
COMMIT;

-- The API's answers are written as jsonb directly: 3,000 random documents
-- (any double, big integers, escapes, non-ASCII and invalid UTF-8, nesting,
-- containers past jsonb's offset stride) are byte for byte what their text
-- through jsonb_in is.
SELECT kaireon_selftest.jsonb_paths(1, 1000) AS differ_1, kaireon_selftest.jsonb_paths(2, 1000) AS differ_2,
       kaireon_selftest.jsonb_paths(3, 1000) AS differ_3;
-- And requests and stored documents are read from jsonb directly: 3,000
-- random documents (a third under tight limits, so that both ways refuse)
-- read back the same Json, or get the same refusal, as their text does.
SELECT kaireon_selftest.jsonb_reads(1, 1000) AS differ_1, kaireon_selftest.jsonb_reads(2, 1000) AS differ_2,
       kaireon_selftest.jsonb_reads(3, 1000) AS differ_3;
-- Reads by key without the executor (indexed_rows.h: a customer and its
-- consents on every decision, an idempotency key on every response), as the
-- calling role: the rows and values the same query finds, in index order,
-- as the statement's snapshot sees them.
CREATE FUNCTION kaireon_selftest.indexed_rows(tbl text, idx text, keys text[], cols text[]) RETURNS jsonb
    AS 'kaireon', 'kaireon_selftest_indexed_rows' LANGUAGE C STRICT;
SELECT kaireon.create_tenant('boundary-ir', 'Reads by key', 'ir@boundary.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'boundary-ir';
SELECT kaireon.apply_catalog('{"channels": [{"id": "web", "type": "web"}, {"id": "email", "type": "email"}],
  "customers": [{"id": "c1", "attributes": {"age": 41, "tier": "gold"}, "segments": ["gold", "new"],
                 "timezone": "Europe/Paris"}, {"id": "c2"}]}') IS NOT NULL AS applied;
INSERT INTO kaireon.consents (customer_id, channel_id, granted) VALUES ('c1', 'web', true), ('c1', 'email', false);
SELECT kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir,c1}',
                                     '{id,attributes,segments,timezone}') AS c1,
       kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir,c2}',
                                     '{id,attributes,segments,timezone}') AS c2;
-- No prefix, no other case, no other tenant.
SELECT kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir,c}', '{id}') AS prefix,
       kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir,C1}', '{id}') AS other_case,
       kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-t,c1}', '{id}') AS other_tenant;
-- A leading key alone finds every row it leads, in index order.
SELECT kaireon_selftest.indexed_rows('consents', 'consents_pkey', '{boundary-ir,c1}', '{channel_id,granted}') AS consents,
       kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir}', '{id}') AS customers;
-- The statement's snapshot: this transaction's earlier writes count.
BEGIN;
DELETE FROM kaireon.consents WHERE tenant_id = 'boundary-ir' AND customer_id = 'c1' AND channel_id = 'web';
UPDATE kaireon.consents SET granted = true WHERE tenant_id = 'boundary-ir' AND customer_id = 'c1';
SELECT kaireon_selftest.indexed_rows('consents', 'consents_pkey', '{boundary-ir,c1}', '{channel_id,granted}') AS own_writes;
ROLLBACK;
-- Wrong use is an internal error, whatever the keys.
SELECT kaireon_selftest.indexed_rows('customers', 'consents_pkey', '{boundary-ir}', '{id}');
SELECT kaireon_selftest.indexed_rows('customers', 'customers_nope', '{boundary-ir}', '{id}');
SELECT kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir}', '{nope}');
SELECT kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir,c1,x}', '{id}');
SELECT kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{}', '{id}');
-- A role that may not read the table, or whose reads row-level security
-- would filter, is refused: this read applies no policy.
CREATE ROLE regress_ir_nobody;
CREATE ROLE regress_ir_app IN ROLE kaireon_app;
GRANT USAGE ON SCHEMA kaireon_selftest TO regress_ir_nobody, regress_ir_app;
SET ROLE regress_ir_nobody;
SELECT kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir,c1}', '{id}');
RESET ROLE;
SET ROLE regress_ir_app;
SELECT has_table_privilege('kaireon.customers', 'SELECT') AS may_select;
SELECT kaireon_selftest.indexed_rows('customers', 'customers_pkey', '{boundary-ir,c1}', '{id}');
RESET ROLE;
REVOKE USAGE ON SCHEMA kaireon_selftest FROM regress_ir_nobody, regress_ir_app;
DROP ROLE regress_ir_nobody, regress_ir_app;
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('boundary-ir') ->> 'tenantId' AS dropped;
DROP SCHEMA kaireon_selftest CASCADE;

-- Results built while an SPI session is open live in the caller's memory, not
-- in SPI's procedure context (deleted by SPI_finish): several API calls in one
-- target list and one call per row all return intact values. (Before the fix:
-- "unknown type of jsonb container", or a crash.)
SELECT kaireon.create_tenant('boundary-t', 'Boundary', 'b@boundary.test') ->> 'tenantId' AS tenant;
SET kaireon.tenant = 'boundary-t';
SELECT kaireon.define_feature('boundary_calls', 'numeric', '{"aggregation": "sum"}') ->> 'key' AS feature;
SELECT kaireon.set_plan_entitlement('community', 'boundary_calls', '{"limit": 7}') ->> 'tier' AS tier,
       kaireon.entitlement('boundary_calls');
SELECT kaireon.set_plan_entitlement('community', 'boundary_calls', '{"limit": 7}'),
       kaireon.set_override('boundary_calls', '{"limit": 3}') -> 'value' AS override,
       kaireon.set_thresholds('boundary_calls', '{50}') AS thresholds,
       kaireon.entitlement('boundary_calls')::text;
SELECT kaireon.clear_override('boundary_calls') AS cleared;
SELECT n, kaireon.set_plan_entitlement('community', 'boundary_calls', jsonb_build_object('limit', n * n)) -> 'value' AS value,
       kaireon.report_usage('boundary_calls', n) ->> 'currentUsage' AS usage
FROM generate_series(1, 5) AS n;
-- Hostile requests are refused as their JSON text reads (byte offsets and
-- sizes of the text jsonb prints), however the request is read: nested
-- deeper than 64 levels, a number beyond a double, more than 1 MiB of text
-- (with escapes: the text is longer than the stored strings).
SELECT kaireon_recommend(('{"customerId": "c", "deep": ' || repeat('[', 70) || repeat(']', 70) || '}')::jsonb);
SELECT kaireon_recommend(('{"customerId": "c", "deep": ' || repeat('[', 63) || repeat(']', 63) || '}')::jsonb);
SELECT kaireon_recommend('{"customerId": "c", "n": 1e400}'::jsonb);
SELECT kaireon_recommend(jsonb_build_object('customerId', 'c', 'pad', repeat('a', 1048576)));
SELECT kaireon_recommend(jsonb_build_object('customerId', 'c', 'pad', repeat(E'\x01', 200000)));
SELECT kaireon_recommend(jsonb_build_object('customerId', 'c', 'pad', repeat(E'\x01', 100000)));
SELECT kaireon_recommend('{"customerId": "c\"é😀\\", "n": 18446744073709551616, "m": -9223372036854775808, "f": 0.1}'::jsonb);
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('boundary-t') ->> 'tenantId' AS dropped;
DELETE FROM kaireon.plan_entitlements WHERE feature = 'boundary_calls';
DELETE FROM kaireon.features WHERE key = 'boundary_calls';

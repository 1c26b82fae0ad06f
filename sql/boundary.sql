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

-- The API's answers are built as jsonb directly: 3,000 random documents
-- (any double, big integers, escapes, non-ASCII and invalid UTF-8, nesting)
-- print exactly as their text through jsonb_in does.
SELECT kaireon_selftest.jsonb_paths(1, 1000) AS differ_1, kaireon_selftest.jsonb_paths(2, 1000) AS differ_2,
       kaireon_selftest.jsonb_paths(3, 1000) AS differ_3;
-- And requests and stored documents are read from jsonb directly: 3,000
-- random documents (a third under tight limits, so that both ways refuse)
-- read back the same Json, or get the same refusal, as their text does.
SELECT kaireon_selftest.jsonb_reads(1, 1000) AS differ_1, kaireon_selftest.jsonb_reads(2, 1000) AS differ_2,
       kaireon_selftest.jsonb_reads(3, 1000) AS differ_3;
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

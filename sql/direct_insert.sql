-- Rows written without the executor (src/pg/direct_insert.h): a response's
-- interaction and its idempotency key, a decision. insert_row must do what
-- INSERT does (defaults, routing to the partition, constraints, unique
-- indexes, visibility to the next command), fail as INSERT fails, and hand
-- the row to the INSERT statement when the table does more than store.
CREATE SCHEMA kaireon_selftest;
CREATE FUNCTION kaireon_selftest.insert_row(tbl text, row_values jsonb) RETURNS text
    AS 'kaireon', 'kaireon_selftest_insert_row' LANGUAGE C STRICT;
CREATE TYPE kaireon_selftest.mood AS ENUM ('calm', 'busy');
CREATE TABLE kaireon.selftest_rows (
    tenant_id text NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    k text NOT NULL,
    mood kaireon_selftest.mood NOT NULL DEFAULT 'calm',
    amount numeric CHECK (amount >= 0),
    at timestamptz NOT NULL DEFAULT '2026-01-15 00:00+00',
    note text,
    props jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (at);
CREATE UNIQUE INDEX selftest_rows_key ON kaireon.selftest_rows (tenant_id, k, at);
CREATE INDEX selftest_rows_note ON kaireon.selftest_rows (note) WHERE note IS NOT NULL;
CREATE TABLE kaireon.selftest_rows_jan PARTITION OF kaireon.selftest_rows
    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-02-01 00:00+00');
-- February's partition keeps its columns in another order, after a dropped
-- one: a row routed to it is mapped to its layout.
CREATE TABLE kaireon.selftest_rows_feb (gone int, note text, props jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL, amount numeric CONSTRAINT selftest_rows_amount_check CHECK (amount >= 0), mood kaireon_selftest.mood NOT NULL,
    k text NOT NULL, id bigint NOT NULL, tenant_id text NOT NULL);
ALTER TABLE kaireon.selftest_rows_feb DROP COLUMN gone;
ALTER TABLE kaireon.selftest_rows ATTACH PARTITION kaireon.selftest_rows_feb
    FOR VALUES FROM ('2026-02-01 00:00+00') TO ('2026-03-01 00:00+00');
CREATE TABLE kaireon.selftest_plain (tenant_id text, k text, n int CHECK (n < 10), PRIMARY KEY (tenant_id, k));
SET TIME ZONE 'UTC';

-- Defaults (identity, enum, timestamp, jsonb), text read by the column's
-- type, both partitions.
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "a"}') AS a,
       kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "b", "mood": "busy", "amount": "12.50",
           "at": "2026-02-03 04:05:06+00", "note": "n", "props": "{\"x\": [1, 2]}"}') AS b,
       kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "t", "k": "p", "n": "9"}') AS p;
SELECT tableoid::regclass, * FROM kaireon.selftest_rows ORDER BY k;
SELECT * FROM kaireon.selftest_plain;
-- Index entries: the rows are found through each index.
SET enable_seqscan = off;
SELECT k FROM kaireon.selftest_rows WHERE tenant_id = 't' AND k = 'b' AND at = '2026-02-03 04:05:06+00';
SELECT k FROM kaireon.selftest_rows WHERE note = 'n';
-- (the partial index holds only rows with a note: its predicate, planned once)
EXPLAIN (COSTS OFF) SELECT k FROM kaireon.selftest_rows WHERE note IS NOT NULL;
SELECT k FROM kaireon.selftest_rows WHERE note IS NOT NULL;
SELECT k FROM kaireon.selftest_plain WHERE tenant_id = 't' AND k = 'p';
RESET enable_seqscan;

-- The same errors as INSERT, and nothing written.
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": null}');
INSERT INTO kaireon.selftest_rows (tenant_id, k) VALUES ('t', null);
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "c", "amount": "-1"}');
INSERT INTO kaireon.selftest_rows (tenant_id, k, amount) VALUES ('t', 'c', -1);
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "c", "amount": "-1", "at": "2026-02-10 00:00+00"}');
INSERT INTO kaireon.selftest_rows (tenant_id, k, amount, at) VALUES ('t', 'c', -1, '2026-02-10 00:00+00');
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "a"}');
INSERT INTO kaireon.selftest_rows (tenant_id, k) VALUES ('t', 'a');
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "t", "k": "p", "n": "1"}');
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "t", "k": "q", "n": "10"}');
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "c", "at": "2027-01-01 00:00+00"}');
INSERT INTO kaireon.selftest_rows (tenant_id, k, at) VALUES ('t', 'c', '2027-01-01 00:00+00');
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "c", "mood": "angry"}');
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "c", "amount": "lots"}');
-- Wrong use is an internal error.
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "nope": "c"}');
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "c", "id": "7"}');
SELECT kaireon_selftest.insert_row('selftest_nope', '{"tenant_id": "t"}');
SELECT kaireon_selftest.insert_row('selftest_rows', '{}');
SELECT (SELECT count(*) FROM kaireon.selftest_rows) AS rows, (SELECT count(*) FROM kaireon.selftest_plain) AS plain;

-- The next command sees the row; a rollback takes it back.
BEGIN;
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "t", "k": "tx"}');
SELECT k FROM kaireon.selftest_plain ORDER BY k;
ROLLBACK;
SELECT k FROM kaireon.selftest_plain ORDER BY k;

-- A CHECK constraint added (NOT VALID: only new rows) or dropped counts from
-- the next row on (the parsed constraints are kept per backend until the
-- table changes).
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "d", "amount": "5"}');
ALTER TABLE kaireon.selftest_rows ADD CONSTRAINT small CHECK (amount < 3) NOT VALID;
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "e", "amount": "5"}');
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "e", "amount": "2"}');
-- Replaced by another of the same name (as many constraints as before).
ALTER TABLE kaireon.selftest_rows DROP CONSTRAINT small, ADD CONSTRAINT small CHECK (amount < 2) NOT VALID;
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "e2", "amount": "2.5"}');
ALTER TABLE kaireon.selftest_rows DROP CONSTRAINT small;
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "f", "amount": "5"}');
SELECT k, amount FROM kaireon.selftest_rows WHERE k IN ('d', 'e', 'f') ORDER BY k;
-- So does a default changed or dropped (kept with the constraints).
ALTER TABLE kaireon.selftest_rows ALTER COLUMN mood SET DEFAULT 'busy';
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "f2"}');
ALTER TABLE kaireon.selftest_rows ALTER COLUMN mood DROP DEFAULT;
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "f3"}');
ALTER TABLE kaireon.selftest_rows ALTER COLUMN mood SET DEFAULT 'calm';
SELECT k, mood FROM kaireon.selftest_rows WHERE k LIKE 'f%' ORDER BY k;
-- A default that calls a SQL function (inlined when the default is read, as
-- kaireon.clock() is): the function replaced counts from the next row.
CREATE FUNCTION kaireon_selftest.note() RETURNS text LANGUAGE sql STABLE AS $$SELECT 'first'$$;
ALTER TABLE kaireon.selftest_rows ALTER COLUMN note SET DEFAULT kaireon_selftest.note();
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "n1"}');
CREATE OR REPLACE FUNCTION kaireon_selftest.note() RETURNS text LANGUAGE sql STABLE AS $$SELECT 'second'$$;
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "n2"}');
ALTER TABLE kaireon.selftest_rows ALTER COLUMN note DROP DEFAULT;
SELECT k, note FROM kaireon.selftest_rows WHERE k IN ('n1', 'n2') ORDER BY k;

-- A table that does more than store gets the INSERT statement: triggers
-- (of the table, of a partition, for each statement), a deferrable unique
-- index.
CREATE FUNCTION kaireon_selftest.shout() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN NEW.note := upper(coalesce(NEW.note, 'quiet')); RETURN NEW; END$$;
CREATE FUNCTION kaireon_selftest.tell() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN RAISE NOTICE 'statement trigger on %', TG_TABLE_NAME; RETURN NULL; END$$;
CREATE TRIGGER shout BEFORE INSERT ON kaireon.selftest_rows FOR EACH ROW EXECUTE FUNCTION kaireon_selftest.shout();
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "g", "note": "hello"}');
DROP TRIGGER shout ON kaireon.selftest_rows;
CREATE TRIGGER shout BEFORE INSERT ON kaireon.selftest_rows_feb FOR EACH ROW EXECUTE FUNCTION kaireon_selftest.shout();
SELECT kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "h"}') AS january,
       kaireon_selftest.insert_row('selftest_rows', '{"tenant_id": "t", "k": "h", "at": "2026-02-20 00:00+00"}') AS february;
DROP TRIGGER shout ON kaireon.selftest_rows_feb;
CREATE TRIGGER tell AFTER INSERT ON kaireon.selftest_plain FOR EACH STATEMENT EXECUTE FUNCTION kaireon_selftest.tell();
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "t", "k": "r"}');
DROP TRIGGER tell ON kaireon.selftest_plain;
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "t", "k": "s"}');
SELECT k, note FROM kaireon.selftest_rows WHERE k IN ('g', 'h') ORDER BY k, at;
ALTER TABLE kaireon.selftest_plain ADD CONSTRAINT later UNIQUE (k) DEFERRABLE INITIALLY DEFERRED;
BEGIN;
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "u", "k": "s"}');
COMMIT;
ALTER TABLE kaireon.selftest_plain DROP CONSTRAINT later;

-- A role that may not insert, or whose inserts row-level security checks,
-- gets the statement and its error.
CREATE ROLE regress_di_reader;
CREATE ROLE regress_di_writer;
GRANT USAGE ON SCHEMA kaireon, kaireon_selftest TO regress_di_reader, regress_di_writer;
GRANT SELECT ON kaireon.selftest_plain TO regress_di_reader;
GRANT SELECT, INSERT ON kaireon.selftest_plain TO regress_di_writer;
ALTER TABLE kaireon.selftest_plain ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_w ON kaireon.selftest_plain TO regress_di_writer USING (tenant_id = 'w');
SET ROLE regress_di_reader;
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "w", "k": "v"}');
RESET ROLE;
SET ROLE regress_di_writer;
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "x", "k": "v"}');
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "w", "k": "v"}');
RESET ROLE;
SELECT tenant_id, k FROM kaireon.selftest_plain ORDER BY tenant_id, k;

-- Relation oids are kept by name per backend (kaireon_relation): a table
-- renamed away and another created under its name is written next; one
-- dropped is unknown again.
ALTER TABLE kaireon.selftest_plain RENAME TO selftest_plain_old;
CREATE TABLE kaireon.selftest_plain (tenant_id text, k text, n int, PRIMARY KEY (tenant_id, k));
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "new", "k": "v"}');
SELECT 'new' AS tbl, tenant_id, k FROM kaireon.selftest_plain UNION ALL
SELECT 'old', tenant_id, k FROM kaireon.selftest_plain_old WHERE tenant_id = 'new';
DROP TABLE kaireon.selftest_plain;
SELECT kaireon_selftest.insert_row('selftest_plain', '{"tenant_id": "gone", "k": "v"}');

DROP TABLE kaireon.selftest_rows, kaireon.selftest_plain_old;
REVOKE USAGE ON SCHEMA kaireon, kaireon_selftest FROM regress_di_reader, regress_di_writer;
DROP ROLE regress_di_reader, regress_di_writer;
DROP SCHEMA kaireon_selftest CASCADE;
RESET TIME ZONE;

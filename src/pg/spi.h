// spi.h - SPI inside the guard: a connection that is always finished, and
// queries whose PostgreSQL errors become PgError.
#pragma once
#include "pg/guard.h"

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kaireon::pg {

// SpiArg is one query parameter: a type and a value (null when absent).
struct SpiArg {
    Oid type;
    Datum value;
    bool is_null = false;
};

// SpiArg helpers for the common types.
SpiArg text_arg(std::string_view value);
SpiArg oid_arg(Oid value);
// null_text_arg is a text NULL; text_or_null is NULL for "" (an absent
// optional field), else the text.
SpiArg null_text_arg();
SpiArg text_or_null(const std::string& value);

// SpiSession connects on construction and finishes on destruction. Results
// live until the next query or the end of the session: copy what you keep.
class SpiSession {
public:
    SpiSession();
    ~SpiSession();
    SpiSession(const SpiSession&) = delete;
    SpiSession& operator=(const SpiSession&) = delete;

    // execute runs `sql` with `args` and returns the number of rows processed.
    uint64 execute(const char* sql, std::initializer_list<SpiArg> args = {}, bool read_only = false);
    uint64 execute(const char* sql, std::span<const SpiArg> args, bool read_only = false);
    // execute_generic is execute with the plan made once for any arguments
    // (never a custom plan per call): for a query over time partitions that
    // its arguments prune, where PostgreSQL's plan cache would otherwise
    // judge a plan made per call cheaper and plan on every call. The
    // executor leaves out the pruned partitions when the query starts.
    uint64 execute_generic(const char* sql, std::initializer_list<SpiArg> args = {}, bool read_only = false);

    // Accessors for the last result (row and column are zero-based).
    uint64 rows() const;
    bool is_null(uint64 row, int column) const;
    std::optional<std::string> text(uint64 row, int column) const;
    std::optional<bool> boolean(uint64 row, int column) const;
    std::optional<Oid> oid(uint64 row, int column) const;
    std::optional<Json> json(uint64 row, int column) const;  // a jsonb column
    // text_view is a text column's bytes without a copy, valid until the
    // next query of the session.
    std::optional<std::string_view> text_view(uint64 row, int column) const;
    // texts reads a text[] column (its NULL elements skipped).
    std::optional<std::vector<std::string>> texts(uint64 row, int column) const;
    // datum is the value itself, valid until the next query of the session.
    Datum datum(uint64 row, int column, bool* is_null) const;
    // column is the number of the last result's column `name` (-1: none);
    // type is a column's type.
    int column(const char* name) const;
    Oid type(int column) const;

private:
    uint64 run(const char* sql, std::span<const SpiArg> args, bool read_only, int cursor_options);

    bool connected_ = false;
    MemoryContext caller_context_;  // where results built during the session live
};

// kaireon_relation returns the oid of kaireon.`name` (kept per backend until
// pg_class or pg_namespace changes), or raises a PostgreSQL error when there
// is none: call it inside pg_call.
Oid kaireon_relation(const char* name);
// kaireon_column returns the number of kaireon.`table`'s column `column`
// (`desc` its tuple descriptor), searching from attribute number `from` + 1
// round the descriptor (a caller naming columns in the table's order passes
// the last one found), or raises a PostgreSQL error: call it inside pg_call.
AttrNumber kaireon_column(TupleDesc desc, const char* table, const char* column, AttrNumber from = 0);

// extension_owner returns the role that owns the kaireon schema (the
// superuser who created the extension).
Oid extension_owner();

// AsExtensionOwner runs a scope with the privileges of the extension's owner,
// for the extension's own lookups from code that any role may call (RLS
// policies, API functions). For the scope, search_path is pg_catalog,
// pg_temp (so the caller's objects, operators included, can never run as the
// owner) and the operation is security-restricted. The caller's identity and
// settings come back when the scope ends, also on error.
class AsExtensionOwner {
public:
    AsExtensionOwner();
    ~AsExtensionOwner();
    AsExtensionOwner(const AsExtensionOwner&) = delete;
    AsExtensionOwner& operator=(const AsExtensionOwner&) = delete;

private:
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    int guc_nest_level_ = 0;
};

// LatestSnapshot makes queries of its scope (SpiSession::execute with
// read_only = true) read the latest committed data rather than the
// transaction's snapshot: caches that outlive the transaction must not be
// filled from a REPEATABLE READ snapshot.
class LatestSnapshot {
public:
    LatestSnapshot();
    ~LatestSnapshot();
    LatestSnapshot(const LatestSnapshot&) = delete;
    LatestSnapshot& operator=(const LatestSnapshot&) = delete;
};

// OwnWritesSnapshot makes read-only queries of its scope see what this
// transaction's earlier commands wrote, which the statement's snapshot does
// not (a trigger's decision after another trigger updated the customer).
class OwnWritesSnapshot {
public:
    OwnWritesSnapshot();
    ~OwnWritesSnapshot();
    OwnWritesSnapshot(const OwnWritesSnapshot&) = delete;
    OwnWritesSnapshot& operator=(const OwnWritesSnapshot&) = delete;
};

// StatementSnapshot gives reads of its scope that take the active snapshot
// (IndexedRows) what a query SpiSession::execute runs with read_only = false
// sees: a new snapshot in READ COMMITTED (the transaction's in REPEATABLE
// READ), with this transaction's writes so far.
class StatementSnapshot {
public:
    StatementSnapshot();
    ~StatementSnapshot();
    StatementSnapshot(const StatementSnapshot&) = delete;
    StatementSnapshot& operator=(const StatementSnapshot&) = delete;
};

// CommittedSnapshot is LatestSnapshot without this transaction's own writes
// (its command id is the first, so rows the transaction wrote are not seen
// yet and rows it deleted still are): what other transactions see.
class CommittedSnapshot {
public:
    CommittedSnapshot();
    ~CommittedSnapshot();
    CommittedSnapshot(const CommittedSnapshot&) = delete;
    CommittedSnapshot& operator=(const CommittedSnapshot&) = delete;
};

}  // namespace kaireon::pg

// direct_insert.h - one row inserted (or upserted) into a kaireon table
// without the executor, as indexed_rows.h reads rows without it.
//
// For the rows the hot paths write on every call (a response's interaction
// and its idempotency key, a decision, an audit record, a usage event and
// its slot): an INSERT through SPI spends about as many instructions
// starting, running and ending its plan as storing the row and its index
// entries (docs/performance.md, "Rows written without the executor").
// insert_row does what INSERT does for a table as the extension made it: the
// columns not given get their defaults (identity and clock included), the
// row goes to its partition (or fails as INSERT does when none takes it),
// NOT NULL and CHECK constraints are checked with INSERT's errors, the tuple
// and its index entries are stored (a unique index refuses a duplicate,
// waiting for a racing transaction as INSERT does), and the next command of
// the transaction sees the row.
//
// Where INSERT would do more, insert_row runs the INSERT statement itself,
// through SPI, with the same values: a table or partition with an INSERT
// trigger (but the one the caller names as its own), a rule or a stored
// generated column, a partition that is not a plain table, a deferrable
// unique index, or a calling role who may not insert into the table or whose
// inserts its policies would check.
#pragma once
#include "pg/postgres_headers.h"
#include "pg/spi.h"

#include <initializer_list>
#include <span>

namespace kaireon::pg {

// ColumnValue is one column of the row: its value of the column's type, or
// text that the column's type reads (as `$n::type` would).
struct ColumnValue {
    const char* column;
    SpiArg value;
};

enum class InsertPath { Direct, Statement };

// Returned is a column of the inserted row, in the caller's memory context.
struct Returned {
    Datum value = 0;
    bool is_null = true;
};

// InsertExtras: the columns to read back from the row (as RETURNING would,
// defaults included) into `returned` (returning.size() of them), and a
// statement trigger of the table whose work the caller does itself for a
// row written directly (the INSERT statement fires it as usual).
struct InsertExtras {
    std::span<const char* const> returning = {};
    Returned* returned = nullptr;
    const char* callers_trigger = nullptr;
};

inline constexpr size_t kMaxInsertColumns = 24;

// insert_row inserts one row into kaireon.`table` and tells how.
InsertPath insert_row(const char* table, std::span<const ColumnValue> row, const InsertExtras& extras = {});
inline InsertPath insert_row(const char* table, std::initializer_list<ColumnValue> row,
                             const InsertExtras& extras = {}) {
    return insert_row(table, std::span(row.begin(), row.size()), extras);
}

// UpsertMerge makes the values an existing row is updated to: `row` (the
// given columns' values, in their order) holds what an insert would write
// and becomes the update; `stored` (same order) is what the row holds. It
// runs inside pg_call: PostgreSQL calls only, no C++ object that needs
// destroying.
using UpsertMerge = void (*)(const Datum* stored, const bool* stored_nulls, Datum* row, bool* row_nulls,
                             void* context);

// upsert_row is INSERT ... ON CONFLICT (primary key) DO UPDATE for a plain
// table: the row whose primary key equals the given key columns (all of
// them given) is found, locked (waiting for a transaction that writes it)
// and updated to the merge, or the row is inserted when there is none. It
// returns false, having written nothing, where insert_row would run the
// statement (and for an UPDATE trigger, a role that may not select, insert
// and update): the caller then runs its own statement. It is for rows that
// no two transactions insert at once (a backend's usage slot): an insert
// racing in after the search fails on the unique index, where the statement
// would update. And unlike the statement in REPEATABLE READ, it merges into
// the latest committed row rather than refuse one its snapshot does not see.
bool upsert_row(const char* table, std::span<const ColumnValue> row, UpsertMerge merge, void* context);

}  // namespace kaireon::pg

// indexed_rows.h - the rows of a kaireon table whose leading index columns
// equal given keys, read through that btree index without the executor.
//
// For the small reads by key on every call of the hot paths (a decision's
// customer and consents, a response's idempotency key, a usage report's
// slots): no plan to find, start and end, which cost about as much as the
// index scan itself (docs/performance.md, "Reads by key without the
// executor"). They read what the query would: the rows visible to the
// active snapshot (push one with LatestSnapshot, StatementSnapshot and
// their kin, as for SpiSession), as the current user. Unlike a query they
// apply no row-level security, so they refuse a user whose reads the
// table's policies would filter, and one without SELECT on the table: both
// are internal errors (the extension's functions run as its owner).
#pragma once
#include "pg/postgres_headers.h"
#include "pg/spi.h"

#include <array>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::pg {

class IndexedRows {
public:
    static constexpr size_t kMaxKeys = 4, kMaxColumns = 8;

    // Reads `columns` of the rows of kaireon.`table` found through its btree
    // index kaireon.`index` whose first keys.size() columns equal `keys`
    // (typed as a query's parameters: the column's type, or one its
    // operator family compares with it), in index order.
    IndexedRows(const char* table, const char* index, std::span<const SpiArg> keys,
                std::span<const char* const> columns);
    // The same with text keys.
    IndexedRows(const char* table, const char* index, std::initializer_list<std::string_view> keys,
                std::initializer_list<const char*> columns);

    uint64 rows() const { return rows_; }
    // Accessors by row and by position in `columns` (zero-based), as
    // SpiSession's: the value as text (printed by its type's output
    // function, as SPI_getvalue does), a boolean, a jsonb document, a text[];
    // datum is the value itself (copied into the memory context current
    // when the rows were read).
    bool is_null(uint64 row, int column) const;
    std::optional<std::string> text(uint64 row, int column) const;
    std::optional<bool> boolean(uint64 row, int column) const;
    std::optional<Json> json(uint64 row, int column) const;
    std::optional<std::vector<std::string>> texts(uint64 row, int column) const;
    Datum datum(uint64 row, int column, bool* is_null) const;

private:
    void read(const char* table, const char* index, std::span<const SpiArg> keys, std::span<const char* const> columns);
    Oid type_of(int column) const;
    Datum value(uint64 row, int column, Oid type, bool* is_null) const;

    size_t width_;
    std::array<Oid, kMaxColumns> types_{};  // of each column, checked by the accessors
    uint64 rows_ = 0;
    std::vector<Datum> values_;  // rows_ * width_, copied out of the buffers
    std::vector<bool> nulls_;
};

}  // namespace kaireon::pg

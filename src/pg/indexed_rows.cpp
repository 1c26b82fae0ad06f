#include "pg/indexed_rows.h"

#include "pg/jsonb.h"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "executor/tuptable.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/rls.h"
}

namespace kaireon::pg {
namespace {

constexpr size_t kMaxKeys = IndexedRows::kMaxKeys;
constexpr size_t kMaxColumns = IndexedRows::kMaxColumns;

// Found is what the scan copied out, in the caller's memory context:
// palloc'd arrays (the scan runs where a C++ allocation must not throw).
struct Found {
    Datum* values = nullptr;
    bool* nulls = nullptr;
    uint64 rows = 0;
};

// scan runs inside pg_call: PostgreSQL errors only.
Found scan(const char* table, const char* index_name, const SpiArg* keys, size_t nkeys, const char* const* columns,
           size_t width, Oid* types) {
    Oid relid = kaireon_relation(table);
    Oid index_id = kaireon_relation(index_name);
    // What a query would check: SELECT on the table, and policies that
    // would filter the rows (which this read does not apply).
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
        check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
        elog(ERROR, "kaireon: kaireon.%s is read directly only by a role that may read all of it", table);

    Relation heap = table_open(relid, AccessShareLock);
    Relation index = index_open(index_id, AccessShareLock);
    if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_index->indrelid != relid ||
        index->rd_rel->relam != BTREE_AM_OID ||
        static_cast<size_t>(IndexRelationGetNumberOfKeyAttributes(index)) < nkeys)
        elog(ERROR, "kaireon: kaireon.%s is not a btree index of kaireon.%s with %zu key columns", index_name, table,
             nkeys);
    ScanKeyData scan_keys[kMaxKeys];
    for (size_t i = 0; i < nkeys; ++i) {
        const SpiArg& key = keys[i];
        const Oid column_type = index->rd_opcintype[i];
        RegProcedure equal = InvalidOid;
        if (key.type == TEXTOID && column_type == TEXTOID) {
            equal = F_TEXTEQ;  // most keys: no lookup
        } else {
            Oid op = get_opfamily_member(index->rd_opfamily[i], column_type, key.type, BTEqualStrategyNumber);
            if (OidIsValid(op)) equal = get_opcode(op);
        }
        if (key.is_null || !RegProcedureIsValid(equal))
            elog(ERROR, "kaireon: key %zu of kaireon.%s is null or of type %s, not comparable with its column", i + 1,
                 index_name, format_type_be(key.type));
        ScanKeyEntryInitialize(&scan_keys[i], 0, static_cast<AttrNumber>(i + 1), BTEqualStrategyNumber,
                               key.type == column_type ? InvalidOid : key.type, index->rd_indcollation[i], equal,
                               key.value);
    }
    TupleDesc desc = RelationGetDescr(heap);
    AttrNumber attnums[kMaxColumns];
    for (size_t c = 0; c < width; ++c) {
        attnums[c] = kaireon_column(desc, table, columns[c]);
        types[c] = TupleDescAttr(desc, attnums[c] - 1)->atttypid;
    }

    if (!ActiveSnapshotSet()) elog(ERROR, "kaireon: kaireon.%s read without a snapshot", table);
    Found found;
    uint64 capacity = 4;
    found.values = static_cast<Datum*>(palloc(sizeof(Datum) * width * capacity));
    found.nulls = static_cast<bool*>(palloc(sizeof(bool) * width * capacity));
    TupleTableSlot* slot = table_slot_create(heap, nullptr);
    IndexScanDesc index_scan = index_beginscan(heap, index, GetActiveSnapshot(), static_cast<int>(nkeys), 0);
    index_rescan(index_scan, scan_keys, static_cast<int>(nkeys), nullptr, 0);
    while (index_getnext_slot(index_scan, ForwardScanDirection, slot)) {
        if (found.rows == capacity) {
            capacity *= 2;
            found.values = static_cast<Datum*>(repalloc(found.values, sizeof(Datum) * width * capacity));
            found.nulls = static_cast<bool*>(repalloc(found.nulls, sizeof(bool) * width * capacity));
        }
        for (size_t c = 0; c < width; ++c) {
            const size_t at = found.rows * width + c;
            Form_pg_attribute attr = TupleDescAttr(desc, attnums[c] - 1);
            Datum value = slot_getattr(slot, attnums[c], &found.nulls[at]);
            // Copied: the slot's tuple lives in a buffer released below.
            found.values[at] = found.nulls[at] ? 0 : datumCopy(value, attr->attbyval, attr->attlen);
        }
        ++found.rows;
    }
    index_endscan(index_scan);
    ExecDropSingleTupleTableSlot(slot);
    index_close(index, NoLock);
    table_close(heap, NoLock);
    return found;
}

}  // namespace

IndexedRows::IndexedRows(const char* table, const char* index, std::span<const SpiArg> keys,
                         std::span<const char* const> columns)
    : width_(columns.size()) {
    read(table, index, keys, columns);
}

IndexedRows::IndexedRows(const char* table, const char* index, std::initializer_list<std::string_view> keys,
                         std::initializer_list<const char*> columns)
    : width_(columns.size()) {
    if (keys.size() > kMaxKeys) throw Error(ErrorCode::Internal, "IndexedRows: 1 to 4 keys and 1 to 8 columns");
    std::array<SpiArg, kMaxKeys> args;
    size_t n = 0;
    for (std::string_view key : keys) args[n++] = text_arg(key);
    read(table, index, std::span(args.data(), n), std::span(columns.begin(), columns.size()));
}

void IndexedRows::read(const char* table, const char* index, std::span<const SpiArg> keys,
                       std::span<const char* const> columns) {
    if (keys.empty() || keys.size() > kMaxKeys || width_ == 0 || width_ > kMaxColumns)
        throw Error(ErrorCode::Internal, "IndexedRows: 1 to 4 keys and 1 to 8 columns");
    const Found found =
        pg_call([&] { return scan(table, index, keys.data(), keys.size(), columns.data(), width_, types_.data()); });
    rows_ = found.rows;
    values_.assign(found.values, found.values + rows_ * width_);
    nulls_.assign(found.nulls, found.nulls + rows_ * width_);
}

Oid IndexedRows::type_of(int column) const {
    if (column < 0 || static_cast<size_t>(column) >= width_)
        throw Error(ErrorCode::Internal, "IndexedRows access out of range");
    return types_[static_cast<size_t>(column)];
}

Datum IndexedRows::value(uint64 row, int column, Oid type, bool* is_null) const {
    if (row >= rows_) throw Error(ErrorCode::Internal, "IndexedRows access out of range");
    if (type_of(column) != type)
        throw Error(ErrorCode::Internal, "IndexedRows: column " + std::to_string(column) + " read as another type");
    const size_t at = row * width_ + static_cast<size_t>(column);
    *is_null = nulls_[at];
    return values_[at];
}

Datum IndexedRows::datum(uint64 row, int column, bool* is_null) const {
    return value(row, column, type_of(column), is_null);
}

bool IndexedRows::is_null(uint64 row, int column) const {
    bool null = false;
    value(row, column, type_of(column), &null);
    return null;
}

std::optional<std::string> IndexedRows::text(uint64 row, int column) const {
    const Oid type = type_of(column);
    bool null = false;
    Datum datum = value(row, column, type, &null);
    if (null) return std::nullopt;
    if (type == TEXTOID) return text_from_datum(datum);
    return std::string(pg_call([&] {
        Oid output = InvalidOid;
        bool varlena = false;
        getTypeOutputInfo(type, &output, &varlena);
        return OidOutputFunctionCall(output, datum);
    }));
}

std::optional<bool> IndexedRows::boolean(uint64 row, int column) const {
    bool null = false;
    Datum datum = value(row, column, BOOLOID, &null);
    if (null) return std::nullopt;
    return DatumGetBool(datum);
}

std::optional<Json> IndexedRows::json(uint64 row, int column) const {
    bool null = false;
    Datum datum = value(row, column, JSONBOID, &null);
    if (null) return std::nullopt;
    // What the extension stored was checked on its way in.
    return json_from_jsonb(datum, "column", kCatalogJsonLimits);
}

std::optional<std::vector<std::string>> IndexedRows::texts(uint64 row, int column) const {
    bool null = false;
    Datum datum = value(row, column, TEXTARRAYOID, &null);
    if (null) return std::nullopt;
    return texts_from_datum(datum);
}

}  // namespace kaireon::pg

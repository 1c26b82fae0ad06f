// selftest.cpp - functions that prove the C++/PostgreSQL boundary holds.
// The extension script does not create them; the regression test binds them
// (CREATE FUNCTION ... AS 'kaireon', 'kaireon_selftest_...') in a scratch
// schema, so a production database never sees them.
#include "core/catalog.h"
#include "core/error.h"

#include "pg/catalog_state.h"
#include "pg/direct_insert.h"
#include "pg/guard.h"
#include "pg/indexed_rows.h"
#include "pg/jsonb.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"
#include "pg/xact_state.h"

#include <malloc.h>

extern "C" {
#include "utils/jsonb.h"
}

#include <algorithm>
#include <cstring>
#include <random>

#include <new>
#include <string>
#include <vector>

namespace {

// Tracked owns heap memory and counts live instances: if an error ever
// skipped a destructor, live_objects stays above zero and the heap grows.
int g_live_objects = 0;

struct Tracked {
    std::string payload = std::string(1024, 'x');
    std::vector<int> numbers = std::vector<int>(256, 7);
    Tracked() { ++g_live_objects; }
    ~Tracked() { --g_live_objects; }
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
};

void fail(const std::string& kind) {
    if (kind == "kaireon") {
        throw kaireon::Error(kaireon::ErrorCode::BadRequest, "selftest: deep kaireon error",
                             kaireon::Json{{"depth", "bottom"}}, "selftest hint");
    }
    if (kind == "std") throw std::runtime_error("selftest: deep std::runtime_error");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "pg") {
        kaireon::pg::pg_call([] {
            ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("selftest: PostgreSQL error inside C++")));
        });
    }
    if (kind == "spi") {
        kaireon::pg::SpiSession spi;
        Tracked inside_spi;
        spi.execute("SELECT 1 / (random() * 0)::int", {}, true);
    }
    if (kind == "none") return;
    throw kaireon::Error(kaireon::ErrorCode::BadRequest, "selftest: unknown kind \"" + kind + "\"");
}

int descend(int depth, const std::string& kind) {
    Tracked here;
    if (depth <= 0) {
        fail(kind);
        return 0;
    }
    return 1 + descend(depth - 1, kind);
}

// Per-transaction notes, cleared by the transaction callbacks.
class SelftestNotes final : public kaireon::pg::XactState {
public:
    struct Note {
        SubTransactionId subxact;
        std::string note;
    };
    std::vector<Note> notes;

    void reset_at_end(bool) noexcept override { notes.clear(); }
    void reset_subxact(SubTransactionId subxact) noexcept override {
        std::erase_if(notes, [&](const Note& note) { return note.subxact >= subxact; });
    }
};

SelftestNotes& selftest_notes() { return kaireon::pg::registered_state<SelftestNotes>(); }

}  // namespace

// kaireon_selftest_throw(depth int, kind text) returns depth when kind is
// 'none'; otherwise it raises from `depth` C++ frames down, each owning heap
// memory: 'kaireon' (a catalog error), 'std', 'bad_alloc', 'pg' (ereport
// inside pg_call) or 'spi' (a failing query inside an SPI session).
KAIREON_FUNCTION(kaireon_selftest_throw) {
    int depth = PG_GETARG_INT32(0);
    std::string kind = kaireon::pg::text_from_datum(PG_GETARG_DATUM(1));
    if (depth < 0 || depth > 10000) kaireon::throw_bad_request("depth must be between 0 and 10000");
    PG_RETURN_INT32(descend(depth, kind));
}

// kaireon_selftest_live_objects returns how many Tracked objects are alive.
KAIREON_FUNCTION(kaireon_selftest_live_objects) { PG_RETURN_INT32(g_live_objects); }

// kaireon_selftest_heap_bytes returns the bytes malloc has handed out and not
// taken back (PostgreSQL's memory contexts included).
KAIREON_FUNCTION(kaireon_selftest_heap_bytes) {
    struct mallinfo2 info = mallinfo2();
    PG_RETURN_INT64(static_cast<int64>(info.uordblks + info.hblkhd));
}

// kaireon_selftest_xact_note(text) adds a per-transaction note and returns
// how many the transaction holds.
KAIREON_FUNCTION(kaireon_selftest_xact_note) {
    auto& state = selftest_notes();
    std::string note = kaireon::pg::text_from_datum(PG_GETARG_DATUM(0));
    state.notes.push_back({GetCurrentSubTransactionId(), std::move(note)});
    PG_RETURN_INT32(static_cast<int32>(state.notes.size()));
}

// kaireon_selftest_xact_notes returns how many notes the transaction holds.
KAIREON_FUNCTION(kaireon_selftest_xact_notes) {
    PG_RETURN_INT32(static_cast<int32>(selftest_notes().notes.size()));
}

// kaireon_selftest_bump_stat(tenant text, stat text, delta int8) adds delta to
// a kaireon.stats counter and returns delta.
KAIREON_FUNCTION(kaireon_selftest_bump_stat) {
    std::string tenant = kaireon::pg::text_from_datum(PG_GETARG_DATUM(0));
    std::string stat = kaireon::pg::text_from_datum(PG_GETARG_DATUM(1));
    int64 delta = PG_GETARG_INT64(2);
    for (int i = 0; i < kaireon::pg::kStatCount; ++i) {
        auto which = static_cast<kaireon::pg::Stat>(i);
        if (stat == kaireon::pg::stat_name(which)) {
            kaireon::pg::stat_add(tenant, which, static_cast<uint64_t>(delta));
            PG_RETURN_INT64(delta);
        }
    }
    kaireon::throw_bad_request("unknown stat \"" + stat + "\"");
}

namespace {

// wide: now and then a container of more members than JB_OFFSET_STRIDE
// (jsonb stores an offset every 32nd), of scalars only.
bool wide(std::mt19937_64& rng, int depth) { return depth == 1 && rng() % 8 == 0; }

// random_json makes a document of the shapes the API answers with, and the
// awkward values: big and negative integers, doubles of any bit pattern
// (NaN, infinities, subnormals), strings with escapes, non-ASCII and
// invalid UTF-8 (also after eight ASCII bytes), empty containers, nesting,
// a key twice. (Not NUL: jsonb_in refuses \u0000, and a PostgreSQL error
// ends the call.)
kaireon::Json random_json(std::mt19937_64& rng, int depth) {
    const int pick = static_cast<int>(rng() % (depth > 0 ? 10 : 7));
    switch (pick) {
        case 0: return nullptr;
        case 1: return rng() % 2 == 0;
        case 2: {  // small integers (counts, ranks) as often as any; limits' round numbers
            static const int64_t edges[] = {0, 9999, 10000, -20000, 10001, 100000000, 1000000000000, INT64_MIN, INT64_MAX};
            if (rng() % 4 == 0) return edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
            if (rng() % 2 == 0) return static_cast<int64_t>(rng() % 2001) - 1000;
            return static_cast<int64_t>(rng());
        }
        case 3: return rng() % 4 == 0 ? UINT64_MAX : static_cast<uint64_t>(rng());
        case 4: {
            double value = 0;
            const uint64_t bits = rng();
            memcpy(&value, &bits, sizeof(value));
            if (rng() % 2 == 0) value = static_cast<double>(static_cast<int64_t>(rng() % 2000000) - 1000000) / 100.0;
            // Where the digits' text changes form (exponents, "123.0", zeros).
            static const double edges[] = {0.0, -0.0, 0.1, 1e-4, 1e-5, 1e15, 1e16, 1e20, -1e-7, 123456789012345678.0,
                                           0.33181222783183395, 5e-324, 2.2250738585072014e-308,
                                           1.7976931348623157e308, -1.7976931348623157e308, 99.999999999999};
            if (rng() % 4 == 0) value = edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
            return value;
        }
        case 5:
        case 6: {
            static const char* pieces[] = {"a", "Zz", "\"", "\\", "\n", "\t", "\x01", "\x1f", "/", "é", "日本", "😀",
                                           "\xff", "\xc3", "\xed\xa0\x80", "", "0.5", " ", "offer-0123456789"};
            std::string text;
            const int count = static_cast<int>(rng() % 6);
            for (int i = 0; i < count; ++i) {
                const size_t which = rng() % (sizeof(pieces) / sizeof(pieces[0]));
                // Invalid UTF-8 and NUL rarely, so most documents take the direct path.
                if (which >= 12 && which <= 14 && rng() % 8 != 0) continue;
                text += pieces[which];
            }
            return text;
        }
        case 7:
        case 8: {
            kaireon::Json object = kaireon::Json::object();
            const int count = wide(rng, depth) ? 17 + static_cast<int>(rng() % 30) : static_cast<int>(rng() % 6);
            for (int i = 0; i < count; ++i) {
                // (A wide object's keys are many, and rarely invalid UTF-8.)
                std::string key = "k" + std::to_string(rng() % (count > 12 ? 64 : 12)) +
                                  (rng() % (count > 12 ? 256 : 16) == 0 ? std::string("\xc3") : std::string());
                // Now and then a key again, as a second member (the dump
                // prints both; jsonb keeps the last).
                if (rng() % 8 == 0)
                    object.get_ref<kaireon::Json::object_t&>().emplace_back(std::move(key), random_json(rng, depth - 1));
                else
                    object[key] = random_json(rng, depth - 1);
            }
            return object;
        }
        default: {
            kaireon::Json array = kaireon::Json::array();
            const int count = wide(rng, depth) ? 30 + static_cast<int>(rng() % 40) : static_cast<int>(rng() % 6);
            for (int i = 0; i < count; ++i) array.push_back(random_json(rng, depth - 1));
            return array;
        }
    }
}

// count_differing makes `documents` (argument 1) random objects and arrays
// from `seed` (argument 0), nested up to `depth`, and counts those that
// `differ(document, i)` finds read or built differently by two paths.
int count_differing(FunctionCallInfo fcinfo, int depth, auto&& differ) {
    std::mt19937_64 rng(static_cast<uint64_t>(PG_GETARG_INT64(0)));
    const int documents = PG_GETARG_INT32(1);
    if (documents < 0 || documents > 1000000) kaireon::throw_bad_request("documents must be between 0 and 1000000");
    int count = 0;
    for (int i = 0; i < documents; ++i) {
        kaireon::Json document = random_json(rng, depth);
        if (!document.is_object() && !document.is_array()) document = kaireon::Json::array({document});
        if (differ(document, i)) ++count;
    }
    return count;
}

}  // namespace

// kaireon_selftest_jsonb_paths(seed int8, documents int) builds `documents`
// random objects and arrays both ways (jsonb_datum, and the dump through
// jsonb_in) and returns how many differ in a byte of the jsonb (numeric
// scales, layout and all), not just in jsonb equality.
KAIREON_FUNCTION(kaireon_selftest_jsonb_paths) {
    PG_RETURN_INT32(count_differing(fcinfo, 4, [](const kaireon::Json& document, int) {
        const Datum direct = kaireon::pg::jsonb_datum(document);
        const Datum via_text = kaireon::pg::jsonb_datum_via_text(document);
        const auto* a = DatumGetPointer(direct);
        const auto* b = DatumGetPointer(via_text);
        return VARSIZE_ANY(a) != VARSIZE_ANY(b) || memcmp(a, b, VARSIZE_ANY(a)) != 0;
    }));
}

// kaireon_selftest_jsonb_reads(seed int8, documents int) reads `documents`
// random jsonb documents back both ways (json_from_jsonb, and the text
// through parse_json), one in three under tight limits (256 bytes, depth
// 3), and returns how many differ: in the Json's dump, or in the refusal.
KAIREON_FUNCTION(kaireon_selftest_jsonb_reads) {
    PG_RETURN_INT32(count_differing(fcinfo, 5, [](const kaireon::Json& document, int i) {
        const Datum jsonb = kaireon::pg::jsonb_datum_via_text(document);
        const kaireon::JsonLimits limits = i % 3 == 0 ? kaireon::JsonLimits{256, 3} : kaireon::JsonLimits{};
        auto read = [&](auto&& reader) -> std::string {
            try {
                return reader(jsonb, "document", limits).dump();
            } catch (const kaireon::Error& e) {
                return std::string("refused: ") + e.what();
            }
        };
        return read(kaireon::pg::json_from_jsonb) != read(kaireon::pg::json_from_jsonb_via_text);
    }));
}

// kaireon_selftest_indexed_rows(table text, index text, keys text[],
// columns text[]) returns jsonb: the rows IndexedRows reads (as the
// calling role), each an array of the columns as text (null when NULL).
KAIREON_FUNCTION(kaireon_selftest_indexed_rows) {
    const std::string table = kaireon::pg::text_from_datum(PG_GETARG_DATUM(0));
    const std::string index = kaireon::pg::text_from_datum(PG_GETARG_DATUM(1));
    const std::vector<std::string> keys = kaireon::pg::texts_from_datum(PG_GETARG_DATUM(2));
    const std::vector<std::string> columns = kaireon::pg::texts_from_datum(PG_GETARG_DATUM(3));
    std::vector<kaireon::pg::SpiArg> key_args;
    for (const auto& key : keys) key_args.push_back(kaireon::pg::text_arg(key));
    std::vector<const char*> column_names;
    for (const auto& column : columns) column_names.push_back(column.c_str());
    const kaireon::pg::IndexedRows rows(table.c_str(), index.c_str(), key_args, column_names);
    kaireon::Json out = kaireon::Json::array();
    for (uint64 row = 0; row < rows.rows(); ++row) {
        kaireon::Json values = kaireon::Json::array();
        for (size_t column = 0; column < columns.size(); ++column) {
            auto text = rows.text(row, static_cast<int>(column));
            values.push_back(text ? kaireon::Json(*text) : kaireon::Json(nullptr));
        }
        out.push_back(std::move(values));
    }
    return kaireon::pg::jsonb_datum(out);
}

// kaireon_selftest_insert_row(table text, row jsonb) returns text: inserts
// the row (an object of column names and their values as text, or null)
// with insert_row, and tells how it was written ("direct" or "statement").
KAIREON_FUNCTION(kaireon_selftest_insert_row) {
    const std::string table = kaireon::pg::text_from_datum(PG_GETARG_DATUM(0));
    const kaireon::Json row = kaireon::pg::json_from_jsonb(PG_GETARG_DATUM(1), "row");
    if (!row.is_object()) throw kaireon::Error(kaireon::ErrorCode::BadRequest, "selftest: row must be an object");
    std::vector<std::string> names;
    std::vector<kaireon::pg::ColumnValue> columns;
    names.reserve(row.size());
    for (const auto& [name, value] : row.items()) {
        names.push_back(name);
        columns.push_back({names.back().c_str(), value.is_null() ? kaireon::pg::null_text_arg()
                                                 : kaireon::pg::text_arg(value.is_string() ? value.get<std::string>()
                                                                                           : value.dump())});
    }
    const auto path = kaireon::pg::insert_row(table.c_str(), columns);
    return kaireon::pg::text_datum(path == kaireon::pg::InsertPath::Direct ? "direct" : "statement");
}

// kaireon_selftest_catalog_rows(entity text) returns int: the current
// tenant's rows of the catalog entity (its document key), read column by
// column (read_catalog_rows) and through to_jsonb(row) (the reference);
// their count when both dump alike (3 and 3.0 differ), else an error with
// the first row that differs.
KAIREON_FUNCTION(kaireon_selftest_catalog_rows) {
    const std::string key = kaireon::pg::text_from_datum(PG_GETARG_DATUM(0));
    const kaireon::catalog::Entity* entity = kaireon::catalog::find_entity(key);
    if (entity == nullptr) throw kaireon::Error(kaireon::ErrorCode::BadRequest, "selftest: no entity " + key);
    const std::string tenant = kaireon::pg::require_current_tenant();
    kaireon::pg::SpiSession spi;
    const std::vector<kaireon::Json> direct = kaireon::pg::read_catalog_rows(spi, *entity, tenant);
    const std::vector<kaireon::Json> reference = kaireon::pg::read_catalog_rows_as_jsonb(spi, *entity, tenant);
    for (size_t i = 0; i < std::max(direct.size(), reference.size()); ++i) {
        const std::string a = i < direct.size() ? direct[i].dump() : "(none)";
        const std::string b = i < reference.size() ? reference[i].dump() : "(none)";
        if (a != b)
            throw kaireon::Error(kaireon::ErrorCode::Internal,
                                 "selftest: " + key + " row " + std::to_string(i) + " read " + a + ", to_jsonb " + b);
    }
    PG_RETURN_INT32(static_cast<int32>(direct.size()));
}

// selftest.cpp - functions that prove the C++/PostgreSQL boundary holds.
// The extension script does not create them; the regression test binds them
// (CREATE FUNCTION ... AS 'kaireon', 'kaireon_selftest_...') in a scratch
// schema, so a production database never sees them.
#include "core/error.h"

#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/xact_state.h"

#include <malloc.h>

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

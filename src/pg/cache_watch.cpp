#include "pg/cache_watch.h"

#include "pg/guard.h"

namespace kaireon::pg {
namespace {

constexpr size_t kMaxWatches = 16;
std::array<CacheWatch*, kMaxWatches> g_watches{};
size_t g_watch_count = 0;

}  // namespace

CacheWatch::CacheWatch(std::initializer_list<const char*> tables, void (*clear)() noexcept) : clear_(clear) {
    for (const char* table : tables) {
        if (count_ < kMaxTables) tables_[count_++] = table;
    }
    if (g_watch_count < kMaxWatches) g_watches[g_watch_count++] = this;
}

void CacheWatch::resolve() {
    if (count_ == 0 || relids_[0] != InvalidOid) return;
    Oid schema = pg_call([] { return get_namespace_oid("kaireon", true); });
    for (size_t i = 0; i < count_; ++i) {
        Oid relid = schema == InvalidOid ? InvalidOid : pg_call([&] { return get_relname_relid(tables_[i], schema); });
        if (relid == InvalidOid) {
            relids_.fill(InvalidOid);
            throw Error(ErrorCode::Internal, "the kaireon extension is not installed in this database (or is older than this library)",
                        Json::object(), "CREATE EXTENSION kaireon; or ALTER EXTENSION kaireon UPDATE;");
        }
        relids_[i] = relid;
    }
}

void on_relcache_invalidation(Datum, Oid relid) {
    for (size_t w = 0; w < g_watch_count; ++w) {
        CacheWatch* watch = g_watches[w];
        bool hit = relid == InvalidOid;
        for (size_t i = 0; !hit && i < watch->count_; ++i) hit = watch->relids_[i] == relid;
        if (hit) {
            ++watch->generation_;
            watch->clear_();
            watch->relids_.fill(InvalidOid);  // the extension may have been dropped and created again
        }
    }
}

void invalidate_all_watched() {
    const Oid schema = pg_call([] { return get_namespace_oid("kaireon", true); });
    for (size_t w = 0; w < g_watch_count; ++w) {
        CacheWatch* watch = g_watches[w];
        for (size_t i = 0; i < watch->count_; ++i) {
            // Looked up afresh (not resolve()): a watch of a table this
            // schema does not have yet is skipped, not an error.
            Oid relid = schema == InvalidOid ? InvalidOid
                                             : pg_call([&] { return get_relname_relid(watch->tables_[i], schema); });
            if (relid != InvalidOid) pg_call([&] { CacheInvalidateRelcacheByRelid(relid); });
        }
    }
}

void cache_watch_init() { CacheRegisterRelcacheCallback(on_relcache_invalidation, 0); }

}  // namespace kaireon::pg

// cache_watch.h - per-backend caches built from kaireon tables, dropped when
// those tables change.
//
// The tables carry the statement trigger kaireon._invalidate_caches(), which
// sends a relcache invalidation; every backend receives it after the change
// commits and calls the `clear` function of each watch on that table (also on
// a full cache reset). A module calls resolve() before it fills its cache, so
// the relation ids are known whenever there is something to clear.
#pragma once
#include "pg/postgres_headers.h"

#include <array>
#include <cstdint>
#include <initializer_list>

namespace kaireon::pg {

void on_relcache_invalidation(Datum, Oid relid);

class CacheWatch {
public:
    static constexpr size_t kMaxTables = 4;

    // CacheWatch watches `tables` of schema kaireon; `clear` must not throw or
    // touch the catalogs. Instances have static storage duration.
    CacheWatch(std::initializer_list<const char*> tables, void (*clear)() noexcept);

    // resolve looks up the relation ids (if not known yet) and throws when the
    // extension is not installed in this database.
    void resolve();

    // relid returns the id of the i-th table (after resolve()).
    Oid relid(size_t i) const { return relids_[i]; }

    // generation counts the invalidations seen. A loader notes it before it
    // reads (under LatestSnapshot) and caches what it read only when it is
    // unchanged after: a change committed meanwhile may be missing from the
    // read, and its invalidation may already have been processed.
    uint64_t generation() const { return generation_; }

private:
    friend void on_relcache_invalidation(Datum, Oid);
    friend void invalidate_all_watched();
    std::array<const char*, kMaxTables> tables_{};
    std::array<Oid, kMaxTables> relids_{};
    size_t count_ = 0;
    uint64_t generation_ = 0;
    void (*clear_)() noexcept;
};

// invalidate_all_watched sends, at commit, a relcache invalidation for every
// watched table, so that every backend drops every kaireon cache: for rows
// written with triggers off (a tenant moved in, session_replication_role =
// replica), which fire no invalidation of their own.
void invalidate_all_watched();

// cache_watch_init registers the relcache callback (from _PG_init).
void cache_watch_init();

}  // namespace kaireon::pg

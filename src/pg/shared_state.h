// shared_state.h - kaireon's shared memory: one slot per (database, tenant)
// holding the counters behind kaireon.stats and the catalog generation that
// tells every backend its compiled catalog is stale.
//
// Requested the PostgreSQL 15 way (shmem_request_hook), so kaireon must be in
// shared_preload_libraries. Slots are created on first use and kept until
// restart; when the table is full, a tenant shares its database's overflow
// slot (counters merge; generations become coarser, never wrong).
#pragma once
#include "pg/postgres_headers.h"

#include <cstdint>
#include <string_view>

namespace kaireon::pg {

// The counters of kaireon.stats, in column order.
enum class Stat : int {
    Decisions,
    EmptyDecisions,
    QuotaRefusals,
    LicenseFailures,
    TraceDrops,
    CacheHits,
    CacheMisses,
    UsageRefusals,        // report_usage / bulk loads refused at a hard limit (KR429)
    EntitlementRefusals,  // require_feature and reports refused FEATURE_NOT_ENTITLED (KR403)
    Count_,  // number of counters
};
inline constexpr int kStatCount = static_cast<int>(Stat::Count_);

// stat_name returns the kaireon.stats column of `stat`.
const char* stat_name(Stat stat);

// stat_add adds `delta` to a counter of `tenant` in the current database
// (tenant "" = the database as a whole). Lock-free after the first call for
// a tenant in this backend.
void stat_add(std::string_view tenant, Stat stat, uint64_t delta = 1);

// catalog_generation returns the tenant's catalog generation;
// bump_catalog_generation advances it (call it when the catalog changes).
uint64_t catalog_generation(std::string_view tenant);
void bump_catalog_generation(std::string_view tenant);

struct TenantStats {
    char tenant[64];
    uint64_t counters[kStatCount];
};

// snapshot_stats copies the current database's slots into `out` (at most
// `capacity`) and returns how many it copied.
size_t snapshot_stats(TenantStats* out, size_t capacity);

// max_tenant_slots returns the configured size of the slot table.
int max_tenant_slots();

// shared_state_init requests shared memory and installs the hooks (from
// _PG_init, while shared_preload_libraries is being processed).
void shared_state_init();

}  // namespace kaireon::pg

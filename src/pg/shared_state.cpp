#include "core/tenant.h"

#include "pg/shared_state.h"

#include "pg/guard.h"

#include <cstring>
#include <string>
#include <unordered_map>

extern "C" {
#include "port/atomics.h"
#include "utils/hsearch.h"
}

namespace kaireon::pg {
namespace {

constexpr const char* kTrancheName = "kaireon";
constexpr int kOverflowSlots = 64;  // one per database that overflows

struct SlotKey {
    Oid database;
    char tenant[kMaxTenantIdLength + 1];  // NUL-padded, so the key hashes as a blob
};

struct Slot {
    SlotKey key;  // must be first: the hash table's key
    pg_atomic_uint64 counters[kStatCount];
    pg_atomic_uint64 catalog_generation;
};

struct SharedHeader {
    LWLock* lock;  // guards the hash table's shape, not the counters
};

int g_max_tenants = 1000;
SharedHeader* g_header = nullptr;
HTAB* g_slots = nullptr;
shmem_request_hook_type g_prev_shmem_request = nullptr;
shmem_startup_hook_type g_prev_shmem_startup = nullptr;

// Slots never move or disappear until restart, so a backend keeps pointers.
std::unordered_map<std::string, Slot*>& local_slots() {
    static std::unordered_map<std::string, Slot*> slots;
    return slots;
}

Size shared_size() {
    return add_size(MAXALIGN(sizeof(SharedHeader)), hash_estimate_size(g_max_tenants + kOverflowSlots, sizeof(Slot)));
}

void on_shmem_request() {
    if (g_prev_shmem_request) g_prev_shmem_request();
    RequestAddinShmemSpace(shared_size());
    RequestNamedLWLockTranche(kTrancheName, 1);
}

void on_shmem_startup() {
    if (g_prev_shmem_startup) g_prev_shmem_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    g_header = static_cast<SharedHeader*>(ShmemInitStruct("kaireon header", sizeof(SharedHeader), &found));
    if (!found) g_header->lock = &(GetNamedLWLockTranche(kTrancheName))->lock;
    HASHCTL info;
    memset(&info, 0, sizeof(info));
    info.keysize = sizeof(SlotKey);
    info.entrysize = sizeof(Slot);
    g_slots = ShmemInitHash("kaireon tenant slots", g_max_tenants + kOverflowSlots, g_max_tenants + kOverflowSlots, &info,
                            HASH_ELEM | HASH_BLOBS);
    LWLockRelease(AddinShmemInitLock);
}

void init_slot(Slot* slot) {
    for (auto& counter : slot->counters) pg_atomic_init_u64(&counter, 0);
    pg_atomic_init_u64(&slot->catalog_generation, 1);
}

// find_or_create returns the slot for `key`, creating it; when the table is
// full it returns the database's overflow slot (tenant ""). The table is sized
// kOverflowSlots above max_tenants so that overflow slots still fit.
Slot* find_or_create(const SlotKey& key) {
    LWLockAcquire(g_header->lock, LW_SHARED);
    auto* slot = static_cast<Slot*>(hash_search(g_slots, &key, HASH_FIND, nullptr));
    LWLockRelease(g_header->lock);
    if (slot != nullptr) return slot;

    LWLockAcquire(g_header->lock, LW_EXCLUSIVE);
    bool found = false;
    if (hash_get_num_entries(g_slots) < g_max_tenants) {
        slot = static_cast<Slot*>(hash_search(g_slots, &key, HASH_ENTER_NULL, &found));
        if (slot != nullptr && !found) init_slot(slot);
    } else {
        slot = static_cast<Slot*>(hash_search(g_slots, &key, HASH_FIND, nullptr));
    }
    if (slot == nullptr) {
        SlotKey overflow{};
        overflow.database = key.database;
        slot = static_cast<Slot*>(hash_search(g_slots, &overflow, HASH_ENTER_NULL, &found));
        if (slot != nullptr && !found) init_slot(slot);
    }
    LWLockRelease(g_header->lock);
    return slot;
}

Slot* slot_for(std::string_view tenant) {
    if (g_slots == nullptr) {
        throw Error(ErrorCode::Internal, "kaireon shared memory is not initialised",
                    Json::object(), "Add kaireon to shared_preload_libraries and restart the server.");
    }
    if (tenant.size() > kMaxTenantIdLength) throw_bad_request("tenant id too long");
    std::string local_key = std::to_string(MyDatabaseId) + "/" + std::string(tenant);
    auto& cache = local_slots();
    if (auto it = cache.find(local_key); it != cache.end()) return it->second;

    SlotKey key{};
    key.database = MyDatabaseId;
    memcpy(key.tenant, tenant.data(), tenant.size());
    Slot* slot = pg_call([&] { return find_or_create(key); });
    if (slot == nullptr) {
        throw Error(ErrorCode::Internal, "kaireon shared memory is full",
                    Json::object(), "Raise kaireon.max_tenants and restart the server.");
    }
    cache.emplace(std::move(local_key), slot);
    return slot;
}

}  // namespace

const char* stat_name(Stat stat) {
    static const char* const names[kStatCount] = {
        "decisions",   "empty_decisions", "quota_refusals", "license_failures",
        "trace_drops", "cache_hits",      "cache_misses",   "usage_refusals", "entitlement_refusals",
    };
    return names[static_cast<int>(stat)];
}

void stat_add(std::string_view tenant, Stat stat, uint64_t delta) {
    pg_atomic_fetch_add_u64(&slot_for(tenant)->counters[static_cast<int>(stat)], delta);
}

uint64_t catalog_generation(std::string_view tenant) {
    return pg_atomic_read_u64(&slot_for(tenant)->catalog_generation);
}

void bump_catalog_generation(std::string_view tenant) {
    pg_atomic_fetch_add_u64(&slot_for(tenant)->catalog_generation, 1);
}

size_t snapshot_stats(TenantStats* out, size_t capacity) {
    if (g_slots == nullptr) return 0;
    return pg_call([&] {
        size_t n = 0;
        HASH_SEQ_STATUS scan;
        LWLockAcquire(g_header->lock, LW_SHARED);
        hash_seq_init(&scan, g_slots);
        while (auto* slot = static_cast<Slot*>(hash_seq_search(&scan))) {
            if (slot->key.database != MyDatabaseId) continue;
            if (n == capacity) {
                hash_seq_term(&scan);
                break;
            }
            memcpy(out[n].tenant, slot->key.tenant, sizeof(out[n].tenant));
            for (int i = 0; i < kStatCount; ++i) out[n].counters[i] = pg_atomic_read_u64(&slot->counters[i]);
            ++n;
        }
        LWLockRelease(g_header->lock);
        return n;
    });
}

int max_tenant_slots() { return g_max_tenants; }

void shared_state_init() {
    DefineCustomIntVariable("kaireon.max_tenants",
                            "Tenants per server with their own shared-memory counters.",
                            "Beyond it, tenants share their database's overflow slot.", &g_max_tenants, 1000, 16,
                            1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    g_prev_shmem_request = shmem_request_hook;
    shmem_request_hook = on_shmem_request;
    g_prev_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = on_shmem_startup;
}

}  // namespace kaireon::pg

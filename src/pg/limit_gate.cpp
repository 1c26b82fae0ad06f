#include "core/sha256.h"

#include "pg/limit_gate.h"

#include "pg/guard.h"
#include "pg/xact_state.h"


#include <algorithm>
#include <cstring>
#include <vector>

extern "C" {
#include "utils/hsearch.h"
}

namespace kaireon::pg {
namespace {

constexpr const char* kTrancheName = "kaireon limit gate";
constexpr int kStableReadAttempts = 16;  // then the admission counts a concurrent release twice (conservative)

// EntryKey hashes as a blob: always zero-filled before use.
struct EntryKey {
    Oid database;
    unsigned char digest[20];  // SHA-256 of tenant NUL counter, truncated
    int64 period_start;
};

struct Entry {
    EntryKey key;  // must be first: the hash table's key
    double admitted;     // in flight: admitted, not yet ended
    int32 holders;       // reservations behind `admitted` (exact zero when none)
    double released;     // committed amounts released since the entry was made
    uint64 incarnation;  // tells a reader the entry was evicted and made again
    // Counted entries (admit_counted) keep the committed total themselves:
    // base + released, once `loaded`.
    bool counted;
    bool loaded;
    double base;
    unsigned char tenant_digest[20];  // SHA-256 of the tenant, truncated: forget_counted finds its entries
};

struct Header {
    LWLock* lock;
    uint64 next_incarnation;
};

int g_max_counters = 4096;
Header* g_header = nullptr;
HTAB* g_entries = nullptr;
shmem_request_hook_type g_prev_shmem_request = nullptr;
shmem_startup_hook_type g_prev_shmem_startup = nullptr;

void on_shmem_request() {
    if (g_prev_shmem_request) g_prev_shmem_request();
    RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(Header)), hash_estimate_size(g_max_counters, sizeof(Entry))));
    RequestNamedLWLockTranche(kTrancheName, 1);
}

void on_shmem_startup() {
    if (g_prev_shmem_startup) g_prev_shmem_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    g_header = static_cast<Header*>(ShmemInitStruct("kaireon limit gate", sizeof(Header), &found));
    if (!found) {
        g_header->lock = &(GetNamedLWLockTranche(kTrancheName))->lock;
        g_header->next_incarnation = 1;
    }
    HASHCTL info;
    memset(&info, 0, sizeof(info));
    info.keysize = sizeof(EntryKey);
    info.entrysize = sizeof(Entry);
    g_entries = ShmemInitHash("kaireon limit gate entries", g_max_counters, g_max_counters, &info,
                              HASH_ELEM | HASH_BLOBS);
    LWLockRelease(AddinShmemInitLock);
}

void tenant_digest(const std::string& tenant, unsigned char out[20]) {
    const Sha256Digest digest = sha256_of_name(tenant);
    memcpy(out, digest.data(), 20);
}

EntryKey make_key(const GateKey& key) {
    EntryKey out;
    memset(&out, 0, sizeof(out));
    out.database = MyDatabaseId;
    out.period_start = key.period_start;
    const Sha256Digest digest = sha256_of_name(joined_name("", {key.tenant, key.counter}));
    memcpy(out.digest, digest.data(), sizeof(out.digest));
    return out;
}

// This transaction's reservations, released when it (or the subtransaction
// that made one) ends.
struct Reservation {
    EntryKey key;
    double amount;
    SubTransactionId subxact;
    bool counted;
};

// release gives back reservations; with `committed` their amounts are now
// part of committed usage. Called from transaction callbacks: no errors.
void release(const std::vector<Reservation>& reservations, bool committed) noexcept {
    if (reservations.empty() || g_entries == nullptr) return;
    LWLockAcquire(g_header->lock, LW_EXCLUSIVE);
    for (const Reservation& r : reservations) {
        auto* entry = static_cast<Entry*>(hash_search(g_entries, &r.key, HASH_FIND, nullptr));
        if (entry == nullptr) continue;  // cannot happen: entries with holders are never evicted
        entry->admitted -= r.amount;
        if (--entry->holders <= 0) {
            entry->holders = 0;
            entry->admitted = 0;
        }
        if (committed) entry->released += r.amount;
    }
    LWLockRelease(g_header->lock);
}

class Reservations final : public XactState {
public:
    std::vector<Reservation> held;

    // make_room makes space for `more` admissions, so that recording them
    // cannot fail after they were made; growing by half at least, since a
    // transaction may count thousands (a batch of decisions, a backfill of
    // impressions), and making room for exactly one more copied the whole
    // list on every call (2,500 responses in one transaction: 60,000
    // instructions of copying per response at the end).
    void make_room(size_t more) {
        if (held.capacity() - held.size() < more) held.reserve(held.size() + std::max(more, held.size() / 2));
    }

    double own(const EntryKey& key) const {
        double sum = 0;
        for (const Reservation& r : held) {
            if (memcmp(&r.key, &key, sizeof(key)) == 0) sum += r.amount;
        }
        return sum;
    }
    void reset_at_end(bool committed) noexcept override {
        release(held, committed);
        held.clear();
    }
    // A counted entry learns of a commit only from its release; COMMIT
    // PREPARED runs in another backend, long after this one forgot the
    // reservation, so a transaction holding one cannot be prepared.
    void before_prepare() override {
        for (const Reservation& r : held) {
            if (r.counted) {
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("cannot PREPARE a transaction that counted decisions or impressions"),
                                errdetail("The decision quota and frequency caps count them when the transaction "
                                          "commits."),
                                errhint("Decide and respond outside of two-phase transactions.")));
            }
        }
    }
    void reset_subxact(SubTransactionId subxact) noexcept override {
        std::vector<Reservation> ended;
        std::vector<Reservation> kept;
        for (const Reservation& r : held) (r.subxact >= subxact ? ended : kept).push_back(r);
        release(ended, false);
        held.swap(kept);
    }
};

Reservations& reservations() { return registered_state<Reservations>(); }

// evict_idle removes entries nobody holds; called with the lock exclusive
// when the table is full (dynahash allows removing the entry just returned).
void evict_idle() {
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, g_entries);
    while (auto* entry = static_cast<Entry*>(hash_seq_search(&scan))) {
        if (entry->holders == 0) hash_search(g_entries, &entry->key, HASH_REMOVE, nullptr);
    }
}

enum class Step { Retry, Done, Full };

void init_entry(Entry* entry, bool counted) {
    entry->admitted = 0;
    entry->holders = 0;
    entry->released = 0;
    entry->incarnation = g_header->next_incarnation++;
    entry->counted = counted;
    entry->loaded = false;
    entry->base = 0;
}

// find_or_make returns the key's entry, making it (evicting idle entries when
// the table is full), or nullptr when there is no room. Lock held exclusive.
Entry* find_or_make(const EntryKey& key, bool counted, const unsigned char tenant[20]) {
    auto* entry = static_cast<Entry*>(hash_search(g_entries, &key, HASH_FIND, nullptr));
    if (entry != nullptr) return entry;
    if (hash_get_num_entries(g_entries) >= g_max_counters) evict_idle();
    bool found = false;
    entry = static_cast<Entry*>(hash_search(g_entries, &key, HASH_ENTER_NULL, &found));
    if (entry != nullptr) {
        init_entry(entry, counted);
        memcpy(entry->tenant_digest, tenant, sizeof(entry->tenant_digest));
    }
    return entry;
}

[[noreturn]] void refuse_full() {
    pg_call([] {
        ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                        errmsg("too many limited counters in use at once"),
                        errdetail("Usage limits with reports in flight, decision quotas, frequency caps and offer "
                                  "budgets each take one entry."),
                        errhint("Raise kaireon.max_limit_counters and restart the server.")));
    });
    throw Error(ErrorCode::Internal, "unreachable");
}

void check_initialised() {
    if (g_entries == nullptr) {
        throw Error(ErrorCode::Internal, "kaireon shared memory is not initialised", Json::object(),
                    "Add kaireon to shared_preload_libraries and restart the server.");
    }
}

}  // namespace

Admission admit(const GateKey& key, double amount, std::optional<double> cap,
                const std::function<double()>& read_committed) {
    check_initialised();
    Reservations& mine = reservations();
    const EntryKey entry_key = make_key(key);
    unsigned char tenant[20];
    tenant_digest(key.tenant, tenant);
    const double own = mine.own(entry_key);
    if (amount < 0) amount = 0;  // corrections never need room
    mine.make_room(1);

    for (int attempt = 0;; ++attempt) {
        bool existed = false;
        uint64 incarnation = 0;
        double released_before = 0;
        LWLockAcquire(g_header->lock, LW_SHARED);
        if (auto* entry = static_cast<Entry*>(hash_search(g_entries, &entry_key, HASH_FIND, nullptr))) {
            existed = true;
            incarnation = entry->incarnation;
            released_before = entry->released;
        }
        LWLockRelease(g_header->lock);

        const double committed = read_committed();

        Admission answer;
        const bool last_attempt = attempt + 1 >= kStableReadAttempts;
        Step step = pg_call([&] {
            LWLockAcquire(g_header->lock, LW_EXCLUSIVE);
            auto* entry = static_cast<Entry*>(hash_search(g_entries, &entry_key, HASH_FIND, nullptr));
            if (entry != nullptr && existed && entry->incarnation != incarnation) {
                LWLockRelease(g_header->lock);
                return Step::Retry;  // evicted and made again while usage was read
            }
            if (entry == nullptr) {
                if (existed) {
                    LWLockRelease(g_header->lock);
                    return Step::Retry;
                }
                entry = find_or_make(entry_key, false, tenant);
                if (entry == nullptr) {
                    LWLockRelease(g_header->lock);
                    return Step::Full;
                }
            }
            // Committed amounts released since the first look may or may not
            // be in `committed`: read again, or count them (twice at worst).
            const double released_since = entry->released - (existed ? released_before : 0);
            if (released_since > 0 && !last_attempt) {
                LWLockRelease(g_header->lock);
                return Step::Retry;
            }
            double others = entry->admitted - own;
            if (others < 0) others = 0;
            answer.before = committed + others + released_since;
            answer.admitted = !cap || answer.before + amount <= *cap;
            if (answer.admitted && amount > 0) {
                entry->admitted += amount;
                entry->holders += 1;
            }
            LWLockRelease(g_header->lock);
            return Step::Done;
        });
        if (step == Step::Retry) continue;
        if (step == Step::Full) refuse_full();
        if (answer.admitted && amount > 0) {
            mine.held.push_back(Reservation{entry_key, amount, GetCurrentSubTransactionId(), false});
        }
        return answer;
    }
}

Admission admit_counted(const GateKey& key, double amount, std::optional<double> cap,
                        const std::function<CountedRows()>& load) {
    check_initialised();
    Reservations& mine = reservations();
    const EntryKey entry_key = make_key(key);
    unsigned char tenant[20];
    tenant_digest(key.tenant, tenant);
    if (amount < 0) amount = 0;
    mine.make_room(2);

    for (;;) {
        // The fast path: a loaded entry answers from shared memory alone.
        Admission answer;
        bool existed = false;
        uint64 incarnation = 0;
        double released_before = 0;
        Step step = pg_call([&] {
            LWLockAcquire(g_header->lock, LW_EXCLUSIVE);
            Entry* entry = find_or_make(entry_key, true, tenant);
            if (entry == nullptr) {
                LWLockRelease(g_header->lock);
                return Step::Full;
            }
            if (!entry->loaded) {
                existed = true;
                incarnation = entry->incarnation;
                released_before = entry->released;
                LWLockRelease(g_header->lock);
                return Step::Retry;
            }
            answer.before = entry->base + entry->released + entry->admitted;
            answer.admitted = !cap || answer.before + amount <= *cap;
            if (answer.admitted && amount > 0) {
                entry->admitted += amount;
                entry->holders += 1;
            }
            LWLockRelease(g_header->lock);
            return Step::Done;
        });
        if (step == Step::Full) refuse_full();
        if (step == Step::Done) {
            if (answer.admitted && amount > 0) {
                mine.held.push_back(Reservation{entry_key, amount, GetCurrentSubTransactionId(), true});
            }
            return answer;
        }

        // The slow path, once per key and server lifetime (or after an
        // eviction): count the committed rows. Nothing can commit to a key
        // whose entry is not loaded - admissions need a loaded entry, and an
        // entry with holders is never evicted - so the count is exact; a
        // release seen meanwhile (an entry made unloaded with holders by
        // forget_counted) makes it read again.
        const CountedRows rows = load();
        bool own_admitted = false;
        pg_call([&] {
            LWLockAcquire(g_header->lock, LW_EXCLUSIVE);
            auto* entry = static_cast<Entry*>(hash_search(g_entries, &entry_key, HASH_FIND, nullptr));
            if (entry != nullptr && existed && entry->incarnation == incarnation && !entry->loaded &&
                entry->released == released_before) {
                entry->base = rows.committed - entry->released;
                entry->loaded = true;
                // This transaction's rows (an impression recorded before a
                // cap on its scope was made, in the same transaction) count
                // when it commits, like any admission.
                if (rows.own_uncommitted > 0) {
                    entry->admitted += rows.own_uncommitted;
                    entry->holders += 1;
                    own_admitted = true;
                }
            }
            LWLockRelease(g_header->lock);
        });
        if (own_admitted) {
            mine.held.push_back(Reservation{entry_key, rows.own_uncommitted, GetCurrentSubTransactionId(), true});
        }
    }
}

CountedRows count_rows(const char* count_sql, std::initializer_list<SpiArg> args) {
    AsExtensionOwner owner;
    SpiSession spi;
    double committed = 0, all = 0;
    {
        CommittedSnapshot snapshot;
        spi.execute(count_sql, args, true);
        committed = std::stod(spi.text(0, 0).value_or("0"));
    }
    {
        LatestSnapshot snapshot;
        spi.execute(count_sql, args, true);
        all = std::stod(spi.text(0, 0).value_or("0"));
    }
    return {committed, all > committed ? all - committed : 0};
}

void forget_counted(const std::string& tenant) {
    if (g_entries == nullptr) return;
    unsigned char digest[20];
    tenant_digest(tenant, digest);
    pg_call([&] {
        LWLockAcquire(g_header->lock, LW_EXCLUSIVE);
        HASH_SEQ_STATUS scan;
        hash_seq_init(&scan, g_entries);
        while (auto* entry = static_cast<Entry*>(hash_seq_search(&scan))) {
            if (entry->counted && entry->key.database == MyDatabaseId &&
                memcmp(entry->tenant_digest, digest, sizeof(digest)) == 0) {
                entry->loaded = false;
            }
        }
        LWLockRelease(g_header->lock);
    });
}

void limit_gate_init() {
    DefineCustomIntVariable("kaireon.max_limit_counters",
                            "Counters the limit gate keeps in shared memory at once.",
                            "Usage limits with reports in flight, and the running totals of decision quotas, "
                            "frequency caps and offer budgets (tenant, counter, period); idle ones are evicted.",
                            &g_max_counters, 4096, 64, 10000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    g_prev_shmem_request = shmem_request_hook;
    shmem_request_hook = on_shmem_request;
    g_prev_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = on_shmem_startup;
}

}  // namespace kaireon::pg

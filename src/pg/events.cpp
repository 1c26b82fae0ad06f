#include "pg/events.h"

#include "pg/cache_watch.h"
#include "pg/jsonb.h"
#include "pg/name_lock.h"
#include "pg/spi.h"
#include "pg/xact_state.h"

#include <unordered_set>
#include <utility>
#include <vector>

extern "C" {
#include "commands/async.h"
}

namespace kaireon::pg {
namespace {

// Whether this transaction has queued its NOTIFY already, and whether it
// holds a dedupe-key lock.
class NotifyState final : public XactState {
public:
    bool notified = false;
    SubTransactionId notified_in = InvalidSubTransactionId;
    SubTransactionId first_dedupe_lock_in = InvalidSubTransactionId;  // Invalid = holds none
    void reset_at_end(bool) noexcept override {
        notified = false;
        first_dedupe_lock_in = InvalidSubTransactionId;
    }
    void reset_subxact(SubTransactionId subxact) noexcept override {
        if (notified && notified_in >= subxact) notified = false;
        // Locks taken in an aborted subtransaction are released with it.
        if (first_dedupe_lock_in != InvalidSubTransactionId && first_dedupe_lock_in >= subxact) {
            first_dedupe_lock_in = InvalidSubTransactionId;
        }
    }
};

NotifyState& notify_state() { return registered_state<NotifyState>(); }

// Once-per-period events known to be in the outbox (committed), so that
// calls past a threshold do not look for its event again. A transaction's
// own finds join the set only when it commits; dropping a tenant clears it.
constexpr size_t kMaxKnownEmitted = 100000;
std::unordered_set<std::string> g_known_emitted;
void forget_emitted() noexcept { g_known_emitted.clear(); }
CacheWatch g_emitted_watch({"tenants"}, forget_emitted);

class PendingEmitted final : public XactState {
public:
    std::vector<std::pair<std::string, SubTransactionId>> keys;
    void reset_at_end(bool committed) noexcept override {
        if (committed) {
            try {
                if (g_known_emitted.size() + keys.size() > kMaxKnownEmitted) g_known_emitted.clear();
                for (auto& [key, subxact] : keys) g_known_emitted.insert(std::move(key));
            } catch (...) {
                g_known_emitted.clear();  // out of memory: forget, never keep a wrong set
            }
        }
        keys.clear();
    }
    void reset_subxact(SubTransactionId subxact) noexcept override {
        std::erase_if(keys, [&](const auto& entry) { return entry.second >= subxact; });
    }
};

PendingEmitted& pending_emitted() { return registered_state<PendingEmitted>(); }

std::string known_key(const std::string& tenant, const std::string& dedupe_key) { return tenant + '\0' + dedupe_key; }

}  // namespace

bool known_emitted(const std::string& tenant, const std::string& dedupe_key) {
    g_emitted_watch.resolve();
    return g_known_emitted.contains(known_key(tenant, dedupe_key));
}

void emit_event_once_remembered(const std::string& tenant, const std::string& type, const Json& payload,
                                const std::string& dedupe_key, bool may_wait) {
    if (emit_event_once(tenant, type, payload, dedupe_key, may_wait) != Emitted::Busy) {
        pending_emitted().keys.emplace_back(known_key(tenant, dedupe_key), GetCurrentSubTransactionId());
    }
}

Emitted emit_event_once(const std::string& tenant, const std::string& type, const Json& payload,
                        const std::string& dedupe_key, bool may_wait) {
    {
        AsExtensionOwner owner;
        SpiSession spi;
        if (!dedupe_key.empty()) {
            // One transaction at a time emits a given key, holding its lock
            // until it ends; then the latest committed data tells whether the
            // event is there. A transaction that holds no dedupe lock yet
            // waits for the current emitter (which may roll back); one that
            // holds one already does not wait, so two transactions can never
            // wait for each other's keys (no deadlock) - it leaves the key to
            // the other emitter.
            NotifyState& locks = notify_state();
            const bool wait = may_wait && locks.first_dedupe_lock_in == InvalidSubTransactionId;
            if (!lock_name(NameSpace::EventDedupe, tenant, dedupe_key, wait)) return Emitted::Busy;
            if (wait) locks.first_dedupe_lock_in = GetCurrentSubTransactionId();
            LatestSnapshot latest;
            spi.execute("SELECT 1 FROM kaireon.events WHERE tenant_id = $1 AND dedupe_key = $2",
                        {text_arg(tenant), text_arg(dedupe_key)}, true);
            if (spi.rows() > 0) return Emitted::AlreadyThere;
        }
        spi.execute(
            "INSERT INTO kaireon.events (tenant_id, type, payload, dedupe_key, created_at) "
            "VALUES ($1, $2, $3, NULLIF($4, ''), kaireon.clock())",
            {text_arg(tenant), text_arg(type), SpiArg{JSONBOID, jsonb_datum(payload)}, text_arg(dedupe_key)});
    }
    NotifyState& state = notify_state();
    if (!state.notified) {
        pg_call([] { Async_Notify("kaireon_events", nullptr); });
        state.notified = true;
        state.notified_in = GetCurrentSubTransactionId();
    }
    return Emitted::Added;
}

bool emit_event(const std::string& tenant, const std::string& type, const Json& payload, const std::string& dedupe_key) {
    return emit_event_once(tenant, type, payload, dedupe_key, false) == Emitted::Added;
}

}  // namespace kaireon::pg

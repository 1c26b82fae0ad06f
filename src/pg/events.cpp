#include "pg/events.h"

#include "pg/jsonb.h"
#include "pg/name_lock.h"
#include "pg/spi.h"
#include "pg/xact_state.h"

extern "C" {
#include "commands/async.h"
}

namespace kaireon::pg {
namespace {

// Whether this transaction has queued its NOTIFY already.
class NotifyState final : public XactState {
public:
    bool notified = false;
    SubTransactionId notified_in = InvalidSubTransactionId;
    void reset_at_end(bool) noexcept override { notified = false; }
    void reset_subxact(SubTransactionId subxact) noexcept override {
        if (notified && notified_in >= subxact) notified = false;
    }
};

NotifyState& notify_state() {
    static NotifyState state;
    static bool registered = false;
    if (!registered) {
        pg_call([&] { register_xact_state(&state); });
        registered = true;
    }
    return state;
}

}  // namespace

bool emit_event(const std::string& tenant, const std::string& type, const Json& payload, const std::string& dedupe_key) {
    uint64 added = 0;
    {
        AsExtensionOwner owner;
        SpiSession spi;
        if (!dedupe_key.empty()) {
            // One transaction at a time emits a given key. Busy: another one is
            // emitting it right now. Free: the latest committed data tells
            // whether it was emitted (every emitter held this lock until it
            // committed).
            if (!lock_name(NameSpace::EventDedupe, tenant, dedupe_key, false)) return false;
            LatestSnapshot latest;
            spi.execute("SELECT 1 FROM kaireon.events WHERE tenant_id = $1 AND dedupe_key = $2",
                        {text_arg(tenant), text_arg(dedupe_key)}, true);
            if (spi.rows() > 0) return false;
        }
        added = spi.execute(
            "INSERT INTO kaireon.events (tenant_id, type, payload, dedupe_key, created_at) "
            "VALUES ($1, $2, $3, NULLIF($4, ''), kaireon.clock())",
            {text_arg(tenant), text_arg(type), SpiArg{JSONBOID, jsonb_datum(payload)}, text_arg(dedupe_key)});
    }
    NotifyState& state = notify_state();
    if (added > 0 && !state.notified) {
        pg_call([] { Async_Notify("kaireon_events", nullptr); });
        state.notified = true;
        state.notified_in = GetCurrentSubTransactionId();
    }
    return added > 0;
}

}  // namespace kaireon::pg

#include "pg/xact_state.h"

#include <array>
#include <cstddef>

namespace kaireon::pg {
namespace {

// A fixed array: registration happens at load time, and the callbacks below
// must not allocate.
constexpr size_t kMaxStates = 32;
std::array<XactState*, kMaxStates> g_states{};
size_t g_state_count = 0;

void on_xact(XactEvent event, void*) {
    if (event == XACT_EVENT_PRE_PREPARE) {
        for (size_t i = 0; i < g_state_count; ++i) g_states[i]->before_prepare();
        return;
    }
    bool committed = false;
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
            committed = true;
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_PREPARE:  // a prepared transaction may still abort: treat as not committed
            break;
        default:
            return;
    }
    for (size_t i = 0; i < g_state_count; ++i) g_states[i]->reset_at_end(committed);
}

void on_subxact(SubXactEvent event, SubTransactionId subxact, SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    for (size_t i = 0; i < g_state_count; ++i) g_states[i]->reset_subxact(subxact);
}

}  // namespace

void register_xact_state(XactState* state) {
    if (g_state_count == kMaxStates) elog(ERROR, "kaireon: too many per-transaction states registered");
    g_states[g_state_count++] = state;
}

void xact_state_init() {
    RegisterXactCallback(on_xact, nullptr);
    RegisterSubXactCallback(on_subxact, nullptr);
}

}  // namespace kaireon::pg

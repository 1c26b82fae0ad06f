// xact_state.h - per-transaction C++ state, cleared when the transaction (or
// the subtransaction that created it) ends, so an aborted transaction never
// leaves C++ state behind for the next one.
#pragma once
#include "pg/guard.h"
#include "pg/postgres_headers.h"

namespace kaireon::pg {

// XactState is implemented by each module that keeps per-transaction state
// in C++ (pending events, "already notified" flags, ...). Instances have
// static storage duration and register themselves once.
class XactState {
public:
    // reset_at_end drops everything: the top-level transaction ended;
    // `committed` tells whether its effects are now visible to others.
    virtual void reset_at_end(bool committed) noexcept = 0;
    // reset_subxact drops what the aborted subtransaction `subxact` added.
    virtual void reset_subxact(SubTransactionId subxact) noexcept = 0;
    // before_prepare runs at PREPARE TRANSACTION, before the transaction's
    // state is saved (it may still register invalidation messages, which
    // COMMIT PREPARED sends). It must be plain C calls: no C++ objects.
    virtual void before_prepare() {}

protected:
    ~XactState() = default;
};

// register_xact_state makes `state` follow transaction ends from now on.
void register_xact_state(XactState* state);

// registered_state returns the module's one T (an XactState), registered on
// first use: `PendingThings& pending() { return registered_state<PendingThings>(); }`.
template <class T>
T& registered_state() {
    static T state;
    static bool registered = false;
    if (!registered) {
        pg_call([&] { register_xact_state(&state); });  // fails only when the table of states is full
        registered = true;
    }
    return state;
}

// xact_state_init registers the transaction callbacks (from _PG_init).
void xact_state_init();

}  // namespace kaireon::pg

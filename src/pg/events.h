// events.h - the transactional outbox kaireon.events.
#pragma once
#include "pg/guard.h"

#include <string>

namespace kaireon::pg {

// emit_event adds an event for `tenant` to the outbox in the calling
// transaction and returns whether it was added. An event with a dedupe key is
// added at most once per tenant and key, which is how "once per period"
// events stay exact: a transaction adding a key another open transaction is
// adding waits for it and adds the event only if that one rolled back. (A
// transaction that already holds a dedupe key does not wait, to never
// deadlock: it leaves that key to the other transaction.) The first event of
// a transaction also queues NOTIFY kaireon_events (delivered at commit).
bool emit_event(const std::string& tenant, const std::string& type, const Json& payload,
                const std::string& dedupe_key = {});

// emit_event_once is emit_event with a dedupe key, telling what happened:
// added now, already in the outbox (committed, or added earlier by this
// transaction), or left to another open transaction that is adding it.
enum class Emitted { Added, AlreadyThere, Busy };
Emitted emit_event_once(const std::string& tenant, const std::string& type, const Json& payload,
                        const std::string& dedupe_key);

}  // namespace kaireon::pg

// events.h - the transactional outbox kaireon.events.
#pragma once
#include "pg/guard.h"

#include <string>

namespace kaireon::pg {

// emit_event adds an event for `tenant` to the outbox in the calling
// transaction and returns whether it was added. An event with a dedupe key is
// added at most once per tenant and key; when another open transaction is
// adding the same key, emit_event leaves it to that one and does not wait
// (it runs on read paths: a licence reminder must never block a check). The
// first event of a transaction also queues NOTIFY kaireon_events (delivered
// at commit).
bool emit_event(const std::string& tenant, const std::string& type, const Json& payload,
                const std::string& dedupe_key = {});

// emit_event_once adds an event with a dedupe key and tells what happened:
// added now, already in the outbox (committed, or added earlier by this
// transaction), or left to another open transaction that is adding it.
// With `may_wait`, a transaction that holds no dedupe key yet waits for that
// other one and adds the event itself if it rolled back - "exactly once" even
// when the first crossing of a threshold rolls back. A transaction that holds
// a key already never waits, so two transactions never wait for each other.
enum class Emitted { Added, AlreadyThere, Busy };
Emitted emit_event_once(const std::string& tenant, const std::string& type, const Json& payload,
                        const std::string& dedupe_key, bool may_wait);

// Events that happen once per tenant and period (usage thresholds, quota
// alerts) are checked on hot paths long after they were sent:
// known_emitted tells, without a query, that the event with `dedupe_key` is
// committed in the outbox already (as far as this backend learnt);
// emit_event_once_remembered emits it (emit_event_once) and remembers it
// once this transaction commits.
bool known_emitted(const std::string& tenant, const std::string& dedupe_key);
void emit_event_once_remembered(const std::string& tenant, const std::string& type, const Json& payload,
                                const std::string& dedupe_key, bool may_wait);

}  // namespace kaireon::pg

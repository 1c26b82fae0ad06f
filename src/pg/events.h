// events.h - the transactional outbox kaireon.events.
#pragma once
#include "pg/guard.h"

#include <string>

namespace kaireon::pg {

// emit_event adds an event for `tenant` to the outbox in the calling
// transaction and returns whether it was added. An event with a dedupe key is
// added at most once per tenant and key (later attempts, also racing ones, do
// nothing), which is how "once per period" events stay exact; an attempt made
// while another open transaction is adding the same key does nothing either
// (if that one rolls back, the next attempt adds it). The first event
// of a transaction also queues NOTIFY kaireon_events (delivered at commit).
bool emit_event(const std::string& tenant, const std::string& type, const Json& payload,
                const std::string& dedupe_key = {});

}  // namespace kaireon::pg
